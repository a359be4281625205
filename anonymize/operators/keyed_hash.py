"""Keyed-hash token: HMAC-SHA256 (RFC 2104) of the normalised value under a secret key, domain-separated by entity
type, truncated to 48 bits. Stable across requests (the same e-mail gives the same token) yet, unlike the unsalted
hashes of some gateways, not reversible by hashing a list of candidate values without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from anonymize.operators.base import OperatorState, normalise

_DOMAIN = b"tanaban/anonymize/keyed-hash/v1"  # MAC input layout version; tokens change if this changes
TOKEN_HEX_CHARS = 12  # 48 bits: collisions are negligible within one request, and short enough to read
MIN_KEY_BYTES = 32  # NIST SP 800-107: HMAC keys at least as long as the hash output


@dataclass(frozen=True)
class KeyedHash:
    key: bytes = field(repr=False)
    name: str = "keyed_hash"

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"keyed-hash key must be at least {MIN_KEY_BYTES} bytes")

    def token(self, value: str, entity_type: str) -> str:
        message = b"\x00".join((_DOMAIN, entity_type.encode("ascii"), normalise(value).encode("utf-8")))
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:TOKEN_HEX_CHARS]

    def apply(self, value: str, entity_type: str, state: OperatorState) -> str:
        return f"<{entity_type}#{self.token(value, entity_type)}>"
