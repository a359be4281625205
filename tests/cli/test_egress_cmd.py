"""`tanaban egress status|test` through CliRunner against the loopback LLM stand-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from appliance.data.home import Home
from appliance.data.store import User
from appliance.demo.llm_standin import LLMStandin
from appliance.privacy.audit import AuditLog
from cli.main import app

SECRET = "sk-inline-secret-never-shown"
TEXT = "Please write to jane.doe@example.com about order status"


@pytest.fixture
def standin() -> Iterator[LLMStandin]:
    with LLMStandin() as server:
        yield server


def _config(tmp_path: Path, standin: LLMStandin, *, enabled: bool = True, fast: bool = True) -> Path:
    """With `fast`, spaCy NER is off (seconds saved per test), which is weaker than shipped, so it is allowed."""
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
                    + ("[anonymize]\nuse_ner = false\n" if fast else "")
                    + f'[egress]\nenabled = {str(enabled).lower()}\nbase_url = "{standin.base_url}"\nmodel = "tiny"\n'
                    f'allowed_hosts = ["127.0.0.1"]\napi_key_env = ""\napi_key = "{SECRET}"\n'
                    + ("allow_weakened_policy = true\n" if fast else ""), encoding="utf-8")
    return path


def _actions(home: Home) -> list[str]:
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        return [e["action"] for e in log.entries()]


def _run(config: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["--config", str(config), "egress", *args], env=env)


def test_status_shows_the_switch_and_checks_but_no_secret(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    result = _run(_config(tmp_path, standin, enabled=False), "status")
    assert result.exit_code == 0, result.output
    assert "no (kill switch" in result.output and "destination check  ok" in result.output
    assert "egress.api_key (inline)" in result.output and SECRET not in result.output


def test_dry_run_prints_the_anonymized_body_and_sends_nothing(home: Home, tmp_path: Path,
                                                             standin: LLMStandin) -> None:
    result = _run(_config(tmp_path, standin, enabled=False), "test", "--dry-run", "--text", TEXT)
    assert result.exit_code == 0, result.output
    assert "would send" in result.output and "<EMAIL_ADDRESS_1>" in result.output
    assert "jane.doe@example.com" not in result.output and SECRET not in result.output
    assert "a real call would be blocked" in result.output
    assert standin.requests == [] and _actions(home) == ["egress.dryrun"]


def test_send_prints_the_answer(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    result = _run(_config(tmp_path, standin), "test", "--text", TEXT)
    assert result.exit_code == 0, result.output
    (received,) = standin.requests
    assert b"jane.doe@example.com" not in received.body and received.headers["Authorization"] == f"Bearer {SECRET}"
    assert "stand-in answer to 1 message(s)" in result.output and SECRET not in result.output
    assert _actions(home) == ["egress.request", "egress.result"]


def test_kill_switch_is_a_user_error_and_is_logged(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    result = _run(_config(tmp_path, standin, enabled=False), "test", "--text", TEXT)
    assert result.exit_code == 2 and "error: egress refused: kill switch" in result.output
    assert standin.requests == [] and _actions(home) == ["egress.blocked"]


def test_an_anonymizer_that_cannot_be_built_fails_closed(home: Home, tmp_path: Path, standin: LLMStandin,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("spaCy model missing")

    monkeypatch.setattr("appliance.privacy.anonymizer.build_anonymizer", broken)
    result = _run(_config(tmp_path, standin), "test", "--text", TEXT)
    assert result.exit_code == 2 and "anonymizer is unavailable: OSError: spaCy model missing" in result.output
    assert standin.requests == [] and _actions(home) == ["egress.blocked"]


WEAKENED_ENV = {"TANABAN_ANONYMIZE__SCORE_THRESHOLD": "0.99", "TANABAN_ANONYMIZE__USE_NER": "false"}
PHONE_TEXT = "Call Jane Doe on +44 20 7946 0958 about her order"


def test_a_weakened_policy_from_the_environment_is_refused(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    config = _config(tmp_path, standin, fast=False)
    result = _run(config, "test", "--text", PHONE_TEXT, env=WEAKENED_ENV)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "weaker than the shipped default" in result.output and "anonymize.use_ner is false" in result.output
    assert "anonymize.score_threshold raised (0.5 -> 0.99)" in result.output and "Jane" not in result.output
    assert standin.requests == []
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        (entry,) = log.entries()
    assert (entry["action"], entry["outcome"]) == ("egress.blocked", "blocked")
    assert entry["policy_version"].startswith("pol-") and entry["policy_version"] in result.output
    assert "anonymize.score_threshold raised" in entry["origin"]["weakened"]
    status = _run(config, "status", env=WEAKENED_ENV)
    assert f"policy             {entry['policy_version']} (WEAKENED" in status.output
    assert "weakened policy    yes: egress is refused" in status.output


def test_a_weakened_policy_allowed_by_the_config_file_is_sent_and_flagged(home: Home, tmp_path: Path,
                                                                          standin: LLMStandin) -> None:
    config = _config(tmp_path, standin, fast=False)
    config.write_text(config.read_text(encoding="utf-8") + "allow_weakened_policy = true\n", encoding="utf-8")
    result = _run(config, "test", "--text", PHONE_TEXT, env=WEAKENED_ENV)
    assert result.exit_code == 0, result.output
    assert len(standin.requests) == 1 and "weakened policy (flagged in the audit log)" in result.output
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        request, outcome = log.entries()
    assert "allow_weakened_policy" in request["reason"] and request["policy_version"] in result.output
    assert request["origin"]["weakened"] == outcome["origin"]["weakened"]
    assert "anonymize.use_ner is false" in request["origin"]["weakened"]


def test_the_environment_cannot_allow_a_weakened_policy(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    env = {**WEAKENED_ENV, "TANABAN_EGRESS__ALLOW_WEAKENED_POLICY": "true"}
    result = _run(_config(tmp_path, standin, fast=False), "test", "--text", PHONE_TEXT, env=env)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "TANABAN_EGRESS__ALLOW_WEAKENED_POLICY: egress.allow_weakened_policy can be set only in the config file" \
        in result.output
    assert standin.requests == [] and not home.config.audit_path.exists()


def test_customer_ids_are_replaced_in_any_case_and_counted(home: Home, tmp_path: Path, standin: LLMStandin) -> None:
    with home.engine.begin() as conn:  # a stored customer: found in the text without --customer-id
        conn.execute(insert(User), [{"pseudonym": home.store_pseudonym("C036007"), "key_id": "k"}])
    result = _run(_config(tmp_path, standin, enabled=False), "test", "--dry-run", "--customer-id", "X-77",
                  "--text", "x-77 and X-77_a and c036007 asked\x1b[0m")
    assert result.exit_code == 0, result.output
    assert not re.search(r"(?i)x-77|c036007", result.output) and "CUSTOMER_ID: 3" in result.output
    assert result.output.count("ext-") == 3 and "\x1b" not in result.output
