"""The append-only audit log: a SQLite file of its own (WAL, mode 0600), or the schema `tanaban_audit` of a
PostgreSQL database when `audit.url` is set (`.backends`), whose triggers reject UPDATE and DELETE; hash-chained
entries (`appliance.privacy.audit.chain`) and Ed25519-signed RFC 6962 checkpoints (`.checkpoints`), each signed
only after the log since the previous one verifies (`.guard`) and also appended to the witness file (`.witness`)
once committed. Rows, hashes, signatures and exports are byte-for-byte the same on both engines.

Appends are serialised across processes (and, on PostgreSQL, machines) by the backend's write transaction
(`BEGIN IMMEDIATE`, or an advisory lock on the chain head) taken before the head is read, with a busy timeout;
`append` returns only after COMMIT, or raises AuditWriteError having written nothing.

A process keeps appending across an audit-key rotation (`tanaban audit key rotate`, `.rotation`): when a checkpoint
is due and the log shows that its key was retired or revoked meanwhile, it loads the key the log's latest rotation
introduced (`key_loader`, reading audit-keys/) and signs with that one; without it, or if that key is not installed,
it refuses to sign (and so to append) rather than sign with a retired key. Entries are not signed one by one, so
appends between checkpoints need no key at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.config import AuditConfig
from appliance.errors import UserError
from appliance.privacy.audit.backends import (
    AuditBackend,
    AuditBackendError,
    PostgresBackend,
    Queryable,
    SQLiteBackend,
    is_postgres_url,
)
from appliance.privacy.audit.chain import (
    ACTIONS,
    GENESIS_PREV_HASH,
    AuditVerificationError,
    CanonicalJSONError,
    canonical_json,
    format_time,
    hash_entry,
)
from appliance.privacy.audit.checkpoints import Checkpoint, Signer, sign_checkpoint, trusted_keys
from appliance.privacy.audit.guard import SigningGuard
from appliance.privacy.audit.keyring import RetiredKeyError
from appliance.privacy.audit.merkle import MerkleFrontier
from appliance.privacy.audit.verify import Progress, VerifyReport, verify_log
from appliance.privacy.audit.witness import (
    WitnessFile,
    default_witness_path,
    missing_witness_error,
    syslog_checkpoint,
)

BUSY_TIMEOUT_S = 10.0  # several processes append at once; wait this long for the write lock before failing
SCHEMA_VERSION = 1
_SELECT = "SELECT body, prev_hash, entry_hash, seq FROM entries"
_COMMAND_WORD = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class AuditWriteError(UserError, RuntimeError):
    """An append (or opening the log for appending) failed; nothing was written. Callers must fail closed."""


KeyLoader = Callable[[str], Signer | None]  # key id -> its signer, or None when this machine does not hold it


class KeyChangedError(AuditWriteError):
    """A rotation found that another rotation had replaced the key it was to replace; nothing was written."""


class SigningRefusedError(AuditVerificationError, AuditWriteError):
    """The appliance refused to sign a checkpoint (and so to append) because the log since the previous checkpoint
    does not verify: `.seq` is the first bad entry (None when a checkpoint, not an entry, is what is wrong)."""

    def __init__(self, cause: AuditVerificationError) -> None:
        super().__init__(f"refusing to sign a checkpoint: {cause.reason}; nothing was written. Keep audit.db and "
                         "the witness file as evidence (docs/AUDITORS.md, 'When verification fails')", cause.seq)


@dataclass(frozen=True)
class AuditEvent:
    action: str  # one of ACTIONS
    outcome: str  # e.g. ok | blocked | error | failed
    reason: str = ""  # why (a refusal reason, an error class); never a data value
    actor: str = ""  # OS user or API key id; empty: the OS user of this process
    origin: Mapping[str, str] = field(default_factory=dict)  # host, pid, command; missing keys are filled in
    destination: Mapping[str, Any] = field(default_factory=dict)  # host, port, model (str / int / bool / None)
    purpose: str = ""
    categories: Mapping[str, int] = field(default_factory=dict)  # entity_type -> count removed (never values)
    record_count: int = 0
    pseudonym_key_id: str = ""
    policy_version: str = ""
    payload_sha256: str = ""  # empty: computed from payload
    payload_size: int = 0
    response_sha256: str = ""
    response_size: int = 0
    payload: str | None = None  # the anonymized payload exactly as sent; dropped if not cfg.store_payload


def _os_user() -> str:
    """The effective user from the password database (environment variables like $USER can be set by anyone)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def _command(argv: Sequence[str]) -> str:
    """Program name plus up to two sub-command words: never free-text arguments, which may hold raw PII."""
    words = [Path(argv[0]).name if argv else "python"]
    for arg in argv[1:3]:
        if not _COMMAND_WORD.fullmatch(arg):
            break
        words.append(arg)
    return " ".join(words)


