"""`tanaban init` (also `--store` on PostgreSQL) and `tanaban config show` through the CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def test_init_then_show(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    result = cli_runner.invoke(app, ["--config", str(config_file), "init"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    again = cli_runner.invoke(app, ["--config", str(config_file), "init"])
    assert again.exit_code == 0 and "kept existing" in again.output
    shown = cli_runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert shown.exit_code == 0
    assert f'data_dir = "{tmp_path / "data"}"' in shown.output


def test_secret_never_printed(cli_runner: CliRunner, config_file: Path) -> None:
    result = cli_runner.invoke(app, ["--config", str(config_file), "config", "show"],
                               env={"TANABAN_EGRESS__API_KEY": "sk-live-123456"})
    assert result.exit_code == 0
    assert "sk-live-123456" not in result.output and 'api_key = "***"' in result.output


def test_bad_config_is_one_error_line(cli_runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\nurll = 'x'\n", encoding="utf-8")
    result = cli_runner.invoke(app, ["--config", str(bad), "config", "show"])
    assert result.exit_code == 2
    assert "unknown config key 'store.urll'" in result.output
    assert "Traceback" not in result.output


def test_world_readable_key_is_reported(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    assert cli_runner.invoke(app, ["--config", str(config_file), "init"]).exit_code == 0
    os.chmod(tmp_path / "data" / "keys" / "pseudonym.key", 0o644)
    result = cli_runner.invoke(app, ["--config", str(config_file), "init"])
    assert result.exit_code == 2 and "chmod 600" in result.output


def test_show_marks_env_overrides_and_prints_the_fingerprints(cli_runner: CliRunner, config_file: Path) -> None:
    plain = cli_runner.invoke(app, ["--config", str(config_file), "config", "show"])
    env = {"TANABAN_ANONYMIZE__SCORE_THRESHOLD": "0.99", "TANABAN_ANONYMIZE__USE_NER": "false"}
    weakened = cli_runner.invoke(app, ["--config", str(config_file), "config", "show"], env=env)
    assert plain.exit_code == weakened.exit_code == 0, weakened.output
    assert "score_threshold = 0.99  # env TANABAN_ANONYMIZE__SCORE_THRESHOLD" in weakened.output
    assert "use_ner = false  # env TANABAN_ANONYMIZE__USE_NER" in weakened.output
    assert "# env" not in plain.output and "(shipped strength or stronger)" in plain.output
    assert "WEAKENED: anonymize.use_ner is false; anonymize.score_threshold raised" in weakened.output
    fingerprints = [[line for line in r.output.splitlines() if "fingerprint" in line] for r in (plain, weakened)]
    assert all(len(lines) == 2 for lines in fingerprints)
    assert fingerprints[0][0].startswith("# config fingerprint: sha256:")
    assert fingerprints[0][0] != fingerprints[1][0] and fingerprints[0][1][:40] != fingerprints[1][1][:40]


def test_init_store_creates_a_postgresql_store_and_says_to_set_the_url(cli_runner: CliRunner, config_file: Path,
                                                                      postgres_url: str) -> None:
    from sqlalchemy import create_engine, inspect

    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")  # the spelling users type
    result = cli_runner.invoke(app, ["--config", str(config_file), "init", "--store", libpq])
    assert result.exit_code == 0, result.output
    output = result.output.replace("\n", "")
    assert f"store      {postgres_url} (schema v" in output
    assert f'set [store] url = "{postgres_url}" in {config_file}' in output
    assert {"items", "users", "interactions", "reviews"} <= set(inspect(create_engine(postgres_url)).get_table_names())
    refused = cli_runner.invoke(app, ["--config", str(config_file), "init", "--store", "db.internal/tanaban"])
    assert refused.exit_code != 0 and "store.url is not a database URL" in refused.output
