"""Two independent detection layers over one text: defence in depth, so that what one detector misses the other can
still catch (the "independent residual check" of DESIGN.md; the layering of the NIST SP 800-188 de-identification
guidance: a second, differently built control checks the first).

The primary layer is the learned detector plus the structured rules; the check layer is spaCy NER plus the same
structured rules and the name gazetteer, name cues and place lists. Both run on the ORIGINAL text, their findings
are united (`resolve_overlaps`), each kept span is tagged with the layer(s) that found it, and the text is replaced
once. The structured rules of both layers are one set of objects, run once per text (`anonymize.engine.RuleCache`):
they read no NER output, so sharing them leaves each layer's model independent. Presidio-style results throughout
(`Finding`); this module imports nothing from `appliance/`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from anonymize.engine import Anonymizer, AnonymizeResult, RuleCache, continued_state
from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding, resolve_overlaps
from anonymize.operators import OperatorState
from anonymize.policy import Policy
from anonymize.recognizers import Recognizer, check_recognizers, structured_recognizers
from anonymize.split import SplitDetector

PRIMARY, CHECK, BOTH = "primary", "check", "both"  # the values of LayeredFinding.layer
LAYER_BACKENDS = {PRIMARY: "learned", CHECK: "spacy"}  # the NER each layer runs (when NER is on)


@dataclass(frozen=True, order=True)
class LayeredFinding(Finding):
    """A kept span plus which layer found it: "primary", "check" or "both" (the other layer found an overlapping
    span, of any type). `detections` are the raw spans of each layer that overlap it: what `--explain` shows."""

    layer: str = ""
    detections: tuple[tuple[str, Finding], ...] = field(default=(), compare=False)  # (layer, finding)

    def explain(self) -> dict[str, object]:
        """`to_dict()` plus the layer and each layer's own overlapping spans (type, offsets, score, recognizer)."""
        return {**self.to_dict(), "layer": self.layer,
                "detections": [{"layer": name, **f.to_dict()} for name, f in self.detections]}


def unite(primary: Sequence[Finding], check: Sequence[Finding]) -> list[LayeredFinding]:
    """The non-overlapping union of both layers' findings (as `resolve_overlaps` resolves them: the longest wins,
    overlapping names, places and street lines merge), each tagged with the layer(s) whose findings overlap it.
    Sorted by start."""
    tagged = [(PRIMARY, f) for f in primary] + [(CHECK, f) for f in check]
    out = []
    for kept in resolve_overlaps(f for _, f in tagged):
        detections = tuple((name, f) for name, f in tagged if f.overlaps(kept))
        names = {name for name, _ in detections}
        layer = BOTH if len(names) == 2 else next(iter(names))
        out.append(LayeredFinding(kept.entity_type, kept.start, kept.end, kept.score, kept.recognizer,
                                  layer=layer, detections=detections))
    return out


