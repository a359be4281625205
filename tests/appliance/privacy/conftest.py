"""Fakes shared by the egress client tests (test_egress_limits.py, test_egress_review.py), handed out as fixtures
(STYLE.md "Test layout"): a gateway to a loopback URL whose anonymizer finds nothing (those tests are about the
connection, not the text) and whose audit log is `audit.db` in the test's tmp_path, and a reader of that log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.config import AuditConfig, EgressConfig
from appliance.data.keys import SigningKey, public_key_id
from appliance.privacy.audit import AuditLog
from appliance.privacy.egress import EgressGateway

_PRIVATE = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
_KEY = SigningKey(public_key_id(_PRIVATE.public_key()), _PRIVATE)
_AUDIT = AuditConfig(checkpoint_every=0)


@dataclass(frozen=True)
class _Result:
    text: str
    findings: list = field(default_factory=list)


class _PassThrough:
    """An anonymizer that finds nothing."""

    policy_version = "pass-through-test"

    def anonymize_many(self, texts: Sequence[str]) -> list[_Result]:
        return [_Result(t) for t in texts]

    def residual(self, text: str) -> list:
        return []


@pytest.fixture
def loopback_gateway(tmp_path: Path) -> Callable[..., EgressGateway]:
    """`build(url, **changes)`: an enabled gateway to `url` (its host the only allowed one, model "m", timeout_s 5,
    then `changes` to EgressConfig), with the pass-through anonymizer and no environment."""

    def build(url: str, **changes: object) -> EgressGateway:
        host = urlsplit(url).hostname
        cfg = EgressConfig(**{"enabled": True, "base_url": url, "model": "m", "allowed_hosts": (host,),
                              "timeout_s": 5.0, **changes})
        return EgressGateway(cfg, AuditLog.open(tmp_path / "audit.db", _KEY, cfg=_AUDIT), _PassThrough(), env={})

    return build


@pytest.fixture
def egress_audit_entries(tmp_path: Path) -> Callable[[], list[dict]]:
    """`read()`: the entries `loopback_gateway`'s gateways wrote so far, oldest first."""

    def read() -> list[dict]:
        with AuditLog.open(tmp_path / "audit.db", _KEY, cfg=_AUDIT) as log:
            return list(log.entries())

    return read
