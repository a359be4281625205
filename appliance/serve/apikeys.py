"""API keys of the HTTP service: a small transactional store of SHA-256 hashes with scopes, created and revoked
with the CLI and read by the running service.

A key is `tnb_<id>_<secret>` with a 256-bit random secret, so a plain SHA-256 is a sufficient verifier (there is
nothing to brute-force; password hashing would only add latency to every request); comparison is constant-time.
Every change is a read-modify-write under the appliance's exclusive "apikeys" lock (appliance.data.locks, the one
locking discipline: flock(2) on `<dir>/locks/apikeys.lock`, its holder named to a waiter), written to a unique temp
file (mkstemp, 0600) that is fsynced, renamed over the key file (rename(2) is atomic, so a reader sees the old or the
new file, never a mix) and made durable by an fsync of the directory. A key file that cannot be
read or parsed makes every check fail closed (`ApiKeyError`), never "no keys" and never a stale copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.data.dirs import fsync_dir
from appliance.data.locks import EXCLUSIVE, LOCKS_DIR, FileLocks
from appliance.errors import UserError

KEYS_FILE = "api_keys.json"
SCOPES = ("read", "admin")  # read: the /v1 recommendation and search routes; admin: /v1/admin/*
DEFAULT_SCOPES = ("read",)  # also what a key stored before scopes existed gets (docs/SERVING.md)
LOCK_TIMEOUT_S = 30.0  # a create or revoke holds the lock for milliseconds; 30 s of waiting means something is stuck
APIKEYS = "apikeys"  # the lock kind (appliance.data.locks) that serialises writers of the key file

Entry = dict[str, Any]  # one key as stored: name, sha256, created_at, revoked_at, scopes
AuditHook = Callable[[str, "ApiKey"], None]  # (action, key) before the change is committed; raising aborts it


class ApiKeyError(UserError, RuntimeError):
    """The key file is unreadable or corrupt, its lock is held too long, or a key id or scope does not exist."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    created_at: str
    revoked_at: str | None
    scopes: tuple[str, ...] = DEFAULT_SCOPES


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _key(key_id: str, entry: Entry) -> ApiKey:
    return ApiKey(key_id, entry["name"], entry["created_at"], entry.get("revoked_at"), tuple(entry["scopes"]))


def _checked(path: Path, data: Any) -> dict[str, Entry]:
    """The parsed file's keys with scopes filled in; raises ApiKeyError naming the first bad field (never a value)."""
    if not isinstance(data, dict):
        raise ApiKeyError(f"{path} is not a valid API key file (the top level is not an object); restore it from "
                          "backup, or move it away and create new keys with `tanaban apikey create`")
    keys = {}
    for key_id, entry in data.items():
        problem = _entry_problem(entry)
        if problem:
            raise ApiKeyError(f"{path}: key {key_id!r} {problem}; restore the file from backup, or revoke the key "
                              "by hand and create a new one with `tanaban apikey create`")
        keys[key_id] = {**entry, "scopes": list(entry.get("scopes", DEFAULT_SCOPES))}
    return keys


def _entry_problem(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "is not an object"
    for name in ("name", "sha256", "created_at"):
        if not isinstance(entry.get(name), str):
            return f"has no text field {name!r}"
    if not isinstance(entry.get("revoked_at"), str | None):
        return "has a revoked_at that is neither text nor null"
    scopes = entry.get("scopes", DEFAULT_SCOPES)
    if not isinstance(scopes, list | tuple) or not scopes or not set(scopes) <= set(SCOPES):
        return f"has scopes that are not a non-empty list of {', '.join(SCOPES)}"
    return ""


def _parse(path: Path, raw: bytes) -> dict[str, Entry]:
    try:
        return _checked(path, json.loads(raw.decode("utf-8")))
    except UnicodeDecodeError:
        raise ApiKeyError(f"{path} is not UTF-8 text; restore it from backup") from None
    except json.JSONDecodeError as exc:
        raise ApiKeyError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}); restore it from "
                          "backup, or move it away and create new keys with `tanaban apikey create`") from None