class LayeredAnonymizer:
    """The `anonymize.engine.Anonymizer` interface over two layers: detection runs both (one batched NER pass per
    layer per call), replacement runs once, with the primary layer's policy and operators.

    Both layers must share one policy (the thresholds and entity types an auditor reads in the fingerprint). With
    `split` (anonymize.split), detection of a large batch is shared with a child process holding an equal pair.
    """

    # Each layer's residual check (policy thresholds) is a subset of its `analyze` (Anonymizer.residual_within_analyze)
    # and a child of `split` finds what this process would: a text `analyze` finds nothing in, `residual` finds
    # nothing in either.
    residual_within_analyze = True

    def __init__(self, primary: Anonymizer, check: Anonymizer, split: SplitDetector | None = None) -> None:
        if primary.policy != check.policy:
            raise ValueError("both layers must run under the same anonymization policy")
        self.primary, self.check = primary, check
        self.layers = {PRIMARY: primary, CHECK: check}
        self.policy: Policy = primary.policy
        self.allow_list, self.deny_list = primary.allow_list, primary.deny_list
        # Rule recognizer objects both layers hold (default_layered gives them the same structured rules) run once
        # per text; neither layer's NER model is consulted by them, so the layers stay independent.
        check_rules = {id(r) for r in check.recognizers}
        self._shared = tuple(r for r in primary.recognizers if id(r) in check_rules)
        self.split = split

    # --- detection -------------------------------------------------------------------------------------------
    def analyze(self, text: str) -> list[LayeredFinding]:
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str]) -> list[list[LayeredFinding]]:
        """Both layers on the original texts, united per text."""
        if self.split is not None:
            return self.split.analyze_many(self._analyze_here, texts)
        return self._analyze_here(texts)

    def _analyze_here(self, texts: Sequence[str]) -> list[list[LayeredFinding]]:
        rules = RuleCache(self._shared)
        first = self.primary.analyze_many(texts, rules=rules)
        second = self.check.analyze_many(texts, rules=rules)
        return [unite(p, c) for p, c in zip(first, second, strict=True)]

    def residual(self, text: str, threshold: float | None = None) -> list[LayeredFinding]:
        """What either layer still finds in already-anonymized text (our own placeholders ignored)."""
        return self.residual_many([text], threshold)[0]

    def residual_many(self, texts: Sequence[str], threshold: float | None = None) -> list[list[LayeredFinding]]:
        """`residual` of each text, with one batched NER pass per layer for all of them (the egress step's check of
        a request's messages); the findings, and their order, are those of per-text calls."""
        rules = RuleCache(self._shared)
        first = self.primary.residual_many(texts, threshold, rules=rules)
        second = self.check.residual_many(texts, threshold, rules=rules)
        return [unite(p, c) for p, c in zip(first, second, strict=True)]

    def close(self) -> None:
        """Stop the child detection process, if `split` started one."""
        if self.split is not None:
            self.split.close()

    # --- transformation --------------------------------------------------------------------------------------
    def anonymize(self, text: str) -> AnonymizeResult:
        return self.anonymize_many([text])[0]

    def anonymize_batch(self, texts: Sequence[str]) -> list[AnonymizeResult]:
        """Independent texts: numbering restarts per text."""
        return [AnonymizeResult(self._replace(text, found, OperatorState()), list(found))
                for text, found in zip(texts, self.analyze_many(texts), strict=True)]

    def anonymize_many(self, texts: Sequence[str]) -> list[AnonymizeResult]:
        """The texts of one request: `<PERSON_1>` means the same person in all of them (numbering goes on after
        placeholders already in the texts)."""
        state = continued_state(texts)
        return [AnonymizeResult(self._replace(text, found, state), list(found))
                for text, found in zip(texts, self.analyze_many(texts), strict=True)]

    def _replace(self, text: str, findings: list[LayeredFinding], state: OperatorState) -> str:
        # The engine's own replacement (operators, failure handling), so both layers' spans are replaced exactly
        # as one anonymizer's would be.
        return self.primary._replace(text, list(findings), state)


def default_layered(allow_list: Iterable[str] = (), deny_list: Iterable[str] = (), policy: Policy | None = None,
                    hash_key: bytes | None = None, *, use_ner: bool = True, workers: int = 1) -> LayeredAnonymizer:
    """The standard pair: primary = learned NER + structured rules; check = spaCy en_core_web_sm + structured rules
    + name gazetteer, name cues and place lists. `use_ner=False` drops both NER models (the rules stay).
    `workers=2`: batches of `anonymize.split.MIN_SPLIT` texts or more are detected half here, half in a child
    process (same findings; worth it where two cores are free)."""
    if workers not in (1, 2):
        raise AnonymizeUserError(f"anonymize workers must be 1 or 2, got {workers}")
    allow, deny = tuple(allow_list), tuple(deny_list)
    split = None
    if workers == 2:  # the child detects only: placeholder operators, so no keyed-hash key leaves this process
        detect_only = replace(policy or Policy(), operator="placeholder", operators=())
        split = SplitDetector(functools.partial(default_layered, allow, deny, detect_only, use_ner=use_ner))
    structured = structured_recognizers()  # the same objects in both layers: each rule runs once per text
    rules = {PRIMARY: structured, CHECK: [*structured, *check_recognizers()]}  # = default_recognizers(name)
    layers = [_layer(name, policy or Policy(), allow, deny, hash_key, use_ner, rules[name])
              for name in (PRIMARY, CHECK)]
    return LayeredAnonymizer(*layers, split=split)


def _layer(name: str, policy: Policy, allow: tuple[str, ...], deny: tuple[str, ...], hash_key: bytes | None,
           use_ner: bool, recognizers: Sequence[Recognizer]) -> Anonymizer:
    return Anonymizer(policy, allow_list=allow, deny_list=deny, use_ner=use_ner, ner_backend=LAYER_BACKENDS[name],
                      hash_key=hash_key, recognizers=recognizers)
