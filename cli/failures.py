"""How the CLI reports what is not a `UserError`: anticipated OS and database failures as one line with a fix and an
exit code from sysexits.h, anything else as "internal error" plus a local crash report (docs/OPERATIONS.md).

A crash report keeps the exception's type and its traceback as file:line:function locations (with the source line),
for every exception in the chain, and drops exception messages and local variables: messages routinely embed the
values being handled (`KeyError('anna@example.com')`, a UnicodeDecodeError's bytes, an SQL statement's parameters),
and the report must be safe to attach to a support ticket. The location and the type are what find the bug.
"""

from __future__ import annotations

import errno
import os
import platform
import sqlite3
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from appliance import __version__

EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: the PostgreSQL server of the store or audit log is down or unreachable
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug; the crash report says where
EXIT_IO = 74  # EX_IOERR: disk full, I/O error
EXIT_BUSY = 75  # EX_TEMPFAIL: the store stayed locked by another process (locks.LockError uses it too)
EXIT_PERMISSION = 77  # EX_NOPERM: permission denied, read-only file system
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
CRASH_DIR = "crash"  # under data_dir; $TMPDIR when the data directory is missing or unwritable

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}
# SQLSTATEs of a PostgreSQL connection that is gone (PostgreSQL manual, appendix A): class 08 connection_exception,
# 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down)
_PG_GONE_CLASS, _PG_GONE = "08", {"57P01", "57P02", "57P03"}


def describe_failure(exc: BaseException, data_dir: Path | None,
                     servers: Sequence[str] = ()) -> tuple[str, int] | None:
    """One line and an exit code for an anticipated failure (disk full, permission, locked database, a PostgreSQL
    server gone), else None. `servers`: the PostgreSQL URLs the config names (store.url, audit.url).

    The line names a path or server and the fix, never the exception's message (which may hold row values).
    """
    where = f"under {data_dir}" if data_dir else "in the data directory"
    if isinstance(exc, OSError) and exc.errno is not None:
        target = exc.filename or f"a file {where}"
        if exc.errno in _DISK_FULL:
            return f"disk full while writing {target}: free space and rerun", EXIT_IO
        if exc.errno in _NO_PERMISSION:
            return (f"permission denied ({os.strerror(exc.errno)}) on {target}: run as the appliance's user or fix "
                    "the owner and mode of that path", EXIT_PERMISSION)
        if exc.errno == errno.EIO:
            return f"I/O error on {target}: check the disk (dmesg) and rerun", EXIT_IO
        return None
    orig = getattr(exc, "orig", None) or exc
    if _postgres_gone(orig):
        named = " or ".join(dict.fromkeys(_server_name(url) for url in servers)) or "of the store"
        return (f"lost the connection to the PostgreSQL server {named} (stopped, restarting or unreachable): check "
                "that it runs and accepts connections (`pg_isready`, its log), then rerun the command; what the "
                "command had not committed was rolled back", EXIT_UNAVAILABLE)
    return _describe_database(orig, where)


def _postgres_gone(exc: BaseException) -> bool:
    """A psycopg OperationalError for a connection that failed or broke (no SQLSTATE: the socket closed or was
    refused), as opposed to one the server answered with an error of its own. psycopg is not imported here."""
    kind = type(exc)
    if kind.__module__.split(".")[0] != "psycopg" or "OperationalError" not in {k.__name__ for k in kind.__mro__}:
        return False
    state = getattr(exc, "sqlstate", None) or ""
    return not state or state.startswith(_PG_GONE_CLASS) or state in _PG_GONE


def _server_name(url: str) -> str:
    """postgresql://host:port/database: no user, password or options (safe in a message)."""
    parts = urlsplit(url)
    return f"postgresql://{parts.hostname or 'local socket'}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _describe_database(exc: BaseException, where: str) -> tuple[str, int] | None:
    """SQLite result codes and PostgreSQL SQLSTATEs that mean disk full, no permission, busy or corrupt."""
    name = getattr(exc, "sqlite_errorname", "") if isinstance(exc, sqlite3.Error) else ""
    state = getattr(exc, "sqlstate", None) or ""
    if name.startswith("SQLITE_FULL") or state in ("53100", "53400"):  # disk_full, configuration_limit_exceeded
        return f"disk full while writing a database {where}: free space and rerun", EXIT_IO
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN")) or state == "42501":
        return (f"cannot open or write a database {where} (missing, read-only or permission denied): check that "
                "`tanaban init` ran and that this user owns the data directory", EXIT_PERMISSION)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return ("the store stayed locked by another process for longer than store.sqlite_busy_timeout_ms: rerun "
                "when it is done, or raise that timeout", EXIT_BUSY)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or state == "XX001":  # XX001: data_corrupted
        return (f"a database {where} is corrupt or not a database at all: restore it from a backup, or move it "
                "away and rerun `tanaban init` and the ingests", EXIT_IO)
    if name.startswith("SQLITE_IOERR"):
        return f"I/O error while writing a database {where}: check the disk (dmesg) and rerun", EXIT_IO
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then its cause or context, and so on (as Python prints them, in reverse)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def format_crash_report(exc: BaseException, command: str, now: datetime) -> str:
    """The report's text: versions, command words, then each exception's type and frame locations (no messages)."""
    lines = ["tanaban crash report (exception messages and local variables are left out: they can hold data)",
             f"time:     {now.isoformat(timespec='seconds')}",
             f"tanaban:  {__version__}",
             f"python:   {platform.python_version()} on {platform.platform()}",
             f"command:  {command}", ""]
    for position, item in enumerate(reversed(list(_chain(exc)))):
        if position:
            lines += ["", "which led to:"]
        lines.append(f"exception: {_type_name(item)}")
        for frame in traceback.extract_tb(item.__traceback__):
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
            if frame.line:
                lines.append(f"      {frame.line.strip()}")
    return "\n".join(lines) + "\n"


def write_crash_report(exc: BaseException, command: str, data_dir: Path | None, *,
                       now: datetime | None = None) -> Path | None:
    """Write the report (0600) under `<data_dir>/crash/`, else $TMPDIR; returns its path, None if neither works."""
    now = now or datetime.now(UTC)
    text = format_crash_report(exc, command, now)
    name = f"tanaban-crash-{now.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    places = [data_dir / CRASH_DIR] if data_dir is not None and data_dir.is_dir() else []
    for place in [*places, Path(tempfile.gettempdir())]:
        try:
            place.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(place / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        return place / name
    return None


def report_internal_error(exc: BaseException, command: str, data_dir: Path | None) -> str:
    """The one line the CLI prints for a bug, after writing the crash report."""
    try:
        path = write_crash_report(exc, command, data_dir)
    except Exception:  # writing the report must never turn one error into two tracebacks
        path = None
    where = f"report written to {path}" if path else "no crash report: neither data_dir nor $TMPDIR is writable"
    return f"internal error: {type(exc).__name__} ({where})"
