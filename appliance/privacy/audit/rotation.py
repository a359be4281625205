"""What `tanaban audit key rotate | revoke | list` do: start a new audit signing key, revoke one, and show every key
with its validity, recording each change in the log itself as a signed entry (`auditkey.rotate`, `auditkey.revoke`)
so that offline verification applies the same validity rules (`.keyring`; docs/AUDITORS.md, "Signing-key rotation
and revocation"). The model is TUF's root rotation (The Update Framework specification, root metadata): the old key
signs the tree that introduces the new one, unless it is being revoked.

Concurrency: rotations and revocations of one machine's keys run one at a time, under the exclusive `auditkey` lock
of the appliance's locking discipline (appliance.data.locks: flock on one host, a PostgreSQL advisory lock with a
PostgreSQL store). A second `rotate` waits for the first, then refuses if the key it was asked to replace is no
longer current, naming the key that replaced it; and the rotation re-reads the log's key entries inside its own write
transaction, so two rotations cannot both commit even without the lock (`AuditLog.rotate_key`).

Crash safety, in order: the new key is written as audit-keys/<n>-<id>.key.pending; the rotation entries and the
checkpoints of the hand-over commit in one transaction; only then is the pending file renamed into place (and the
retired private key deleted). Running `rotate` again after a crash finishes a rotation the log already holds, or
removes a pending key it does not.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from appliance.data.dirs import fsync_dir
from appliance.data.keys import (
    AUDIT_KEYS_DIR,
    SigningKey,
    create_audit_key,
    load_pending_audit_key,
    rotated_audit_keys,
)
from appliance.data.locks import writing
from appliance.errors import UserError
from appliance.privacy.audit.admin import AuditHome, open_audit_log
from appliance.privacy.audit.chain import canonical_json, entry_body
from appliance.privacy.audit.keyring import REVOKE, ROTATE, KeyValidity
from appliance.privacy.audit.log import AuditEvent, AuditLog

AUDIT_KEY_LOCK = "auditkey"  # the lock `rotate` and `revoke` hold (appliance.data.locks)


class AuditKeyError(UserError, ValueError):
    """A key rotation or revocation that cannot be done as asked (the message says why and what to do)."""


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    seq: int  # the auditkey.rotate entry
    revoked: bool  # the old key was revoked in the same step
    public_key: Path  # the new key's .pub, for auditors
    finished_interrupted: bool = False  # an earlier, interrupted rotation was finished instead of starting one


@dataclass(frozen=True)
class KeyState:
    key_id: str
    checkpoints: int  # checkpoints it signed in the log
    introduced: int | None  # the entry of its auditkey.rotate (None: a starting key)
    status: str  # "signs now", "retired at entry r when key N replaced it", "revoked at entry v ..."


def rotate_audit_key(home: AuditHome, *, revoke: bool = False, actor: str = "") -> Rotation:
    """Start a new audit signing key; with `revoke`, record the current one as revoked in the same transaction (it
    then signs nothing more, not even the hand-over). Waits for a rotation or revocation already running."""
    asked = home.audit_key.key_id  # the key this command replaces, as it stood before any wait for the lock
    with writing(home.config, AUDIT_KEY_LOCK):
        _forget(home)
        return _rotate(home, revoke, actor, asked)


def _rotate(home: AuditHome, revoke: bool, actor: str, asked: str) -> Rotation:
    keys_dir = Path(home.config.keys_dir)
    with open_audit_log(home) as log:
        finished = _finish_interrupted(log, keys_dir)
        if finished is not None:
            _forget(home)
            return finished
        old: SigningKey = home.audit_key
        if old.key_id != asked:
            raise AuditKeyError(f"while this command waited, another `tanaban audit key rotate` replaced audit key "
                                f"{asked} by {old.key_id}; nothing was done: run it again to replace {old.key_id} "
                                "too")
        validity = log_keys(log)
        if validity.current not in (None, old.key_id):
            raise AuditKeyError(f"the audit log's current signing key is {validity.current}, but this machine's key "
                                f"is {old.key_id}: restore audit-keys/ from a backup before rotating")
        problem = validity.problem(old.key_id, log.size() + 1)
        if problem:
            raise AuditKeyError(f"this machine's audit signing key {old.key_id} is {problem}: restore audit-keys/ "
                                "from a backup before rotating")
        log.ensure_checkpoint()  # the tree so far signed and witnessed by the old key before the hand-over
        if log.key_id != old.key_id:  # it picked up a key rotated meanwhile (by a process outside the lock)
            raise AuditKeyError(f"audit key {old.key_id} was replaced by {log.key_id} while this command ran; nothing "
                                f"was done: run it again to replace {log.key_id} too")
        new, pending = create_audit_key(keys_dir)
        raw = new.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
        events = [AuditEvent(REVOKE, "ok", actor=actor, origin={"key_id": old.key_id},
                             reason=f"audit signing key {old.key_id} revoked; key {new.key_id} replaces it")] \
            if revoke else []
        events.append(AuditEvent(ROTATE, "ok", actor=actor, reason=f"audit signing key {old.key_id} replaced by "
                                 f"{new.key_id}" + (" (revoked)" if revoke else ""),
                                 origin={"key_id": new.key_id, "public_key": raw, "previous_key_id": old.key_id}))
        try:
            seq = log.rotate_key(events, new, handover=not revoke)
        except BaseException:
            _discard(pending)
            raise
    _install(pending, keys_dir)
    _forget(home)
    return Rotation(old.key_id, new.key_id, seq, revoke, _pub_of(pending))


def revoke_audit_key(home: AuditHome, key_id: str, *, actor: str = "") -> int:
    """Record key `key_id` (one that signed this log, not the current one) as revoked: from this entry on, a
    checkpoint it signs fails verification. Returns the auditkey.revoke entry's seq. Waits for a running rotation."""
    with writing(home.config, AUDIT_KEY_LOCK):
        _forget(home)
        return _revoke(home, key_id, actor)


