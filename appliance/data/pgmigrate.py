"""`tanaban migrate --to postgresql://...`: move an SQLite home's store (and its audit log) into an empty PostgreSQL
database without losing a row (issue 17; docs/POSTGRES.md "Moving an existing home").

The target gets the same schema through the same migrations (appliance.data.store), then every table's rows with
their ids, streamed from SQLite and written with COPY (appliance.data.pgcopy), and its id sequences moved past the
copied ids, all in ONE PostgreSQL transaction. Rows are counted per table in the source before and in the target
after, inside that transaction: any difference rolls it back. The audit log is copied by
appliance.privacy.audit.migrate.copy_audit (it verifies the source, copies in its own transaction, and verifies that
the copy reports the same entries, checkpoints, Merkle root and head) while the store transaction is still open, so
the store commits only after the audit copy did; then the moved log is verified once more as `tanaban audit verify`
would. A target holding any row is refused. While it runs, the source home's exclusive store lock (no ingest, training
or key rotation) and the target's exclusive advisory store lock are held. The SQLite files are left as they are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from appliance.config import ApplianceConfig, StoreConfig
from appliance.data.home import Home, open_home
from appliance.data.locks import EXCLUSIVE, STORE, PgLocks, writing
from appliance.data.pgcopy import copy_rows
from appliance.data.store import (
    SCHEMA_VERSION,
    Base,
    Meta,
    StoreError,
    is_postgres,
    migrate_connection,
    open_store,
    safe_url,
    schema_version,
)
from appliance.errors import UserError

_READ_BATCH = 5_000  # rows fetched from SQLite at a time: bounds memory on large stores


class MigrateError(UserError, RuntimeError):
    """The store cannot be moved (a target that is not PostgreSQL or not empty, a source that is not SQLite), or the
    copy does not match its source; nothing was written to the target."""


@dataclass(frozen=True)
class TableCount:
    table: str
    before: int  # rows in the source
    after: int  # rows in the target, counted inside the copying transaction


@dataclass(frozen=True)
class MigrateReport:
    source_url: str  # passwords hidden
    target_url: str
    tables: tuple[TableCount, ...]
    audit: str  # what happened to the audit log, one line


def migrate_home(cfg: ApplianceConfig, target_url: str, *, audit: bool = True,
                 progress: Callable[[str, int, int], None] | None = None) -> MigrateReport:
    """Move the store of the home `cfg` (SQLite) into the empty PostgreSQL database `target_url`, and its audit log
    with it unless `audit` is False or the log is already on PostgreSQL. `progress(table, done, total)`."""
    if not is_postgres(target_url):
        raise MigrateError("--to must be a postgresql://USER@HOST:PORT/DATABASE URL (docs/POSTGRES.md)")
    if is_postgres(cfg.store.url):
        raise MigrateError(f"the store is already on PostgreSQL ({safe_url(cfg.store.url)}): to move it to another "
                           "server use pg_dump and pg_restore (docs/POSTGRES.md)")
    home = open_home(cfg)  # initialised? (clear error if not); brings the source to the current schema
    target = open_store(StoreConfig(url=target_url), migrate_schema=False)
    report = progress or (lambda _table, _done, _total: None)
    try:
        with ExitStack() as stack:
            stack.enter_context(writing(cfg, None))  # nothing writes the source meanwhile
            stack.enter_context(PgLocks(target_url).acquire(STORE, EXCLUSIVE, cfg.store.lock_timeout_s))
            before = _source_counts(home.engine)
            _check_empty(target)
            with target.begin() as conn:
                migrate_connection(conn)
                for table in _tables():
                    _copy_table(home.engine, conn, table, before[table.name], report)
                _advance_sequences(conn)
                counts = tuple(TableCount(name, n, _count(conn, name)) for name, n in before.items())
                wrong = [c for c in counts if c.before != c.after]
                if wrong:
                    raise MigrateError("the copy does not match its source (" + ", ".join(
                        f"{c.table}: {c.before} -> {c.after}" for c in wrong) + "); nothing was written")
                audit_line = _copy_audit(home, target_url, report) if audit else "audit log not moved (--no-audit)"
            if audit and audit_line.startswith("copied"):
                audit_line += "; " + _verify_moved(cfg, target_url, target)
    finally:
        target.dispose()
        home.engine.dispose()
    return MigrateReport(safe_url(cfg.store.url), safe_url(target_url), counts, audit_line)


def _tables() -> list[Table]:
    """The store's tables, parents before children (foreign keys), meta first."""
    return list(Base.metadata.sorted_tables)


