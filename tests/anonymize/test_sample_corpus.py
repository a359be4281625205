"""The anonymizer on the retail sample generator's reviews (appliance.demo.sample, written independently of the
anonymizer): every planted value of the types the second pass fixed is masked and gone from the output, no brand
decoy is masked, and the rule-only types raise nothing on the reviews that hold no personal data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anonymize.engine import Anonymizer
from appliance.demo.sample import generate_sample

FIXED_TYPES = ("EMAIL_ADDRESS", "ORDER_NUMBER", "PERSON", "POSTCODE", "STREET_ADDRESS")
RULE_ONLY_TYPES = ("EMAIL_ADDRESS", "ORDER_NUMBER", "POSTCODE", "STREET_ADDRESS")  # no NER label maps to these


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module", params=[0, 1])
def sample(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[list, dict, list]:
    directory = tmp_path_factory.mktemp(f"sample{request.param}")
    generate_sample(directory, seed=request.param, n_items=200, n_users=150)
    reviews = [r["text"] for r in _read_jsonl(directory / "reviews.jsonl")]
    labels = {lab["line"]: lab for lab in _read_jsonl(directory / "pii_labels.jsonl")}
    brands = sorted({item["brand"] for item in _read_jsonl(directory / "items.jsonl") if item.get("brand")})
    return reviews, labels, brands


@pytest.fixture(scope="module")
def results(sample: tuple[list, dict, list]) -> list:
    reviews, _labels, brands = sample
    # the check layer (spaCy NER + the rules written against this generator); the catalog's brands allowed, as the
    # appliance does. The learned primary layer is measured on independent sets, not on this one.
    return Anonymizer(ner_backend="spacy", allow_list=brands).anonymize_batch(reviews)


def test_sample_has_the_cases(sample: tuple[list, dict, list]) -> None:
    _reviews, labels, _brands = sample
    planted = {e["entity_type"] for lab in labels.values() for e in lab["entities"]}
    assert set(FIXED_TYPES) <= planted  # otherwise the next test proves nothing


def test_no_planted_value_is_left(sample: tuple[list, dict, list], results: list) -> None:
    _reviews, labels, _brands = sample
    left = []
    for line, label in labels.items():
        result = results[line - 1]
        for entity in label["entities"]:
            if entity["entity_type"] not in FIXED_TYPES:
                continue
            covered = any(f.start < entity["end"] and entity["start"] < f.end for f in result.findings)
            still_there = re.search(r"(?<!\w)" + re.escape(entity["text"]) + r"(?!\w)", result.text)
            if not covered or still_there:
                left.append((entity["entity_type"], entity["text"]))
    assert left == []


def test_no_decoy_brand_is_masked(sample: tuple[list, dict, list], results: list) -> None:
    _reviews, labels, _brands = sample
    decoys = [(line, d) for line, label in labels.items() for d in label["decoys"]]
    assert decoys
    masked = [d["text"] for line, d in decoys
              if any(f.start < d["end"] and d["start"] < f.end for f in results[line - 1].findings)]
    assert masked == []


def test_rule_only_types_quiet_on_reviews_without_personal_data(sample: tuple[list, dict, list],
                                                               results: list) -> None:
    reviews, labels, _brands = sample
    found = [(reviews[i][f.start:f.end], f.entity_type) for i, result in enumerate(results) if i + 1 not in labels
             for f in result.findings if f.entity_type in RULE_ONLY_TYPES]
    assert found == []
