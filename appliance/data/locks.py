"""The appliance-wide writer discipline: named reader/writer locks on the data directory, with their holders named.

Every command that writes holds the SHARED "store" lock plus an EXCLUSIVE lock named after what it writes (two
ingests, two `train cf` or two `export cf` run one after the other); `tanaban init` and `tanaban keys rotate` hold
the EXCLUSIVE "store" lock, so nothing else writes while they run: a key rotation can no longer interleave with an
ingest (issue 14's "split customers"). `FileLocks` implements it on one host with flock(2) on
`<data_dir>/locks/<name>.lock` (released by the kernel when a holder dies, so a kill -9 never leaves a stale lock),
and writes each holder's command, pid and start time into `<name>.<pid>-<thread>.holder` next to it, so a waiter
prints "waiting for tanaban ingest interactions (pid 4711) ..." and, after `store.lock_timeout_s`, fails with a
one-line `LockError` naming the holder. `Locks` is the interface the rest of the code relies on (acquire(name,
mode, timeout) as a context manager). With a PostgreSQL store, which several hosts may write, `PgLocks` replaces
`FileLocks` automatically (`appliance_locks`): session-level advisory locks (PostgreSQL manual, "Advisory Locks",
https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS; pg_try_advisory_lock[_shared] on the key
pair (0x54414E4C, crc32(name))) held by one connection per lock, released by the server when that connection ends (a
kill -9 of the client never leaves a stale lock either), each holder naming itself in its connection's
application_name ("pid 4711@host: tanaban ingest"), read back from pg_locks joined to pg_stat_activity. flock is not
reliable on NFS: keep data_dir on a local file system.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from appliance.config import ApplianceConfig
from appliance.data.dirs import make_dir
from appliance.data.store import StoreError, engine_url, is_postgres, safe_url
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


_PG_NAMESPACE = 0x54414E4C  # "TANL": first half of every advisory-lock key, so other users of advisory locks differ
_PG_APP_NAME = re.compile(r"^pid (\d+)@([^:]*): (.*)$")  # application_name as PgLocks sets it
_PG_NAME_MAX = 63  # bytes of application_name PostgreSQL keeps (NAMEDATALEN - 1)


def pg_lock_key(name: str) -> tuple[int, int]:
    """The advisory-lock key pair of lock `name` (both halves non-negative int4, as pg_locks shows them)."""
    return _PG_NAMESPACE, zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


class PgLocks:
    """`Locks` on a PostgreSQL store: one connection per held lock, holding a session-level advisory lock."""

    def __init__(self, url: str, *, command: str | None = None, notify: Callable[[str], None] = _stderr,
                 sleep: Callable[[float], None] = time.sleep, connect_timeout_s: int = 10) -> None:
        self.url, self.command, self.notify, self.sleep = url, command, notify, sleep
        self.connect_timeout_s = connect_timeout_s

    @contextmanager
    def acquire(self, name: str, mode: str, timeout: float) -> Iterator[None]:
        if mode not in (SHARED, EXCLUSIVE):
            raise ValueError(f"lock mode must be {SHARED!r} or {EXCLUSIVE!r}")
        held: dict[str, str] = vars(_held).setdefault("locks", {})
        if name in held:
            if mode == EXCLUSIVE and held[name] == SHARED:
                raise RuntimeError(f"lock {name}: cannot upgrade a shared hold to exclusive (take it exclusive first)")
            yield
            return
        conn = self._connect(self._application_name())
        try:
            self._wait(conn, name, mode, timeout)
            held[name] = mode
            try:
                yield
            finally:
                del held[name]
                unlock = "pg_advisory_unlock_shared" if mode == SHARED else "pg_advisory_unlock"
                with suppress(Exception):  # a connection lost meanwhile released the lock already
                    conn.execute(f"SELECT {unlock}(%s, %s)", pg_lock_key(name))
        finally:
            conn.close()  # ending the session releases whatever it still holds

    def holders(self, name: str) -> list[Holder]:
        """Sessions holding `name` in this database, oldest first."""
        conn = self._connect("tanaban lock query")
        try:
            return self._holders(conn, name)
        finally:
            conn.close()

    def _connect(self, application_name: str) -> Any:
        try:
            import psycopg
        except ImportError:
            raise StoreError("the PostgreSQL driver is not installed: install tanaban[postgres] "
                             "(installer/install.sh installs it)") from None
        conninfo = _libpq_url(self.url)
        try:
            return psycopg.connect(conninfo, autocommit=True, application_name=application_name,
                                   connect_timeout=self.connect_timeout_s)
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"cannot reach the PostgreSQL store at {safe_url(self.url)} to take a lock: "
                             f"{reason}") from None

    def _application_name(self) -> str:
        name = f"pid {os.getpid()}@{_host()}: {self.command or current_command()}"
        return name.encode("utf-8")[:_PG_NAME_MAX].decode("utf-8", "ignore")

    def _wait(self, conn: Any, name: str, mode: str, timeout: float) -> None:
        try_lock = "pg_try_advisory_lock_shared" if mode == SHARED else "pg_try_advisory_lock"
        deadline, told = time.monotonic() + max(timeout, 0.0), False
        while True:
            if conn.execute(f"SELECT {try_lock}(%s, %s)", pg_lock_key(name)).fetchone()[0]:
                return
            holders = self._holders(conn, name, exclude_self=True)
            conflicting = [h for h in holders if h.mode == EXCLUSIVE] or (holders if mode == EXCLUSIVE else [])
            holder = conflicting[0] if conflicting else None
            who = holder.describe() if holder else "another tanaban command"
            left = deadline - time.monotonic()
            if left <= 0:
                since = f" since {holder.since}" if holder else ""
                raise LockError(f"blocked by {who}{since}: wait for it to finish or stop it (lock {name} on the "
                                f"PostgreSQL store {safe_url(self.url)}; waited {timeout:.3g} s, "
                                "store.lock_timeout_s)")
            if not told:
                self.notify(f"waiting for {who} to release the {name} lock (up to {timeout:.3g} s) ...")
                told = True
            self.sleep(min(_POLL_S, left))

    @staticmethod
    def _holders(conn: Any, name: str, *, exclude_self: bool = False) -> list[Holder]:
        rows = conn.execute(
            "SELECT a.application_name, a.pid, a.backend_start, l.mode FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = %s::oid "
            "AND l.objid = %s::oid AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            + (" AND l.pid <> pg_backend_pid()" if exclude_self else "") + " ORDER BY a.backend_start",
            pg_lock_key(name)).fetchall()
        found = []
        for app_name, backend_pid, started, lock_mode in rows:
            match = _PG_APP_NAME.match(app_name or "")
            if match:
                pid, host, command = int(match[1]), match[2], match[3]
                command = f"{command} on {host}" if host and host != _host() else command
            else:  # a session that is not a tanaban command
                pid, command = backend_pid, f"PostgreSQL session {app_name!r}" if app_name else "a PostgreSQL session"
            since = started.astimezone(UTC).isoformat(timespec="seconds") if started else ""
            found.append(Holder(command, pid, since, EXCLUSIVE if lock_mode == "ExclusiveLock" else SHARED))
        return found


def _host() -> str:
    """This machine's short name, as holders on other hosts are told apart."""
    return os.uname().nodename.split(".")[0][:20]


def _libpq_url(url: str) -> str:
    """A libpq connection URI for a store URL (the SQLAlchemy driver suffix removed; query options such as
    sslmode kept)."""
    from sqlalchemy import make_url  # only for PostgreSQL stores

    return make_url(engine_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def appliance_locks(cfg: ApplianceConfig) -> Locks:
    """The appliance's locks: advisory locks for a PostgreSQL store (any host may write it), else files under
    `<data_dir>/locks`."""
    if is_postgres(cfg.store.url):
        return PgLocks(cfg.store.url)
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
