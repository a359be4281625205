"""Validity of audit signing keys, read from the log itself: `auditkey.rotate` entries introduce a key and retire the
one before it, `auditkey.revoke` entries revoke one. A checkpoint counts only if its key was valid at the checkpoint's
tree size; both the offline verifier (`.verify`) and verify-before-sign (`.guard`) apply the same rules, so a
retired or revoked key can neither sign for the appliance nor pass verification afterwards.

The rules (docs/AUDITORS.md, "Signing-key rotation and revocation"), with n a checkpoint's tree size:
- a key that no rotation entry introduces is a starting key: valid from n = 0;
- `auditkey.rotate` at entry r, from key O to key N: N is valid for n >= r (never before: a checkpoint N signed
  for an earlier tree fails), every other key for n <= r only (O signs tree r, the hand-over, then is retired);
- `auditkey.revoke` of key K at entry v: K is valid for n < v only (it signs neither its own revocation nor later).
This is the key-rotation pattern of TUF (The Update Framework specification, root metadata rotation: a new root is
introduced by a record the old one signs) and of C2SP signed notes, applied to RFC 6962 tree heads.

Standard library and `cryptography` only, like the rest of offline verification.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.data.keys import public_key_id
from appliance.privacy.audit.chain import AuditVerificationError
from appliance.privacy.audit.checkpoints import Checkpoint

ROTATE, REVOKE = "auditkey.rotate", "auditkey.revoke"


class RetiredKeyError(AuditVerificationError):
    """A process holds an audit key the log has retired or revoked; `.current` is the key the log's latest rotation
    introduced (None before any), which an appending process may load and sign with instead (`.log`)."""

    def __init__(self, key_id: str, problem: str, current: str | None) -> None:
        super().__init__(f"this process signs with audit key {key_id}, {problem}: restart it so that it loads the "
                         "current key (an interrupted `tanaban audit key rotate` is finished by running it again)")
        self.key_id, self.problem, self.current = key_id, problem, current
_MARK = b'"action":"auditkey.'  # canonical JSON (no whitespace): a cheap filter before parsing an entry


@dataclass
class KeyValidity:
    """The key state after the entries observed so far. Feed entries in log order (`observe`), and check a
    checkpoint (`check`) once every entry up to its tree size has been observed."""

    rotations: list[tuple[int, str]] = field(default_factory=list)  # (entry, key id introduced), in log order
    public_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)  # key id -> the key a rotation names
    revoked: dict[str, int] = field(default_factory=dict)  # key id -> entry of its auditkey.revoke
    first_signed: dict[str, Checkpoint] = field(default_factory=dict)  # smallest tree each key signed, so far

    @property
    def current(self) -> str | None:
        """The key the latest rotation introduced (None before any rotation)."""
        return self.rotations[-1][1] if self.rotations else None

    def observe(self, seq: int, body: bytes) -> None:
        """Take note of entry `seq` (its canonical body) if it rotates or revokes a key."""
        if _MARK not in body:
            return
        entry = json.loads(body)
        if entry.get("action") == ROTATE:
            self._rotate(seq, entry)
        elif entry.get("action") == REVOKE:
            self.revoked.setdefault(_origin(entry, "key_id", seq), seq)

    def _rotate(self, seq: int, entry: Mapping[str, Any]) -> None:
        new, raw = _origin(entry, "key_id", seq), _origin(entry, "public_key", seq)
        try:
            public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))
            derived = public_key_id(public)
        except ValueError:
            raise AuditVerificationError("the key rotation names a public key that is not a raw Ed25519 key in "
                                         "hex", seq) from None
        if derived != new:
            raise AuditVerificationError(f"the key rotation names key id {new} for a public key whose id is "
                                         f"{derived}", seq)
        early = self.first_signed.get(new)
        if early is not None and early.tree_size < seq:
            raise AuditVerificationError(_where(early) + f" is signed by key {new}, which the log introduces only "
                                         f"at entry {seq} (auditkey.rotate)")
        self.rotations.append((seq, new))
        self.public_keys[new] = public

    def problem(self, key_id: str, size: int) -> str:
        """Why `key_id` may not sign the tree of `size` ("" when it may)."""
        since = next((r for r, key in self.rotations if key == key_id), None)
        if since is not None and size < since:
            return f"which the log introduces only at entry {since} (auditkey.rotate)"
        if key_id in self.revoked and size >= self.revoked[key_id]:
            return f"revoked at entry {self.revoked[key_id]} (auditkey.revoke)"
        later = [(r, key) for r, key in self.rotations if r > (since or 0)]
        if later and size > later[0][0]:
            return f"retired at entry {later[0][0]} when key {later[0][1]} replaced it"
        return ""

    def check(self, checkpoint: Checkpoint) -> None:
        """Raise AuditVerificationError unless the checkpoint's key was valid at its tree size."""
        problem = self.problem(checkpoint.key_id, checkpoint.tree_size)
        if problem:
            raise AuditVerificationError(_where(checkpoint) + f" is signed by key {checkpoint.key_id}, {problem}: "
                                         "not a valid signature for this tree")
        known = self.first_signed.get(checkpoint.key_id)
        if known is None or checkpoint.tree_size < known.tree_size:
            self.first_signed[checkpoint.key_id] = checkpoint

    def may_sign(self, key_id: str, size: int) -> None:
        """Raise RetiredKeyError unless `key_id` may sign the tree of `size` (the writer's side)."""
        problem = self.problem(key_id, size)
        if problem:
            raise RetiredKeyError(key_id, problem, self.current)


def _origin(entry: Mapping[str, Any], name: str, seq: int) -> str:
    value = entry.get("origin", {}).get(name)
    if not isinstance(value, str) or not value:
        raise AuditVerificationError(f"the {entry.get('action')} entry has no origin.{name}", seq)
    return value


def _where(checkpoint: Checkpoint) -> str:
    return f"checkpoint at tree size {checkpoint.tree_size} ({checkpoint.time})"
