"""The admin's scripting surface: `--version`, `--json` on the list/show/status commands (one JSON document on
stdout, nothing else), "did you mean" for config keys, writers refusing before `init`, and `backup` / `restore` /
`doctor` from the command line (passphrase from a file or a hidden prompt, never argv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import init_home
from cli.main import app

PASS = "correct horse battery staple\n"


@pytest.fixture
def initialised(config_file: Path) -> Path:
    init_home(load_config(config_file, env={}))
    return config_file


def _run(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(app, ["--config", str(config), *args], input=input)


def test_version_names_the_package_python_and_the_pins() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tanaban ") and lines[1].startswith("python 3.") and "cryptography" in lines[2]


@pytest.mark.parametrize(("args", "check"), [
    (["apikey", "list", "--json"], lambda doc: doc[0]["name"] == "ops" and doc[0]["scopes"] == ["admin"]
        and set(doc[0]) == {"key_id", "name", "scopes", "created_at", "revoked_at"}),
    (["keys", "show", "--json"], lambda doc: len(doc["pseudonym_key_id"]) == 16 and doc["pending"] is False),
    (["audit", "list", "--json"], lambda doc: [e["action"] for e in doc] == ["apikey.create"]),
    (["audit", "show", "1", "--json"], lambda doc: doc["seq"] == 1 and doc["action"] == "apikey.create"),
    (["egress", "status", "--json"], lambda doc: doc["enabled"] is False and doc["policy"]["fingerprint"]),
    (["config", "show", "--json"], lambda doc: doc["config"]["serve"]["workers"] == 1
        and doc["config_fingerprint"].startswith("sha256:")),
])
def test_json_output_is_one_document_on_stdout(initialised: Path, args: list[str], check) -> None:
    assert _run(initialised, "apikey", "create", "--name", "ops", "--scope", "admin").exit_code == 0
    result = _run(initialised, *args)
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.stdout))  # the whole of stdout parses: no banner, no table, no progress


def test_unknown_config_key_suggests_the_close_one(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[serve]\nworkrs = 2\n', encoding="utf-8")
    result = _run(config, "config", "show")
    assert result.exit_code == 2 and "did you mean 'serve.workers'?" in result.output


@pytest.mark.parametrize("args", [["apikey", "create", "--name", "ops"], ["apikey", "revoke", "abcd1234"],
                                  ["backup", str(Path("/nonexistent-dir/backup")), "--passphrase-file", "{pass}"]])
def test_writers_refuse_before_init_and_create_nothing(config_file: Path, tmp_path: Path, args: list[str]) -> None:
    secret = tmp_path / "pass"
    secret.write_text(PASS)
    result = _run(config_file, *[a.format(**{"pass": secret}) for a in args])
    assert result.exit_code == 2 and "run `tanaban init` first" in result.output
    assert not (tmp_path / "data").exists()


def test_init_makes_private_directories(initialised: Path) -> None:
    cfg = load_config(initialised, env={})
    assert {oct(p.stat().st_mode & 0o777) for p in (cfg.data_dir, cfg.artifacts_dir, cfg.keys_dir)} == {"0o700"}


@pytest.mark.sqlite_only(reason="`tanaban backup` copies SQLite homes; a PostgreSQL one is refused (test_backup.py)")
def test_backup_restore_doctor_from_the_command_line(initialised: Path, tmp_path: Path) -> None:
    assert _run(initialised, "apikey", "create", "--name", "ops").exit_code == 0
    secret = tmp_path / "pass"
    secret.write_text(PASS)
    secret.chmod(0o600)
    made = _run(initialised, "backup", str(tmp_path / "bk"), "--passphrase-file", str(secret))
    assert made.exit_code == 0 and "backup written to" in made.stdout
    fresh = tmp_path / "fresh.toml"
    fresh.write_text(f'[paths]\ndata_dir = "{tmp_path / "restored"}"\n', encoding="utf-8")
    sick = _run(fresh, "doctor", "--json")
    assert sick.exit_code == 1 and json.loads(sick.stdout)["ok"] is False
    wrong = _run(fresh, "restore", str(tmp_path / "bk"), input="not the passphrase\n")  # the hidden prompt
    assert wrong.exit_code == 2 and "passphrase is wrong" in wrong.output
    done = _run(fresh, "restore", str(tmp_path / "bk"), input=PASS)
    assert done.exit_code == 0 and "audit log OK" in done.stdout, done.output
    healthy = _run(fresh, "doctor")
    assert healthy.exit_code == 0 and "FAIL" not in healthy.stdout and "ok   keys" in healthy.stdout
    assert "ops" in _run(fresh, "apikey", "list").stdout
    again = _run(fresh, "restore", str(tmp_path / "bk"), "--passphrase-file", str(secret))
    assert again.exit_code == 2 and "--force" in again.output


@pytest.mark.sqlite_only(reason="`tanaban backup` copies SQLite homes; a PostgreSQL one is refused (test_backup.py)")
def test_backup_prompt_asks_twice_and_an_empty_passphrase_file_is_refused(initialised: Path, tmp_path: Path) -> None:
    mismatch = _run(initialised, "backup", str(tmp_path / "b1"), input=PASS + "something else entirely\n" + PASS + PASS)
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = _run(initialised, "backup", str(tmp_path / "b2"), "--passphrase-file", str(empty))
    assert result.exit_code == 2 and "is empty" in result.output and not (tmp_path / "b2").exists()