def _read(path: Path) -> dict[str, Entry]:
    """The keys in `path` ({} when it does not exist yet)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ApiKeyError(f"cannot read {path} ({type(exc).__name__}): give this user read access to it") from None
    return _parse(path, raw)


def _save(path: Path, keys: dict[str, Entry]) -> None:
    """Replace `path` atomically and durably with `keys` (the caller holds the lock)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(keys, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def lock_path(path: Path) -> Path:
    """The lock file that serialises writers of the key file `path` (appliance.data.locks' "apikeys" kind)."""
    return path.parent / LOCKS_DIR / f"{APIKEYS}.lock"


@contextlib.contextmanager
def _locked(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the exclusive "apikeys" lock next to `path` (flock: released by the kernel if the process dies). Only the
    key file is written under it, never the store, so it takes no store lock: the service's own key checks never
    wait, and a key can be created while an ingest runs."""
    if not path.parent.is_dir():
        raise ApiKeyError(f"the directory {path.parent} of the API key file does not exist: run `tanaban init` first")
    with FileLocks(path.parent / LOCKS_DIR).acquire(APIKEYS, EXCLUSIVE, timeout_s):
        yield


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


def _scopes(scopes: tuple[str, ...] | list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiKeyError(f"unknown or missing scope (choose from: {', '.join(SCOPES)}), e.g. "
                          "`tanaban apikey create --name ops --scope admin`")
    return sorted(set(scopes), key=SCOPES.index)


def create_key(path: Path, name: str, scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES, *,
               audit: AuditHook | None = None, now: datetime | None = None) -> str:
    """A new key with `scopes`; the returned token is shown once and never stored. `audit` is called with
    ("apikey.create", key) under the lock before the file changes: if it raises, nothing is created."""
    chosen = _scopes(scopes)
    with _locked(path):
        keys = _read(path)
        key_id = secrets.token_hex(4)
        while key_id in keys:
            key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        keys[key_id] = {"name": name, "sha256": _hash(secret), "created_at": _now(now), "revoked_at": None,
                        "scopes": chosen}
        if audit is not None:
            audit("apikey.create", _key(key_id, keys[key_id]))
        _save(path, keys)
    return f"tnb_{key_id}_{secret}"


def revoke_key(path: Path, key_id: str, *, audit: AuditHook | None = None, now: datetime | None = None) -> ApiKey:
    """Revoke `key_id`; returns the key as stored afterwards. Revoking a revoked key changes nothing (its revoked_at
    is kept, no audit entry). `audit` is called with ("apikey.revoke", key) under the lock before the file changes."""
    with _locked(path):
        keys = _read(path)
        if key_id not in keys:
            raise ApiKeyError(f"no API key with id {key_id!r} in {path} (see `tanaban apikey list`)")
        if keys[key_id]["revoked_at"]:
            return _key(key_id, keys[key_id])
        keys[key_id]["revoked_at"] = _now(now)
        if audit is not None:
            audit("apikey.revoke", _key(key_id, keys[key_id]))
        _save(path, keys)
    return _key(key_id, keys[key_id])


def list_keys(path: Path) -> list[ApiKey]:
    return [_key(key_id, entry) for key_id, entry in sorted(_read(path).items())]


class KeyVerifier:
    """Checks request tokens against the key file and re-reads it whenever it was replaced (so a revocation takes
    effect on the next request). A broken file raises ApiKeyError on every check until it is repaired."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # requests are checked from the event loop and the thread pool
        self._stamp: tuple[int, ...] | None = None
        self._keys: dict[str, Entry] | ApiKeyError = {}

    def verify(self, token: str | None) -> ApiKey | None:
        """The key when `token` is a valid, unrevoked key, else None; ApiKeyError when the key file is unusable."""
        keys = self._current()
        if not token or not token.startswith("tnb_") or token.count("_") < 2:
            return None
        key_id, secret = token[4:].split("_", 1)
        entry = keys.get(key_id)
        if entry is None or entry["revoked_at"] or not hmac.compare_digest(entry["sha256"], _hash(secret)):
            return None
        return _key(key_id, entry)

    def problem(self) -> str | None:
        """Why keys cannot be checked now (for /readyz), or None when the key file is usable."""
        try:
            self._current()
        except ApiKeyError as exc:
            return str(exc)
        return None

    def _current(self) -> dict[str, Entry]:
        with self._lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._stamp, self._keys = None, {}
                return {}
            except OSError as exc:
                raise ApiKeyError(f"cannot read {self.path} ({type(exc).__name__}): give the service user read "
                                  "access to it and its directory") from None
            if _stamp(st) != self._stamp:
                self._stamp, self._keys = self._load()
            if isinstance(self._keys, ApiKeyError):
                raise ApiKeyError(str(self._keys))  # a fresh exception per request: threads share the cached one
            return self._keys

    def _load(self) -> tuple[tuple[int, ...] | None, dict[str, Entry] | ApiKeyError]:
        """(stamp, keys or the error) read from one open file, so the stamp belongs to the bytes read."""
        try:
            with self.path.open("rb") as fh:
                stamp, raw = _stamp(os.fstat(fh.fileno())), fh.read()
        except FileNotFoundError:
            return None, {}
        except OSError as exc:
            return None, ApiKeyError(f"cannot read {self.path} ({type(exc).__name__}): give the service user read "
                                     "access to it")
        try:
            return stamp, _parse(self.path, raw)
        except ApiKeyError as exc:
            return stamp, exc


def _stamp(st: os.stat_result) -> tuple[int, ...]:
    """Identifies one version of the file: every save is a new inode, and mtime and size catch an in-place edit."""
    return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
