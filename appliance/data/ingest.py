"""Streaming, all-or-nothing ingest of the generic item, interaction and review files (docs/INGEST.md).

Input is JSONL or CSV (RFC 4180, read with the csv module) from a file, a FIFO or `-` (stdin), optionally gzip
(RFC 1952), in UTF-8 (RFC 3629; a leading BOM is accepted). Each file is one transaction; raw customer ids go
through `Home.store_pseudonym` as soon as a row is read and are never stored, reported or echoed in an error
message. Reading and file-level errors live in appliance.data.readers, the field checks in appliance.data.fields;
this module writes the rows in batches and keeps the reject report. On a PostgreSQL store interaction, review and new
user batches go in with COPY (appliance.data.pgcopy), still inside the file's one transaction.

Memory does not grow with the file: store ids come from a bounded cache (`ID_CACHE_ENTRIES`), and the check that an
items file names each sku once is kept by the database, in a temporary table of (sku, first line) that lives inside
the file's transaction (`_FirstLines`), not in a dict of every sku.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, Text, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from appliance.data.fields import clean_event, clean_item
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.pgcopy import copy_insert_ignore, copy_rows
from appliance.data.readers import (  # re-exported: callers import the ingest API from this module
    FORMATS,
    KINDS,
    STDIN,
    IngestError,
    RowError,
    Source,
    byte_progress,
    check_input,
    csv_records,
    detect_format,
    jsonl_records,
)
from appliance.data.store import SPLITS, Interaction, Item, Review, User

_PROGRESS_EVERY = 2_000  # lines between progress-bar updates; rich is too slow to redraw per line
# store ids (sku -> id, pseudonym -> id) kept between batches of one file, per kind; bounded so that peak RSS does
# not grow with the number of customers or items in a file (about 0.3 KiB an entry: 100k entries ~ 30 MiB each)
ID_CACHE_ENTRIES = 100_000


@dataclass(frozen=True)
class IngestReport:
    source: str  # the file (or dataset file) this report is about
    kind: str  # items | interactions | reviews
    read: int  # data rows read (header and blank lines not counted)
    added: int  # new rows in the store
    updated: int  # items whose content changed (upsert by sku); always 0 for other kinds
    present: int  # rows already in the store, or repeated within the file
    rejected: int  # rows skipped with --skip-invalid (listed in reject_path)
    reject_path: Path | None = None


# --- writing ---------------------------------------------------------------------------------------------------

class RejectSink:
    """Bad rows: raise at once (all-or-nothing), or with a report path append `{line, field, reason}` JSONL."""

    def __init__(self, label: str, path: Path | None) -> None:
        self.label, self.path, self.count = label, path, 0
        self._file = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by __exit__)
            except OSError as exc:
                raise IngestError(f"{path}: cannot write the reject report ({exc.strerror}); pass --reject-report "
                                  "with a path in a writable directory") from None

    def __call__(self, line: int, field: str, reason: str) -> None:
        if self._file is None:
            raise IngestError(f"{self.label}:{line}: {field}: {reason}")
        self._file.write(json.dumps({"file": self.label, "line": line, "field": field, "reason": reason}) + "\n")
        self.count += 1

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if self._file is not None:
            self._file.close()
            if exc_type is not None and self.path is not None:
                self.path.unlink(missing_ok=True)  # a failed file leaves no half report behind


def _insert_ignore(conn: Connection, table: Any) -> Any:
    """INSERT that skips rows violating a unique constraint (SQLite and PostgreSQL spell it the same way)."""
    dialects = {"sqlite": sqlite_insert, "postgresql": pg_insert}
    if conn.dialect.name not in dialects:
        raise IngestError(f"ingest supports SQLite and PostgreSQL stores, not {conn.dialect.name}")
    return dialects[conn.dialect.name](table).on_conflict_do_nothing()


class _IdCache:
    """A least-recently-used map of key -> store id holding at most `capacity` entries.

    `split` answers one batch: the ids it knows (as a dict of the batch's own, so an eviction cannot drop an id the
    batch still needs) and the keys to look up in the store; `remember` adds what the store said."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1)
        self.ids: OrderedDict[str, int] = OrderedDict()

    def split(self, keys: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        found, missing = {}, []
        for key in keys:
            id_ = self.ids.get(key)
            if id_ is None:
                missing.append(key)
            else:
                self.ids.move_to_end(key)
                found[key] = id_
        return found, missing

    def remember(self, pairs: Iterable[tuple[str, int]]) -> None:
        for key, id_ in pairs:
            self.ids[key] = id_
            self.ids.move_to_end(key)
        while len(self.ids) > self.capacity:
            self.ids.popitem(last=False)


_FIRST_LINES = Table("tanaban_item_lines", MetaData(), Column("sku", Text, primary_key=True),
                     Column("line", BigInteger))


class _FirstLines:
    """sku -> the line it first appeared on in this items file, kept by the database in a temporary table (one per
    connection: SQLite's temp schema, PostgreSQL's pg_temp, dropped at commit there) so that client memory does not
    grow with the catalogue; emptied when a file starts and dropped when it ends."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        on_commit = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_FIRST_LINES.name} "
                             f"(sku TEXT PRIMARY KEY, line BIGINT){on_commit}")
        conn.execute(_FIRST_LINES.delete())  # one an earlier file left on this connection (SQLite keeps it)

    def lookup(self, skus: list[str]) -> dict[str, int]:
        """The first line of each of `skus` already recorded."""
        query = select(_FIRST_LINES.c.sku, _FIRST_LINES.c.line).where(_FIRST_LINES.c.sku.in_(skus))
        return {sku: line for sku, line in self.conn.execute(query)}

    def record(self, firsts: dict[str, int]) -> None:
        """Remember skus seen for the first time (none of them recorded yet)."""
        if self.conn.dialect.name == "postgresql":
            copy_rows(self.conn, _FIRST_LINES.name, ["sku", "line"], firsts.items())
        else:
            self.conn.execute(insert(_FIRST_LINES), [{"sku": sku, "line": line} for sku, line in firsts.items()])

    def drop(self) -> None:
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_FIRST_LINES.name}")


class _Batcher:
    """Collects clean rows and writes them `batch_rows` at a time; store ids come from a bounded cache
    (`ID_CACHE_ENTRIES`) and, for those it lacks, one query per batch."""

    def __init__(self, conn: Connection, home: Home, kind: str, reject: RejectSink) -> None:
        self.conn, self.home, self.kind, self.reject = conn, home, kind, reject
        self.batch_rows = home.config.ingest.batch_rows
        self.rows: list[tuple[int, dict[str, Any]]] = []
        self.first_lines = _FirstLines(conn) if kind == "items" else None  # items repeated within one file
        self.item_cache, self.user_cache = _IdCache(ID_CACHE_ENTRIES), _IdCache(ID_CACHE_ENTRIES)
        self.added = self.updated = self.present = 0

    def add(self, line: int, row: dict[str, Any]) -> None:
        self.rows.append((line, row))
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self._write_items() if self.kind == "items" else self._write_events()
        self.rows = []

    def close(self) -> None:
        if self.first_lines is not None:
            self.first_lines.drop()

    def _drop_repeats(self, first_lines: _FirstLines) -> None:
        """Reject (in line order) the batch's items whose sku came earlier in the file, in this batch or before."""
        firsts: dict[str, int] = {}
        for line, row in self.rows:
            firsts.setdefault(row["sku"], line)
        earlier = first_lines.lookup(list(firsts))
        kept = []
        for line, row in self.rows:
            first = earlier.get(row["sku"], firsts[row["sku"]])
            if first != line:
                self.reject(line, "sku", f"repeated (first at line {first}); each item appears once per file")
            else:
                kept.append((line, row))
        first_lines.record({sku: line for sku, line in firsts.items() if sku not in earlier})
        self.rows = kept

    def _write_items(self) -> None:
        if self.first_lines is not None:
            self._drop_repeats(self.first_lines)
        if not self.rows:
            return
        items = Item.__table__
        batch = {row["sku"]: row for _, row in self.rows}
        existing = {r.sku: r for r in self.conn.execute(select(items).where(items.c.sku.in_(list(batch))))}
        new, changed = [], []
        for sku, row in batch.items():
            old = existing.get(sku)
            if old is None:
                new.append(row)
            elif any(getattr(old, key) != value for key, value in row.items()):
                changed.append({**row, "b_id": old.id})
            else:
                self.present += 1
        if new:
            self.conn.execute(_insert_ignore(self.conn, items), new)
        if changed:
            self.conn.execute(items.update().where(items.c.id == bindparam("b_id")), changed)
        self.added, self.updated = self.added + len(new), self.updated + len(changed)

    def _write_events(self) -> None:
        item_ids = self._item_ids({row["sku"] for _, row in self.rows})
        valid = []
        for line, row in self.rows:
            if row["sku"] not in item_ids:
                self.reject(line, "sku", "no item has this sku; ingest the items file first")
            elif row.get("split") not in (None, *SPLITS):
                self.reject(line, "split", f"expected one of {', '.join(SPLITS)}")
            else:
                valid.append(row)
        user_ids = self._user_ids({row["user"] for row in valid if row["user"] is not None})
        table = Interaction.__table__ if self.kind == "interactions" else Review.__table__
        rows = [self._event_row(row, item_ids, user_ids) for row in valid]
        if rows and self.conn.dialect.name == "postgresql":
            copy_insert_ignore(self.conn, table, rows)
        elif rows:
            self.conn.execute(_insert_ignore(self.conn, table), rows)

    def _event_row(self, row: dict[str, Any], item_ids: dict[str, int], user_ids: dict[str, int]) -> dict[str, Any]:
        user_id = user_ids[row["user"]] if row["user"] is not None else None
        out = {"user_id": user_id, "item_id": item_ids[row["sku"]], "ts": row["ts"], "rating": row["rating"]}
        if self.kind == "interactions":
            return {**out, "event": row["event"], "split": row["split"]}
        # store ids, not pseudonyms: a key rotation re-keys users but keeps their row, so the hash stays valid
        digest = hashlib.sha256(f"{user_id or ''}|{out['item_id']}|{row['ts']}|{row['text']}".encode()).hexdigest()
        return {**out, "text": row["text"], "content_hash": digest}

    def _item_ids(self, skus: set[str]) -> dict[str, int]:
        """This batch's sku -> id (skus with no item are absent)."""
        found, missing = self.item_cache.split(skus)
        if missing:
            items = Item.__table__
            fetched = list(self.conn.execute(select(items.c.sku, items.c.id).where(items.c.sku.in_(missing))))
            self.item_cache.remember(fetched)
            found.update(fetched)
        return found

    def _user_ids(self, pseudonyms: set[str]) -> dict[str, int]:
        """This batch's pseudonym -> id, adding the users the store does not have yet."""
        found, missing = self.user_cache.split(pseudonyms)
        if missing:
            users, key_id = User.__table__, self.home.pseudonym_key.key_id
            rows = [{"pseudonym": p, "key_id": key_id} for p in missing]
            if self.conn.dialect.name == "postgresql":
                copy_insert_ignore(self.conn, users, rows)
            else:
                self.conn.execute(_insert_ignore(self.conn, users), rows)
            query = select(users.c.pseudonym, users.c.id).where(users.c.pseudonym.in_(missing))
            fetched = list(self.conn.execute(query))
            self.user_cache.remember(fetched)
            found.update(fetched)
        return found


class _LastPseudonym:
    """Home.store_pseudonym with a one-entry memo: files are usually grouped by customer, and holding only the
    previous row's id keeps raw ids out of memory for longer than one row."""

    def __init__(self, home: Home) -> None:
        self.home, self.raw, self.token = home, "", ""

    def __call__(self, raw: str) -> str:
        if raw != self.raw:
            self.raw, self.token = raw, self.home.store_pseudonym(raw)
        return self.token


def _count(conn: Connection, kind: str) -> int:
    table = {"items": Item, "interactions": Interaction, "reviews": Review}[kind].__table__
    return conn.scalar(select(func.count()).select_from(table)) or 0


def ingest_records(conn: Connection, home: Home, kind: str, records: Iterable[tuple[int, Any]],
                   reject: RejectSink) -> IngestReport:
    """Check and write (line, record) pairs inside the caller's transaction; the dataset adapters use it too."""
    cfg, batcher, pseudonym = home.config.ingest, _Batcher(conn, home, kind, reject), _LastPseudonym(home)
    before, rejected_before, read = _count(conn, kind), reject.count, 0
    for line, rec in records:
        read += 1
        try:
            if isinstance(rec, RowError):
                raise rec
            row = clean_item(rec, cfg) if kind == "items" else clean_event(rec, cfg, pseudonym, kind)
        except RowError as exc:
            reject(line, exc.field, exc.reason)
            continue
        batcher.add(line, row)
    batcher.flush()
    batcher.close()
    added = _count(conn, kind) - before
    rejected = reject.count - rejected_before
    present = batcher.present if kind == "items" else read - rejected - added
    return IngestReport(reject.label, kind, read, added, batcher.updated, present, rejected, reject.path)


def default_reject_path(home: Home, path: Path) -> Path:
    name = "stdin" if str(path) == STDIN else path.name
    return home.config.data_dir / "rejects" / f"{name}.rejects.jsonl"


def with_progress(records: Iterable[tuple[int, Any]], source: Source,
                  update: Callable[[int], None]) -> Iterator[tuple[int, Any]]:
    """Pass records through, moving the progress bar every few thousand."""
    for count, record in enumerate(records, 1):
        if count % _PROGRESS_EVERY == 0:
            update(source.position())
        yield record
    update(source.position())


@store_writer("ingest")
def ingest_file(home: Home, path: str | Path, kind: str, *, fmt: str | None = None, skip_invalid: bool = False,
                reject_path: Path | None = None, progress: bool = True) -> IngestReport:
    """Ingest one items / interactions / reviews file in one transaction.

    Without `skip_invalid` the first bad row raises IngestError and the store is unchanged; with it bad rows go
    to the reject report (`reject_path`, default `<data_dir>/rejects/<name>.rejects.jsonl`) and the rest is
    written. Re-ingesting the same file adds nothing. One ingest at a time, never during a key rotation
    (appliance.data.locks): the counts in the report are this file's alone.
    """
    path = Path(path)
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    check_input(path)  # `-` (stdin), a file or a FIFO
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    reports = Path(reject_path) if reject_path else default_reject_path(home, path)
    source = Source(path, home.config.ingest.max_line_bytes)
    reader = jsonl_records if fmt == "jsonl" else csv_records
    try:
        with (RejectSink(source.label, reports if skip_invalid else None) as reject,
              byte_progress(f"{kind}: {path.name}", source.size, progress) as update,
              home.engine.begin() as conn):
            return ingest_records(conn, home, kind, with_progress(reader(source, kind), source, update), reject)
    finally:
        source.close()
