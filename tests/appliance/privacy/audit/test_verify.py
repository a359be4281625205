"""Verification finds edited, deleted, inserted, reordered and truncated entries and forged checkpoints, in the live
database and in exports; an export verifies with nothing but the public key, in a fresh interpreter; and any
single-byte change to an exported JSONL log fails (hypothesis)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import cryptography
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import (
    AuditEvent,
    AuditLog,
    AuditVerificationError,
    SigningRefusedError,
    merkle_tree_hash,
    verify_export,
)
from appliance.privacy.audit.chain import canonical_json, entry_body, hash_entry
from appliance.privacy.audit.checkpoints import sign_checkpoint
from appliance.privacy.audit.export import read_checkpoints, write_csv, write_jsonl
from appliance.privacy.audit.merkle import hash_leaf

ROOT = Path(__file__).resolve().parents[4]
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _key(seed: bytes = b"\x07" * 32) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(public_key_id(private.public_key()), private)


KEY, OTHER = _key(), _key(b"\x08" * 32)
PAYLOADS = ["hello <PERSON_1>", 'quote " backslash \\ tab\t', "ctrl \x01\x1f nul \x00", "é ü 漢字 😀", "",
            "line\nbreak", "<EMAIL_ADDRESS_1> wrote", "plain"]


def _fill(log: AuditLog, n: int = 7) -> None:
    for i in range(n):
        event = AuditEvent("egress.request", "ok", destination={"host": "llm.example", "port": 443},
                           categories={"PERSON": i}, purpose="intent-extraction", payload=PAYLOADS[i % len(PAYLOADS)],
                           actor="alice", origin={"host": "h", "pid": "1", "command": "tanaban"})
        log.append_at_time(event, T0 + timedelta(seconds=i))


@pytest.fixture
def log(tmp_path: Path):
    with AuditLog.open(tmp_path / "audit.db", KEY, cfg=AuditConfig(checkpoint_every=3)) as opened:
        _fill(opened)
        yield opened


def _export(log: AuditLog, out: Path, fmt: str = "jsonl") -> Path:
    pem = public_key_pem(KEY.public).decode()
    if fmt == "jsonl":
        write_jsonl(out, log.entries(), log.checkpoints(), pem, KEY.key_id)
    else:
        write_csv(out, log.entries(), log.checkpoints(), pem)
    return out


def _tamper(path: Path, *sql: str) -> None:
    with sqlite3.connect(path) as raw:
        for name in ("entries_no_update", "entries_no_delete", "entries_next_only", "checkpoints_no_update"):
            raw.execute(f"DROP TRIGGER {name}")
        for statement in sql:
            raw.execute(statement)


def _rehash_from(path: Path, seq: int) -> None:
    """An attacker with write access who edits entry `seq` and recomputes the chain after it."""
    with sqlite3.connect(path) as raw:
        prev = raw.execute("SELECT entry_hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()
        prev = prev[0] if prev else "0" * 64
        for s, body in raw.execute("SELECT seq, body FROM entries WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
            new = hash_entry(bytes.fromhex(prev), body.encode()).hex()
            raw.execute("UPDATE entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, new, s))
            prev = new


def _body(log: AuditLog, at: int, **changes: object) -> str:
    return canonical_json({**entry_body(log.entry(at)), **changes}).decode().replace("'", "''")


def test_an_untouched_log_and_its_exports_verify(log: AuditLog, tmp_path: Path) -> None:
    report = log.verify(allow_unsigned_tail=1)  # checkpoints at 3 and 6: entry 7 is covered by none
    assert (report.entries, report.checkpoints, report.signed_size) == (7, 2, 6)
    for fmt in ("jsonl", "csv"):
        exported = verify_export(_export(log, tmp_path / f"e.{fmt}", fmt), [KEY.public], allow_unsigned_tail=1)
        assert exported == report
        with pytest.raises(AuditVerificationError, match=r"entries 7\.\.7 \(1\) come after") as caught:
            verify_export(tmp_path / f"e.{fmt}", [KEY.public])  # fails closed by default
        assert caught.value.seq == 7


@pytest.mark.parametrize(("sql", "seq", "reason"), [
    (["UPDATE entries SET body = replace(body, 'intent', 'INTENT') WHERE seq = 2"], 2, "entry_hash does not match"),
    (["DELETE FROM entries WHERE seq = 3"], 3, "expected seq 3"),
    (["UPDATE entries SET seq = 100 WHERE seq = 4", "UPDATE entries SET seq = 4 WHERE seq = 5",
      "UPDATE entries SET seq = 5 WHERE seq = 100"], 4, "expected seq 4"),
    (["DELETE FROM entries WHERE seq >= 6"], 6, "truncated"),
    (["UPDATE entries SET prev_hash = entry_hash WHERE seq = 5"], 5, "prev_hash does not link"),
    (["UPDATE checkpoints SET tree_size = 4 WHERE id = 1"], None, "signature does not verify"),
    (["UPDATE checkpoints SET key_id = 'feedfacefeedface'"], None, "not a trusted key"),
])
def test_tampering_the_database_is_found(log: AuditLog, sql: list[str], seq: int | None, reason: str) -> None:
    _tamper(log.path, *sql)
    with pytest.raises(AuditVerificationError, match=reason) as caught:
        log.verify()
    assert caught.value.seq == seq


def test_an_edit_with_a_recomputed_chain_is_caught_by_the_checkpoint(log: AuditLog) -> None:
    _tamper(log.path, f"UPDATE entries SET body = '{_body(log, 5, purpose='marketing')}' WHERE seq = 5")
    _rehash_from(log.path, 5)
    with pytest.raises(AuditVerificationError, match=r"entries 4\.\.6 were changed") as caught:
        log.verify()
    assert caught.value.seq == 4


def test_an_inserted_entry_with_a_recomputed_chain_is_caught(log: AuditLog) -> None:
    bodies = [_body(log, s, seq=s + 1 if s >= 2 else s) for s in range(1, 8)]
    inserted = _body(log, 2, outcome="forged")
    _tamper(log.path, "DELETE FROM entries", *(f"INSERT INTO entries VALUES ({i}, '{b}', '', '')" for i, b in
                                               enumerate([bodies[0], inserted, *bodies[1:]], start=1)))
    _rehash_from(log.path, 1)
    with pytest.raises(AuditVerificationError, match=r"entries 1\.\.3 were changed") as caught:
        log.verify()
    assert caught.value.seq == 1


def test_a_checkpoint_signed_over_other_data_does_not_match(log: AuditLog) -> None:
    forged = sign_checkpoint(3, b"\x11" * 32, T0, KEY)  # a real signature by the right key, over the wrong root
    _tamper(log.path, f"UPDATE checkpoints SET root_hash = '{forged.root_hash}', signature = '{forged.signature}', "
                      f"time = '{forged.time}' WHERE id = 1")
    with pytest.raises(AuditVerificationError, match="do not match the Merkle root") as caught:
        log.verify()
    assert caught.value.seq == 1


def test_export_needs_the_trusted_key(log: AuditLog, tmp_path: Path) -> None:
    path = _export(log, tmp_path / "e.jsonl")
    with pytest.raises(AuditVerificationError, match="not one of the trusted keys"):
        verify_export(path, [OTHER.public])
    with pytest.raises(AuditVerificationError, match="not a trusted key"):
        log.verify([OTHER.public])


@pytest.mark.parametrize(("change", "reason"), [
    (lambda text: text.replace(",intent-extraction,", ",marketing,", 1), "entry_hash does not match"),
    (lambda text: text.replace("\n", "\n1,", 1), "cells"),
    (lambda text: text.replace(",0,", ",00,", 1), "not an integer"),
])
def test_a_changed_csv_export_fails(log: AuditLog, tmp_path: Path, change, reason: str) -> None:
    path = _export(log, tmp_path / "e.csv", "csv")
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(AuditVerificationError, match=reason):
        verify_export(path, [KEY.public])


def test_a_csv_export_without_its_sidecar_fails_clearly(log: AuditLog, tmp_path: Path) -> None:
    path = _export(log, tmp_path / "e.csv", "csv")
    Path(f"{path}.checkpoints.jsonl").unlink()
    with pytest.raises(AuditVerificationError, match="does not exist"):
        verify_export(path, [KEY.public])


@cache
def _reference_export() -> bytes:
    with tempfile.TemporaryDirectory() as tmp, AuditLog.open(Path(tmp) / "a.db", KEY,
                                                             cfg=AuditConfig(checkpoint_every=3)) as log:
        _fill(log, 8)
        log.checkpoint_at_time(T0)  # no unsigned tail: the untouched export verifies, so each failure is the change's
        path = _export(log, Path(tmp) / "e.jsonl")
        assert verify_export(path, [KEY.public]).entries == 8
        return path.read_bytes()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.data(), value=st.integers(0, 255))
def test_every_single_byte_change_in_a_jsonl_export_fails(tmp_path: Path, position: st.DataObject,
                                                          value: int) -> None:
    data = bytearray(_reference_export())
    index = position.draw(st.integers(0, len(data) - 1), label="position")
    assume(data[index] != value)
    data[index] = value
    path = tmp_path / "mutated.jsonl"
    path.write_bytes(bytes(data))
    with pytest.raises(AuditVerificationError):
        verify_export(path, [KEY.public])


@pytest.mark.slow
def test_every_position_flipped_fails(tmp_path: Path) -> None:
    """Exhaustive companion of the property test: three different values at every byte (about 20 s)."""
    data, path, missed = _reference_export(), tmp_path / "mutated.jsonl", []
    for index in range(len(data)):
        for value in {data[index] ^ 0x01, data[index] ^ 0x20, 0x20 if data[index] != 0x20 else 0x21}:
            path.write_bytes(data[:index] + bytes([value]) + data[index + 1:])
            try:
                verify_export(path, [KEY.public])
                missed.append((index, value))
            except AuditVerificationError:
                pass
    assert missed == []


events = st.builds(
    AuditEvent, action=st.sampled_from(["egress.request", "egress.result", "egress.blocked", "key.rotate"]),
    outcome=st.text(max_size=8), reason=st.text(max_size=20), actor=st.text(max_size=8),
    destination=st.dictionaries(st.sampled_from(["host", "port", "model"]),
                                st.text(max_size=10) | st.integers(0, 65535) | st.none(), max_size=3),
    categories=st.dictionaries(st.sampled_from(["PERSON", "EMAIL_ADDRESS", "IBAN_CODE"]), st.integers(0, 99)),
    record_count=st.integers(0, 10**6), payload=st.none() | st.text(max_size=60),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(events, max_size=6), every=st.integers(1, 4))
def test_append_then_verify_always_passes(tmp_path: Path, batch: list[AuditEvent], every: int) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp, \
            AuditLog.open(Path(tmp) / "a.db", KEY, cfg=AuditConfig(checkpoint_every=every)) as log:
        for event in batch:
            log.append(event)
        log.ensure_checkpoint()  # the tail after the last automatic checkpoint (none with every=1)
        assert log.verify().entries == len(batch)
        assert verify_export(_export(log, Path(tmp) / "e.jsonl"), [KEY.public]).entries == len(batch)


def _standalone_kit(dest: Path) -> Path:
    """Only the modules an auditor needs: appliance/{__init__,config,errors}.py, appliance/data/{__init__,keys}.py,
    appliance/privacy/__init__.py and appliance/privacy/audit/."""
    package = dest / "appliance"
    shutil.copytree(ROOT / "appliance" / "privacy" / "audit", package / "privacy" / "audit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (package / "data").mkdir()
    for name in ("__init__.py", "config.py", "errors.py", "data/__init__.py", "data/keys.py", "privacy/__init__.py"):
        shutil.copy(ROOT / "appliance" / name, package / name)
    return dest


def test_an_export_verifies_in_a_fresh_interpreter_with_only_the_public_key(log: AuditLog, tmp_path: Path) -> None:
    work = tmp_path / "auditor"
    work.mkdir()
    _export(log, work / "audit.jsonl")
    (work / "signing.pub").write_bytes(public_key_pem(KEY.public))
    kit = _standalone_kit(tmp_path / "kit")
    site = str(Path(cryptography.__file__).parents[1])  # -S: no .pth files, so not the editable install
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{kit}{os.pathsep}{site}"}
    run = [sys.executable, "-S", "-m", "appliance.privacy.audit.verify", "audit.jsonl", "--public-key", "signing.pub",
           "--allow-unsigned-tail", "1"]
    ok = subprocess.run(run, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: verified 7 entries and 2 checkpoints"), ok.stderr
    probe = ("import sys, appliance.privacy.audit as a; print(a.__file__); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'typer', 'numpy', 'rich', "
             "'anonymize', 'cli', 'torch'}))")
    loaded = subprocess.run([sys.executable, "-S", "-c", probe], cwd=work, env=env, capture_output=True, text=True,
                            timeout=60, check=True).stdout.split("\n")
    assert loaded[0].startswith(str(kit)) and loaded[1] == "[]"
    lines = (work / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (work / "audit.jsonl").write_text("".join(lines[:3] + lines[4:]), encoding="utf-8")  # entry 3 deleted
    failed = subprocess.run(run, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "FAILED: seq 3: expected seq 3" in failed.stdout


def test_jsonl_lines_are_canonical_and_typed(log: AuditLog, tmp_path: Path) -> None:
    lines = _export(log, tmp_path / "e.jsonl").read_bytes().splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds == ["public_key"] + ["entry"] * 7 + ["checkpoint"] * 2
    assert all(canonical_json(json.loads(line)) == line for line in lines)


def test_pinned_checkpoints_catch_a_cut_export_and_a_resigned_rewrite(log: AuditLog, tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    kept.write_text(json.dumps({"type": "checkpoint", **log.checkpoint_at_time(T0).to_dict()}) + "\n")
    lines = _export(log, tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"  # entries 6..7 and the checkpoints covering them removed: consistent by itself
    cut.write_text("".join([*lines[:6], lines[8]]), encoding="utf-8")
    assert verify_export(cut, [KEY.public], allow_unsigned_tail=2).entries == 5
    with pytest.raises(AuditVerificationError, match="truncated") as caught:
        verify_export(cut, [KEY.public], pinned=read_checkpoints(kept))
    assert caught.value.seq == 6
    _tamper(log.path, f"UPDATE entries SET body = '{_body(log, 2, purpose='marketing')}' WHERE seq = 2",
            "DROP TRIGGER checkpoints_no_delete", "DELETE FROM checkpoints")
    _rehash_from(log.path, 2)
    with AuditLog.open(log.path, KEY) as appliance, pytest.raises(SigningRefusedError, match="witness file"):
        appliance.checkpoint_at_time(T0)  # the appliance itself refuses to sign the rewritten history
    with AuditLog.open(log.path, KEY) as attacker:  # the key holder signs it by hand
        leaves = [hash_leaf(canonical_json(entry_body(e))) for e in attacker.entries()]
        resigned = sign_checkpoint(7, merkle_tree_hash(leaves), T0, KEY)
        rewritten = tmp_path / "rewritten.jsonl"
        write_jsonl(rewritten, attacker.entries(), [resigned], public_key_pem(KEY.public).decode(), KEY.key_id)
    assert verify_export(rewritten, [KEY.public]).entries == 7
    with pytest.raises(AuditVerificationError, match="do not match the Merkle root"):
        verify_export(rewritten, [KEY.public], pinned=read_checkpoints(kept))


def test_read_checkpoints_needs_checkpoint_lines(tmp_path: Path) -> None:
    path = tmp_path / "kept.txt"
    path.write_text('{"type": "entry"}\n\n', encoding="utf-8")
    with pytest.raises(AuditVerificationError, match="no checkpoint lines"):
        read_checkpoints(path)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(AuditVerificationError, match="not JSON"):
        read_checkpoints(path)
