"""Keyed pseudonyms for user identifiers: HMAC-SHA256 (RFC 2104), domain-separated by purpose.

A token carries the id of the key that made it (`<prefix>-<key_id>-<mac>`), so after a key rotation old and new
tokens can be told apart. Tokens made for different purposes (the store's ids and the ids that may leave in an
egress payload) come from differently-labelled MAC inputs and cannot be joined without the key.
"""

from __future__ import annotations

import hashlib
import hmac

from anonymize.errors import AnonymizeUserError

_DOMAIN = b"tanaban/pseudonym/v1"  # version tag of the MAC input layout; change it only with a migration
PURPOSES = {"store": "usr", "egress": "ext"}  # purpose -> token prefix
MAC_HEX_CHARS = 32  # 128-bit truncated HMAC (NIST SP 800-107 allows truncation to >= 64 bits)


class PseudonymError(AnonymizeUserError, ValueError):
    """A pseudonym could not be made (unknown purpose, empty id, bad key)."""


def pseudonymize(raw_id: str, *, key: bytes, key_id: str, purpose: str) -> str:
    """Keyed, purpose-separated, deterministic token for `raw_id`."""
    if purpose not in PURPOSES:
        raise PseudonymError(f"unknown pseudonym purpose {purpose!r}; expected one of {sorted(PURPOSES)}")
    if not raw_id:
        raise PseudonymError("an empty identifier cannot be pseudonymized")
    if len(key) < 32:
        raise PseudonymError("pseudonym key must be at least 32 bytes")
    message = b"\x00".join((_DOMAIN, purpose.encode("ascii"), raw_id.encode("utf-8")))
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()[:MAC_HEX_CHARS]
    return f"{PURPOSES[purpose]}-{key_id}-{mac}"


def token_key_id(token: str) -> str:
    """The key id a token was made with."""
    parts = token.split("-")
    if len(parts) != 3 or parts[0] not in PURPOSES.values():
        raise PseudonymError("not a pseudonym token (expected <prefix>-<key id>-<mac>)")  # never echo: may be a raw id
    return parts[1]
