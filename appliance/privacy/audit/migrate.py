"""Copy an SQLite audit log into an empty PostgreSQL one, row for row: the same entries (body, prev_hash,
entry_hash byte for byte), the same checkpoints (same ids, same Ed25519 signatures), so the hash chain, the RFC 6962
roots and the witness file all still hold, and exports made afterwards verify exactly as before.

For `tanaban migrate` (appliance.data, helper D / issue 17), call, while no appliance process writes the SQLite log:

    copy = copy_audit(cfg.audit_path, target_url, [signing_key.public], progress=callback)

then set `audit.url = target_url` in the config. `copy_audit` verifies the source first (nothing is copied from a
log that fails verification), copies in one PostgreSQL transaction under the chain-head advisory lock (all rows or
none), then verifies the copy and checks that it reports the same entries, checkpoints, root and head as the source
(AuditMigrateError if not). The target must be empty: the tables may exist (an admin made them, docs/POSTGRES.md)
but must hold no row. The SQLite file and the witness file are left as they are: keep them until the new home has
run and verified for a while.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.errors import UserError
from appliance.privacy.audit.backends import PostgresBackend, Queryable, is_postgres_url
from appliance.privacy.audit.log import BUSY_TIMEOUT_S, AuditWriteError, _checkpoints, _one_line, _row_entry
from appliance.privacy.audit.verify import VerifyReport, verify_log

_ENTRIES = "SELECT seq, body, prev_hash, entry_hash FROM entries ORDER BY seq"
_CHECKPOINTS = "SELECT id, tree_size, root_hash, time, key_id, signature FROM checkpoints ORDER BY id"
_BATCH = 1_000
# the copy must say the same as the source, unsigned tail included; any tail is accepted on both sides
_ANY_TAIL = 2**62


class AuditMigrateError(UserError, RuntimeError):
    """The audit log cannot be copied (no source, a target that is not empty or not PostgreSQL), or the copy does
    not verify to the same result as the source."""


@dataclass(frozen=True)
class AuditCopy:
    entries: int
    checkpoints: int
    root_hash: str  # RFC 6962 root over all entries, identical in source and copy
    head: str  # entry_hash of the last entry (64 zeros when empty)
    report: VerifyReport  # the copy's verification

    def summary(self) -> str:
        return (f"copied {self.entries} audit entries and {self.checkpoints} checkpoints; both verify to root "
                f"{self.root_hash}, head {self.head}")


def copy_audit(source: Path, target_url: str, public_keys: Sequence[Ed25519PublicKey], *,
               progress: Callable[[int], None] | None = None, busy_timeout_s: float = BUSY_TIMEOUT_S) -> AuditCopy:
    """Copy the SQLite audit log at `source` into the empty PostgreSQL log at `target_url`; verify both (against
    `public_keys`, e.g. the appliance's own signing key) and return the result. `progress` gets rows copied so far.
    Raises AuditMigrateError, AuditVerificationError (source or copy fails verification) or AuditWriteError."""
    source = Path(source)
    if not source.is_file():
        raise AuditMigrateError(f"no SQLite audit log at {source}: nothing to copy (check audit.path)")
    if not is_postgres_url(target_url):
        raise AuditMigrateError("the target of an audit copy must be a postgresql:// URL")
    with _sqlite_snapshot(source) as src:
        expected = _verify(src.execute(_ENTRIES), src, public_keys)  # nothing is copied from a failing log
        target = _open_target(target_url, busy_timeout_s)
        try:
            _copy_rows(src, target, progress)
            report = _verify(target.stream(_ENTRIES), target, public_keys)  # streamed: the copy may be large
            head = target.execute("SELECT entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            target.close()
    if (report.entries, report.checkpoints, report.root_hash, report.signed_size) != \
            (expected.entries, expected.checkpoints, expected.root_hash, expected.signed_size):
        raise AuditMigrateError(f"the copy does not match its source: {report.summary()} vs {expected.summary()}")
    return AuditCopy(report.entries, report.checkpoints, report.root_hash, head[0] if head else "0" * 64, report)


@contextlib.contextmanager
def _sqlite_snapshot(path: Path) -> Iterator[Queryable]:
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
        conn.execute("BEGIN")
        conn.execute("SELECT COUNT(*) FROM entries").fetchone()  # the read lock, and a check that it is a log
    except sqlite3.Error as exc:
        raise AuditMigrateError(f"cannot read the audit log {path}: {exc}") from None
    try:
        yield conn
    finally:
        conn.close()


def _verify(rows: Iterator[Any], conn: Queryable, public_keys: Sequence[Ed25519PublicKey]) -> VerifyReport:
    entries = (_row_entry(body, prev, entry_hash, seq) for seq, body, prev, entry_hash in rows)
    return verify_log(entries, _checkpoints(conn), public_keys, allow_unsigned_tail=_ANY_TAIL)


def _open_target(url: str, busy_timeout_s: float) -> PostgresBackend:
    try:
        return PostgresBackend.open(url, busy_timeout_s=busy_timeout_s)
    except Exception as exc:
        if not isinstance(exc, PostgresBackend.driver_errors()):
            raise
        raise AuditWriteError(f"cannot open the target audit log: {_one_line(exc)}") from None


def _copy_rows(src: Queryable, target: PostgresBackend, progress: Callable[[int], None] | None) -> None:
    """Every entry then every checkpoint, in order, in one transaction holding the chain head."""
    try:
        target.begin_write()
        held = target.execute("SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM checkpoints)").fetchone()
        if any(held):
            raise AuditMigrateError(f"the target audit log already holds {held[0]} entries and {held[1]} "
                                    "checkpoints: copy into an empty database (or schema tanaban_audit)")
        done = 0
        for sql, select in (("INSERT INTO entries (seq, body, prev_hash, entry_hash) VALUES (?, ?, ?, ?)", _ENTRIES),
                            ("INSERT INTO checkpoints (id, tree_size, root_hash, time, key_id, signature) "
                             "VALUES (?, ?, ?, ?, ?, ?)", _CHECKPOINTS)):
            for batch in _batches(src.execute(select)):
                target.execute_many(sql, batch)
                done += len(batch)
                if progress is not None:
                    progress(done)
        target.commit()
    except BaseException as exc:
        if target.in_transaction:
            with contextlib.suppress(*target.errors):
                target.rollback()
        if isinstance(exc, target.errors):
            raise AuditWriteError(f"copying the audit log failed, nothing was written: {_one_line(exc)}") from None
        raise


def _batches(rows: Iterator[Any]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(row))
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = ["AuditCopy", "AuditMigrateError", "copy_audit"]
