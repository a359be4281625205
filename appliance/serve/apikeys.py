"""API keys of the HTTP service: created and revoked with the CLI, stored only as SHA-256 hashes.

A key is `tnb_<id>_<secret>` with a 256-bit random secret, so a plain SHA-256 is a sufficient verifier (there is
nothing to brute-force; password hashing would only add latency to every request). The file is written 0600 and
replaced atomically; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.errors import UserError

KEYS_FILE = "api_keys.json"


class ApiKeyError(UserError, RuntimeError):
    """The key file is unreadable, or the key to revoke does not exist."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    created_at: str
    revoked_at: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _load(path: Path) -> dict[str, dict[str, str | None]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiKeyError(f"{path} is not a valid API key file ({exc}); restore it from backup") from None


def _save(path: Path, data: dict[str, dict[str, str | None]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def create_key(path: Path, name: str) -> str:
    """A new key; the returned token is shown once and never stored."""
    data = _load(path)
    key_id = secrets.token_hex(4)
    while key_id in data:
        key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    data[key_id] = {"name": name, "sha256": _hash(secret), "created_at": now, "revoked_at": None}
    _save(path, data)
    return f"tnb_{key_id}_{secret}"


def revoke_key(path: Path, key_id: str) -> None:
    data = _load(path)
    if key_id not in data:
        raise ApiKeyError(f"no API key with id {key_id!r} (see `tanaban apikey list`)")
    data[key_id]["revoked_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _save(path, data)


def list_keys(path: Path) -> list[ApiKey]:
    return [ApiKey(k, v["name"] or "", v["created_at"] or "", v.get("revoked_at"))
            for k, v in sorted(_load(path).items())]


class KeyVerifier:
    """Checks request tokens against the key file; re-reads it when it changes (revocation takes effect at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, dict[str, str | None]] = {}

    def verify(self, token: str | None) -> str | None:
        """The key id when `token` is a valid, unrevoked key, else None."""
        if not token or not token.startswith("tnb_") or token.count("_") < 2:
            return None
        key_id, secret = token[4:].split("_", 1)
        entry = self._current().get(key_id)
        if entry is None or entry.get("revoked_at") or not hmac.compare_digest(str(entry["sha256"]), _hash(secret)):
            return None
        return key_id

    def _current(self) -> dict[str, dict[str, str | None]]:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            return {}
        if stamp != self._stamp:
            self._keys, self._stamp = _load(self.path), stamp
        return self._keys
