"""Golden vectors for the audit chain (tests/golden/audit_chain.json): a fixed chain, its hashes, Merkle root and
checkpoint signatures, plus tampered exports that must fail with a given seq and reason (cryptography
test_fernet.py style `json_parametrize`). Regenerate only on a deliberate format change:
    .venv/bin/python tests/appliance/privacy/audit/test_golden.py > tests/golden/audit_chain.json
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import AuditEvent, AuditLog, AuditVerificationError, verify_export
from appliance.privacy.audit.chain import canonical_json, entry_body, hash_entry
from appliance.privacy.audit.checkpoints import checkpoint_from_dict, sign_checkpoint
from appliance.privacy.audit.export import write_jsonl
from appliance.privacy.audit.merkle import hash_leaf, merkle_tree_hash

GOLDEN_PATH = Path(__file__).resolve().parents[3] / "golden" / "audit_chain.json"
SEED, OTHER_SEED = bytes(range(32)), bytes(range(32, 64))
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
PAYLOAD = '{"messages":[{"content":"Summarise <PERSON_1>\'s interests: hiking, café","role":"user"}]}'
EVENTS = [
    {"action": "service.start", "outcome": "ok"},
    {"action": "egress.request", "outcome": "ok", "destination": {"host": "llm.internal.example", "port": 443,
     "model": "qwen2.5-7b-instruct"}, "purpose": "intent-extraction", "categories": {"PERSON": 2, "EMAIL_ADDRESS": 1},
     "record_count": 3, "pseudonym_key_id": "0123456789abcdef", "policy_version": "2026-11-1", "payload": PAYLOAD},
    {"action": "egress.result", "outcome": "ok", "destination": {"host": "llm.internal.example", "port": 443},
     "purpose": "intent-extraction", "response_sha256": "ab" * 32, "response_size": 512},
    {"action": "egress.blocked", "outcome": "blocked", "reason": "residual PII: IBAN_CODE",
     "categories": {"IBAN_CODE": 1}, "purpose": "intent-extraction"},
    {"action": "log.export", "outcome": "ok", "reason": "export jsonl", "record_count": 5},
]
ORIGIN = {"host": "appliance-01", "pid": "4242", "command": "tanaban egress"}


def _key(seed: bytes) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(public_key_id(private.public_key()), private)


def json_parametrize(keys: tuple[str, ...], section: str) -> pytest.MarkDecorator:
    """Parametrize over the vectors of one section of the golden file (cryptography's json_parametrize)."""
    vectors = _load_golden().get(section, [])
    return pytest.mark.parametrize(keys, [tuple(v[k] for k in keys) for v in vectors],
                                   ids=[v["name"] for v in vectors])


# --- building the chain and its tampered variants (also the generator of the golden file) ---------------------


def build_chain() -> list[str]:
    """The export lines of the fixed chain: 5 entries, checkpoints at 2 and 4 (every 2) and 5 (on demand)."""
    key = _key(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        with AuditLog.open(Path(tmp) / "a.db", key, cfg=AuditConfig(checkpoint_every=2)) as log:
            for i, fields in enumerate(EVENTS):
                log.append_at_time(AuditEvent(**fields, actor="auditor-test", origin=ORIGIN),
                                   T0 + timedelta(seconds=i))
            log.checkpoint_at_time(T0 + timedelta(minutes=1))
            out = Path(tmp) / "e.jsonl"
            write_jsonl(out, log.entries(), log.checkpoints(), public_key_pem(key.public).decode(), key.key_id)
        return out.read_text(encoding="utf-8").splitlines()


def _entries(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines[1:6]]


def _line(obj: dict[str, Any]) -> str:
    return canonical_json(obj).decode("utf-8")


def _rechain(entries: list[dict[str, Any]]) -> list[str]:
    """What an attacker without the signing key can do: recompute every prev_hash and entry_hash."""
    prev, out = "0" * 64, []
    for entry in entries:
        body = canonical_json(entry_body({k: v for k, v in entry.items() if k != "type"}))
        entry = {**entry, "prev_hash": prev, "entry_hash": hash_entry(bytes.fromhex(prev), body).hex()}
        prev = entry["entry_hash"]
        out.append(_line(entry))
    return out


def _resign(checkpoint_line: str, key: SigningKey, root: bytes | None = None) -> str:
    cp = checkpoint_from_dict({k: v for k, v in json.loads(checkpoint_line).items() if k != "type"})
    when = datetime.strptime(cp.time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    signed = sign_checkpoint(cp.tree_size, root or bytes.fromhex(cp.root_hash), when, key)
    return _line({"type": "checkpoint", **signed.to_dict()})


def _forged_root(checkpoint_line: str) -> str:
    """One hex digit of the root changed, the signature kept."""
    cp = json.loads(checkpoint_line)
    cp["root_hash"] = ("1" if cp["root_hash"][0] != "1" else "2") + cp["root_hash"][1:]
    return _line(cp)


def _edited(entries: list[dict[str, Any]], at: int, **changes: Any) -> list[dict[str, Any]]:
    return [{**e, **changes} if e["seq"] == at else e for e in entries]


def tampered_variants(lines: list[str]) -> list[tuple[str, list[str], int | None, str]]:
    head, entries, checkpoints = lines[:1], _entries(lines), lines[6:]
    renumbered = [entries[0], entries[1], {**entries[2], "outcome": "forged"},
                  *({**e, "seq": e["seq"] + 1} for e in entries[2:])]
    other = _key(OTHER_SEED)
    return [
        ("edited byte", [*head, *lines[1:3], lines[3].replace("intent-extraction", "intent-extractioN"),
                         *lines[4:]], 3, "entry_hash does not match"),
        ("edited, chain recomputed", [*head, *_rechain(_edited(entries, 3, purpose="marketing")), *checkpoints],
         3, "entries 3..4 were changed after signing"),
        ("deleted entry", [*head, *lines[1:3], *lines[4:]], 3, "expected seq 3 here, found 4"),
        ("inserted entry", [*head, *lines[1:3], *_rechain(renumbered)[2:3], *lines[3:]], 4,
         "expected seq 4 here, found 3"),
        ("inserted, renumbered and rechained", [*head, *_rechain(renumbered), *checkpoints], 3,
         "entries 3..4 were changed after signing"),
        ("reordered", [*head, *lines[1:3], lines[4], lines[3], *lines[5:]], 3, "expected seq 3 here, found 4"),
        ("truncated", [*head, *lines[1:4], *checkpoints], 4, "entries 4..5 are missing (truncated)"),
        ("forged checkpoint", [*lines[:7], _forged_root(lines[7]), *lines[8:]], None, "signature does not verify"),
        ("checkpoint by another key", [*lines[:7], _resign(lines[7], other), *lines[8:]], None,
         "which is not a trusted key"),
        ("checkpoint over another log", [*lines[:7], _resign(lines[7], _key(SEED), b"\x11" * 32), *lines[8:]], 3,
         "do not match the Merkle root"),
        ("public key replaced", [_line({"type": "public_key", "key_id": other.key_id,
                                       "pem": public_key_pem(other.public).decode()}), *lines[1:]], None,
         "not one of the trusted keys"),
    ]


def build_golden() -> dict[str, Any]:
    lines = build_chain()
    entries = _entries(lines)
    leaves = [hash_leaf(canonical_json(entry_body({k: v for k, v in e.items() if k != "type"}))) for e in entries]
    return {
        "description": ("Tanaban audit chain vectors: see tests/appliance/privacy/audit/test_golden.py and "
                        "docs/AUDITORS.md"),
        "signing_key_seed_hex": SEED.hex(),
        "public_key_pem": public_key_pem(_key(SEED).public).decode(),
        "key_id": _key(SEED).key_id,
        "checkpoint_every": 2,
        "export_jsonl": lines,
        "entry_hashes": [e["entry_hash"] for e in entries],
        "leaf_hashes": [leaf.hex() for leaf in leaves],
        "root_hash": merkle_tree_hash(leaves).hex(),
        "checkpoints": [{k: v for k, v in json.loads(line).items() if k != "type"} for line in lines[6:]],
        "tampered": [{"name": n, "lines": v, "seq": s, "reason": r} for n, v, s, r in tampered_variants(lines)],
    }


# --- tests ----------------------------------------------------------------------------------------------------

def _load_golden() -> dict[str, Any]:
    """The golden file ({} while it is being generated for the first time)."""
    return json.loads(GOLDEN_PATH.read_text(encoding="utf-8")) if GOLDEN_PATH.exists() else {}


GOLDEN = _load_golden()


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _public() -> Ed25519PublicKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(GOLDEN["signing_key_seed_hex"])).public_key()


def test_the_code_reproduces_the_golden_chain_byte_for_byte() -> None:
    assert build_golden() == GOLDEN


def test_golden_hashes_follow_the_documented_formulas() -> None:
    """Recomputed with hashlib and the json module only, as an auditor's own script would."""
    prev = bytes(32)
    bodies = []
    for line, expected in zip(GOLDEN["export_jsonl"][1:6], GOLDEN["entry_hashes"], strict=True):
        entry = {k: v for k, v in json.loads(line).items() if k not in ("type", "prev_hash", "entry_hash")}
        body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert hashlib.sha256(b"tanaban/audit-entry/v1\x00" + prev + body).hexdigest() == expected
        prev = bytes.fromhex(expected)
        bodies.append(body)
    assert [hashlib.sha256(b"\x00" + b).hexdigest() for b in bodies] == GOLDEN["leaf_hashes"]
    for cp in GOLDEN["checkpoints"]:
        signed = {k: cp[k] for k in ("key_id", "root_hash", "time", "tree_size")}
        message = b"tanaban/audit-checkpoint/v1\n" + json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
        _public().verify(bytes.fromhex(cp["signature"]), message)  # raises InvalidSignature if not
    assert GOLDEN["checkpoints"][-1]["root_hash"] == GOLDEN["root_hash"]


def test_the_golden_export_verifies(tmp_path: Path) -> None:
    report = verify_export(_write(tmp_path, GOLDEN["export_jsonl"]), [_public()])
    assert (report.entries, report.checkpoints, report.root_hash) == (5, 3, GOLDEN["root_hash"])


@json_parametrize(("lines", "seq", "reason"), "tampered")
def test_tampered_variants_fail_at_the_expected_entry(tmp_path: Path, lines: list[str], seq: int | None,
                                                      reason: str) -> None:
    with pytest.raises(AuditVerificationError) as caught:
        verify_export(_write(tmp_path, lines), [_public()])
    assert (caught.value.seq, reason in caught.value.reason) == (seq, True), caught.value.reason


def _regenerate(write: Callable[[str], object] = sys.stdout.write) -> None:
    write(json.dumps(build_golden(), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    _regenerate()
