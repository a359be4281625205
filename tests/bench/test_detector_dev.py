"""bench/detector_dev.py, the development-set scorer used to choose detector builds: its F2, its refusal of the
evaluation sets, and the error analysis's split of false-positive characters (hand-made examples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonymize.findings import Finding
from bench.detector_dev import analyse, f_beta, load


def test_f2_weights_recall() -> None:
    assert f_beta(0.5, 1.0) == pytest.approx(5 * 0.5 / (4 * 0.5 + 1.0))
    assert f_beta(0.9, 0.6) < f_beta(0.6, 0.9)  # the same pair, recall-heavy scores higher
    assert f_beta(None, 0.9) == 0.0 and f_beta(0.9, 0.0) == 0.0


@pytest.mark.parametrize("name", ["handwritten.jsonl", "pii_dev.jsonl"])
def test_evaluation_sets_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match="evaluation set"):
        load(path)


def test_load_reads_records_and_the_allow_list_beside_them(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps({"text": "hi Ann", "spans": []}) + "\n", encoding="utf-8")
    path.with_suffix(".brands.txt").write_text("Acme\n\nNordvik\n", encoding="utf-8")
    assert load(path) == ([{"text": "hi Ann", "spans": []}], ["Acme", "Nordvik"])


def test_analysis_splits_false_positives_and_lists_misses() -> None:
    text = "Guten Tag, Anna Roth kauft Acme Tee in Bonn"
    spans = [{"type": "PERSON", "start": 11, "end": 20, "value": "Anna Roth"},
             {"type": "DECOY", "start": 27, "end": 31, "value": "Acme"},
             {"type": "LOCATION", "start": 39, "end": 43, "value": "Bonn"}]
    findings = [Finding("PERSON", 0, 9, 0.85, "t"),  # "Guten Tag": on nothing labelled
                Finding("PERSON", 11, 26, 0.85, "t"),  # "Anna Roth kauft": overruns a labelled name by 6
                Finding("PERSON", 27, 31, 0.85, "t")]  # "Acme": a decoy
    report = analyse([{"text": text, "spans": spans}], [findings])
    assert "false-positive chars by finding type: PERSON 19" in report  # 9 + 6 + 4
    assert "overrun 6" in report and "decoy 4" in report and "other 9" in report
    assert "PERSON:Guten x1" in report and "PERSON:kauft x1" in report
    assert "missed LOCATION (1): Bonn" in report and "missed PERSON" not in report
    assert "missed spans in context" not in report  # only when asked for
    listed = analyse([{"id": "d-7", "text": text, "spans": spans}], [findings], all_misses=True)
    assert "missed spans in context (1):\n    d-7 LOCATION 'Bonn' | Guten Tag, Anna Roth kauft Acme Tee in [[Bonn]]" \
        in listed


def test_analysis_attributes_false_positives_to_layer_and_recognizer() -> None:
    """For the egress pair, each false positive is charged to the layer(s) and recognizers that produced it, with
    the spans on clean texts and on decoys counted per source; `examples` prints them with context."""
    from anonymize.layers import unite

    clean = {"text": "Muy buen producto", "spans": []}
    labelled = {"text": "Acme store, Anna Roth", "spans": [{"type": "DECOY", "start": 0, "end": 4, "value": "Acme"},
                                                           {"type": "PERSON", "start": 12, "end": 21,
                                                            "value": "Anna Roth"}]}
    first = unite([], [Finding("PERSON", 0, 3, 0.85, "spacy-ner")])  # "Muy": the check layer alone
    second = unite([Finding("LOCATION", 0, 4, 0.9, "learned-ner"), Finding("PERSON", 12, 21, 0.9, "learned-ner")],
                   [Finding("LOCATION", 0, 4, 0.7, "place-gazetteer")])  # "Acme": both layers, on a decoy
    report = analyse([clean, labelled], [first, second], examples=1)
    assert "check:spacy-ner 3/1/0" in report  # 3 characters, 1 span on a clean text, none on a decoy
    assert "both:learned-ner 4/0/1" in report
    assert "false positives of check:spacy-ner:\n    PERSON[other] [[Muy]] buen producto" in report
