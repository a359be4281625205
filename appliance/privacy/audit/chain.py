"""Canonical entry serialisation (the RFC 8785 JCS subset without numbers other than integers) and the SHA-256
hash chain of the audit log: entry_hash = SHA-256(_ENTRY_HASH_DOMAIN || prev_hash || canonical(entry)).

Standard library only, so an auditor can verify an export with nothing but this package and `cryptography`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from appliance.errors import UserError

ACTIONS = ("egress.request", "egress.result", "egress.blocked", "egress.dryrun", "key.rotate", "log.export",
           "log.read", "log.verify", "service.start", "service.stop", "apikey.create", "apikey.revoke",
           "bundle.reload", "bundle.publish", "auditkey.rotate", "auditkey.revoke")
_ENTRY_HASH_DOMAIN = b"tanaban/audit-entry/v1\x00"  # an entry hash can never be mistaken for a leaf or a signature
GENESIS_PREV_HASH = bytes(32)  # prev_hash of entry 1: 32 zero bytes
HASH_FIELDS = ("prev_hash", "entry_hash")
_MAX_SAFE_INT = 2**53 - 1  # I-JSON (RFC 7493) range, so every JSON reader gets the same integer back
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# field -> type of every entry, hashes excluded; the schema an export must match exactly (no more, no less)
ENTRY_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "seq": int, "time": str, "actor": str, "action": str, "outcome": str, "reason": str,
    "origin": dict, "destination": dict, "purpose": str, "categories": dict, "record_count": int,
    "pseudonym_key_id": str, "policy_version": str, "payload_sha256": str, "payload_size": int,
    "response_sha256": str, "response_size": int, "payload": (str, type(None)),
}


class AuditVerificationError(UserError):
    """The log or an export is not what was written: `.seq` is the first bad entry (None when no single entry can
    be named, e.g. a forged checkpoint) and `.reason` says what is wrong."""

    def __init__(self, reason: str, seq: int | None = None) -> None:
        self.reason = reason
        self.seq = seq
        super().__init__(f"seq {seq}: {reason}" if seq is not None else reason)


class CanonicalJSONError(ValueError):
    """A value outside the canonical subset (a float, a non-string key, an integer beyond 2**53)."""


def canonical_json(value: Any) -> bytes:
    """UTF-8 bytes of `value` in RFC 8785 form for the subset we allow: objects (keys sorted by UTF-16 code
    units), arrays, strings, integers within +-(2**53 - 1), true, false, null. Floats are refused, not rounded."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise CanonicalJSONError(f"integer {value} is outside the I-JSON range")
        return str(value)
    if isinstance(value, str):
        _check_string(value)
        return json.dumps(value, ensure_ascii=False)  # escapes exactly what JCS escapes, lower-case \u00xx
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalJSONError("object keys must be strings")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_encode(k)}:{_encode(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise CanonicalJSONError(f"{type(value).__name__} is not allowed in an audit entry (floats are not: "
                             "use integers or strings)")


def _check_string(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("string holds a lone surrogate, which UTF-8 cannot carry") from None


def format_time(now: datetime) -> str:
    """ISO 8601 UTC with microseconds and a Z, the one time format of entries and checkpoints."""
    if now.tzinfo is None:
        raise ValueError("audit times must be timezone-aware (a naive datetime has no defined UTC instant)")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_body(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry without its hash fields: what is chained, hashed into Merkle leaves and signed over."""
    return {k: v for k, v in entry.items() if k not in HASH_FIELDS}


def hash_entry(prev_hash: bytes, body: bytes) -> bytes:
    """entry_hash = SHA-256(domain || prev_hash || canonical body)."""
    return hashlib.sha256(_ENTRY_HASH_DOMAIN + prev_hash + body).digest()


def check_entry_fields(entry: Mapping[str, Any], seq: int | None) -> None:
    """Exactly the entry schema, with hashes as lower-case hex and time as ISO 8601 UTC with microseconds."""
    missing = sorted(set(ENTRY_FIELDS) - set(entry) | set(HASH_FIELDS) - set(entry))
    extra = sorted(set(entry) - set(ENTRY_FIELDS) - set(HASH_FIELDS))
    if missing or extra:
        raise AuditVerificationError(f"entry fields differ from the schema (missing {missing}, unexpected {extra})",
                                     seq)
    for name, kind in ENTRY_FIELDS.items():
        if not isinstance(entry[name], kind) or (kind is int and isinstance(entry[name], bool)):
            raise AuditVerificationError(f"field {name!r} has the wrong type {type(entry[name]).__name__}", seq)
    for name in HASH_FIELDS:
        if not isinstance(entry[name], str) or not _HEX64.fullmatch(entry[name]):
            raise AuditVerificationError(f"{name} is not 64 lower-case hex digits", seq)
    if not _TIME.fullmatch(entry["time"]):
        raise AuditVerificationError(f"time {entry['time']!r} is not ISO 8601 UTC with microseconds", seq)
    if entry["action"] not in ACTIONS:
        raise AuditVerificationError(f"unknown action {entry['action']!r}", seq)


def check_payload_digest(entry: Mapping[str, Any], seq: int) -> None:
    """A stored payload must be the one whose sha256 and size the entry records."""
    payload = entry["payload"]
    if payload is None:
        return
    data = payload.encode("utf-8")
    if hashlib.sha256(data).hexdigest() != entry["payload_sha256"] or len(data) != entry["payload_size"]:
        raise AuditVerificationError("stored payload does not match payload_sha256/payload_size", seq)


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> None:
    """Check seq 1..n without gaps, every prev_hash link and every entry_hash.

    Raises AuditVerificationError naming the first bad entry (deleted, inserted, reordered or edited).
    """
    for _ in checked_bodies(entries):
        pass


def checked_bodies(entries: Iterable[Mapping[str, Any]], start: int = 0,
                   prev: str = GENESIS_PREV_HASH.hex()) -> Iterator[bytes]:
    """`verify_chain` one entry at a time, yielding each verified entry's canonical body (the Merkle leaf data).
    A range starts after entry `start`, whose entry_hash `prev` the first entry must link to."""
    for index, entry in enumerate(entries):
        expected_seq = start + index + 1
        seq = entry.get("seq") if isinstance(entry, Mapping) else None
        check_entry_fields(entry, seq if isinstance(seq, int) else expected_seq)
        if seq != expected_seq:
            raise AuditVerificationError(f"expected seq {expected_seq} here, found {seq} (entry deleted, inserted "
                                         "or reordered)", expected_seq)
        if entry["prev_hash"] != prev:
            raise AuditVerificationError("prev_hash does not link to the previous entry", seq)
        body = _canonical_body(entry, seq)
        if hash_entry(bytes.fromhex(prev), body).hex() != entry["entry_hash"]:
            raise AuditVerificationError("entry_hash does not match the entry's content", seq)
        check_payload_digest(entry, seq)
        yield body
        prev = entry["entry_hash"]


def _canonical_body(entry: Mapping[str, Any], seq: int) -> bytes:
    try:
        return canonical_json(entry_body(entry))
    except CanonicalJSONError as exc:
        raise AuditVerificationError(f"entry is not canonical JSON ({exc})", seq) from None
