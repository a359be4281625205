"""Where the audit log's rows live: one small interface (`AuditBackend`) with a SQLite and a PostgreSQL engine, so
that `appliance.privacy.audit.log` keeps one code path for the hash chain, checkpoints and signing guard.

Both engines hold the same two tables (`entries`, `checkpoints`) with the same rows, and both enforce append-only
in the database itself: triggers reject UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) and any INSERT that is
not exactly the next number. Writers are serialised on the chain head: SQLite by `BEGIN IMMEDIATE` (one writer per
file), PostgreSQL by a transaction-scoped advisory lock (`pg_advisory_xact_lock`, PostgreSQL 15 manual section
9.27.10) taken before the head is read, so two appliances on two machines never fork the chain.

On PostgreSQL the tables are in the schema `tanaban_audit` and the appliance should connect as a role that has only
USAGE on the schema and SELECT, INSERT on the tables (`postgres_setup_sql`); the schema's owner (an admin) creates
them. A superuser can still disable the triggers: the hash chain, the signed checkpoints and the witness file are
what catch a rewrite (docs/AUDITORS.md). psycopg 3 is imported only when a PostgreSQL URL is configured.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from appliance.errors import UserError

PG_SCHEMA = "tanaban_audit"
# pg_advisory_xact_lock key of the audit chain head: fixed, so every appliance writing the same database agrees
PG_LOCK_KEY = 0x7461_6E61_6175_6469  # "tanaaudi"
PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_STREAM_ROWS = 2_000  # rows per round trip when streaming a large read from PostgreSQL


class AuditBackendError(UserError, ValueError):
    """The audit log's location is not usable (an unsupported URL, a missing driver)."""


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Queryable(Protocol):
    """What the signing guard and the readers need: statements with `?` placeholders."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...


class AuditBackend(Queryable, Protocol):
    """One connection to the log's database (autocommit; explicit transactions), opened per process."""

    location: str  # for messages: a file path, or host:port/db (never a password)
    errors: tuple[type[BaseException], ...]  # the driver's errors: a failed write becomes AuditWriteError

    @property
    def in_transaction(self) -> bool: ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """The same statement for each of `rows` (bulk copies)."""

    def begin_write(self) -> None:
        """Start the write transaction and hold the chain head until commit or rollback."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def iterate(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        """Rows of a large read inside the current transaction (it sees what the transaction wrote), streamed."""

    def snapshot(self) -> contextlib.AbstractContextManager[Queryable]:
        """A separate read-only connection in one transaction: a consistent view while others append."""

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        """Rows of a possibly large read, without holding them all in memory."""

    def json_text(self, *path: str) -> str:
        """An SQL expression for a field of the entry's canonical JSON `body`, compared as text."""

    def close(self) -> None: ...


def _sqlite_create_private(path: Path) -> None:
    """Create the file 0600 before SQLite does (it would use 0644); SQLite gives -wal/-shm the same mode."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,   -- 1..n without gaps
    body TEXT NOT NULL,        -- canonical JSON of the entry without its hashes (the Merkle leaf data)
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_signature ON checkpoints (signature);  -- witness lines are looked up by it
"""
# INSERT OR REPLACE deletes without firing DELETE triggers, so inserts must also be "exactly the next number".
_SQLITE_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE of {table} is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE from {table} is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS {table}_next_only BEFORE INSERT ON {table}
WHEN NEW.{key} IS NOT (SELECT COALESCE(MAX({key}), 0) + 1 FROM {table})
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {table} rows are numbered 1..n with no gaps'); END;
"""


class SQLiteBackend:
    """The audit log as a SQLite file of its own: WAL, synchronous=FULL, mode 0600."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn, self.path, self.location = conn, path, str(path)

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float, schema_version: int) -> SQLiteBackend:
        """Open (creating if needed); raises OSError or sqlite3.Error."""
        _sqlite_create_private(path)
        conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a committed egress record must survive a power cut
            conn.executescript(_SQLITE_SCHEMA + _SQLITE_TRIGGERS.format(table="entries", key="seq")
                               + _SQLITE_TRIGGERS.format(table="checkpoints", key="id")
                               + f"PRAGMA user_version={schema_version};")
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(args))

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def begin_write(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Queryable]:
        uri = self.path.resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as conn:
            conn.execute("BEGIN")
            yield _SQLiteReader(conn)

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        return iter(self._conn.execute(sql, tuple(args)))  # one statement: SQLite reads it from one snapshot

    def iterate(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        return iter(self._conn.execute(sql, tuple(args)))  # a cursor steps through the file: nothing is buffered

    def json_text(self, *path: str) -> str:
        return f"json_extract(body, '$.{'.'.join(path)}')"

    def close(self) -> None:
        self._conn.close()


class _SQLiteReader:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(args))


