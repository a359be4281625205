"""`tanaban audit export --since/--until`: a range export starts with a prefix record (the Merkle compact range and
chain link just before the range) from which the offline verifier checks the range against signed roots; a forged
prefix or an edited entry, even with the chain recomputed, fails; what a range cannot prove is said in the OK line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.data.home import Home
from appliance.privacy.audit import AuditEvent, AuditVerificationError, verify_export
from appliance.privacy.audit.admin import AuditRequestError, export_log, open_audit_log
from appliance.privacy.audit.chain import canonical_json, entry_body, hash_entry
from appliance.privacy.audit.export import read_checkpoints
from cli.main import app

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def logged(home: Home) -> Home:
    """Five egress requests, one a day from 2026-03-01, each followed by a signed checkpoint (checkpoint_every 1)."""
    with open_audit_log(home) as log:
        for day in range(5):
            log.append_at_time(AuditEvent("egress.request", "ok", payload=f"hi <PERSON_1> #{day}"),
                               T0 + timedelta(days=day))
    return home


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_bytes(b"".join(canonical_json(line) + b"\n" for line in lines))
    return path


def test_a_range_export_verifies_from_its_prefix_record(logged: Home, tmp_path: Path) -> None:
    out = tmp_path / "march.jsonl"
    summary = export_log(logged, "jsonl", out, since="2026-03-02", until="2026-03-04")
    prefix, key, *rest = _lines(out)
    assert prefix["type"] == "prefix" and (prefix["tree_size"], prefix["end"]) == (1, 3) and key["type"] == "public_key"
    assert [e["seq"] for e in rest if e["type"] == "entry"] == [2, 3] and summary.entries == 2
    assert {c["tree_size"] for c in rest if c["type"] == "checkpoint"} == {1, 2, 3}
    report = verify_export(out, [logged.signing_key.public])
    assert report.entries == 2 and report.signed_size == 3
    assert "RANGE export of entries 2..3" in report.summary() and "link to entry 1" in report.summary()


def test_since_runs_to_the_end_and_until_alone_starts_at_one(logged: Home, tmp_path: Path) -> None:
    tail = export_log(logged, "jsonl", tmp_path / "tail.jsonl", since="2026-03-04")  # 4, 5 and the log.export entry
    assert verify_export(tmp_path / "tail.jsonl", [logged.signing_key.public]).entries == tail.entries == 3
    head = export_log(logged, "jsonl", tmp_path / "head.jsonl", until="2026-03-03")
    report = verify_export(tmp_path / "head.jsonl", [logged.signing_key.public],
                           pinned=read_checkpoints(tmp_path / "tail.jsonl"))  # later pins: counted, not failed
    assert head.entries == 2 and report.unchecked > 0 and "RANGE export of entries 1..2" in report.summary()


def test_an_edit_with_the_chain_recomputed_or_a_forged_prefix_fails(logged: Home, tmp_path: Path) -> None:
    out = tmp_path / "range.jsonl"
    export_log(logged, "jsonl", out, since="2026-03-02", until="2026-03-05")
    lines = _lines(out)
    entries = [line for line in lines if line["type"] == "entry"]
    entries[0]["reason"] = "rewritten"
    prev = lines[0]["entry_hash"]
    for entry in entries:  # recompute the chain from the prefix's link, as an attacker with the formula would
        entry["prev_hash"] = prev
        body = {k: v for k, v in entry_body(entry).items() if k != "type"}
        entry["entry_hash"] = prev = hash_entry(bytes.fromhex(prev), canonical_json(body)).hex()
    with pytest.raises(AuditVerificationError, match=r"entries 2\.\.2 were changed after signing"):
        verify_export(_write(tmp_path / "edited.jsonl", lines), [logged.signing_key.public])
    forged = _lines(out)
    forged[0]["compact_range"] = ["0" * 64]
    with pytest.raises(AuditVerificationError, match="first 1 entries do not match the Merkle root"):
        verify_export(_write(tmp_path / "forged.jsonl", forged), [logged.signing_key.public])
    cut = [line for line in _lines(out) if line.get("seq") != 4]  # an entry removed from the end of the range
    with pytest.raises(AuditVerificationError):
        verify_export(_write(tmp_path / "cut.jsonl", cut), [logged.signing_key.public])


def test_a_prefix_record_must_come_first_and_ranges_need_jsonl(logged: Home, tmp_path: Path) -> None:
    out = tmp_path / "range.jsonl"
    export_log(logged, "jsonl", out, since="2026-03-02")
    prefix, *rest = _lines(out)
    with pytest.raises(AuditVerificationError, match="only be the first line"):
        verify_export(_write(tmp_path / "moved.jsonl", [*rest, prefix]), [logged.signing_key.public])
    with pytest.raises(AuditRequestError, match="JSONL only"):
        export_log(logged, "csv", tmp_path / "range.csv", since="2026-03-02")
    with pytest.raises(AuditRequestError, match="no audit entries in that range"):
        export_log(logged, "jsonl", tmp_path / "empty.jsonl", since="2020-01-01", until="2020-01-02")


def test_the_cli_writes_a_range_export_that_the_cli_verifies(logged: Home, cli_runner: CliRunner, config_file: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "range.jsonl"
    base = ["--config", str(config_file), "audit"]
    made = cli_runner.invoke(app, [*base, "export", "--out", str(out), "--since", "2026-03-03"])
    assert made.exit_code == 0, made.output
    checked = cli_runner.invoke(app, [*base, "verify", "--export", str(out), "--public-key",
                                      str(logged.config.keys_dir / "signing.pub")])
    assert checked.exit_code == 0 and "RANGE export of entries 3..6" in " ".join(checked.output.split())
