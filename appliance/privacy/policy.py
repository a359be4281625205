"""The effective anonymization policy as an auditor reads it: its settings, a short fingerprint of them, and the
settings in which it is weaker than the shipped default (docs/EGRESS.md "Policy fingerprint").

fingerprint = "pol-" + the first 16 hex digits of SHA-256 over the settings' canonical JSON (keys sorted, no
whitespace, ASCII: the RFC 8785 shape for this data). The egress gateway records both in every audit entry, so
anyone can recompute the fingerprint from the settings an entry carries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from anonymize.layers import CHECK, PRIMARY, LayeredAnonymizer
from anonymize.policy import ENTITY_TYPES, Policy
from anonymize.recognizers.ner import DEFAULT_MODEL
from appliance.config import ApplianceConfig
from appliance.data.home import NotInitialisedError, open_home
from appliance.privacy.anonymizer import catalog_allow_list, config_policy

FINGERPRINT_PREFIX = "pol-"  # tells a policy fingerprint from the old date-like rule versions in existing logs
FINGERPRINT_HEX = 16  # 64 bits: collisions between an appliance's few policies are out of reach, still readable
LIST_DIGEST_HEX = 16  # allow/deny lists are recorded as count + digest, never as terms (staff names may be in them)
# How much of a value each operator lets through: lower is weaker. placeholder, keyed_hash and redact leave nothing
# of the value readable; generalize keeps part of it (a year, a postcode area). Unknown operators rank weakest.
OPERATOR_STRENGTH = {"placeholder": 2, "keyed_hash": 2, "redact": 2, "generalize": 1}
_SHIPPED = Policy()  # the shipped default policy every effective one is compared with
LAYERS = (PRIMARY, CHECK)  # the shipped detection layers (anonymize.layers); fewer is weaker
SINGLE_LAYER = "single"  # a lone anonymize.engine.Anonymizer (tests, older callers): one layer, weaker


@dataclass(frozen=True)
class PolicyReport:
    fingerprint: str  # "pol-" + 16 hex digits, or the anonymizer's own label when it cannot describe itself
    settings: str  # canonical JSON of the settings the fingerprint covers ("" when unknown)
    weakened: tuple[str, ...] = ()  # one readable line per setting weaker than the shipped default
    note: str = ""  # why the fingerprint may differ from the one egress records (no catalog allow-list read)

    def summary(self) -> str:
        """One line: the fingerprint, whether the policy is weakened, and the note if any."""
        strength = f"WEAKENED: {'; '.join(self.weakened)}" if self.weakened else "shipped strength or stronger"
        return f"{self.fingerprint} ({strength})" + (f" [{self.note}]" if self.note else "")


def policy_settings(policy: Policy, *, use_ner: bool, ner_model: str, allow_list: Iterable[str],
                    deny_list: Iterable[str], detector: str | None = None,
                    layers: Sequence[str] = LAYERS) -> dict[str, Any]:
    """Every setting that changes what is found or how it is replaced; lists as (count, digest) of their terms,
    normalised as the engine normalises them (stripped, de-duplicated, sorted). `layers` are the detection layers
    that run (anonymize.layers); `ner_model` is the check layer's spaCy model and `detector` the primary layer's
    learned detector version (None: read from anonymize.detector), both recorded only while NER runs."""
    if detector is None:
        detector = detector_version() if use_ner and PRIMARY in layers else ""
    return {
        "layers": sorted(layers), "detector": detector if use_ner else "",
        "rules": policy.version,  # anonymize.policy.POLICY_VERSION: what the rule-based recognizers find
        "operator": policy.operator, "operators": dict(sorted(policy.operators)),
        "threshold": policy.threshold, "thresholds": dict(sorted(policy.thresholds)),
        "entities": sorted(policy.entities),
        "use_ner": use_ner, "ner_model": _model_version(ner_model) if use_ner else "",
        "allow_list": _list_digest(allow_list), "deny_list": _list_digest(deny_list),
    }


def policy_fingerprint(settings: dict[str, Any]) -> str:
    return FINGERPRINT_PREFIX + hashlib.sha256(_canonical(settings).encode("ascii")).hexdigest()[:FINGERPRINT_HEX]


def weakened_settings(policy: Policy, *, use_ner: bool, layers: Sequence[str] = LAYERS) -> tuple[str, ...]:
    """The settings in which `policy` is weaker than the shipped default, each as one readable line."""
    out = [] if use_ner else ["anonymize.use_ner is false"]
    if sorted(layers) != sorted(LAYERS):
        out.append(f"only the {'/'.join(layers)} detection layer runs (shipped: {' and '.join(LAYERS)}, "
                   "anonymize.layers)")
    if policy.threshold > _SHIPPED.threshold:
        out.append(f"anonymize.score_threshold raised ({_SHIPPED.threshold:g} -> {policy.threshold:g})")
    for entity, value in sorted(policy.thresholds):
        if value > _SHIPPED.threshold_for(entity):
            out.append(f"threshold of {entity} raised ({_SHIPPED.threshold_for(entity):g} -> {value:g})")
    removed = [e for e in _SHIPPED.entities if e not in policy.entities]
    if removed:
        out.append(f"anonymize.entities leaves out {', '.join(removed)}")
    weaker = [e for e in ENTITY_TYPES if _strength(policy.operator_for(e)) < _strength(_SHIPPED.operator_for(e))]
    if weaker and _strength(policy.operator) < _strength(_SHIPPED.operator):
        out.append(f"anonymize.policy {policy.operator} keeps part of each value (shipped: {_SHIPPED.operator})")
    elif weaker:
        out.append(f"a weaker operator for {', '.join(weaker)}")
    return tuple(out)


def describe_policy(policy: Policy, *, use_ner: bool, ner_model: str, allow_list: Iterable[str],
                    deny_list: Iterable[str], detector: str | None = None,
                    layers: Sequence[str] = LAYERS) -> PolicyReport:
    settings = policy_settings(policy, use_ner=use_ner, ner_model=ner_model, allow_list=allow_list,
                               deny_list=deny_list, detector=detector, layers=layers)
    return PolicyReport(policy_fingerprint(settings), _canonical(settings),
                        weakened_settings(policy, use_ner=use_ner, layers=layers))


def describe_anonymizer(anonymizer: Any) -> PolicyReport:
    """The report of a built `anonymize.layers.LayeredAnonymizer` or `anonymize.engine.Anonymizer` (what actually
    runs; a lone Anonymizer is one layer, which is weaker). Another object (a test fake, the stand-in for an
    anonymizer that failed to build) is reported by its `policy_version` label, unweakened: it is either
    code-injected or refuses every request anyway."""
    policy = getattr(anonymizer, "policy", None)
    if not isinstance(policy, Policy) or not hasattr(anonymizer, "allow_list"):
        return PolicyReport(str(getattr(anonymizer, "policy_version", "") or "unknown"), "")
    if isinstance(anonymizer, LayeredAnonymizer):
        layers, spacy = tuple(anonymizer.layers), anonymizer.check
        use_ner = any(_runs_ner(a) for a in anonymizer.layers.values())
    else:
        layers, spacy, use_ner = (SINGLE_LAYER,), anonymizer, _runs_ner(anonymizer)
    ner_model = getattr(getattr(spacy, "ner", None), "model", DEFAULT_MODEL)
    return describe_policy(policy, use_ner=use_ner, ner_model=ner_model, allow_list=anonymizer.allow_list,
                           deny_list=getattr(anonymizer, "deny_list", ()), layers=layers)


def _runs_ner(anonymizer: Any) -> bool:
    return getattr(anonymizer, "ner", None) is not None


def current_policy(cfg: ApplianceConfig) -> PolicyReport:
    """The policy egress would run under with `cfg`: the [anonymize] settings plus, once `tanaban init` has run,
    the store's catalog allow-list (computed without building the detectors or loading spaCy)."""
    catalog: tuple[str, ...] = ()
    note = ""
    try:
        home = open_home(cfg)
    except NotInitialisedError:
        note = "no store yet, so no catalog allow-list: run `tanaban init`"
    else:
        try:
            catalog = catalog_allow_list(home.engine) if cfg.anonymize.catalog_allow_list else ()
        except SQLAlchemyError as exc:
            note = f"catalog allow-list not read ({type(exc).__name__}): check store.url"
        finally:
            home.engine.dispose()
    anon = cfg.anonymize
    report = describe_policy(config_policy(anon), use_ner=anon.use_ner, ner_model=DEFAULT_MODEL,
                             allow_list=(*anon.allow_list, *catalog), deny_list=anon.deny_list)
    return dataclasses.replace(report, note=note)


def detector_version() -> str:
    """The primary layer's learned detector version (anonymize.detector), without loading the model when that
    module can avoid it; "not-installed" when the module is absent, the error class when it cannot say."""
    try:
        from anonymize.detector import detector_version as version  # lazy: optional until the detector ships
    except ImportError:
        return "not-installed"
    try:
        return str(version())
    except Exception as exc:  # a missing or tampered model file: the fingerprint records that it could not say
        return f"unavailable ({type(exc).__name__})"


def _model_version(model: str) -> str:
    """`model==version` of an installed spaCy model package, read from its metadata (spaCy is not imported)."""
    try:
        return f"{model}=={importlib.metadata.version(model)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{model}==not-installed"


def _list_digest(terms: Iterable[str]) -> dict[str, Any]:
    unique = sorted({t.strip() for t in terms if t.strip()})
    digest = hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()[:LIST_DIGEST_HEX]
    return {"count": len(unique), "sha256": digest}


def _strength(operator: str) -> int:
    return OPERATOR_STRENGTH.get(operator, 0)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
