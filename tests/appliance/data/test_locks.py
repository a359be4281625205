"""appliance.data.locks: shared and exclusive holds, waiting with the holder's name, the one-line timeout error,
nesting, stale holders, and the writer discipline (exclusive kind lock + shared store lock; exclusive store)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
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
    store_owner,
    store_writer,
    writing,
)
from appliance.data.rotation import RotationReport, rotate_pseudonym_key


@contextmanager
def held_elsewhere(directory: Path, name: str, mode: str, command: str = "tanaban keys rotate") -> Iterator[None]:
    """Hold `name` from another thread (its own descriptor, so flock treats it as another holder) until exit."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with FileLocks(directory, command=command).acquire(name, mode, timeout=5):
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


def _locks(directory: Path, notes: list[str] | None = None) -> FileLocks:
    return FileLocks(directory, command="tanaban ingest interactions",
                     notify=(notes.append if notes is not None else lambda _: None))


def test_a_blocked_request_waits_names_the_holder_then_fails_in_one_line(tmp_path: Path) -> None:
    notes: list[str] = []
    with (held_elsewhere(tmp_path, STORE, EXCLUSIVE), pytest.raises(LockError) as caught,
          _locks(tmp_path, notes).acquire(STORE, SHARED, timeout=0.3)):
        pytest.fail("acquired a lock held exclusively elsewhere")
    message = str(caught.value)
    assert message.startswith("blocked by tanaban keys rotate (pid ") and " since 20" in message
    assert "wait for it to finish or stop it" in message and "\n" not in message
    assert notes and notes[0].startswith("waiting for tanaban keys rotate (pid ")
    assert caught.value.exit_code == 75


def test_shared_holds_coexist_and_exclusive_waits_for_them(tmp_path: Path) -> None:
    with held_elsewhere(tmp_path, STORE, SHARED, command="tanaban train cf"):
        with _locks(tmp_path).acquire(STORE, SHARED, timeout=0):
            pass
        with (pytest.raises(LockError, match="blocked by tanaban train cf"),
              _locks(tmp_path).acquire(STORE, EXCLUSIVE, timeout=0.2)):
            pass
    with _locks(tmp_path).acquire(STORE, EXCLUSIVE, timeout=0):  # released: free at once
        assert [h.command for h in _locks(tmp_path).holders(STORE)] == ["tanaban ingest interactions"]
    assert _locks(tmp_path).holders(STORE) == []


def test_a_waiter_gets_the_lock_when_the_holder_finishes(tmp_path: Path) -> None:
    got = []
    with held_elsewhere(tmp_path, "ingest", EXCLUSIVE):
        waiter = threading.Thread(target=lambda: got.append(_enter(tmp_path, "ingest")))
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive() and not got  # still waiting while the holder runs
    waiter.join(5)
    assert got == [True]


def _enter(directory: Path, name: str) -> bool:
    with _locks(directory).acquire(name, EXCLUSIVE, timeout=5):
        return True


def test_nested_holds_in_one_thread_and_no_silent_upgrade(tmp_path: Path) -> None:
    locks = _locks(tmp_path)
    with locks.acquire(STORE, EXCLUSIVE, timeout=0), locks.acquire(STORE, SHARED, timeout=0):
        pass
    with (locks.acquire(STORE, SHARED, timeout=0), pytest.raises(RuntimeError, match="upgrade"),
          locks.acquire(STORE, EXCLUSIVE, timeout=0)):
        pass


def test_a_dead_holders_sidecar_is_ignored_and_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{STORE}.999999999-1.holder"
    stale.write_text(json.dumps({"command": "tanaban init", "pid": 999_999_999, "since": "2026-01-01T00:00:00+00:00",
                                 "mode": EXCLUSIVE}), encoding="utf-8")
    with _locks(tmp_path).acquire(STORE, EXCLUSIVE, timeout=0):  # flock died with it: nothing blocks
        assert [h.command for h in _locks(tmp_path).holders(STORE)] == ["tanaban ingest interactions"]
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
