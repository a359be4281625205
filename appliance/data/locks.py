"""The appliance-wide writer discipline: named reader/writer locks on the data directory, with their holders named.

Every command that writes holds the SHARED "store" lock plus an EXCLUSIVE lock named after what it writes (two
ingests, two `train cf` or two `export cf` run one after the other); `tanaban init` and `tanaban keys rotate` hold
the EXCLUSIVE "store" lock, so nothing else writes while they run: a key rotation can no longer interleave with an
ingest (issue 14's "split customers"). `FileLocks` implements it on one host with flock(2) on
`<data_dir>/locks/<name>.lock` (released by the kernel when a holder dies, so a kill -9 never leaves a stale lock),
and writes each holder's command, pid and start time into `<name>.<pid>-<thread>.holder` next to it, so a waiter
prints "waiting for tanaban ingest interactions (pid 4711) ..." and, after `store.lock_timeout_s`, fails with a
one-line `LockError` naming the holder. `Locks` is the interface the rest of the code relies on (acquire(name,
mode, timeout) as a context manager): with a PostgreSQL store written from several hosts, an implementation on
advisory locks (pg_advisory_lock / pg_advisory_lock_shared on a key derived from the name, held by one session;
holders read from pg_locks joined to pg_stat_activity) replaces `FileLocks` behind it. flock is not reliable on
NFS: keep data_dir on a local file system.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from appliance.config import ApplianceConfig
from appliance.data.dirs import make_dir
from appliance.errors import UserError

SHARED, EXCLUSIVE = "shared", "exclusive"
STORE = "store"  # the lock every writer holds: shared by ordinary writers, exclusive for init and key rotation
LOCKS_DIR = "locks"  # under data_dir
_POLL_S = 0.1  # flock has no timeout of its own: retry this often (imperceptible, and cheap for a CLI)

P = ParamSpec("P")
R = TypeVar("R")


class LockError(UserError, RuntimeError):
    """Another command holds a lock this one needs, for longer than store.lock_timeout_s; the message names it."""

    exit_code = 75  # EX_TEMPFAIL (sysexits.h): nothing is wrong, try again later


@dataclass(frozen=True)
class Holder:
    command: str  # e.g. "tanaban keys rotate": command words only, never its arguments (a file name, an id)
    pid: int
    since: str  # ISO-8601 UTC, when it took the lock
    mode: str  # SHARED | EXCLUSIVE

    def describe(self) -> str:
        return f"{self.command} (pid {self.pid})"


class Locks(Protocol):
    """Named reader/writer locks; `FileLocks` on one host, advisory locks on a shared PostgreSQL later."""

    def acquire(self, name: str, mode: str, timeout: float) -> AbstractContextManager[None]: ...


def current_command() -> str:
    """The command words of this process: click's current context when the CLI runs it (read from sys.modules, so
    the library never imports the CLI framework), else the program name."""
    click = sys.modules.get("click")
    ctx = click.get_current_context(silent=True) if click is not None else None
    if ctx is not None:
        return " ".join(["tanaban", *ctx.command_path.split()[1:]])
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_held = threading.local()  # per thread: lock name -> mode, so a holder may take the same lock again (nested)


class FileLocks:
    """`Locks` on one host: flock(2) on `<directory>/<name>.lock`, holders in sidecar files next to it."""

    def __init__(self, directory: Path, *, command: str | None = None, notify: Callable[[str], None] = _stderr,
                 clock: Callable[[], datetime] = _utcnow, sleep: Callable[[float], None] = time.sleep) -> None:
        self.directory, self.command, self.notify = Path(directory), command, notify
        self.clock, self.sleep = clock, sleep

    @contextmanager
    def acquire(self, name: str, mode: str, timeout: float) -> Iterator[None]:
        if mode not in (SHARED, EXCLUSIVE):
            raise ValueError(f"lock mode must be {SHARED!r} or {EXCLUSIVE!r}")
        held: dict[str, str] = vars(_held).setdefault("locks", {})
        if name in held:  # nested: a writer calling another writer's library function
            if mode == EXCLUSIVE and held[name] == SHARED:
                raise RuntimeError(f"lock {name}: cannot upgrade a shared hold to exclusive (take it exclusive first)")
            yield
            return
        fd = self._open(name)
        try:
            self._wait(fd, name, mode, timeout)
            sidecar = self._write_holder(name, mode)
            held[name] = mode
            try:
                yield
            finally:
                del held[name]
                sidecar.unlink(missing_ok=True)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def holders(self, name: str) -> list[Holder]:
        """Live holders of `name`, oldest first; sidecars left by dead processes are removed."""
        found = []
        for path in self.directory.glob(f"{name}.*.holder"):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                holder = Holder(str(doc["command"]), int(doc["pid"]), str(doc["since"]), str(doc["mode"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being written or removed right now
            if pid_alive(holder.pid):
                found.append(holder)
            else:
                path.unlink(missing_ok=True)
        return sorted(found, key=lambda h: h.since)

    def _open(self, name: str) -> int:
        make_dir(self.directory.parent)  # data_dir, 0750 as `tanaban init` makes it (mkdir -p would give the parents
        make_dir(self.directory)  # the umask's mode); DataDirError naming the directory if refused
        return os.open(self.directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o640)

    def _wait(self, fd: int, name: str, mode: str, timeout: float) -> None:
        operation = (fcntl.LOCK_SH if mode == SHARED else fcntl.LOCK_EX) | fcntl.LOCK_NB
        deadline, told = time.monotonic() + max(timeout, 0.0), False
        while True:
            try:
                fcntl.flock(fd, operation)
                return
            except BlockingIOError:
                pass
            holder = self._blocker(name, mode)
            who = holder.describe() if holder else "another tanaban command"
            left = deadline - time.monotonic()
            if left <= 0:
                since = f" since {holder.since}" if holder else ""
                raise LockError(f"blocked by {who}{since}: wait for it to finish or stop it (lock {name} in "
                                f"{self.directory}; waited {timeout:.3g} s, store.lock_timeout_s)")
            if not told:
                self.notify(f"waiting for {who} to release the {name} lock (up to {timeout:.3g} s) ...")
                told = True
            self.sleep(min(_POLL_S, left))

    def _blocker(self, name: str, mode: str) -> Holder | None:
        """The holder this request waits for: an exclusive one if any, else (for an exclusive request) any."""
        holders = self.holders(name)
        conflicting = [h for h in holders if h.mode == EXCLUSIVE] or (holders if mode == EXCLUSIVE else [])
        return conflicting[0] if conflicting else None

    def _write_holder(self, name: str, mode: str) -> Path:
        doc = {"command": self.command or current_command(), "pid": os.getpid(),
               "since": self.clock().isoformat(timespec="seconds"), "mode": mode}
        path = self.directory / f"{name}.{os.getpid()}-{threading.get_ident()}.holder"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        os.rename(tmp, path)  # atomic on POSIX: a reader sees the whole sidecar or none
        return path


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0; one run by another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, run by another user
    return True


def appliance_locks(cfg: ApplianceConfig) -> Locks:
    """The appliance's locks: files under `<data_dir>/locks` (see the module docstring for PostgreSQL)."""
    return FileLocks(cfg.data_dir / LOCKS_DIR)


