"""Bulk writes to a PostgreSQL store with COPY (PostgreSQL manual, "COPY", https://www.postgresql.org/docs/15/sql-copy.html),
through psycopg 3's `Cursor.copy` (https://www.psycopg.org/psycopg3/docs/basic/copy.html), inside the caller's
SQLAlchemy transaction, so a failure later in the same file still rolls everything back.

COPY cannot skip rows that violate a unique constraint, and ingest must (re-ingesting a file adds nothing). So
`copy_insert_ignore` COPYs a batch into a temporary staging table (dropped at commit or rollback) and moves it with
one `INSERT ... SELECT ... ORDER BY seq ON CONFLICT DO NOTHING`: file order is kept, so ids still follow insertion
order and break timestamp ties as on SQLite. `copy_rows` is the plain COPY used where the target is known to take
every row (`tanaban migrate` into an empty database).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table

STAGE_PREFIX = "tanaban_stage_"  # temporary tables, one per target table and transaction


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _driver(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy connection (same session, same open transaction)."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        raise ValueError(f"COPY needs a postgresql+psycopg connection, not {conn.dialect.name}+{conn.dialect.driver}")
    return conn.connection.driver_connection


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY `rows` (tuples in `columns` order) into `table`; returns how many were written."""
    count = 0
    cols = ", ".join(_quote(c) for c in columns)
    with _driver(conn).cursor() as cursor, cursor.copy(f"COPY {_quote(table)} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def copy_insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) in order, skipping those that break a unique constraint."""
    if not rows:
        return
    columns = list(rows[0])
    stage, target = _quote(STAGE_PREFIX + table.name), _quote(table.name)
    cols = ", ".join(_quote(c) for c in columns)
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
                         f"SELECT 0::bigint AS tanaban_seq, {cols} FROM {target} WITH NO DATA")
    copy_rows(conn, STAGE_PREFIX + table.name, ["tanaban_seq", *columns],
              ((seq, *(row[c] for c in columns)) for seq, row in enumerate(rows)))
    conn.exec_driver_sql(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ORDER BY tanaban_seq "
                         "ON CONFLICT DO NOTHING")
    conn.exec_driver_sql(f"TRUNCATE {stage}")
