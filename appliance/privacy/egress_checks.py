"""Checks of the egress settings, before anything is prepared or sent: the destination allow-list (https, or
plain http only to a loopback host; RFC 3986 URL parts), the credential's source and shape (a value that could split
an HTTP header is refused, RFC 9110 field values), and the `tanaban egress status` summary. No network access.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance.config import EgressConfig
from appliance.privacy.egress_prepare import EgressError
from appliance.privacy.policy import PolicyReport

_CREDENTIAL = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: nothing that could split a header


@dataclass(frozen=True)
class Destination:
    url: str  # the chat-completions URL
    scheme: str
    host: str
    port: int
    model: str

    def audit_fields(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "model": self.model, "scheme": self.scheme}


def resolve_destination(cfg: EgressConfig) -> Destination:
    """Check base_url against the allow-list: https, or http to a loopback host; host listed; no userinfo."""
    if not cfg.base_url:
        raise EgressError("no destination: set egress.base_url (e.g. https://llm.internal.example/v1)")
    try:
        parts = urlsplit(cfg.base_url)
    except ValueError:
        raise EgressError(f"egress.base_url {cfg.base_url!r} is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise EgressError(f"egress.base_url {cfg.base_url!r} must be an https:// URL with a host")
    if parts.scheme == "http" and not is_loopback(host):
        raise EgressError(f"plain http is allowed only to loopback hosts, not {host}: use https")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EgressError("egress.base_url must not hold credentials, a query or a fragment "
                          "(put the credential in egress.api_key_file)")
    if host not in {h.lower() for h in cfg.allowed_hosts}:
        raise EgressError(f"destination host {host} is not in egress.allowed_hosts {list(cfg.allowed_hosts)}")
    if not cfg.model:
        raise EgressError("egress.model is not set (the model name the endpoint expects)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EgressError(f"egress.base_url {cfg.base_url!r} has an invalid port") from None
    url = cfg.base_url.rstrip("/") + "/chat/completions"
    return Destination(url, parts.scheme, host, port, cfg.model)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_credential(cfg: EgressConfig, env: Mapping[str, str]) -> tuple[str, str]:
    """(credential, where it came from); ("", "none") when none is configured. The file must be mode 0600."""
    if cfg.api_key_file:
        path = Path(cfg.api_key_file).expanduser()
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            value = path.read_text(encoding="utf-8").strip() if not mode & 0o077 else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise EgressError(f"cannot read egress.api_key_file {path}: {type(exc).__name__}") from None
        if mode & 0o077:
            raise EgressError(f"egress.api_key_file {path} is readable by group or others (mode {mode:04o}); "
                              f"fix it with: chmod 600 {path}")
        return _checked(value, f"file {path}"), f"file {path}"
    if cfg.api_key_env and env.get(cfg.api_key_env):
        source = f"environment variable {cfg.api_key_env}"
        return _checked(env[cfg.api_key_env].strip(), source), source
    if cfg.api_key:
        return _checked(cfg.api_key.strip(), "egress.api_key"), "egress.api_key (inline)"
    return "", "none"


def _checked(value: str, source: str) -> str:
    if not _CREDENTIAL.fullmatch(value):
        raise EgressError(f"the credential from {source} is empty or holds spaces or non-ASCII characters")
    return value


@dataclass(frozen=True)
class EgressStatus:
    enabled: bool
    base_url: str
    model: str
    allowed_hosts: tuple[str, ...]
    destination_problem: str  # empty when the destination passes the checks
    credential_source: str  # where the credential comes from, or the problem reading it; never the value
    max_payload_bytes: int
    timeout_s: float
    policy: PolicyReport | None = None  # the anonymization policy egress would run under, when known
    allow_weakened_policy: bool = False
    total_timeout_s: float = 0.0
    trust_store: str = ""  # what egress TLS trusts (appliance.privacy.egress.describe_trust_store); empty: not read


def egress_status(cfg: EgressConfig, env: Mapping[str, str] | None = None,
                  policy: PolicyReport | None = None) -> EgressStatus:
    """What `tanaban egress status` shows: kill switch, destination check, credential source (no secret) and,
    given `policy` (appliance.privacy.policy.current_policy), its fingerprint and whether it is weakened."""
    try:
        resolve_destination(cfg)
        problem = ""
    except EgressError as exc:
        problem = str(exc)
    try:
        source = load_credential(cfg, os.environ if env is None else env)[1]
    except EgressError as exc:
        source = f"error: {exc}"
    return EgressStatus(cfg.enabled, cfg.base_url, cfg.model, cfg.allowed_hosts, problem, source,
                        cfg.max_payload_bytes, cfg.timeout_s, policy, cfg.allow_weakened_policy, cfg.total_timeout_s)