@contextmanager
def writing(cfg: ApplianceConfig, kind: str | None, *, locks: Locks | None = None) -> Iterator[None]:
    """Hold what a writer of `kind` needs: the exclusive `kind` lock, then the shared store lock (always in this
    order, so writers cannot deadlock); `kind=None`: the exclusive store lock alone (init, key rotation).
    One timeout, store.lock_timeout_s, covers both waits."""
    locks = locks or appliance_locks(cfg)
    timeout = cfg.store.lock_timeout_s
    deadline = time.monotonic() + timeout
    with ExitStack() as stack:
        if kind is not None:
            stack.enter_context(locks.acquire(kind, EXCLUSIVE, timeout))
        left = max(deadline - time.monotonic(), 0.0) if kind is not None else timeout
        stack.enter_context(locks.acquire(STORE, SHARED if kind is not None else EXCLUSIVE, left))
        yield


def _config_of(target: Any) -> ApplianceConfig:
    return target if isinstance(target, ApplianceConfig) else target.config


def _under(kind: str | None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def locked(*args: P.args, **kwargs: P.kwargs) -> R:
            with writing(_config_of(args[0]), kind):
                forget = getattr(args[0], "forget_keys", None)
                if forget is not None:
                    forget()
                return func(*args, **kwargs)
        return locked
    return decorate


def store_writer(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: run a library function that writes `kind` under `writing(cfg, kind)`.

    Its first argument is the Home (anything with `.config`) or the ApplianceConfig. Keys the Home read before the
    lock are dropped once it is held (`Home.forget_keys`): a rotation may have finished while this command waited.
    """
    return _under(kind)


def store_owner(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run `func` under the exclusive store lock (nothing else writes meanwhile); as `store_writer`."""
    return _under(None)(func)
