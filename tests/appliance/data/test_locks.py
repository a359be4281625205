"""appliance.data.locks: shared and exclusive holds, waiting with the holder's name, the one-line timeout error,
nesting, stale holders, and the writer discipline (exclusive kind lock + shared store lock; exclusive store).

The behaviour every `Locks` must have runs on both implementations (`lock_factory`: flock files, and PostgreSQL
advisory locks on the session's test server); what only one of them does is tested on that one."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.config import ApplianceConfig, PathsConfig, StoreConfig
from appliance.data.home import Home, open_home
from appliance.data.locks import (
    EXCLUSIVE,
    SHARED,
    STORE,
    FileLocks,
    LockError,
    Locks,
    PgLocks,
    appliance_locks,
    pg_lock_key,
    store_owner,
    store_writer,
    writing,
)
from appliance.data.rotation import RotationReport, rotate_pseudonym_key
from appliance.errors import UserError

LockFactory = Callable[..., Locks]  # (command=..., notify=...) -> a Locks of one implementation, same place


@pytest.fixture(params=["file", "postgresql"])
def lock_factory(request: pytest.FixtureRequest, tmp_path: Path) -> LockFactory:
    """Makes `Locks` of one implementation that all share one place: a directory, or a PostgreSQL database."""
    if request.param == "file":
        return lambda command="tanaban ingest interactions", notify=lambda _: None: FileLocks(
            tmp_path, command=command, notify=notify)
    url = request.getfixturevalue("postgres_url")
    return lambda command="tanaban ingest interactions", notify=lambda _: None: PgLocks(
        url, command=command, notify=notify)


@contextmanager
def held_elsewhere(where: Path | LockFactory, name: str, mode: str,
                   command: str = "tanaban keys rotate") -> Iterator[None]:
    """Hold `name` from another thread (its own descriptor or connection, so it is another holder) until exit."""
    taken, release = threading.Event(), threading.Event()
    factory = where if callable(where) else (lambda command: FileLocks(where, command=command))

    def hold() -> None:
        with factory(command=command).acquire(name, mode, timeout=5):
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def test_a_blocked_request_waits_names_the_holder_then_fails_in_one_line(lock_factory: LockFactory) -> None:
    notes: list[str] = []
    with (held_elsewhere(lock_factory, STORE, EXCLUSIVE), pytest.raises(LockError) as caught,
          lock_factory(notify=notes.append).acquire(STORE, SHARED, timeout=0.3)):
        pytest.fail("acquired a lock held exclusively elsewhere")
    message = str(caught.value)
    assert message.startswith("blocked by tanaban keys rotate (pid ") and " since 20" in message
    assert "wait for it to finish or stop it" in message and "\n" not in message
    assert notes and notes[0].startswith("waiting for tanaban keys rotate (pid ")
    assert caught.value.exit_code == 75


def test_shared_holds_coexist_and_exclusive_waits_for_them(lock_factory: LockFactory) -> None:
    with held_elsewhere(lock_factory, STORE, SHARED, command="tanaban train cf"):
        with lock_factory().acquire(STORE, SHARED, timeout=0):
            assert sorted(h.command for h in lock_factory().holders(STORE)) == ["tanaban ingest interactions",
                                                                                "tanaban train cf"]
        with (pytest.raises(LockError, match="blocked by tanaban train cf"),
              lock_factory().acquire(STORE, EXCLUSIVE, timeout=0.2)):
            pass
    with lock_factory().acquire(STORE, EXCLUSIVE, timeout=0):  # released: free at once
        holders = lock_factory().holders(STORE)
        assert [(h.command, h.pid, h.mode) for h in holders] == [("tanaban ingest interactions", os.getpid(),
                                                                  EXCLUSIVE)]
    assert lock_factory().holders(STORE) == []


def test_locks_of_different_names_are_independent(lock_factory: LockFactory) -> None:
    with held_elsewhere(lock_factory, "ingest", EXCLUSIVE), lock_factory().acquire("train-cf", EXCLUSIVE, timeout=0):
        assert [h.mode for h in lock_factory().holders("ingest")] == [EXCLUSIVE]


def test_a_waiter_gets_the_lock_when_the_holder_finishes(lock_factory: LockFactory) -> None:
    got = []
    with held_elsewhere(lock_factory, "ingest", EXCLUSIVE):
        waiter = threading.Thread(target=lambda: got.append(_enter(lock_factory, "ingest")))
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive() and not got  # still waiting while the holder runs
    waiter.join(5)
    assert got == [True]


def _enter(lock_factory: LockFactory, name: str) -> bool:
    with lock_factory().acquire(name, EXCLUSIVE, timeout=5):
        return True


def test_nested_holds_in_one_thread_and_no_silent_upgrade(lock_factory: LockFactory) -> None:
    locks = lock_factory()
    with locks.acquire(STORE, EXCLUSIVE, timeout=0), locks.acquire(STORE, SHARED, timeout=0):
        pass
    with (locks.acquire(STORE, SHARED, timeout=0), pytest.raises(RuntimeError, match="upgrade"),
          locks.acquire(STORE, EXCLUSIVE, timeout=0)):
        pass


def test_a_dead_holders_sidecar_is_ignored_and_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{STORE}.999999999-1.holder"
    stale.write_text(json.dumps({"command": "tanaban init", "pid": 999_999_999, "since": "2026-01-01T00:00:00+00:00",
                                 "mode": EXCLUSIVE}), encoding="utf-8")
    locks = FileLocks(tmp_path, command="tanaban ingest interactions")
    with locks.acquire(STORE, EXCLUSIVE, timeout=0):  # flock died with it: nothing blocks
        assert [h.command for h in locks.holders(STORE)] == ["tanaban ingest interactions"]
    assert not stale.exists()


def _config(tmp_path: Path, timeout: float = 0.2) -> ApplianceConfig:
    return ApplianceConfig(paths=PathsConfig(data_dir=str(tmp_path)), store=StoreConfig(lock_timeout_s=timeout))


def test_writers_of_one_kind_exclude_each_other_but_not_other_kinds(tmp_path: Path) -> None:
    cfg, locks_dir = _config(tmp_path), tmp_path / "locks"
    with held_elsewhere(locks_dir, "ingest", EXCLUSIVE, command="tanaban ingest items"):
        with writing(cfg, "train-cf"):
            pass
        with pytest.raises(LockError, match="blocked by tanaban ingest items"), writing(cfg, "ingest"):
            pass
    with (held_elsewhere(locks_dir, STORE, SHARED, command="tanaban ingest items"),
          pytest.raises(LockError, match="blocked by tanaban ingest items"),
          writing(cfg, None)):  # init / key rotation: nothing else may write
        pass


def test_decorators_lock_and_make_the_home_reread_its_keys(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class FakeHome:
        config: ApplianceConfig
        forgotten: int = 0

        def forget_keys(self) -> None:
            self.forgotten += 1

    @store_writer("ingest")
    def ingest(home: FakeHome) -> list[str]:
        return [h.mode for h in FileLocks(tmp_path / "locks").holders(STORE)]

    @store_owner
    def rotate(home: FakeHome) -> list[str]:
        return [h.mode for h in FileLocks(tmp_path / "locks").holders(STORE)]

    home = FakeHome(_config(tmp_path))
    assert ingest(home) == [SHARED] and rotate(home) == [EXCLUSIVE] and home.forgotten == 2
    assert (tmp_path / "locks" / "ingest.lock").exists()


def test_two_rotations_at_once_run_one_after_the_other_with_the_key_in_use(home: Home,
                                                                           tmp_config: ApplianceConfig) -> None:
    first_key = home.pseudonym_key.key_id
    homes = [open_home(tmp_config) for _ in range(2)]
    for each in homes:
        assert each.pseudonym_key.key_id == first_key  # both read the key before either rotates
    reports: list[RotationReport] = []
    threads = [threading.Thread(target=lambda h=h: reports.append(rotate_pseudonym_key(h))) for h in homes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(reports) == 2
    assert reports[0].old_key_id == first_key and reports[1].old_key_id == reports[0].new_key_id
    assert open_home(tmp_config).pseudonym_key.key_id == reports[1].new_key_id


# --- PostgreSQL advisory locks ---------------------------------------------------------------------------------------

_HOLD_AND_DIE = """
import sys, time
from appliance.data.locks import PgLocks
with PgLocks(sys.argv[1], command="tanaban train cf").acquire(sys.argv[2], "exclusive", timeout=5):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_holder_releases_its_advisory_lock(postgres_url: str) -> None:
    """Like flock: the server ends the session of a client killed with SIGKILL, and its locks with it."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_AND_DIE, postgres_url, "ingest"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        seen = PgLocks(postgres_url).holders("ingest")
        assert [(h.command, h.pid, h.mode) for h in seen] == [("tanaban train cf", holder.pid, EXCLUSIVE)]
        with pytest.raises(LockError, match=rf"blocked by tanaban train cf \(pid {holder.pid}\)"), \
                PgLocks(postgres_url).acquire("ingest", EXCLUSIVE, timeout=0.2):
            pass
    finally:
        holder.kill()
        holder.wait(10)
    with PgLocks(postgres_url).acquire("ingest", EXCLUSIVE, timeout=10):  # the server notices the lost client
        pass


def test_advisory_locks_are_per_database_and_name_a_foreign_session(postgres_url: str,
                                                                   postgres_server: object) -> None:
    import psycopg

    other = postgres_server.create_database()  # type: ignore[attr-defined]
    with held_elsewhere(lambda command: PgLocks(other, command=command), STORE, EXCLUSIVE), \
            PgLocks(postgres_url).acquire(STORE, EXCLUSIVE, timeout=0):
        pass  # the same name in another database is another lock
    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True, application_name="nightly-report") as foreign:
        foreign.execute("SELECT pg_advisory_lock(%s, %s)", pg_lock_key("ingest"))
        with pytest.raises(LockError, match="blocked by PostgreSQL session 'nightly-report'"), \
                PgLocks(postgres_url).acquire("ingest", SHARED, timeout=0.1):
            pass


def test_a_postgresql_store_gets_advisory_locks_and_an_unreachable_one_a_clear_error(tmp_path: Path,
                                                                                    postgres_url: str) -> None:
    cfg = ApplianceConfig(paths=PathsConfig(data_dir=str(tmp_path)), store=StoreConfig(url=postgres_url,
                                                                                       lock_timeout_s=0.2))
    assert isinstance(appliance_locks(cfg), PgLocks)
    assert isinstance(appliance_locks(_config(tmp_path)), FileLocks)
    with held_elsewhere(lambda command: PgLocks(postgres_url, command=command), "ingest", EXCLUSIVE,
                        command="tanaban ingest items"):
        with writing(cfg, "train-cf"):
            pass
        with pytest.raises(LockError, match="blocked by tanaban ingest items"), writing(cfg, "ingest"):
            pass
    assert not (tmp_path / "locks").exists()  # nothing on the local disk
    dead = dataclasses.replace(cfg, store=StoreConfig(url="postgresql://nobody:secret@127.0.0.1:1/none"))
    with pytest.raises(UserError) as caught, writing(dead, "ingest"):
        pass
    assert "cannot reach the PostgreSQL store at postgresql+psycopg://nobody:***@127.0.0.1:1/none" in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.slow  # four `tanaban` process starts: about 45 s on the busy 2-core machine
def test_real_processes_take_turns_on_a_postgresql_store(tmp_path: Path, postgres_url: str) -> None:
    """Issue 14's races through real `tanaban` processes on a PostgreSQL store: two `init`s, then `keys rotate`
    against `ingest interactions`; the advisory locks make each pair run one after the other."""
    from sqlalchemy import select as sql_select

    from appliance.config import load_config
    from appliance.data.ingest import ingest_file
    from appliance.data.store import User

    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[store]\nurl = "{postgres_url}"\n', encoding="utf-8")

    def together(*commands: tuple[str, ...]) -> list[tuple[int, str]]:
        procs = [subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "--config", str(config),
                                   *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env={**os.environ, "COLUMNS": "200"}) for args in commands]
        return [(proc.wait(120), proc.stdout.read()) for proc in procs]  # type: ignore[union-attr]

    results = together(("init",), ("init",))
    assert [code for code, _ in results] == [0, 0] and sorted("(created:" in out for _, out in results) == [
        False, True], results
    home = open_home(load_config(config))
    (tmp_path / "items.csv").write_text("sku,title\n" + "".join(f"S{i},Item {i}\n" for i in range(7)), "utf-8")
    ingest_file(home, tmp_path / "items.csv", "items", progress=False)
    events = tmp_path / "events.csv"
    events.write_text("customer_id,sku,timestamp\n" + "".join(f"cust-{i % 50},S{i % 7},{1000 + i}\n"
                                                              for i in range(500)), encoding="utf-8")
    results = together(("keys", "rotate", "--yes"), ("ingest", "interactions", str(events)))
    assert all(code == 0 and "Traceback" not in out for code, out in results), results
    assert "500 rows read, 500 added, 0 already present" in results[1][1], results
    home = open_home(load_config(config))
    with home.engine.connect() as conn:
        stored = dict(conn.execute(sql_select(User.pseudonym, User.key_id)).all())
    assert set(stored) == {home.store_pseudonym(f"cust-{i}") for i in range(50)}  # no customer split in two
    assert set(stored.values()) == {home.pseudonym_key.key_id}
    assert not (tmp_path / "data" / "locks").exists()  # the locks were the server's, not files