def _revoke(home: AuditHome, key_id: str, actor: str) -> int:
    with open_audit_log(home) as log:
        validity, signed = log_keys(log), {c.key_id for c in log.checkpoints()}
        current = home.audit_key.key_id
        if key_id == current:
            raise AuditKeyError(f"key {key_id} is the current audit signing key: revoke it with `tanaban audit key "
                                "rotate --revoke`, which starts a new key in the same step")
        if key_id not in signed | {k for _, k in validity.rotations}:
            raise AuditKeyError(f"key {key_id} never signed this audit log (keys that did: "
                                f"{', '.join(sorted(signed)) or 'none'}); check the key id (`tanaban audit key list`)")
        if key_id in validity.revoked:
            raise AuditKeyError(f"key {key_id} is already revoked, at entry {validity.revoked[key_id]}")
        return log.append(AuditEvent(REVOKE, "ok", actor=actor, origin={"key_id": key_id},
                                     reason=f"audit signing key {key_id} revoked"))


def list_audit_keys(home: AuditHome) -> list[KeyState]:
    """Every key that signed this log or that a rotation introduced, oldest first, with its status."""
    with open_audit_log(home) as log:
        validity, checkpoints = log_keys(log), log.checkpoints()
        size = log.size()
    counts: dict[str, int] = {}
    for checkpoint in checkpoints:
        counts[checkpoint.key_id] = counts.get(checkpoint.key_id, 0) + 1
    introduced = {key: seq for seq, key in validity.rotations}
    order = list(dict.fromkeys([*counts, *introduced]))
    return [KeyState(key, counts.get(key, 0), introduced.get(key),
                     validity.problem(key, size + 1) or "signs now") for key in order]


def log_keys(log: AuditLog) -> KeyValidity:
    """The key state after every entry of `log` (rotations and revocations)."""
    validity = KeyValidity()
    for entry in _key_entries(log):
        validity.observe(entry["seq"], canonical_json(entry_body(entry)))
    return validity


def _key_entries(log: AuditLog) -> Iterator[dict]:
    found = [*log.query(action=ROTATE), *log.query(action=REVOKE)]
    yield from sorted(found, key=lambda e: e["seq"])


def _finish_interrupted(log: AuditLog, keys_dir: Path) -> Rotation | None:
    """A pending key the log already introduced is installed (the crash came after COMMIT); any other pending key
    is deleted (the crash came before it: the log never named it)."""
    folder = keys_dir / AUDIT_KEYS_DIR
    pendings = sorted(folder.glob("*.key.pending")) if folder.is_dir() else []
    if not pendings:
        return None
    validity = log_keys(log)
    result = None
    for pending in pendings:
        key = load_pending_audit_key(pending)
        if key.key_id == validity.current:
            seq = next(s for s, k in validity.rotations if k == key.key_id)
            _install(pending, keys_dir)
            result = Rotation("", key.key_id, seq, False, _pub_of(pending), finished_interrupted=True)
        else:
            _discard(pending)
    return result


def _install(pending: Path, keys_dir: Path) -> None:
    """Rename the pending key into place, then delete the private keys it retires (their .pub stay for auditors)."""
    final = pending.with_name(pending.name.removesuffix(".pending"))
    os.replace(pending, final)
    fsync_dir(final.parent)
    for retired in rotated_audit_keys(keys_dir)[:-1]:
        retired.unlink()
    fsync_dir(final.parent)


def _discard(pending: Path) -> None:
    for path in (pending, _pub_of(pending)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _pub_of(pending: Path) -> Path:
    return pending.with_name(pending.name.split(".", 1)[0] + ".pub")


def _forget(home: AuditHome) -> None:
    """Drop a cached audit key so the next use reads the new one."""
    with contextlib.suppress(TypeError):
        vars(home).pop("audit_key", None)
