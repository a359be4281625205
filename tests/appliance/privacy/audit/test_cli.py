"""`tanaban audit list|show|checkpoint|verify|export` through typer's CliRunner, on an initialised home."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.data.home import Home
from appliance.privacy.audit import AuditEvent
from appliance.privacy.audit.admin import open_audit_log
from cli.main import app

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def logged(home: Home) -> Home:
    """A home whose audit log holds two egress requests and one blocked request."""
    with open_audit_log(home) as log:
        for i, host in enumerate(["llm.a.example", "llm.b.example"]):
            log.append_at_time(AuditEvent("egress.request", "ok", destination={"host": host, "port": 443},
                                          categories={"PERSON": 1}, payload=f"hi <PERSON_1> #{i}"),
                               T0 + timedelta(days=i))
        log.append_at_time(AuditEvent("egress.blocked", "blocked", reason="residual PII"), T0 + timedelta(days=5))
    return home


def _run(cli_runner: CliRunner, config_file: Path, *args: str):
    return cli_runner.invoke(app, ["--config", str(config_file), "audit", *args])


def _actions(home: Home) -> list[str]:
    with open_audit_log(home) as log:
        return [e["action"] for e in log.entries()]


def test_list_filters_and_shows_a_table(logged: Home, cli_runner: CliRunner, config_file: Path) -> None:
    result = _run(cli_runner, config_file, "list", "--action", "egress.request", "--since", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert "1 audit entries" in result.output and "llm.b.example" in result.output
    assert "llm.a.example" not in result.output and "PERSON_1" not in result.output  # no payloads in lists


def test_list_with_a_bad_time_is_a_user_error(logged: Home, cli_runner: CliRunner, config_file: Path) -> None:
    result = _run(cli_runner, config_file, "list", "--since", "yesterday")
    assert result.exit_code == 2 and "error:" in result.output and "ISO 8601" in result.output


def test_list_json_is_machine_readable_with_purpose_policy_and_reason(logged: Home, cli_runner: CliRunner,
                                                                       config_file: Path) -> None:
    result = _run(cli_runner, config_file, "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["seq"] for r in rows] == [1, 2, 3] and all("payload" not in r for r in rows)
    assert rows[2]["reason"] == "residual PII" and {"purpose", "policy_version"} <= set(rows[0])
    table = _run(cli_runner, config_file, "list", "--outcome", "blocked")
    assert "1 audit entries" in table.output and "residual PII" in table.output and "policy" in table.output


@pytest.mark.parametrize(("option", "value", "listed"), [("--action", "egress.reqest", "egress.request, "),
                                                         ("--outcome", "denied", "ok, blocked, error, failed")])
def test_list_with_an_unknown_filter_value_lists_the_valid_ones(logged: Home, cli_runner: CliRunner,
                                                                config_file: Path, option: str, value: str,
                                                                listed: str) -> None:
    result = _run(cli_runner, config_file, "list", option, value)
    assert result.exit_code == 2 and "error:" in result.output and listed in result.output


def test_show_prints_the_payload_and_is_logged_as_a_read(logged: Home, cli_runner: CliRunner,
                                                         config_file: Path) -> None:
    result = _run(cli_runner, config_file, "show", "2")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["payload"] == "hi <PERSON_1> #1"
    assert _actions(logged)[-1] == "log.read" and "log.export" not in _actions(logged)


def test_show_decodes_a_json_payload_and_raw_keeps_the_stored_text(home: Home, cli_runner: CliRunner,
                                                                   config_file: Path) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi <PERSON_1> \"quoted\""}]},
                      ensure_ascii=False, separators=(",", ":"))
    with open_audit_log(home) as log:
        log.append(AuditEvent("egress.request", "ok", destination={"host": "llm.example"}, payload=body))
    shown = _run(cli_runner, config_file, "show", "1")
    assert json.loads(shown.output)["payload"]["messages"][0]["content"] == 'hi <PERSON_1> "quoted"'
    assert '{\\"model' not in shown.output and '    "messages"' in shown.output  # indented, not escaped JSON in JSON
    raw = _run(cli_runner, config_file, "show", "1", "--raw")
    assert json.loads(raw.output)["payload"] == body and '{\\"model' in raw.output
    missing = _run(cli_runner, config_file, "show", "99")
    assert missing.exit_code == 2 and "no audit entry 99" in missing.output


def test_checkpoint_signs_the_whole_log(logged: Home, cli_runner: CliRunner, config_file: Path) -> None:
    result = _run(cli_runner, config_file, "checkpoint")
    assert result.exit_code == 0 and "tree size 3" in result.output
    line = json.loads(result.output.splitlines()[-1])
    assert line["type"] == "checkpoint" and line["key_id"] == logged.signing_key.key_id


def test_verify_the_live_log_is_logged(logged: Home, cli_runner: CliRunner, config_file: Path) -> None:
    result = _run(cli_runner, config_file, "verify")
    assert result.exit_code == 0 and "OK: verified 3 entries" in result.output
    assert _actions(logged)[-1] == "log.verify"


def test_verify_reports_the_first_bad_entry(logged: Home, cli_runner: CliRunner, config_file: Path,
                                            audit_sql) -> None:
    audit_sql(logged.config, "UPDATE entries SET body = replace(body, 'llm.b', 'llm.c') WHERE seq = 2")
    result = _run(cli_runner, config_file, "verify")
    assert result.exit_code == 2 and "error: seq 2: entry_hash does not match" in result.output
    # the failure cannot be logged: appending would sign a checkpoint over the tampered log, which is refused
    assert _actions(logged)[-1] == "egress.blocked"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_verify_with_only_the_public_key(logged: Home, cli_runner: CliRunner, config_file: Path,
                                                     tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"audit.{fmt}"
    exported = _run(cli_runner, config_file, "export", "--format", fmt, "--out", str(out))
    assert exported.exit_code == 0 and "exported 4 entries" in exported.output  # the export logs itself first
    public = logged.config.keys_dir / "signing.pub"
    result = cli_runner.invoke(app, ["audit", "verify", "--export", str(out), "--public-key", str(public)])
    assert result.exit_code == 0 and "OK: verified 4 entries" in result.output, result.output
    again = _run(cli_runner, config_file, "export", "--format", fmt, "--out", str(out))
    assert again.exit_code == 2 and "refusing to overwrite" in again.output


def test_verify_an_export_against_a_kept_checkpoint(logged: Home, cli_runner: CliRunner, config_file: Path,
                                                    tmp_path: Path) -> None:
    kept = tmp_path / "kept.txt"
    kept.write_text(_run(cli_runner, config_file, "checkpoint").output, encoding="utf-8")  # as an auditor saves it
    out = tmp_path / "audit.jsonl"
    assert _run(cli_runner, config_file, "export", "--out", str(out)).exit_code == 0
    args = ["audit", "verify", "--export", str(out), "--public-key", str(logged.config.keys_dir / "signing.pub"),
            "--checkpoint", str(kept)]
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0 and "OK: verified 4 entries and" in result.output, result.output


def test_export_rejects_an_unknown_format(logged: Home, cli_runner: CliRunner, config_file: Path,
                                          tmp_path: Path) -> None:
    result = _run(cli_runner, config_file, "export", "--format", "xml", "--out", str(tmp_path / "a.xml"))
    assert result.exit_code == 2 and "unknown export format" in result.output
    assert "log.export" not in _actions(logged)


def test_verify_an_export_needs_a_public_key(cli_runner: CliRunner, tmp_path: Path) -> None:
    result = cli_runner.invoke(app, ["audit", "verify", "--export", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2 and "--public-key" in result.output
