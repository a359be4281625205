"""Acceptance tamper suite (issue 13): every class of tampering by someone with write access to audit.db (and, for
the export, to the exported file) is detected live (AuditLog.verify, with the witness file) and offline (the export
alone, or pinned to the witness file where the table says so), each with its message; and the appliance refuses to
sign a checkpoint over a tampered log. The table is docs/AUDITORS.md, "What each kind of tampering looks like"."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from appliance.config import AuditConfig
from appliance.data.home import Home
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import AuditEvent, AuditLog, AuditVerificationError, SigningRefusedError, verify_export
from appliance.privacy.audit.admin import open_audit_log
from appliance.privacy.audit.chain import canonical_json, hash_entry
from appliance.privacy.audit.export import read_checkpoints, write_jsonl
from appliance.privacy.audit.witness import default_witness_path
from cli.main import app

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_PRIVATE = Ed25519PrivateKey.from_private_bytes(b"\x0d" * 32)
KEY = SigningKey(public_key_id(_PRIVATE.public_key()), _PRIVATE)
TRIGGERS = ("entries_no_update", "entries_no_delete", "entries_next_only", "checkpoints_no_update",
            "checkpoints_no_delete", "checkpoints_next_only")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Seven egress entries, each followed by its automatic checkpoint (the default checkpoint_every = 1)."""
    path = tmp_path / "audit.db"
    with AuditLog.open(path, KEY, cfg=AuditConfig()) as log:
        for i in range(7):
            log.append_at_time(AuditEvent("egress.request", "ok", destination={"host": "llm.example", "port": 443},
                                          categories={"PERSON": 1}, purpose="intent-extraction",
                                          payload=f"<PERSON_1> asked about tents #{i}"), T0 + timedelta(seconds=i))
    return path


def _sql(path: Path, *statements: str) -> None:
    """What write access to audit.db allows: drop the append-only triggers, then anything."""
    with sqlite3.connect(path) as raw:
        for name in TRIGGERS:
            raw.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in statements:
            raw.execute(statement)


def _forge_body(body: str) -> str:
    """A payload placeholder replaced by a real name, with payload_sha256/size made to match (self-consistent)."""
    entry = json.loads(body)
    entry["payload"] = entry["payload"].replace("<PERSON_1>", "Jane Doe")
    data = entry["payload"].encode()
    entry["payload_sha256"], entry["payload_size"] = hashlib.sha256(data).hexdigest(), len(data)
    return canonical_json(entry).decode()


