"""cli/failures.py through the CLI: a bug is one "internal error" line plus a 0600 crash report holding neither the
exception's message nor any row value; disk full, permission denied and a held lock are one `error:` line each with
their own exit code (docs/OPERATIONS.md) and no traceback."""

from __future__ import annotations

import errno
import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data import home as home_module
from appliance.data import ingest as ingest_module
from appliance.data.locks import EXCLUSIVE, STORE, FileLocks, PgLocks
from appliance.data.store import is_postgres
from cli.failures import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_PERMISSION,
    EXIT_UNAVAILABLE,
    format_crash_report,
)
from cli.main import app

EMAIL, REVIEW = "anna.k@example.com", "Lovely lipstick, call me on 0176 5550 1234"


@pytest.fixture
def tanaban(cli_runner: CliRunner, config_file: Path, tmp_path: Path):
    """`tanaban --config <tmp config> ARGS...` on an initialised home with one item."""
    def run(*args: str):
        return cli_runner.invoke(app, ["--config", str(config_file), *args])
    assert run("init").exit_code == 0
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"sku": "A1", "title": "Lipstick"}) + "\n", encoding="utf-8")
    assert run("ingest", "items", str(items)).exit_code == 0
    return run


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.jsonl"
    rows = [{"customer_id": EMAIL, "sku": "A1", "timestamp": 1714564800 + i, "text": f"{REVIEW} {'very ' * 150}"}
            for i in range(300)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _leaky(*_args: Any, **_kwargs: Any) -> None:
    try:
        raise KeyError(EMAIL)
    except KeyError as exc:
        raise ValueError(f"cannot store review {REVIEW!r} of {EMAIL}") from exc


def test_a_bug_prints_one_line_and_a_crash_report_without_data(tanaban, reviews: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cli.ingest_cmd.ingest_file", _leaky)
    result = tanaban("ingest", "reviews", str(reviews))
    assert result.exit_code == EXIT_INTERNAL
    (line,) = result.output.strip().splitlines()
    assert line.startswith("internal error: ValueError (report written to ")
    report = Path(line.split("report written to ", 1)[1].rstrip(")"))
    assert report.parent == tmp_path / "data" / "crash" and stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert "command:  tanaban ingest reviews" in text and "exception: KeyError" in text
    assert "exception: ValueError" in text and "in _leaky" in text
    for secret in (EMAIL, "anna.k", REVIEW[:14], "0176"):
        assert secret not in result.output and secret not in text


@pytest.mark.sqlite_only(reason="fills SQLite's max_page_count; PostgreSQL's disk_full SQLSTATE maps in the same place")
def test_disk_full_in_the_store_is_one_line_without_row_values(tanaban, reviews: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real_open_store = home_module.open_store

    def tiny_disk(*args: Any, **kwargs: Any) -> Any:
        engine = real_open_store(*args, **kwargs)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn: Any, _record: Any) -> None:  # SQLite says SQLITE_FULL, as on a full disk
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count={pages + 2}")

        engine.dispose()
        return engine

    monkeypatch.setattr(home_module, "open_store", tiny_disk)
    result = tanaban("ingest", "reviews", str(reviews))
    assert result.exit_code == EXIT_IO
    assert result.output.startswith("error: disk full while writing a database under ")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert EMAIL not in result.output and REVIEW[:14] not in result.output and "INSERT" not in result.output


@pytest.mark.parametrize(("code", "expected", "exit_code"), [
    (errno.ENOSPC, "error: disk full while writing /srv/x/rejects.jsonl: free space and rerun", EXIT_IO),
    (errno.EACCES, "error: permission denied (Permission denied) on /srv/x/rejects.jsonl", EXIT_PERMISSION),
])
def test_os_failures_during_ingest_are_one_line(tanaban, reviews: Path, monkeypatch: pytest.MonkeyPatch,
                                                code: int, expected: str, exit_code: int) -> None:
    def fail(*_args: Any) -> None:
        raise OSError(code, f"{EMAIL} {REVIEW}", "/srv/x/rejects.jsonl")

    monkeypatch.setattr("appliance.data.ingest.ingest_records", fail)
    result = tanaban("ingest", "reviews", str(reviews))
    assert result.exit_code == exit_code and result.output.startswith(expected)
    assert len(result.output.strip().splitlines()) == 1 and EMAIL not in result.output


def test_ctrl_c_is_one_line(tanaban, reviews: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*_args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("appliance.data.ingest.ingest_records", interrupt)
    result = tanaban("ingest", "reviews", str(reviews))
    assert result.exit_code == EXIT_INTERRUPTED and result.output.strip() == "interrupted"


def test_a_held_lock_waits_then_fails_naming_the_holder(tanaban, reviews: Path, tmp_path: Path, config_file: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANABAN_STORE__LOCK_TIMEOUT_S", "0.3")
    taken, release = threading.Event(), threading.Event()
    url, command = load_config(config_file, env={}).store.url, "tanaban keys rotate"
    locks = PgLocks(url, command=command) if is_postgres(url) else FileLocks(tmp_path / "data" / "locks",
                                                                             command=command)

    def rotate() -> None:
        with locks.acquire(STORE, EXCLUSIVE, 5):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=rotate)
    holder.start()
    try:
        assert taken.wait(5)
        result = tanaban("ingest", "reviews", str(reviews))
    finally:
        release.set()
        holder.join(10)
    assert result.exit_code == 75
    waiting, error = result.output.strip().splitlines()
    assert waiting.startswith("waiting for tanaban keys rotate ") and " (pid " in waiting  # PostgreSQL: on <host>
    assert error.startswith("error: blocked by tanaban keys rotate (pid ") and "wait for it to finish" in error


def test_a_postgresql_server_lost_mid_command_is_one_line_naming_it(throwaway_postgres, cli_runner: CliRunner,
                                                                    reviews: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = throwaway_postgres.create_database()
    config = tmp_path / "pg.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "pg"}"\n[store]\nurl = "{url}"\n[audit]\nurl = "{url}"\n',
                      encoding="utf-8")
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"sku": "A1", "title": "Lipstick"}) + "\n", encoding="utf-8")
    for args in (["init"], ["ingest", "items", str(items)]):
        assert cli_runner.invoke(app, ["--config", str(config), *args]).exit_code == 0
    real_copy = ingest_module.copy_insert_ignore

    def server_dies(*args: Any, **kwargs: Any) -> None:  # inside the file's transaction, the lock held
        throwaway_postgres.halt()
        real_copy(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "copy_insert_ignore", server_dies)
    result = cli_runner.invoke(app, ["--config", str(config), "ingest", "reviews", str(reviews)])
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    (line,) = result.output.strip().splitlines()
    server = f"postgresql://127.0.0.1:{throwaway_postgres.port}/{url.rsplit('/', 1)[1]}"
    assert line.startswith(f"error: lost the connection to the PostgreSQL server {server} (stopped, restarting")
    assert "pg_isready" in line and "rerun the command" in line
    assert EMAIL not in line and REVIEW[:14] not in line and "postgres@" not in line


def test_crash_report_lists_every_exception_in_the_chain_without_messages(fixed_clock: Any) -> None:
    try:
        _leaky()
    except ValueError as exc:
        text = format_crash_report(exc, "tanaban ingest reviews", fixed_clock)
    assert text.index("exception: KeyError") < text.index("which led to:") < text.index("exception: ValueError")
    assert "time:     2026-01-02T03:04:05+00:00" in text and EMAIL not in text and "lipstick" not in text