def _count(conn: Connection, table: str) -> int:
    return int(conn.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0)


def _source_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table.name: _count(conn, table.name) for table in _tables()}


def _check_empty(target: Engine) -> None:
    """Refuse a target that holds a row of any store table (an empty schema from `tanaban init --store` is fine)."""
    try:
        with target.connect() as conn:
            present = set(inspect(conn).get_table_names())
            version = schema_version(conn)
            held = {t.name: _count(conn, t.name) for t in _tables() if t.name in present and t.name != "meta"}
            meta = conn.scalar(select(func.count()).select_from(Meta).where(Meta.key != "schema_version")) \
                if "meta" in present else 0
    except OperationalError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise StoreError(f"cannot open the target store at {safe_url(str(target.url))}: {reason}") from None
    if version not in (0, SCHEMA_VERSION):
        raise MigrateError(f"the target has store schema version {version}, this tanaban {SCHEMA_VERSION}: "
                           "migrate into an empty database")
    full = {name: n for name, n in held.items() if n} | ({"meta": meta} if meta else {})
    if full:
        raise MigrateError("the target database is not empty (" + ", ".join(f"{n} rows in {t}" for t, n in
                                                                            full.items())
                           + "): migrate into an empty database, nothing was written")


def _copy_table(source: Engine, conn: Connection, table: Table, total: int,
                progress: Callable[[str, int, int], None]) -> None:
    columns = [c.name for c in table.columns]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    query = select(table).order_by(*table.primary_key.columns)
    if table.name == "meta":  # the migrations wrote the target's schema_version
        query = query.where(Meta.key != "schema_version")
    done = 0
    progress(table.name, done, total)

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal done
        with source.connect() as src:
            for row in src.execution_options(yield_per=_READ_BATCH).execute(query):
                done += 1
                if done % _READ_BATCH == 0:
                    progress(table.name, done, total)
                yield tuple(_json(v) if name in json_columns else v for name, v in zip(columns, row, strict=True))

    copy_rows(conn, table.name, columns, rows())
    progress(table.name, done, total)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _advance_sequences(conn: Connection) -> None:
    """COPY wrote explicit ids: move each id sequence past the largest, so the next insert gets a fresh id."""
    for table in _tables():
        if "id" in table.columns and table.columns["id"].primary_key:
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), m, true) FROM "
                              f'(SELECT max(id) AS m FROM "{table.name}") s WHERE m IS NOT NULL'), {"t": table.name})


def _copy_audit(home: Home, target_url: str, progress: Callable[[str, int, int], None]) -> str:
    cfg = home.config
    if cfg.audit.url:
        return f"audit log already on {safe_url(cfg.audit.url)}: left there"
    if not cfg.audit_path.is_file():
        return f"no audit log at {cfg.audit_path}: nothing to move"
    from appliance.privacy.audit.migrate import copy_audit  # the audit package's own copy and verification

    copied = copy_audit(cfg.audit_path, target_url, [home.signing_key.public],
                        progress=lambda done: progress("audit", done, 0))
    return copied.summary()


def _verify_moved(cfg: ApplianceConfig, target_url: str, target: Engine) -> str:
    """`tanaban audit verify` on the moved home (it logs log.verify there, as the command does)."""
    from appliance.privacy.audit.admin import verify_home

    moved = dataclasses.replace(cfg, store=dataclasses.replace(cfg.store, url=target_url),
                                audit=dataclasses.replace(cfg.audit, url=target_url))
    tail = max(cfg.audit.checkpoint_every - 1, 0)  # entries a checkpoint does not cover yet, by configuration
    verified = verify_home(Home(moved, target), actor="tanaban migrate", allow_unsigned_tail=tail)
    return f"audit verify on the target: OK, {verified.summary()}"
