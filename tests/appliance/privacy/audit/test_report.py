"""`tanaban audit report`: exact counts per day, outcome and category on a three-day log, an HTML page that opens
offline, CSV and JSON shapes, the verification result first (FAILED on a tampered log), and the read logged."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.data.home import Home
from appliance.privacy.audit import AuditEvent
from appliance.privacy.audit.admin import open_audit_log, report_log
from appliance.privacy.audit.report import ROW_FIELDS
from cli.main import app

DAY1 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 4, tzinfo=UTC)
SECRET = "never-in-a-report"  # stands for payload text: it must not reach CSV, JSON or HTML


def _request(host: str, purpose: str, policy: str, categories: dict[str, int]) -> AuditEvent:
    body = json.dumps({"model": "tiny-chat", "messages": [{"role": "user", "content": f"<PERSON_1> {SECRET}"}]},
                      separators=(",", ":"))  # the gateway's request body
    return AuditEvent("egress.request", "ok", destination={"host": host, "port": 443, "model": "tiny-chat"},
                      purpose=purpose, categories=categories, record_count=2, policy_version=policy, payload=body)


def _result(outcome: str) -> AuditEvent:
    return AuditEvent("egress.result", outcome, reason=f"request: HTTP {200 if outcome == 'ok' else 500}",
                      destination={"host": "llm.a.example", "port": 443}, purpose="intent-extraction")


EVENTS = [  # (day offset, hour offset, event)
    (0, 0, _request("llm.a.example", "intent-extraction", "pol-1", {"PERSON": 2, "EMAIL_ADDRESS": 1})),
    (0, 1, _result("ok")),
    (0, 2, AuditEvent("egress.blocked", "blocked", reason="residual personal data after anonymization: ['PERSON']",
                      destination={"host": "llm.a.example"}, purpose="intent-extraction", categories={"PERSON": 1})),
    (1, 0, _request("llm.a.example", "intent-extraction", "pol-1", {"PERSON": 1})),
    (1, 1, _result("error")),
    (2, 0, _request("llm.b.example", "summaries", "pol-2", {"PHONE_NUMBER": 1})),
    (2, 1, _result("ok")),
    (2, 2, AuditEvent("log.verify", "ok", record_count=7)),
]


@pytest.fixture
def three_days(home: Home) -> Home:
    """Eight entries over 2026-03-01..03, every outcome of the report, then a signed checkpoint."""
    with open_audit_log(home) as log:
        for day, hour, event in EVENTS:
            log.append_at_time(event, DAY1 + timedelta(days=day, hours=hour))
        log.checkpoint_at_time(DAY1 + timedelta(days=2, hours=3))
    return home


def _last(home: Home) -> dict:
    with open_audit_log(home) as log:
        return list(log.entries())[-1]


def test_json_report_counts_exactly(three_days: Home, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    report_log(three_days, "json", out, now=NOW)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert list(doc) == ["verification", "range", "generated", "summary", "rows"]
    assert doc["verification"]["ok"] is True and doc["verification"]["result"].startswith("OK: verified 8 entries")
    summary = doc["summary"]
    assert summary["per_day"] == {"2026-03-01": 3, "2026-03-02": 2, "2026-03-03": 3}
    assert summary["per_outcome"] == {"blocked": 1, "error": 1, "ok": 6}
    assert summary["per_day_outcome"]["2026-03-02"] == {"error": 1, "ok": 1}
    sent_bytes = sum(len(e.payload.encode("utf-8")) for _, _, e in EVENTS if e.payload)
    assert summary["sent"] == {"requests": 3, "records": 6, "bytes": sent_bytes}
    assert summary["sent_per_category"] == {"EMAIL_ADDRESS": 1, "PERSON": 3, "PHONE_NUMBER": 1}  # not the blocked one
    assert summary["sent_per_destination"] == {"llm.a.example:443 (tiny-chat)": 2, "llm.b.example:443 (tiny-chat)": 1}
    assert summary["sent_per_purpose"] == {"intent-extraction": 2, "summaries": 1}
    assert summary["sent_per_policy"] == {"pol-1": 2, "pol-2": 1}
    assert [r["seq"] for r in doc["rows"]] == list(range(1, 9)) and set(doc["rows"][0]) == set(ROW_FIELDS)
    assert SECRET not in out.read_text(encoding="utf-8")


def test_the_range_selects_entries_and_the_read_is_logged(three_days: Home, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    report_log(three_days, "json", out, since="2026-03-02", until="2026-03-03", now=NOW)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["range"] == {"since": "2026-03-02T00:00:00.000000Z", "until": "2026-03-03T00:00:00.000000Z"}
    assert [r["seq"] for r in doc["rows"]] == [4, 5] and doc["summary"]["per_outcome"]["error"] == 1
    read = _last(three_days)
    assert (read["action"], read["outcome"], read["record_count"]) == ("log.read", "ok", 2)
    assert read["destination"] == {"file": str(out.resolve())} and read["reason"] == "report json"


def test_csv_report_has_header_and_one_row_per_entry(three_days: Home, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    report_log(three_days, "csv", out, now=NOW)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# OK: verified 8 entries") and lines[1].startswith("# range: first entry")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[2:]))))
    assert tuple(rows[0]) == ROW_FIELDS and len(rows) == 8
    assert rows[0]["categories"] == "EMAIL_ADDRESS:1 PERSON:2" and rows[0]["policy"] == "pol-1"
    assert rows[2]["outcome"] == "blocked" and rows[2]["reason"].startswith("residual personal data")
    assert SECRET not in out.read_text(encoding="utf-8")


def test_html_report_is_one_offline_page(three_days: Home, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    report_log(three_days, "html", out, now=NOW)
    page = out.read_text(encoding="utf-8")
    body = page.split("<body>", 1)[1].lstrip()
    assert body.startswith('<p class="verify ok">OK: verified 8 entries')
    assert "<svg" in page and "2026-03-01T00:00:00" not in page  # no range given: whole log
    for resource in ("http://", "https://", "<script", "src=", "href=", "@import", "url("):
        assert resource not in page, resource
    assert SECRET not in page and "llm.b.example:443" in page
    assert re.search(r"<td>2026-03-02</td><td class=\"n\">0</td><td class=\"n\">1</td><td class=\"n\">1</td>", page)


def test_a_tampered_log_gets_a_report_that_says_failed(three_days: Home, tmp_path: Path, audit_sql) -> None:
    audit_sql(three_days.config, "UPDATE entries SET body = replace(body, 'pol-2', 'pol-9') WHERE seq = 6")
    out = tmp_path / "r.html"
    report = report_log(three_days, "html", out, now=NOW)
    assert not report.verification.ok and report.verification.line.startswith("FAILED: seq 6")
    assert '<p class="verify failed">FAILED: seq 6' in out.read_text(encoding="utf-8")
    assert _last(three_days)["seq"] == 8  # the log refuses appends it cannot sign; the report is written anyway


def test_a_tampered_log_report_exits_1_from_the_cli(three_days: Home, cli_runner: CliRunner, config_file: Path,
                                                    tmp_path: Path, audit_sql) -> None:
    audit_sql(three_days.config, "UPDATE entries SET body = replace(body, 'pol-1', 'pol-0') WHERE seq = 1")
    out = tmp_path / "r.csv"
    args = ["--config", str(config_file), "audit", "report", "--format", "csv", "--out", str(out)]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 1 and result.output.startswith("FAILED: seq 1")
    assert out.read_text(encoding="utf-8").startswith("# FAILED: seq 1")


def test_report_cli_prints_the_verification_and_refuses_to_overwrite(three_days: Home, cli_runner: CliRunner,
                                                                       config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["--config", str(config_file), "audit", "report", "--since", "2026-03-01", "--out", str(out)]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: verified 8 entries") and "report of 8 entries" in result.output
    again = cli_runner.invoke(app, args)
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    wrong = cli_runner.invoke(app, [*args[:4], "--format", "pdf", "--out", str(tmp_path / "r.pdf")])
    assert wrong.exit_code == 2 and "html, csv, json" in wrong.output
