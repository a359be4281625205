"""Golden anonymizer outputs per operator (tests/golden/anonymizer.json; cryptography's vector-file pattern)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonymize.engine import Anonymizer
from anonymize.policy import Policy

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "anonymizer.json").read_text("utf-8"))
OPERATORS = sorted({c["operator"] for c in GOLDEN["cases"]})


@pytest.mark.parametrize("operator", OPERATORS)
def test_golden_outputs(operator: str) -> None:
    cases = [c for c in GOLDEN["cases"] if c["operator"] == operator]
    # the check layer's rules (structured rules, name gazetteer, cues, places): the goldens hold without a model
    anonymizer = Anonymizer(Policy(operator=operator), use_ner=False, ner_backend="spacy", hash_key=bytes(range(32)))
    results = anonymizer.anonymize_many([c["text"] for c in cases])
    for case, result in zip(cases, results, strict=True):
        assert result.text == case["anonymized"]
        assert [[f.entity_type, f.start, f.end] for f in result.findings] == case["findings"]
        assert all(case["text"][s:e] not in result.text for _, s, e in case["findings"] if operator != "generalize")
