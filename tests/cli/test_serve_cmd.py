"""`tanaban apikey`: names and scopes on the command line, scopes in the list, one error line for a broken key file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import init_home
from cli.main import app


@pytest.fixture
def initialised(config_file: Path) -> Path:
    init_home(load_config(config_file, env={}))
    return config_file


def test_apikey_create_with_scope_list_and_revoke(cli_runner: CliRunner, initialised: Path) -> None:
    base = ["--config", str(initialised), "apikey"]
    admin = cli_runner.invoke(app, [*base, "create", "--name", "ops", "--scope", "admin"])
    reader = cli_runner.invoke(app, [*base, "create", "shop"])  # the positional name still works
    assert admin.exit_code == 0 and reader.exit_code == 0 and admin.output.startswith("tnb_")
    listed = cli_runner.invoke(app, [*base, "list"]).output
    assert "scopes" in listed and "admin" in listed and "read" in listed
    assert admin.output.strip().split("_", 2)[2] not in listed
    key_id = reader.output.split("_")[1]
    revoked = cli_runner.invoke(app, [*base, "revoke", key_id])
    assert revoked.exit_code == 0 and revoked.output.startswith(f"revoked {key_id} at ")
    both = cli_runner.invoke(app, [*base, "create", "x", "--name", "y"])
    assert both.exit_code == 2 and "name" in both.output


@pytest.mark.parametrize("args", [["list"], ["create", "--name", "ops"], ["revoke", "abcd1234"],
                                  ["create", "--name", "ops", "--scope", "root"]])
def test_apikey_errors_are_one_line(cli_runner: CliRunner, initialised: Path, args: list[str]) -> None:
    keys = load_config(initialised, env={}).data_dir / "api_keys.json"
    keys.write_text("{truncated", encoding="utf-8")
    result = cli_runner.invoke(app, ["--config", str(initialised), "apikey", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and ("api_keys.json" in line or "choose from" in line)


def test_apikey_writers_wait_on_the_appliance_apikeys_lock(cli_runner: CliRunner, initialised: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The key file's lock is appliance.data.locks' exclusive "apikeys" kind: a create waits for its holder, saying
    for whom, then goes ahead. The holder lets go only once the create has found the lock taken (a fixed hold time
    raced the command's start-up on a loaded machine: the create then never waited)."""
    import threading

    from appliance.data.locks import EXCLUSIVE, LOCKS_DIR, FileLocks

    cfg = load_config(initialised, env={})
    held, blocked = threading.Event(), threading.Event()
    find_blocker = FileLocks._blocker

    def blocker_seen(self: FileLocks, name: str, mode: str) -> object:
        found = find_blocker(self, name, mode)  # only a request that found the lock taken asks who holds it
        blocked.set()  # ... and once it knows, the holder may go
        return found

    monkeypatch.setattr(FileLocks, "_blocker", blocker_seen)

    def hold() -> None:
        with FileLocks(cfg.data_dir / LOCKS_DIR, command="tanaban apikey revoke").acquire("apikeys", EXCLUSIVE, 5):
            held.set()
            blocked.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    result = cli_runner.invoke(app, ["--config", str(initialised), "apikey", "create", "--name", "ops"])
    holder.join()
    assert result.exit_code == 0 and blocked.is_set()
    assert "waiting for tanaban apikey revoke" in result.output and "apikeys lock" in result.output
    assert (cfg.data_dir / LOCKS_DIR / "apikeys.lock").exists()
