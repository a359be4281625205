"""The API key store (appliance.serve.apikeys): scopes, fail-closed reads of a broken file, and no lost update when
creates and revokes race in separate processes (issue 14's "lost revocation")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from appliance.serve.apikeys import (
    ApiKey,
    ApiKeyError,
    KeyVerifier,
    create_key,
    list_keys,
    lock_path,
    revoke_key,
)

ROOT = Path(__file__).resolve().parents[3]
# One racer: waits for the go file, then creates (c:NAME) or revokes (r:ID) one key; prints the token for a create.
RACER = """
import os, sys, time
from pathlib import Path
from appliance.serve.apikeys import create_key, revoke_key
path, go, op = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
go.with_name(f"{go.name}.ready.{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
print(create_key(path, op[2:]) if op.startswith("c:") else revoke_key(path, op[2:]).key_id)
"""


def test_create_list_revoke_with_scopes(tmp_path: Path, fixed_clock: datetime) -> None:
    path = tmp_path / "api_keys.json"
    reader = create_key(path, "shop", now=fixed_clock)
    admin = create_key(path, "ops", ("admin", "read", "admin"))
    assert oct(path.stat().st_mode & 0o777) == "0o600" and lock_path(path).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no temp file left behind
    keys = {key.name: key for key in list_keys(path)}
    assert keys["shop"].scopes == ("read",) and keys["shop"].created_at == "2026-01-02T03:04:05+00:00"
    assert keys["ops"].scopes == ("read", "admin")
    verifier = KeyVerifier(path)
    assert verifier.verify(admin).scopes == ("read", "admin")
    assert revoke_key(path, reader.split("_")[1], now=fixed_clock).revoked_at == "2026-01-02T03:04:05+00:00"
    assert verifier.verify(reader) is None
    assert revoke_key(path, reader.split("_")[1]).revoked_at == "2026-01-02T03:04:05+00:00"  # kept, not re-dated
    assert secret_free(path, reader) and secret_free(path, admin)


def secret_free(path: Path, token: str) -> bool:
    return token.split("_", 2)[2] not in path.read_text()


def test_unknown_scope_and_unknown_key_are_user_errors(tmp_path: Path) -> None:
    path = tmp_path / "api_keys.json"
    with pytest.raises(ApiKeyError, match="choose from: read, admin"):
        create_key(path, "x", ("root",))
    with pytest.raises(ApiKeyError, match="no API key with id 'nope'"):
        revoke_key(path, "nope")
    assert not path.exists()


def test_key_file_without_scopes_loads_as_read(tmp_path: Path) -> None:
    """Key files written before scopes existed keep working, with scope read only."""
    path = tmp_path / "api_keys.json"
    token = create_key(path, "old")
    data = json.loads(path.read_text())
    for entry in data.values():
        del entry["scopes"]
    path.write_text(json.dumps(data))
    assert KeyVerifier(path).verify(token).scopes == ("read",)
    assert [key.scopes for key in list_keys(path)] == [("read",)]


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[]", b'{"a1": {"name": "x"}}',
                                     b'{"a1": {"name": "x", "sha256": "0", "created_at": "t", "scopes": ["root"]}}'])
def test_broken_key_file_fails_closed_everywhere(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "api_keys.json"
    token = create_key(path, "shop")
    verifier = KeyVerifier(path)
    assert verifier.verify(token) is not None and verifier.problem() is None
    time.sleep(0.01)  # a new mtime even on coarse clocks (the inode changes anyway)
    path.write_bytes(content)
    for call in (lambda: verifier.verify(token), lambda: list_keys(path), lambda: create_key(path, "x")):
        with pytest.raises(ApiKeyError, match=r"api_keys\.json") as err:
            call()
        assert "restore" in str(err.value) and "xff" not in str(err.value)
    assert "api_keys.json" in verifier.problem()
    assert path.read_bytes() == content  # a failed create leaves the broken file as it was


def test_audit_hook_failure_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "api_keys.json"
    seen: list[tuple[str, ApiKey]] = []
    token = create_key(path, "shop", audit=lambda action, key: seen.append((action, key)))
    assert seen[0][0] == "apikey.create" and seen[0][1].key_id == token.split("_")[1]

    def refuse(action: str, key: ApiKey) -> None:
        raise ApiKeyError("audit log unavailable")

    before = path.read_bytes()
    with pytest.raises(ApiKeyError, match="audit log unavailable"):
        create_key(path, "other", audit=refuse)
    with pytest.raises(ApiKeyError, match="audit log unavailable"):
        revoke_key(path, token.split("_")[1], audit=refuse)
    assert path.read_bytes() == before and KeyVerifier(path).verify(token) is not None


def _race(path: Path, ops: list[str]) -> list[str]:
    """Run one process per op, all released at once by a go file once every one is ready; returns their outputs
    (tokens / key ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    go = path.parent.parent / f"go-{time.monotonic_ns()}"
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(path), str(go), op], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for op in ops]
    deadline = time.monotonic() + 60
    while len(list(go.parent.glob(f"{go.name}.ready.*"))) < len(ops) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outs if err][:1]
    return [out.strip() for out, _ in outs]


def _race_once(tmp_path: Path, round_: int) -> None:
    path = tmp_path / f"round{round_}" / "api_keys.json"
    tokens = _race(path, [f"c:shop{i}" for i in range(10)])
    assert len(list_keys(path)) == 10  # issue 14: 10 concurrent creates stored 9
    verifier = KeyVerifier(path)
    assert all(verifier.verify(token) is not None for token in tokens)
    victims = [token.split("_")[1] for token in tokens[:3]]
    outs = _race(path, [f"r:{key_id}" for key_id in victims] + [f"c:new{i}" for i in range(5)])
    assert sorted(outs[:3]) == sorted(victims)
    assert all(verifier.verify(token) is None for token in tokens[:3])  # every revoked key fails
    assert all(verifier.verify(token) is not None for token in [*tokens[3:], *outs[3:]])  # every other key works
    assert len(list_keys(path)) == 15 and not list(path.parent.glob("*.tmp"))


def test_concurrent_creates_and_revokes_lose_nothing(tmp_path: Path) -> None:
    for round_ in range(3):
        _race_once(tmp_path, round_)


@pytest.mark.slow
def test_concurrent_creates_and_revokes_lose_nothing_50_times(tmp_path: Path) -> None:
    for round_ in range(50):
        _race_once(tmp_path, round_)
