"""The two-layer anonymizer (anonymize.layers) with injected fake detectors: the union of both layers' findings,
which layer caught what, one replacement pass, the residual check by both layers, and failures closing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anonymize.engine import Anonymizer, AnonymizerError
from anonymize.findings import Finding
from anonymize.layers import BOTH, CHECK, PRIMARY, LayeredAnonymizer, LayeredFinding, default_layered, unite
from anonymize.policy import Policy


class FakeRecognizer:
    """A regex that yields one entity type: each layer gets its own, so what each catches is known exactly."""

    def __init__(self, name: str, entity: str, regex: str, score: float = 0.9) -> None:
        self.name, self.entities, self._rx, self._score = name, (entity,), re.compile(regex), score

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        return [Finding(self.entities[0], m.start(), m.end(), self._score, self.name) for m in self._rx.finditer(text)]


class Crashing:
    name, entities = "crashing", ("PERSON",)

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        raise RuntimeError(f"boom on {text}")


def _layered(primary: list[Any], check: list[Any], policy: Policy | None = None) -> LayeredAnonymizer:
    chosen = policy or Policy()
    return LayeredAnonymizer(Anonymizer(chosen, use_ner=False, recognizers=primary),
                             Anonymizer(chosen, use_ner=False, recognizers=check))


EMAIL = FakeRecognizer("fake-email", "EMAIL_ADDRESS", r"\S+@\S+\.\w+")
PRIMARY_NAMES = FakeRecognizer("fake-learned", "PERSON", r"Dvořák|Jane Doe")
CHECK_NAMES = FakeRecognizer("fake-gazetteer", "PERSON", r"Jane|Ravi")
TEXT = "Jane Doe and Ravi wrote to Dvořák at jd@example.com"


def test_the_union_is_replaced_once_and_each_span_names_its_layer() -> None:
    anonymizer = _layered([EMAIL, PRIMARY_NAMES], [EMAIL, CHECK_NAMES])
    (result,) = anonymizer.anonymize_many([TEXT])
    assert result.text == "<PERSON_1> and <PERSON_2> wrote to <PERSON_3> at <EMAIL_ADDRESS_1>"
    layers = {TEXT[f.start:f.end]: f.layer for f in result.findings}
    assert layers == {"Jane Doe": BOTH, "Ravi": CHECK, "Dvořák": PRIMARY, "jd@example.com": BOTH}
    jane = result.findings[0]
    assert jane.recognizer == "fake-learned" and (jane.start, jane.end) == (0, 8)  # the longer span wins
    assert {(layer, f.recognizer, f.end) for layer, f in jane.detections} == {(PRIMARY, "fake-learned", 8),
                                                                             (CHECK, "fake-gazetteer", 4)}


def test_explain_lists_each_layers_detection_without_values() -> None:
    (finding,) = _layered([PRIMARY_NAMES], [CHECK_NAMES]).analyze("Jane Doe")
    shown = finding.explain()
    assert shown["layer"] == BOTH and shown["entity_type"] == "PERSON" and (shown["start"], shown["end"]) == (0, 8)
    assert [(d["layer"], d["recognizer"], d["end"]) for d in shown["detections"]] == [
        (PRIMARY, "fake-learned", 8), (CHECK, "fake-gazetteer", 4)]
    assert "Jane" not in repr(shown)


def test_batch_numbering_restarts_per_text_and_many_shares_it() -> None:
    anonymizer = _layered([PRIMARY_NAMES], [CHECK_NAMES])
    texts = ["Ravi met Jane Doe", "Jane Doe again"]
    assert [r.text for r in anonymizer.anonymize_batch(texts)] == ["<PERSON_1> met <PERSON_2>", "<PERSON_1> again"]
    assert [r.text for r in anonymizer.anonymize_many(texts)] == ["<PERSON_1> met <PERSON_2>", "<PERSON_2> again"]


@pytest.mark.parametrize(("left_out", "caught_by"), [(PRIMARY, CHECK), (CHECK, PRIMARY)])
def test_residual_runs_both_layers(left_out: str, caught_by: str) -> None:
    """Either layer alone finds what the other misses in the final text (a planted leftover)."""
    recognizers = {PRIMARY: [PRIMARY_NAMES], CHECK: [CHECK_NAMES]}
    recognizers[left_out] = []
    anonymizer = _layered(recognizers[PRIMARY], recognizers[CHECK])
    leftover = "<PERSON_1> asked Ravi and Dvořák"
    expected = {PRIMARY: "Dvořák", CHECK: "Ravi"}[caught_by]
    found = anonymizer.residual(leftover)
    assert [(leftover[f.start:f.end], f.layer) for f in found] == [(expected, caught_by)]


def test_residual_ignores_our_own_placeholders() -> None:
    anonymizer = _layered([FakeRecognizer("caps", "PERSON", r"PERSON")], [])
    assert anonymizer.residual("<PERSON_1> said hi") == []


def test_a_crashing_layer_fails_closed() -> None:
    anonymizer = _layered([PRIMARY_NAMES], [Crashing()])
    with pytest.raises(AnonymizerError, match="crashing") as caught:
        anonymizer.anonymize_many([TEXT])
    assert "Jane" not in str(caught.value)


def test_layers_must_share_one_policy() -> None:
    with pytest.raises(ValueError, match="same anonymization policy"):
        LayeredAnonymizer(Anonymizer(Policy(), use_ner=False, recognizers=[]),
                          Anonymizer(Policy(threshold=0.9), use_ner=False, recognizers=[]))


def test_thresholds_apply_per_layer_before_the_union() -> None:
    weak = FakeRecognizer("weak", "PERSON", r"Ravi", score=0.3)  # below the 0.5 threshold: dropped by its layer
    result = _layered([weak], [FakeRecognizer("jane", "PERSON", r"Jane")]).anonymize("Ravi and Jane")
    assert result.text == "Ravi and <PERSON_1>" and [f.layer for f in result.findings] == [CHECK]


def test_unite_is_independent_of_layer_order_except_for_the_tag() -> None:
    p = [Finding("PERSON", 0, 4, 0.9, "a"), Finding("EMAIL_ADDRESS", 10, 20, 0.9, "a")]
    c = [Finding("PERSON", 0, 8, 0.8, "b")]
    forward, backward = unite(p, c), unite(c, p)
    assert [(f.start, f.end, f.entity_type) for f in forward] == [(f.start, f.end, f.entity_type) for f in backward]
    assert [f.layer for f in forward] == [BOTH, PRIMARY] and [f.layer for f in backward] == [BOTH, CHECK]
    assert all(isinstance(f, LayeredFinding) for f in forward)


def test_the_default_pair_is_learned_plus_rules_and_spacy_plus_name_lists() -> None:
    layered = default_layered(allow_list=("Ella Rose",), use_ner=False)
    assert (layered.primary.ner_backend, layered.check.ner_backend) == ("learned", "spacy")
    names = {layer: {type(r).__name__ for r in a.recognizers} for layer, a in layered.layers.items()}
    assert "NameRecognizer" in names[CHECK] and "NameRecognizer" not in names[PRIMARY]
    assert layered.allow_list == layered.check.allow_list == ("Ella Rose",)
    result = layered.anonymize("hi dave, mail dave@example.com")
    assert result.text == "hi <PERSON_1>, mail <EMAIL_ADDRESS_1>"
    assert [f.layer for f in result.findings] == [CHECK, BOTH]