def _record(event: AuditEvent, store_payload: bool) -> dict[str, Any]:
    """The entry fields of `event` (all but seq and time), validated and canonicalisable."""
    if event.action not in ACTIONS:
        raise AuditWriteError(f"unknown audit action {event.action!r} (known: {', '.join(ACTIONS)})")
    origin = {"host": os.uname().nodename, "pid": str(os.getpid()), "command": _command(sys.argv),
              **{k: str(v) for k, v in event.origin.items()}}
    record = {
        "actor": event.actor or _os_user(), "action": event.action, "outcome": event.outcome, "reason": event.reason,
        "origin": origin, "destination": dict(event.destination), "purpose": event.purpose,
        "categories": dict(event.categories), "record_count": event.record_count,
        "pseudonym_key_id": event.pseudonym_key_id, "policy_version": event.policy_version,
        **_payload_fields(event), "response_sha256": event.response_sha256, "response_size": event.response_size,
    }
    if not store_payload:
        record["payload"] = None
    _check_types(record)
    return record


def _payload_fields(event: AuditEvent) -> dict[str, Any]:
    if event.payload is None:
        return {"payload_sha256": event.payload_sha256, "payload_size": event.payload_size, "payload": None}
    try:
        data = event.payload.encode("utf-8")
    except UnicodeEncodeError:
        raise AuditWriteError("payload holds a lone surrogate, which UTF-8 cannot carry") from None
    digest = hashlib.sha256(data).hexdigest()
    if (event.payload_sha256 and event.payload_sha256 != digest) or (event.payload_size not in (0, len(data))):
        raise AuditWriteError("payload_sha256/payload_size given do not match the payload (sha256 and size are of "
                              "the payload's UTF-8 bytes)")
    return {"payload_sha256": digest, "payload_size": len(data), "payload": event.payload}


_TEXT_FIELDS = ("actor", "action", "outcome", "reason", "purpose", "pseudonym_key_id", "policy_version",
                "payload_sha256", "response_sha256")


def _check_types(record: Mapping[str, Any]) -> None:
    counts = [record["record_count"], record["payload_size"], record["response_size"], *record["categories"].values()]
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in counts):
        raise AuditWriteError("counts and sizes must be non-negative integers")
    if not all(isinstance(v, str | int | bool | None) for v in record["destination"].values()):
        raise AuditWriteError("destination values must be strings, integers, booleans or null")
    wrong = [name for name in _TEXT_FIELDS if not isinstance(record[name], str)]
    if wrong:
        raise AuditWriteError(f"fields {wrong} must be strings")
    try:
        canonical_json(record)
    except CanonicalJSONError as exc:
        raise AuditWriteError(f"event cannot be recorded: {exc}") from None