# --- PostgreSQL ----------------------------------------------------------------------------------------------------

def pg_schema_sql(schema: str = PG_SCHEMA) -> str:
    """The tables, the append-only trigger functions and the triggers (idempotent: safe to run again)."""
    return f"""
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.entries (
    seq BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
    id BIGINT PRIMARY KEY,
    tree_size BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkpoints_signature ON {schema}.checkpoints (signature);
CREATE OR REPLACE FUNCTION {schema}.reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % of % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION {schema}.next_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    given BIGINT := (to_jsonb(NEW) ->> TG_ARGV[0])::BIGINT;
    expected BIGINT;
BEGIN
    EXECUTE format('SELECT COALESCE(MAX(%I), 0) + 1 FROM %I.%I', TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO expected;
    IF given IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'audit log is append-only: % rows are numbered 1..n with no gaps', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER entries_no_change BEFORE UPDATE OR DELETE ON {schema}.entries
    FOR EACH ROW EXECUTE FUNCTION {schema}.reject_change();
CREATE OR REPLACE TRIGGER entries_no_truncate BEFORE TRUNCATE ON {schema}.entries
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.reject_change();
CREATE OR REPLACE TRIGGER entries_next_only BEFORE INSERT ON {schema}.entries
    FOR EACH ROW EXECUTE FUNCTION {schema}.next_only('seq');
CREATE OR REPLACE TRIGGER checkpoints_no_change BEFORE UPDATE OR DELETE ON {schema}.checkpoints
    FOR EACH ROW EXECUTE FUNCTION {schema}.reject_change();
CREATE OR REPLACE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON {schema}.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.reject_change();
CREATE OR REPLACE TRIGGER checkpoints_next_only BEFORE INSERT ON {schema}.checkpoints
    FOR EACH ROW EXECUTE FUNCTION {schema}.next_only('id');
"""


def postgres_setup_sql(role: str, schema: str = PG_SCHEMA) -> str:
    """What an admin runs once (psql, as the schema's future owner: not the appliance's role) so that the appliance,
    connecting as `role`, can only read and append: USAGE on the schema, SELECT and INSERT on the two tables, and
    nothing else (no UPDATE, DELETE, TRUNCATE, TRIGGER; not the owner, so it cannot disable the triggers)."""
    if not _ROLE.fullmatch(role):
        raise AuditBackendError(f"role name {role!r} is not a plain lower-case PostgreSQL identifier (letters, "
                                "digits, _; at most 63): create the role with such a name")
    return (f"BEGIN;\n{pg_schema_sql(schema).strip()}\n"
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;\n"
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM PUBLIC, {role};\n"
            f"GRANT USAGE ON SCHEMA {schema} TO {role};\n"
            f"GRANT SELECT, INSERT ON {schema}.entries, {schema}.checkpoints TO {role};\n"
            "COMMIT;\n")


def is_postgres_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in PG_SCHEMES


def libpq_url(url: str) -> str:
    """A libpq connection URI from an SQLAlchemy-style one (postgresql+psycopg:// -> postgresql://)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in PG_SCHEMES:
        raise AuditBackendError(f"audit.url must start with postgresql:// (got a {parts.scheme or 'plain'!r} URL); "
                                "leave it empty to keep the log in the SQLite file audit.path")
    return "postgresql" + url[len(parts.scheme):]


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL: safe to print (no user, no password, no parameters)."""
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    return f"postgresql://{host}{':' + str(parts.port) if parts.port else ''}{parts.path or ''}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise AuditBackendError("audit.url is a PostgreSQL URL but psycopg is not installed: install the "
                                "'postgres' extra (pip install 'tanaban[postgres]')") from None
    return psycopg


