"""Pseudonym-key rotation (`tanaban keys rotate`) by HMAC chaining, and the key chain every lookup walks.

The store holds only HMACs, never raw ids, so a new key cannot be applied to raw ids. Rotation therefore re-keys
each stored pseudonym p as HMAC-SHA256(new_key, p) (RFC 2104, via anonymize.pseudonym with purpose "store"), in one
transaction, and archives the old key (0600). A raw id maps to HMAC(k_n, ... HMAC(k_2, HMAC(k_1, raw))): the chain
over all keys, oldest first (`chained_pseudonym`, used by Home.store_pseudonym). See docs/EGRESS.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, bindparam, func, select, update

from anonymize.pseudonym import pseudonymize
from appliance.data.dirs import fsync_dir
from appliance.data.keys import (
    PSEUDONYM_FILE,
    PSEUDONYM_KEY_BYTES,
    PseudonymKey,
    SigningKey,
    pseudonym_key_id,
    public_key_pem,
)
from appliance.data.locks import store_owner
from appliance.data.store import User
from appliance.errors import UserError
from appliance.privacy.audit.admin import open_audit_log
from appliance.privacy.audit.log import AuditEvent

ARCHIVE_DIR = "pseudonym-archive"  # retired keys, <n>-<key_id>.key, n = position in the chain (1 = first key)
PENDING_FILE = "pseudonym.key.pending"  # the new key while a rotation is in progress
_BATCH = 5_000  # users re-keyed per executemany; bounds memory on large stores


class RotationError(UserError, RuntimeError):
    """A key rotation cannot start or finish, or an interrupted one was found; the message says what to do."""


class RotationHome(Protocol):
    config: Any
    engine: Engine

    @property
    def pseudonym_key(self) -> PseudonymKey: ...

    @property
    def signing_key(self) -> SigningKey: ...


@dataclass(frozen=True)
class RotationReport:
    old_key_id: str
    new_key_id: str
    users: int  # stored pseudonyms re-keyed
    archived: Path  # where the old key now lives (0600)
    completed_interrupted: bool  # True when this run finished a rotation that had been cut short


@dataclass(frozen=True)
class KeysReport:
    pseudonym_key_id: str
    pseudonym_created: str
    retired_key_ids: tuple[str, ...]  # oldest first
    signing_key_id: str
    public_key_sha256: str  # fingerprint of the PEM public key file's SubjectPublicKeyInfo
    users_per_key: dict[str, int]  # User.key_id -> count; more than one entry means an inconsistent store
    pending: bool  # an interrupted rotation waits to be finished


# --- the chain -----------------------------------------------------------------------------------------------------


def chained_pseudonym(raw_id: str, chain: Sequence[PseudonymKey], upto: str | None = None) -> str:
    """HMAC chain over `chain` (oldest first); with one key it is exactly the un-rotated store pseudonym.

    `upto`: stop after the key with this id, giving the pseudonym the store held while that key was current (a
    model bundle exported before a rotation keeps answering for its users until it is re-exported).
    """
    if not chain:
        raise RotationError("no pseudonym key: run `tanaban init` first")
    if upto is not None and upto not in {key.key_id for key in chain}:
        raise RotationError(f"pseudonym key {upto} is not in this appliance's key chain (an archived key was "
                            "removed?): re-export the bundle with `tanaban export`")
    token = raw_id
    for key in chain:
        token = pseudonymize(token, key=key.secret, key_id=key.key_id, purpose="store")
        if key.key_id == upto:
            break
    return token


def load_key_chain(keys_dir: Path, current: PseudonymKey) -> tuple[PseudonymKey, ...]:
    """Retired keys in chain order, then `current`. Refuses while an interrupted rotation is pending."""
    keys_dir = Path(keys_dir)
    if (keys_dir / PENDING_FILE).exists():
        raise RotationError(f"an interrupted key rotation was found ({keys_dir / PENDING_FILE}); finish it with "
                            "`tanaban keys rotate --yes` before ingesting or looking up customers")
    retired = [_read_key(path) for path in _archived(keys_dir)]
    chain = [k for k in retired if k.key_id != current.key_id]  # archived just before a crash: still current
    return (*chain, current)


def _archived(keys_dir: Path) -> list[Path]:
    paths = sorted((keys_dir / ARCHIVE_DIR).glob("*.key"), key=lambda p: int(p.name.split("-", 1)[0]))
    return paths


def _read_key(path: Path) -> PseudonymKey:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise RotationError(f"key file {path} is accessible by group or others (mode {mode:04o}); "
                                f"fix it with: chmod 600 {path}")
        doc = json.loads(path.read_text(encoding="utf-8"))
        secret = base64.b64decode(doc["key"], validate=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RotationError(f"key file {path} is unreadable or malformed ({type(exc).__name__})") from None
    if len(secret) != PSEUDONYM_KEY_BYTES or doc.get("key_id") != pseudonym_key_id(secret):
        raise RotationError(f"key file {path}: key length or key id does not match the key")
    return PseudonymKey(doc["key_id"], secret)


def _write_key(path: Path, key: PseudonymKey, **extra: str) -> None:
    doc = {"kind": "hmac-sha256", "key_id": key.key_id, **extra, "key": base64.b64encode(key.secret).decode("ascii")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


# --- rotation ------------------------------------------------------------------------------------------------------


@store_owner
def rotate_pseudonym_key(home: RotationHome, *, rng: Callable[[int], bytes] = os.urandom,
                         now: datetime | None = None, actor: str = "") -> RotationReport:
    """New pseudonym key; every stored pseudonym re-keyed in one transaction; old key archived; audited.

    Audit: key.rotate "started" before anything changes (if it cannot be written, nothing changes) and "ok" after.
    Holds the exclusive store lock (appliance.data.locks): no ingest or other writer runs meanwhile, and the key
    re-read under the lock is the one in use, also right after a concurrent rotation finished.
    """
    keys_dir = Path(home.config.keys_dir)
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    old = home.pseudonym_key
    with open_audit_log(home) as log:
        pending = _pending_key(keys_dir, home.engine)
        interrupted = pending is not None
        new = pending or _new_key(rng)
        log.append(AuditEvent("key.rotate", "started", actor=actor, pseudonym_key_id=old.key_id,
                              reason=("finishing an interrupted rotation" if interrupted else "rotation begins")
                              + f": pseudonym key {old.key_id} -> {new.key_id}"))
        if not interrupted:
            _write_key(keys_dir / PENDING_FILE, new, created=when)
        archived = _archive(keys_dir, old, when)
        users = _rekey_store(home.engine, old, new)
        os.replace(keys_dir / PENDING_FILE, keys_dir / PSEUDONYM_FILE)
        fsync_dir(keys_dir)
        for cached in ("pseudonym_key", "pseudonym_chain"):
            vars(home).pop(cached, None)  # Home caches its keys; the next lookup must read the new chain
        log.append(AuditEvent("key.rotate", "ok", actor=actor, pseudonym_key_id=new.key_id, record_count=users,
                              reason=f"pseudonym key {old.key_id} retired (archived), {new.key_id} current; "
                                     f"{users} stored pseudonyms re-keyed"))
    return RotationReport(old.key_id, new.key_id, users, archived, interrupted)


def _new_key(rng: Callable[[int], bytes]) -> PseudonymKey:
    secret = rng(PSEUDONYM_KEY_BYTES)
    if len(secret) != PSEUDONYM_KEY_BYTES:
        raise RotationError("the random source returned a key of the wrong length")
    return PseudonymKey(pseudonym_key_id(secret), secret)


def _pending_key(keys_dir: Path, engine: Engine) -> PseudonymKey | None:
    """The key of an interrupted rotation whose store update committed; a pending key it never used is removed."""
    path = keys_dir / PENDING_FILE
    if not path.exists():
        return None
    key = _read_key(path)
    with engine.connect() as conn:
        used = conn.scalar(select(func.count()).select_from(User).where(User.key_id == key.key_id))
    if used:
        return key
    path.unlink()
    return None


def _archive(keys_dir: Path, old: PseudonymKey, when: str) -> Path:
    """Copy the retiring key into the archive (idempotent: a crash may have archived it already)."""
    archive = keys_dir / ARCHIVE_DIR
    archive.mkdir(mode=0o700, exist_ok=True)
    existing = _archived(keys_dir)
    for path in existing:
        if path.name.split("-", 1)[1] == f"{old.key_id}.key":
            return path
    path = archive / f"{len(existing) + 1:04d}-{old.key_id}.key"
    _write_key(path, old, retired=when)
    fsync_dir(archive)
    return path


def _rekey_store(engine: Engine, old: PseudonymKey, new: PseudonymKey) -> int:
    """Re-key every user under `old` to HMAC(new, pseudonym) in one transaction; returns the count re-keyed."""
    stmt = (update(User.__table__).where(User.__table__.c.id == bindparam("uid"))
            .values(pseudonym=bindparam("token"), key_id=bindparam("kid")))
    with engine.begin() as conn:
        others = conn.scalar(select(func.count()).select_from(User)
                             .where(User.key_id.not_in([old.key_id, new.key_id])))
        if others:
            raise RotationError(f"{others} stored users carry a key id that is neither the current key "
                                f"{old.key_id} nor the new one: the store does not match these keys")
        rows = conn.execute(select(User.id, User.pseudonym).where(User.key_id == old.key_id)).all()
        for start in range(0, len(rows), _BATCH):
            batch = [{"uid": uid, "kid": new.key_id,
                      "token": pseudonymize(token, key=new.secret, key_id=new.key_id, purpose="store")}
                     for uid, token in rows[start:start + _BATCH]]
            conn.execute(stmt, batch)
    return len(rows)


# --- keys show -----------------------------------------------------------------------------------------------------


def describe_keys(home: RotationHome) -> KeysReport:
    """Key ids, creation time, retired keys, signing-key fingerprint and users per key id; never a secret."""
    keys_dir = Path(home.config.keys_dir)
    current = home.pseudonym_key
    try:
        created = str(json.loads((keys_dir / PSEUDONYM_FILE).read_text(encoding="utf-8")).get("created", ""))
    except (OSError, ValueError):
        created = ""
    retired = tuple(_read_key(p).key_id for p in _archived(keys_dir) if not p.name.endswith(f"{current.key_id}.key"))
    signing = home.signing_key
    with home.engine.connect() as conn:
        counts = dict(conn.execute(select(User.key_id, func.count()).group_by(User.key_id)).all())
    return KeysReport(current.key_id, created, retired, signing.key_id,
                      hashlib.sha256(public_key_pem(signing.public)).hexdigest(), counts,
                      (keys_dir / PENDING_FILE).exists())