class AuditLog:
    """One connection to the audit database, opened per process. Appends are serialised by a lock, so threads may
    share it for appending; iterate `entries()` from one thread at a time."""

    def __init__(self, conn: AuditBackend, path: Path, signer: Signer, cfg: AuditConfig,
                 public_keys: Sequence[Ed25519PublicKey] = (), key_loader: KeyLoader | None = None) -> None:
        self._conn, self.path, self._signer, self.cfg = conn, path, signer, cfg
        self._key_loader = key_loader  # how to pick up a rotated key (None: refuse to sign after a rotation)
        self.public_keys = tuple(public_keys)  # what verify() trusts by default: every key that signed this log
        self.location = conn.location  # the file, or postgresql://host:port/db: what messages name
        self._lock = threading.Lock()
        self.witness = WitnessFile(Path(cfg.witness_path) if cfg.witness_path else default_witness_path(path))
        self._guard = SigningGuard(signer.public, self.witness)  # what this process verified; extended lazily
        self._unwitnessed: list[Checkpoint] = []  # signed in the open transaction; witnessed after COMMIT

    @classmethod
    def open(cls, path: Path, signing_key: Signer, *, cfg: AuditConfig = AuditConfig(),
             busy_timeout_s: float = BUSY_TIMEOUT_S, public_keys: Sequence[Ed25519PublicKey] = (),
             key_loader: KeyLoader | None = None) -> AuditLog:
        """Open (creating if needed) the log: the SQLite file at `path`, or the PostgreSQL database of `cfg.url`
        when set (then `path` only places the default witness file); raises AuditWriteError if it cannot be opened
        for writing. `public_keys`: what `verify` trusts by default besides the signing key (keys rotated out).
        `key_loader`: where to find the key a rotation by another process introduced (`admin.rotated_key_loader`)."""
        path = Path(path)
        if cfg.url and is_postgres_url(cfg.url):
            return cls(_open_postgres(cfg.url, busy_timeout_s), path, signing_key, cfg, public_keys, key_loader)
        if cfg.url:
            raise AuditBackendError(f"audit.url must be a postgresql:// URL (got {cfg.url.split(':', 1)[0]!r}: "
                                    "...); leave it empty to keep the log in the SQLite file audit.path")
        try:
            conn = SQLiteBackend.open(path, busy_timeout_s=busy_timeout_s, schema_version=SCHEMA_VERSION)
        except (OSError, *SQLiteBackend.errors) as exc:
            raise AuditWriteError(f"cannot open the audit log {path} for writing: {exc}") from None
        return cls(conn, path, signing_key, cfg, public_keys, key_loader)

    @property
    def key_id(self) -> str:
        """The audit key this process signs with now."""
        return _key_id(self._signer)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, event: AuditEvent) -> int:
        """Append `event` stamped with the current UTC time (taken under the write lock); returns its seq."""
        record = _record(event, self.cfg.store_payload)
        return self._write(lambda now: self._insert_entry(record, now), lambda: datetime.now(UTC))

    def append_at_time(self, event: AuditEvent, now: datetime) -> int:
        record = _record(event, self.cfg.store_payload)
        return self._write(lambda t: self._insert_entry(record, t), lambda: now)

    def rotate_key(self, events: Sequence[AuditEvent], new: Signer, *, handover: bool) -> int:
        """Append `events` (an auditkey.rotate entry, after an auditkey.revoke when the current key is revoked) and,
        in the same transaction, sign the tree that ends with them by the current key (the hand-over, when
        `handover`; a revoked key signs nothing more) and then by `new`, which signs everything after. Returns the
        seq of the last entry; on failure nothing is written and the current key still signs."""
        records = [_record(event, self.cfg.store_payload) for event in events]
        old, old_id = self._signer, self.key_id

        def work(now: datetime) -> int:
            try:  # read the rotations so far under the chain-head lock; never pick up another key here
                self._guard.frontier(self._conn)
            except RetiredKeyError:
                pass  # named just below
            except AuditVerificationError as exc:
                raise SigningRefusedError(exc) from None
            replaced_by = self._guard.log_key
            if replaced_by not in (None, old_id):
                raise KeyChangedError(f"another `tanaban audit key rotate` replaced audit key {old_id} by "
                                      f"{replaced_by} while this one ran; nothing was written: run it again to "
                                      f"rotate {replaced_by}")
            seq = 0
            for record in records:
                seq = self._insert_entry(record, now, checkpoint=False)
            if handover:
                self._insert_checkpoint(now)
            self._signer = new
            self._guard.use_key(new.public)
            self._insert_checkpoint(now)
            return seq

        try:
            return self._write(work, lambda: datetime.now(UTC))
        except BaseException:
            self._signer = old
            self._guard.use_key(old.public)
            raise

    def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint of the whole log now."""
        return self.checkpoint_at_time(datetime.now(UTC))

    def checkpoint_at_time(self, now: datetime) -> Checkpoint:
        return self._write(self._insert_checkpoint, lambda: now)

    def ensure_checkpoint(self) -> Checkpoint:
        """The latest checkpoint if it already covers the whole log, else a new one signed now."""
        return self._write(self._covering_checkpoint, lambda: datetime.now(UTC))

    def _covering_checkpoint(self, now: datetime) -> Checkpoint:
        row = self._conn.execute("SELECT tree_size, root_hash, time, key_id, signature FROM checkpoints "
                                 "ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None and row[0] == self.size():
            self._verified_frontier()  # the same checks as signing: a covering checkpoint must still hold
            return Checkpoint(*row)
        return self._insert_checkpoint(now)

    def _write(self, work: Callable[[datetime], Any], clock: Callable[[], datetime]) -> Any:
        """Run `work` in one write transaction holding the chain head; commit, or roll back and raise
        AuditWriteError."""
        with self._lock:
            try:
                self._conn.begin_write()
            except self._conn.errors as exc:
                raise AuditWriteError(f"cannot lock the audit log {self.location}: {_one_line(exc)}") from None
            try:
                result = work(clock())
                self._conn.commit()
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, (*self._conn.errors, ValueError)):
                    raise AuditWriteError(f"audit log {self.location}: append failed, nothing written "
                                          f"({_one_line(exc)})") from None
                raise
            self._witness_committed()
            return result

    def _witness_committed(self) -> None:
        """Append the checkpoints just committed to the witness file (after COMMIT: never witness a rolled-back
        tree); a failure here leaves them in audit.db only, and is raised so that callers fail closed."""
        signed, self._unwitnessed = self._unwitnessed, []
        try:
            for checkpoint in signed:
                self.witness.append(checkpoint)
                if self.cfg.syslog:
                    syslog_checkpoint(checkpoint)
        except OSError as exc:
            raise AuditWriteError(f"the audit entry is committed but its checkpoint could not be appended to the "
                                  f"witness file {self.witness.path} ({exc.strerror}): fix its directory's "
                                  "permissions or free space (audit.witness_path)") from None

    def _rollback(self) -> None:
        self._guard.reset()  # it may hold a leaf of the rolled-back entry
        self._unwitnessed = []
        if self._conn.in_transaction:
            with contextlib.suppress(*self._conn.errors):  # gone either way; the caller gets the original error
                self._conn.rollback()

    def _insert_entry(self, record: dict[str, Any], now: datetime, *, checkpoint: bool = True) -> int:
        head = self._conn.execute("SELECT seq, entry_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_PREV_HASH.hex())
        body = canonical_json({"seq": seq, "time": format_time(now), **record})
        entry_hash = hash_entry(bytes.fromhex(prev), body).hex()
        self._conn.execute("INSERT INTO entries (seq, body, prev_hash, entry_hash) VALUES (?, ?, ?, ?)",
                           (seq, body.decode("utf-8"), prev, entry_hash))
        if checkpoint and self.cfg.checkpoint_every > 0 and seq % self.cfg.checkpoint_every == 0:
            self._insert_checkpoint(now)
        return seq

    def _insert_checkpoint(self, now: datetime) -> Checkpoint:
        """Verify the log since the previous checkpoint (SigningRefusedError if it does not), then sign it."""
        frontier = self._verified_frontier()
        checkpoint = sign_checkpoint(frontier.size, frontier.root(), now, self._signer)
        row_id = self._conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM checkpoints").fetchone()[0]
        self._conn.execute(
            "INSERT INTO checkpoints (id, tree_size, root_hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)",
            (row_id, checkpoint.tree_size, checkpoint.root_hash, checkpoint.time, checkpoint.key_id,
             checkpoint.signature))
        self._guard.signed(checkpoint, row_id)
        self._unwitnessed.append(checkpoint)
        return checkpoint

    def _verified_frontier(self) -> MerkleFrontier:
        try:
            return self._guard.frontier(self._conn)
        except RetiredKeyError as exc:
            self._take_rotated_key(exc)
            return self._verified_frontier()
        except AuditVerificationError as exc:
            raise SigningRefusedError(exc) from None

    def _take_rotated_key(self, retired: RetiredKeyError) -> None:
        """Sign from now on with the key the log's latest rotation introduced, if this machine holds it (a rotation
        by another process: `tanaban audit key rotate` while `serve` runs); else SigningRefusedError."""
        current = retired.current
        if self._key_loader is None or current is None or current == self.key_id:
            raise SigningRefusedError(retired) from None
        try:
            signer = self._key_loader(current)
        except (OSError, UserError):  # unreadable key files: said below, as for a key that is not there
            signer = None
        if signer is None or _key_id(signer) != current:
            raise SigningRefusedError(AuditVerificationError(
                f"this process signs with audit key {retired.key_id}, {retired.problem}, and that key is not "
                "installed in audit-keys/ on this machine (an interrupted `tanaban audit key rotate` is finished by "
                "running it again; a restored backup needs audit-keys/ too)")) from None
        self._signer = signer
        self._guard.use_key(signer.public)

    # --- reading -------------------------------------------------------------------------------------------------

    def size(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0]

    def entries(self, upto: int | None = None) -> Iterator[dict[str, Any]]:
        """All entries in seq order (or those up to seq `upto`), as exported: the entry's fields plus prev_hash and
        entry_hash."""
        if upto is None:
            return (_row_entry(*row) for row in self._conn.stream(f"{_SELECT} ORDER BY seq"))
        return (_row_entry(*row) for row in self._conn.stream(f"{_SELECT} WHERE seq <= ? ORDER BY seq", (upto,)))

    def entry(self, seq: int) -> dict[str, Any] | None:
        return next(self._rows(f"{_SELECT} WHERE seq = ?", (seq,)), None)

    def query(self, *, since: str | None = None, until: str | None = None, action: str | None = None,
              destination: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest `limit` entries matching every filter given, oldest first (times as entries hold them)."""
        field = self._conn.json_text
        filters = {f"{field('time')} >= ?": since, f"{field('time')} < ?": until, f"{field('action')} = ?": action,
                   f"{field('destination', 'host')} = ?": destination}
        used = {sql: value for sql, value in filters.items() if value is not None}
        where = ("WHERE " + " AND ".join(used)) if used else ""
        limited = "" if limit is None else "LIMIT ?"
        sql = f"SELECT * FROM ({_SELECT} {where} ORDER BY seq DESC {limited}) AS newest ORDER BY seq"
        return list(self._rows(sql, (*used.values(), *(() if limit is None else (limit,)))))

    def _rows(self, sql: str, args: Sequence[Any]) -> Iterator[dict[str, Any]]:
        for row in self._conn.execute(sql, tuple(args)):
            yield _row_entry(*row)

    def checkpoints(self) -> list[Checkpoint]:
        return _checkpoints(self._conn)

    def verify(self, public_keys: Sequence[Ed25519PublicKey] = (), *, progress: Progress | None = None,
               allow_unsigned_tail: int = 0) -> VerifyReport:
        """Verify the whole log, failing closed (see `verify_log`), and cross-check the witness file: witnessed
        checkpoints are checked against the entries like the database's own (a rewrite names its first entry), and
        each must also be in audit.db (deleted checkpoint rows).

        The witness is read first and the database in one read transaction (a snapshot), so appends meanwhile
        neither show as an unsigned tail nor as witnessed checkpoints the snapshot lacks."""
        reader = WitnessFile(self.witness.path)  # its own read position: the signing guard keeps the other one
        witnessed = reader.read_all() if reader.exists() else None
        keys = list(public_keys) or [*self.public_keys, self._signer.public]
        with self._conn.snapshot() as snapshot:
            checkpoints = _checkpoints(snapshot)
            missing = _unstored(witnessed, checkpoints, self.witness.path)
            entries = (_row_entry(*row) for row in snapshot.execute(f"{_SELECT} ORDER BY seq"))
            report = verify_log(entries, [*checkpoints, *missing], keys, progress=progress,
                                allow_unsigned_tail=allow_unsigned_tail)
        if missing:
            raise AuditVerificationError(f"the checkpoint of tree size {missing[0].tree_size} signed at "
                                         f"{missing[0].time} is in the witness file {self.witness.path} but not in "
                                         "audit.db (checkpoint rows deleted, or the database replaced)")
        return report


