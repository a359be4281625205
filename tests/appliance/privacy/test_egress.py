"""The egress gateway against a real loopback OpenAI-compatible stand-in that records what it receives: what
arrives (no planted PII, no raw customer id), audit-before-send, and every fail-closed path sending nothing.

The end-to-end test uses the real anonymizer; the failure cases use a small fake that can crash or leak on demand."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from appliance.config import AnonymizeConfig, EgressConfig
from appliance.data.home import Home
from appliance.demo.llm_standin import LLMStandin, canned_answer
from appliance.privacy.anonymizer import build_anonymizer
from appliance.privacy.audit import AuditLog, AuditWriteError
from appliance.privacy.egress import (
    EgressError,
    EgressGateway,
    EgressPseudonyms,
    is_loopback,
    load_credential,
    resolve_destination,
)
from appliance.privacy.policy import describe_anonymizer

ROOT = Path(__file__).resolve().parents[3]
RAW_ID = "CUST-0042"
PII = ("Jane Doe", "jane.doe@example.com", "+44 20 7946 0958")
TEXT = f"Customer {RAW_ID} (Jane Doe, jane.doe@example.com, +44 20 7946 0958) wants a gift for her sister."
_DETECTORS = (("EMAIL_ADDRESS", re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")),
              ("PHONE_NUMBER", re.compile(r"\+\d[\d ]{8,}\d")),
              ("PERSON", re.compile(r"Jane Doe|Dave")))


@dataclass(frozen=True)
class FakeResult:
    text: str
    findings: list[Finding]


class FakeAnonymizer:
    """The appliance.privacy.anonymizer interface on three regexes: enough to plant PII and see it removed (or not)."""

    policy_version = "fake-1"

    def __init__(self, *, fail: bool = False, leak: bool = False, stubborn: bool = False) -> None:
        self.fail, self.leak, self.stubborn = fail, leak, stubborn  # stubborn: the residual check never clears

    def _find(self, text: str) -> list[Finding]:
        if self.fail:
            raise RuntimeError("detector crashed")
        return sorted(Finding(kind, m.start(), m.end(), 0.9, "fake") for kind, rx in _DETECTORS
                      for m in rx.finditer(text))

    def anonymize_many(self, texts: Sequence[str]) -> list[FakeResult]:
        out = []
        for text in texts:
            findings = self._find(text)
            clean = text
            for f in sorted(findings, key=lambda f: -f.start):
                clean = clean if self.leak else clean[:f.start] + f"<{f.entity_type}_1>" + clean[f.end:]
            out.append(FakeResult(clean, findings))
        return out

    def residual(self, text: str) -> list[Finding]:
        return [Finding("PERSON", 0, 1, 0.9, "fake")] if self.stubborn and text else self._find(text)


@pytest.fixture(scope="module")
def real_anonymizer() -> Anonymizer:
    """The appliance's anonymizer on patterns and name lists (spaCy NER off: loading it costs many seconds on a
    busy 2-core machine, and the planted names are found without it)."""
    return build_anonymizer(AnonymizeConfig(use_ner=False))


@pytest.fixture
def standin() -> Iterator[LLMStandin]:
    with LLMStandin() as server:
        yield server


def _cfg(standin: LLMStandin, **changes: object) -> EgressConfig:
    base = EgressConfig(enabled=True, base_url=standin.base_url, model="tiny-chat", allowed_hosts=("127.0.0.1",),
                        api_key_env="TEST_EGRESS_KEY", timeout_s=5.0)
    return replace(base, **changes)


def _gateway(home: Home, cfg: EgressConfig, anonymizer: Anonymizer | FakeAnonymizer | None = None,
             env: dict[str, str] | None = None) -> EgressGateway:
    log = AuditLog.open(home.config.audit_path, home.signing_key, cfg=replace(home.config.audit, checkpoint_every=0))
    return EgressGateway(cfg, log, anonymizer or FakeAnonymizer(),
                         pseudonyms=EgressPseudonyms(home.pseudonym_key, home.store_pseudonym),
                         env={"TEST_EGRESS_KEY": "sk-test-credential"} if env is None else env)


def _entries(home: Home) -> list[dict]:
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        return list(log.entries())


def _request_rows(home: Home) -> int:
    """egress.request entries committed so far, read over a connection of its own (either backend)."""
    return sum(entry["action"] == "egress.request" for entry in _entries(home))


def _chat(gateway: EgressGateway, **kwargs: object):
    messages = [{"role": "system", "content": "You extract shopping intents."}, {"role": "user", "content": TEXT}]
    return gateway.chat(messages, purpose="intent-extraction", customer_ids=[RAW_ID], **kwargs)


def test_what_arrives_is_anonymized_and_was_audited_first(home: Home, standin: LLMStandin,
                                                          real_anonymizer: Anonymizer) -> None:
    standin.behaviour.on_request = lambda _req: _request_rows(home)
    store_token = home.store_pseudonym(RAW_ID)
    with _gateway(home, _cfg(standin, allow_weakened_policy=True), real_anonymizer) as gateway:  # use_ner=False
        result = _chat(gateway)
    (received,) = standin.requests
    assert received.note == 1  # the egress.request row was committed before the request arrived
    body = received.body.decode("utf-8")
    assert not [p for p in (*PII, RAW_ID, store_token) if p in body]
    egress_token = EgressPseudonyms(home.pseudonym_key, home.store_pseudonym).token(store_token)
    assert egress_token.startswith("ext-") and egress_token in body
    assert received.headers["Authorization"] == "Bearer sk-test-credential"
    assert result.text == canned_answer(received.json()) and result.status == 200
    request, outcome = _entries(home)
    assert (request["action"], outcome["action"], outcome["outcome"]) == ("egress.request", "egress.result", "ok")
    assert request["payload"] == body and request["payload_sha256"] == hashlib.sha256(received.body).hexdigest()
    assert request["categories"] == {"CUSTOMER_ID": 1, "EMAIL_ADDRESS": 1, "PERSON": 1, "PHONE_NUMBER": 1}
    caught_by = json.loads(request["origin"]["caught_by"])  # both layers ran: each span says which caught it
    assert set(caught_by) <= {"primary", "check", "both"} and request["origin"]["control_chars"] == "0"
    assert sum(n for counts in caught_by.values() for n in counts.values()) == 3  # all but the customer id
    assert request["destination"]["host"] == "127.0.0.1" and request["purpose"] == "intent-extraction"
    assert request["pseudonym_key_id"] == home.pseudonym_key.key_id
    assert request["policy_version"] == describe_anonymizer(real_anonymizer).fingerprint == result.policy
    assert json.loads(request["origin"]["policy"])["rules"] == real_anonymizer.policy.version
    assert outcome["policy_version"] == request["policy_version"]
    assert outcome["response_sha256"] and outcome["response_size"] > 0 and "HTTP 200" in outcome["reason"]
    audit_bytes = b"".join(p.read_bytes() for p in home.config.audit_path.parent.glob("audit.db*"))
    assert b"sk-test-credential" not in audit_bytes and b"jane.doe@example.com" not in audit_bytes


def test_dry_run_sends_nothing_and_shows_the_exact_body(home: Home, standin: LLMStandin) -> None:
    with _gateway(home, _cfg(standin, enabled=False)) as gateway:
        preview = _chat(gateway, dry_run=True)
    assert standin.requests == [] and preview.dry_run and not preview.enabled
    assert "Authorization" not in preview.request.headers and preview.request.sends_credential
    assert [e["action"] for e in _entries(home)] == ["egress.dryrun"]
    with _gateway(home, _cfg(standin)) as gateway:
        _chat(gateway)
    assert standin.requests[0].body.decode("utf-8") == preview.request.body


def test_a_weakened_policy_is_refused_unless_the_config_allows_it(home: Home, standin: LLMStandin,
                                                                   real_anonymizer: Anonymizer) -> None:
    report = describe_anonymizer(real_anonymizer)  # use_ner=False: weaker than the shipped default
    with _gateway(home, _cfg(standin), real_anonymizer) as gateway, \
            pytest.raises(EgressError, match=r"weaker than the shipped default \(anonymize.use_ner is false\)"):
        _chat(gateway)
    assert standin.requests == []
    (blocked,) = _entries(home)
    assert (blocked["action"], blocked["policy_version"]) == ("egress.blocked", report.fingerprint)
    assert blocked["origin"]["weakened"] == "anonymize.use_ner is false" and blocked["payload"] is None
    with _gateway(home, _cfg(standin, allow_weakened_policy=True), real_anonymizer) as gateway:
        _chat(gateway)
    request, outcome = _entries(home)[1:]
    assert len(standin.requests) == 1 and "allow_weakened_policy" in request["reason"]
    assert request["origin"]["weakened"] == outcome["origin"]["weakened"] == "anonymize.use_ner is false"


def test_blocked_and_dry_run_entries_carry_the_policy(home: Home, standin: LLMStandin,
                                                      real_anonymizer: Anonymizer) -> None:
    with _gateway(home, _cfg(standin, enabled=False), real_anonymizer) as gateway:
        preview = _chat(gateway, dry_run=True)  # a dry run of a weakened policy works, and says so
        with pytest.raises(EgressError, match="kill switch"):
            _chat(gateway)
    dryrun, blocked = _entries(home)
    fingerprint = describe_anonymizer(real_anonymizer).fingerprint
    assert dryrun["policy_version"] == blocked["policy_version"] == preview.policy == fingerprint
    assert fingerprint.startswith("pol-") and preview.weakened == ("anonymize.use_ner is false",)
    assert "a real call would be refused" in dryrun["reason"] and standin.requests == []


class _BoomError(RuntimeError):
    pass


def _raise(*_args: object, **_kw: object) -> None:
    raise _BoomError("disk on fire")


REFUSALS = {
    "kill switch": ({"enabled": False}, {}, "kill switch"),
    "host not allowed": ({"allowed_hosts": ("llm.example.com",)}, {}, "not in egress.allowed_hosts"),
    "no destination": ({"base_url": ""}, {}, "no destination"),
    "plain http to a remote host": ({"base_url": "http://llm.example.com/v1",
                                     "allowed_hosts": ("llm.example.com",)}, {}, "plain http"),
    "anonymizer raises": ({}, {"anonymizer": FakeAnonymizer(fail=True)}, "anonymizer failed"),
    "residual PII": ({}, {"anonymizer": FakeAnonymizer(stubborn=True)}, "residual personal data"),
    "payload too large": ({"max_payload_bytes": 100}, {}, "exceeds egress.max_payload_bytes"),
    "customer id without a key": ({}, {"no_pseudonyms": True}, "no pseudonym key"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_send_nothing_and_are_logged(home: Home, standin: LLMStandin, case: str) -> None:
    changes, opts, reason = REFUSALS[case]
    gateway = _gateway(home, _cfg(standin, **changes), opts.get("anonymizer"))
    if opts.get("no_pseudonyms"):
        gateway.pseudonyms = None
    with gateway, pytest.raises(EgressError, match=reason):
        _chat(gateway)
    assert standin.requests == []
    (entry,) = _entries(home)
    assert (entry["action"], entry["outcome"]) == ("egress.blocked", "blocked") and reason in entry["reason"]
    assert entry["payload"] is None and not any(p in json.dumps(entry) for p in (*PII, RAW_ID))


@pytest.mark.parametrize("error", [AuditWriteError("disk full"), _BoomError("disk on fire")])
def test_audit_write_failure_sends_nothing(home: Home, standin: LLMStandin, monkeypatch: pytest.MonkeyPatch,
                                           error: Exception) -> None:
    with _gateway(home, _cfg(standin)) as gateway:
        monkeypatch.setattr(gateway.audit, "append", lambda _event: (_ for _ in ()).throw(error))
        with pytest.raises(EgressError, match="audit write failed, nothing sent"):
            _chat(gateway)
    assert standin.requests == [] and _entries(home) == []


def test_a_locked_audit_database_sends_nothing(home: Home, standin: LLMStandin) -> None:
    log = AuditLog.open(home.config.audit_path, home.signing_key, busy_timeout_s=0.05)
    gateway = EgressGateway(_cfg(standin), log, FakeAnonymizer(),
                            pseudonyms=EgressPseudonyms(home.pseudonym_key, home.store_pseudonym), env={})
    locker = sqlite3.connect(home.config.audit_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock: the real append fails
    try:
        with gateway, pytest.raises(EgressError, match="audit write failed"):
            _chat(gateway)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert standin.requests == []


@pytest.mark.parametrize(("behaviour", "match"), [({"status": 500}, "HTTP 500"),
                                                  ({"redirect_to": "http://127.0.0.1:9/v1"}, "HTTP 307")])
def test_error_answers_and_redirects_are_recorded_not_followed(home: Home, standin: LLMStandin,
                                                               behaviour: dict, match: str) -> None:
    standin.behaviour = replace(standin.behaviour, **behaviour)
    with _gateway(home, _cfg(standin)) as gateway, pytest.raises(EgressError, match=match):
        _chat(gateway)
    assert len(standin.requests) == 1  # a redirect is not followed
    assert [(e["action"], e["outcome"]) for e in _entries(home)] == [("egress.request", "ok"),
                                                                     ("egress.result", "error")]


def test_an_unreachable_endpoint_is_recorded_as_an_error(home: Home, standin: LLMStandin) -> None:
    port = standin.port
    standin.stop()
    gateway = _gateway(home, _cfg(standin, base_url=f"http://127.0.0.1:{port}/v1"))
    with gateway, pytest.raises(EgressError, match="failed"):
        _chat(gateway)
    assert [e["action"] for e in _entries(home)] == ["egress.request", "egress.result"]


@pytest.mark.parametrize(("url", "hosts", "ok"), [
    ("https://llm.example.com/v1", ("llm.example.com",), True),
    ("https://LLM.example.com:8443/v1", ("llm.example.com",), True),
    ("https://llm.example.com/v1", ("other.example.com",), False),
    ("http://llm.example.com/v1", ("llm.example.com",), False),
    ("http://[::1]:8000/v1", ("::1",), True),
    ("https://user:pw@llm.example.com/v1", ("llm.example.com",), False),
    ("ftp://llm.example.com/v1", ("llm.example.com",), False),
    ("https://llm.example.com/v1?key=1", ("llm.example.com",), False),
    ("http://[::1/v1", ("::1",), False),
])
def test_destination_checks(url: str, hosts: tuple[str, ...], ok: bool) -> None:
    cfg = EgressConfig(base_url=url, allowed_hosts=hosts, model="m")
    if ok:
        assert resolve_destination(cfg).url == url.rstrip("/") + "/chat/completions"
    else:
        with pytest.raises(EgressError):
            resolve_destination(cfg)


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.8.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


def test_credential_file_must_be_private(tmp_path: Path) -> None:
    key_file = tmp_path / "api.key"
    key_file.write_text("sk-from-file\n", encoding="utf-8")
    key_file.chmod(0o644)
    cfg = EgressConfig(api_key_file=str(key_file))
    with pytest.raises(EgressError, match="chmod 600") as caught:
        load_credential(cfg, {})
    assert "sk-from-file" not in str(caught.value)
    key_file.chmod(0o600)
    assert load_credential(cfg, {"TANABAN_EGRESS_API_KEY": "env"}) == ("sk-from-file", f"file {key_file}")
    assert load_credential(EgressConfig(), {"TANABAN_EGRESS_API_KEY": "env-key"})[0] == "env-key"
    with pytest.raises(EgressError, match="spaces"):
        load_credential(EgressConfig(), {"TANABAN_EGRESS_API_KEY": "a b\r\nX-Evil: 1"})


def test_a_bad_credential_file_blocks_before_anything_is_sent(home: Home, standin: LLMStandin,
                                                             tmp_path: Path) -> None:
    key_file = tmp_path / "api.key"
    key_file.write_text("sk-x", encoding="utf-8")
    key_file.chmod(0o640)
    gateway = _gateway(home, _cfg(standin, api_key_file=str(key_file)))
    with gateway, pytest.raises(EgressError, match="chmod 600"):
        _chat(gateway)
    assert standin.requests == [] and [e["action"] for e in _entries(home)] == ["egress.blocked"]


_KILLED_SCRIPT = """
import sys
from appliance.privacy.audit import AuditLog
from appliance.config import AuditConfig, EgressConfig, load_config
from appliance.privacy.egress import EgressGateway
from appliance.data.home import open_home

