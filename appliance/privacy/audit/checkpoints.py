"""Signed checkpoints of the audit log: Ed25519 (RFC 8032) over a domain string plus the canonical JSON of tree
size, RFC 6962 Merkle root, time and key id, in the spirit of C2SP signed tree heads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.data.keys import public_key_id
from appliance.privacy.audit.chain import AuditVerificationError, canonical_json, format_time

_CHECKPOINT_DOMAIN = b"tanaban/audit-checkpoint/v1\n"  # a checkpoint signature can never verify as anything else
CHECKPOINT_FIELDS = ("tree_size", "root_hash", "time", "key_id", "signature")
_HEX = {"root_hash": re.compile(r"[0-9a-f]{64}"), "signature": re.compile(r"[0-9a-f]{128}")}


class Signer(Protocol):
    """What signs checkpoints: appliance.data.keys.SigningKey (or any object with these members)."""

    key_id: str

    def sign(self, message: bytes) -> bytes: ...

    @property
    def public(self) -> Ed25519PublicKey: ...


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int  # entries 1..tree_size are covered
    root_hash: str  # RFC 6962 MTH over those entries' leaves, lower-case hex
    time: str  # when it was signed, ISO 8601 UTC
    key_id: str  # which signing key (appliance.data.keys.public_key_id)
    signature: str  # Ed25519 over signed_body(), lower-case hex

    def signed_body(self) -> bytes:
        return checkpoint_body(self.tree_size, self.root_hash, self.time, self.key_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoint_body(tree_size: int, root_hash: str, time: str, key_id: str) -> bytes:
    """The exact bytes that are signed: domain || canonical JSON of the four fields."""
    fields = {"key_id": key_id, "root_hash": root_hash, "time": time, "tree_size": tree_size}
    return _CHECKPOINT_DOMAIN + canonical_json(fields)


def sign_checkpoint(tree_size: int, root: bytes, now: datetime, signer: Signer) -> Checkpoint:
    time = format_time(now)
    signature = signer.sign(checkpoint_body(tree_size, root.hex(), time, signer.key_id))
    return Checkpoint(tree_size, root.hex(), time, signer.key_id, signature.hex())


def checkpoint_from_dict(data: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint read from an export or a file, with every field's type and hex form checked."""
    if sorted(data) != sorted(CHECKPOINT_FIELDS):
        raise AuditVerificationError(f"checkpoint fields {sorted(data)} differ from {sorted(CHECKPOINT_FIELDS)}")
    size = data["tree_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise AuditVerificationError(f"checkpoint tree_size {size!r} is not a non-negative integer")
    if not all(isinstance(data[k], str) for k in CHECKPOINT_FIELDS[1:]):
        raise AuditVerificationError("checkpoint root_hash, time, key_id and signature must be strings")
    for name, pattern in _HEX.items():
        if not pattern.fullmatch(data[name]):
            raise AuditVerificationError(f"checkpoint {name} is not lower-case hex of the right length")
    return Checkpoint(**{k: data[k] for k in CHECKPOINT_FIELDS})


def trusted_keys(public_keys: Sequence[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """key id -> public key, for the keys the verifier trusts."""
    return {public_key_id(k): k for k in public_keys}


def verify_checkpoint_signature(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Raise AuditVerificationError unless a trusted key with the checkpoint's key id signed it."""
    where = f"checkpoint at tree size {checkpoint.tree_size} ({checkpoint.time})"
    key = keys.get(checkpoint.key_id)
    if key is None:
        raise AuditVerificationError(f"{where} is signed by key id {checkpoint.key_id}, which is not a trusted key "
                                     f"({', '.join(sorted(keys)) or 'none given'})")
    try:
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed_body())
    except InvalidSignature:
        raise AuditVerificationError(f"{where}: signature does not verify (forged or altered checkpoint)") from None