def _open_postgres(url: str, busy_timeout_s: float) -> PostgresBackend:
    try:
        return PostgresBackend.open(url, busy_timeout_s=busy_timeout_s)
    except AuditBackendError:
        raise
    except Exception as exc:  # psycopg.Error: the driver is imported only for PostgreSQL URLs
        if not isinstance(exc, PostgresBackend.driver_errors()):
            raise
        raise AuditWriteError(f"cannot open the audit log in PostgreSQL: {_one_line(exc)} (check audit.url, that "
                              "the server is up, and that the role may use schema tanaban_audit: docs/POSTGRES.md)"
                              ) from None


def _key_id(signer: Signer) -> str:
    """The id of `signer`'s public key (derived, not taken from its `key_id` attribute)."""
    return next(iter(trusted_keys([signer.public])))


def _one_line(exc: BaseException) -> str:
    """The driver's message without PostgreSQL's DETAIL/HINT/CONTEXT lines (which may quote row values)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _checkpoints(conn: Queryable) -> list[Checkpoint]:
    rows = conn.execute("SELECT tree_size, root_hash, time, key_id, signature FROM checkpoints ORDER BY id")
    return [Checkpoint(*row) for row in rows]


def _row_entry(body: str, prev_hash: str, entry_hash: str, _seq: int) -> dict[str, Any]:
    return {**json.loads(body), "prev_hash": prev_hash, "entry_hash": entry_hash}


def _unstored(witnessed: list[Checkpoint] | None, checkpoints: list[Checkpoint], path: Path) -> list[Checkpoint]:
    """The witnessed checkpoints audit.db lacks; a missing witness file is an error once anything is signed."""
    if witnessed is None:
        if checkpoints:
            raise missing_witness_error(path)
        return []
    stored = set(checkpoints)
    return [c for c in witnessed if c not in stored]