class PostgresBackend:
    """The audit log in a PostgreSQL database (schema `tanaban_audit`), through psycopg 3 in autocommit mode."""

    def __init__(self, conn: Any, url: str, schema: str) -> None:
        self._conn, self._url, self.schema = conn, url, schema
        self.location = describe_url(url)
        self.errors: tuple[type[BaseException], ...] = (_psycopg().Error,)
        self._busy_timeout_s = 10.0

    @classmethod
    def open(cls, url: str, *, busy_timeout_s: float, schema: str = PG_SCHEMA) -> PostgresBackend:
        """Connect, creating the schema if it is missing (when the role may); raises psycopg.Error."""
        psycopg = _psycopg()
        conn = _connect(psycopg, url, busy_timeout_s, schema)
        backend = cls(conn, url, schema)
        backend._busy_timeout_s = busy_timeout_s
        try:
            backend._ensure_schema()
        except BaseException:
            conn.close()
            raise
        return backend

    def _ensure_schema(self) -> None:
        """Create the tables and triggers unless they exist: an admin-made schema is left as it is (the appliance's
        role may not even have CREATE). Two first openers are serialised by the chain head lock."""
        found = self._conn.execute("SELECT to_regclass(%s), to_regclass(%s)",
                                   (f"{self.schema}.entries", f"{self.schema}.checkpoints")).fetchone()
        if all(found):
            return
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
            self._conn.execute(pg_schema_sql(self.schema))

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(_pg_sql(sql), tuple(args))

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_pg_sql(sql), rows)  # pipelined by psycopg 3: one round trip per batch, not per row

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != _psycopg().pq.TransactionStatus.IDLE

    def begin_write(self) -> None:
        self._conn.execute("BEGIN")
        try:  # the head is read after this: every writer, on any machine, waits here for the one before it
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Queryable]:
        psycopg = _psycopg()
        with _connect(psycopg, self._url, self._busy_timeout_s, self.schema) as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield _PostgresReader(conn)
            finally:
                conn.execute("ROLLBACK")

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        """A server-side cursor on a connection of its own, in one read-only snapshot, `_STREAM_ROWS` at a time."""
        with self.snapshot() as reader:
            assert isinstance(reader, _PostgresReader)
            with reader.conn.cursor(name="tanaban_audit_stream") as cursor:
                cursor.itersize = _STREAM_ROWS
                cursor.execute(_pg_sql(sql), tuple(args))
                yield from cursor

    def iterate(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Any]:
        """A server-side cursor in the open transaction (outside one, a plain buffered read)."""
        if not self.in_transaction:
            yield from self.execute(sql, args)
            return
        with self._conn.cursor(name="tanaban_audit_iterate") as cursor:
            cursor.itersize = _STREAM_ROWS
            cursor.execute(_pg_sql(sql), tuple(args))
            yield from cursor

    @staticmethod
    def driver_errors() -> tuple[type[BaseException], ...]:
        return (_psycopg().Error,)

    def json_text(self, *path: str) -> str:
        return f"(body::jsonb #>> '{{{','.join(path)}}}')"

    def close(self) -> None:
        self._conn.close()


class _PostgresReader:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(_pg_sql(sql), tuple(args))


def _connect(psycopg: Any, url: str, busy_timeout_s: float, schema: str) -> Any:
    """Autocommit (transactions are explicit, as on SQLite); waits at most `busy_timeout_s` for the head lock."""
    timeout_ms = max(1, int(busy_timeout_s * 1000))
    return psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=max(2, int(busy_timeout_s)),
                           options=f"-c lock_timeout={timeout_ms} -c search_path={schema}",
                           application_name="tanaban-audit")


def _pg_sql(sql: str) -> str:
    """The log's statements use `?` placeholders (sqlite3's); psycopg's are `%s`. None holds a literal ? or %."""
    return sql.replace("?", "%s")