class Plain:
    def anonymize_many(self, texts):
        return [type("R", (), {"text": t, "findings": []})() for t in texts]
    def residual(self, text):
        return []

home = open_home(load_config(None, env={"TANABAN_PATHS__DATA_DIR": sys.argv[1], "TANABAN_STORE__URL": sys.argv[3],
                                       "TANABAN_AUDIT__URL": sys.argv[4]}))  # the parent's store and log
cfg = EgressConfig(enabled=True, base_url=sys.argv[2], model="m", allowed_hosts=("127.0.0.1",), timeout_s=60.0)
log = AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit)  # a checkpoint per entry
EgressGateway(cfg, log, Plain(), env={}).chat([{"role": "user", "content": "hello"}], purpose="test")
"""


def test_a_killed_process_leaves_the_request_record_and_a_valid_log(home: Home, standin: LLMStandin) -> None:
    standin.behaviour.delay_s = 30.0
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SCRIPT, str(home.config.data_dir), standin.base_url,
                             home.config.store.url, home.config.audit.url], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not standin.requests and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert standin.requests, proc.stdout.read().decode() if proc.poll() is not None else "no request arrived"
        os.kill(proc.pid, 9)
    finally:
        proc.kill()
        proc.wait()
    entries = _entries(home)
    assert [e["action"] for e in entries] == ["egress.request"]
    assert entries[0]["payload"] == standin.requests[0].body.decode("utf-8")
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        assert log.verify(allow_unsigned_tail=1).entries == 1  # killed before any checkpoint: the tail is unsigned