def _rewrite(path: Path, seq: int = 3) -> None:
    """Forge entry `seq` and recompute the chain from it with the documented formula (needs no key)."""
    with sqlite3.connect(path) as raw:
        for name in TRIGGERS:
            raw.execute(f"DROP TRIGGER IF EXISTS {name}")
        body = raw.execute("SELECT body FROM entries WHERE seq = ?", (seq,)).fetchone()[0]
        raw.execute("UPDATE entries SET body = ? WHERE seq = ?", (_forge_body(body), seq))
        prev = raw.execute("SELECT entry_hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()[0]
        for s, text in raw.execute("SELECT seq, body FROM entries WHERE seq >= ? ORDER BY seq", (seq,)).fetchall():
            new = hash_entry(bytes.fromhex(prev), text.encode()).hex()
            raw.execute("UPDATE entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, new, s))
            prev = new


def _swap_seq(path: Path, a: int, b: int) -> None:
    _sql(path, f"UPDATE entries SET seq = 100 WHERE seq = {a}", f"UPDATE entries SET seq = {a} WHERE seq = {b}",
         f"UPDATE entries SET seq = {b} WHERE seq = 100")


def _insert(path: Path) -> None:
    """A forged entry inserted after entry 2, the rest renumbered, the chain recomputed."""
    with sqlite3.connect(path) as raw:
        bodies = [json.loads(b) for (b,) in raw.execute("SELECT body FROM entries ORDER BY seq")]
    forged = {**bodies[1], "outcome": "forged"}
    rows = [*bodies[:2], forged, *bodies[2:]]
    _sql(path, "DELETE FROM entries")
    prev = "0" * 64
    for seq, entry in enumerate(rows, start=1):
        body = canonical_json({**entry, "seq": seq}).decode()
        new = hash_entry(bytes.fromhex(prev), body.encode()).hex()
        _sql(path, f"INSERT INTO entries VALUES ({seq}, '{body}', '{prev}', '{new}')")
        prev = new


# class -> (tamper audit.db, live seq, live message, offline needs the witness pinned, offline seq, offline message)
TAMPER: dict[str, tuple[Callable[[Path], None], int | None, str, bool, int | None, str]] = {
    "edit": (lambda p: _sql(p, "UPDATE entries SET body = replace(body, 'tents', 'tints') WHERE seq = 3"),
             3, "entry_hash does not match", False, 3, "entry_hash does not match"),
    "delete": (lambda p: _sql(p, "DELETE FROM entries WHERE seq = 3"), 3, "expected seq 3 here, found 4", False, 3,
               "expected seq 3 here, found 4"),
    "insert": (_insert, 3, r"entries 3\.\.3 were changed after signing", False, 3,
               r"entries 3\.\.3 were changed after signing"),
    "reorder": (lambda p: _swap_seq(p, 4, 5), 4, "expected seq 4 here, found 5", False, 4,
                "expected seq 4 here, found 5"),
    "truncate": (lambda p: _sql(p, "DELETE FROM entries WHERE seq >= 6"), 6, r"entries 6\.\.7 are missing", False,
                 6, r"entries 6\.\.7 are missing"),
    "truncate + its checkpoints removed": (
        lambda p: _sql(p, "DELETE FROM entries WHERE seq >= 6", "DELETE FROM checkpoints WHERE tree_size >= 6"),
        6, r"entries 6\.\.7 are missing", True, 6, r"entries 6\.\.7 are missing"),
    "forged checkpoint": (lambda p: _sql(p, f"UPDATE checkpoints SET root_hash = '{'1' * 64}' WHERE id = 7"),
                          None, "signature does not verify", False, None, "signature does not verify"),
    "removed checkpoint": (lambda p: _sql(p, "DELETE FROM checkpoints WHERE id = 7"), None,
                           "is in the witness file .* but not in audit.db", False, 7,
                           r"entries 7\.\.7 \(1\) come after the latest signed checkpoint"),
    "rewrite + delete all checkpoints": (lambda p: (_rewrite(p), _sql(p, "DELETE FROM checkpoints")), 3,
                                         r"entries 3\.\.3 were changed after signing", False, 1,
                                         "no signed checkpoint covers any of the 7 entries"),
    "rewrite, checkpoints kept": (_rewrite, 3, r"entries 3\.\.3 were changed after signing", False, 3,
                                  r"entries 3\.\.3 were changed after signing"),
}


def _export(path: Path, out: Path) -> Path:
    """What someone with the database can export from it (write_jsonl, bypassing `audit export`'s checks)."""
    with AuditLog.open(path, KEY) as log:
        write_jsonl(out, log.entries(), log.checkpoints(), public_key_pem(KEY.public).decode(), KEY.key_id)
    return out


@pytest.mark.parametrize("name", TAMPER)
def test_tampering_is_detected_live_and_offline(db: Path, tmp_path: Path, name: str) -> None:
    tamper, live_seq, live_message, pin, offline_seq, offline_message = TAMPER[name]
    tamper(db)
    with AuditLog.open(db, KEY) as log, pytest.raises(AuditVerificationError, match=live_message) as live:
        log.verify()
    assert live.value.seq == live_seq
    pinned = read_checkpoints(default_witness_path(db)) if pin else []
    with pytest.raises(AuditVerificationError, match=offline_message) as offline:
        verify_export(_export(db, tmp_path / "e.jsonl"), [KEY.public], pinned=pinned)
    assert offline.value.seq == offline_seq


# the classes that change what the next checkpoint would extend: a process that has been running all along refuses
# too (the others it notices only after a restart, and until then signs its own verified copy of the history)
EXTENDED = ("insert", "truncate", "truncate + its checkpoints removed", "rewrite + delete all checkpoints",
            "rewrite, checkpoints kept")


@pytest.mark.parametrize("name", [n for n in TAMPER if n != "forged checkpoint"])
def test_the_next_automatic_checkpoint_refuses_to_sign(db: Path, name: str) -> None:
    """Normal egress after the tampering: a fresh process refuses, and so does one running all along."""
    with AuditLog.open(db, KEY) as running:
        running.append_at_time(AuditEvent("egress.request", "ok"), T0 + timedelta(minutes=1))
        TAMPER[name][0](db)
        with sqlite3.connect(db) as raw:
            before = raw.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        for log in (AuditLog.open(db, KEY), running) if name in EXTENDED else (AuditLog.open(db, KEY),):
            with pytest.raises(SigningRefusedError, match="refusing to sign a checkpoint") as caught:
                log.append_at_time(AuditEvent("egress.request", "ok"), T0 + timedelta(minutes=2))
            assert caught.value.seq == TAMPER[name][1]
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == before  # nothing was appended


def test_a_forged_checkpoint_is_refused_before_signing(db: Path) -> None:
    TAMPER["forged checkpoint"][0](db)
    with AuditLog.open(db, KEY) as log, pytest.raises(SigningRefusedError, match="signature does not verify"):
        log.checkpoint_at_time(T0 + timedelta(minutes=1))


def _rechain(lines: list[str]) -> list[str]:
    """The AUDITORS.md formula with hashlib and json only: entry_hash = SHA-256(domain || prev || C(entry))."""
    prev, out = bytes(32), []
    for line in lines:
        entry = {k: v for k, v in json.loads(line).items() if k not in ("type", "prev_hash", "entry_hash")}
        body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(b"tanaban/audit-entry/v1\x00" + prev + body).digest()
        out.append(json.dumps({"type": "entry", **entry, "prev_hash": prev.hex(), "entry_hash": digest.hex()},
                              sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        prev = digest
    return out


def test_a_forged_export_without_checkpoints_fails(db: Path, tmp_path: Path) -> None:
    lines = _export(db, tmp_path / "good.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [line for line in lines if json.loads(line)["type"] == "entry"]
    entries[2] = json.dumps({"type": "entry", **json.loads(_forge_body(entries[2]))}, sort_keys=True,
                            separators=(",", ":"), ensure_ascii=False)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join([lines[0], *_rechain(entries)]) + "\n", encoding="utf-8")
    for tail in (0, 100):  # no accepted unsigned tail makes an export without checkpoints pass
        with pytest.raises(AuditVerificationError, match="no signed checkpoint covers any of the 7") as caught:
            verify_export(forged, [KEY.public], allow_unsigned_tail=tail)
        assert caught.value.seq == 1
    with pytest.raises(AuditVerificationError, match=r"entries 3\.\.3 were changed after signing"):
        verify_export(forged, [KEY.public], pinned=read_checkpoints(default_witness_path(db)))


def test_an_unsigned_tail_fails_unless_accepted(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "a.db", KEY, cfg=AuditConfig(checkpoint_every=0)) as log:
        log.append_at_time(AuditEvent("egress.request", "ok"), T0)
        with pytest.raises(AuditVerificationError, match="no signed checkpoint covers any of the 1 entries"):
            log.verify(allow_unsigned_tail=5)  # zero checkpoints on a non-empty log always fails
        log.checkpoint_at_time(T0)
        for i in range(3):
            log.append_at_time(AuditEvent("egress.request", "ok"), T0 + timedelta(seconds=i))
        with pytest.raises(AuditVerificationError, match=r"entries 2\.\.4 \(3\) come after") as caught:
            log.verify(allow_unsigned_tail=2)
        assert caught.value.seq == 2 and log.verify(allow_unsigned_tail=3).signed_size == 1


def test_a_deleted_witness_file_fails_and_is_refused(db: Path) -> None:
    default_witness_path(db).unlink()
    with AuditLog.open(db, KEY) as log:
        with pytest.raises(AuditVerificationError, match=r"witness file .* is missing"):
            log.verify()
        with pytest.raises(SigningRefusedError, match=r"witness file .* is missing"):
            log.checkpoint_at_time(T0)


def test_every_checkpoint_is_witnessed_outside_the_database(db: Path) -> None:
    with AuditLog.open(db, KEY) as log:
        assert read_checkpoints(default_witness_path(db)) == log.checkpoints()
        assert [c.tree_size for c in log.checkpoints()] == [1, 2, 3, 4, 5, 6, 7]
        assert log.verify().signed_size == 7


@pytest.mark.sqlite_only(reason="rewrites the SQLite audit file; a PostgreSQL rewrite: test_backends.py")
def test_the_cli_verify_and_export_refuse_a_rewritten_log(home: Home, cli_runner: CliRunner, config_file: Path,
                                                         tmp_path: Path) -> None:
    with open_audit_log(home) as log:
        for i in range(4):
            log.append_at_time(AuditEvent("egress.request", "ok", payload=f"<PERSON_1> #{i}"), T0)
    _rewrite(home.config.audit_path)
    _sql(home.config.audit_path, "DELETE FROM checkpoints")
    base = ["--config", str(config_file), "audit"]
    verified = cli_runner.invoke(app, [*base, "verify"])
    assert verified.exit_code == 2 and "seq 3: " in verified.output and "changed after signing" in verified.output
    exported = cli_runner.invoke(app, [*base, "export", "--out", str(tmp_path / "e.jsonl")])
    assert exported.exit_code == 2 and "refusing to sign a checkpoint" in exported.output
    assert not (tmp_path / "e.jsonl").exists()




def test_the_cli_accepts_an_unsigned_tail_only_when_asked(home: Home, cli_runner: CliRunner, config_file: Path) -> None:
    config_file.write_text(config_file.read_text(encoding="utf-8") + "[audit]\ncheckpoint_every = 0\n",
                           encoding="utf-8")
    unsigned = dataclasses.replace(home.config.audit, checkpoint_every=0)  # the home's log, on either backend
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=unsigned) as log:
        log.append_at_time(AuditEvent("egress.request", "ok"), T0)
        log.checkpoint_at_time(T0)
        log.append_at_time(AuditEvent("egress.request", "ok"), T0)
    base = ["--config", str(config_file), "audit", "verify"]
    refused = cli_runner.invoke(app, base)
    assert refused.exit_code == 2 and "seq 2: entries 2..2 (1) come after" in refused.output
    # the refused run logged itself (log.verify, failed): with checkpoint_every = 0 that entry is unsigned too
    accepted = cli_runner.invoke(app, [*base, "--allow-unsigned-tail", "2"])
    assert accepted.exit_code == 0 and "OK: verified 3 entries" in accepted.output, accepted.output
