"""The independent PII evaluation sets (bench/pii_eval/) validate, and the benchmark's scorer (bench/pii_eval.py)
does its caught / precision / decoy / leak arithmetic as its docstring says, on hand-made examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pii_eval import appears_verbatim, caught, markdown, score_set, summarise

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "bench" / "pii_eval"
REQUIRED_TYPES = {"PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
                  "IBAN_CODE", "IP_ADDRESS", "ORDER_NUMBER", "CUSTOMER_ID", "LOYALTY_ID", "GIFT_CARD", "ID_DOCUMENT",
                  "DATE_OF_BIRTH", "DECOY"}


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _span(text: str, kind: str, value: str) -> dict:
    start = text.index(value)
    return {"type": kind, "start": start, "end": start + len(value), "value": value}


# --- the sets -------------------------------------------------------------------------------------------------------

def test_handwritten_set_validates_and_matches_its_sources() -> None:
    checked = _run(EVAL / "check.py", EVAL / "handwritten.jsonl")
    assert checked.returncode == 0 and "clean" in checked.stdout, checked.stdout
    rebuilt = _run(EVAL / "build_handwritten.py", "--check")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr


def test_handwritten_set_has_the_coverage_it_promises() -> None:
    records = _records(EVAL / "handwritten.jsonl")
    no_pii = [r for r in records if not any(s["type"] != "DECOY" for s in r["spans"])]
    decoys = {s["value"] for r in records for s in r["spans"] if s["type"] == "DECOY"}
    brands = (EVAL / "brands.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(records) >= 300
    assert len({r["country"] for r in records}) >= 30
    assert 0.10 <= len(no_pii) / len(records) <= 0.25
    assert {s["type"] for r in records for s in r["spans"]} == REQUIRED_TYPES
    assert sum("\n" in r["text"] for r in records) >= 30
    assert brands and set(brands) <= decoys


def test_handwritten_dev_set_builds_valid_beside_its_brands(tmp_path: Path) -> None:
    out = tmp_path / "handwritten_dev.jsonl"
    built = _run(EVAL / "build_handwritten.py", "--src", EVAL / "dev" / "src", "--out", out)
    assert built.returncode == 0, built.stderr
    checked = _run(EVAL / "check.py", out)
    assert checked.returncode == 0 and "clean" in checked.stdout, checked.stdout
    records = _records(out)
    brands = (tmp_path / "handwritten_dev.brands.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(records) >= 320 and len({r["country"] for r in records}) >= 55
    assert all(r["id"].startswith("hwdev-") for r in records)
    assert {s["type"] for r in records for s in r["spans"]} == REQUIRED_TYPES | {"LICENSE_PLATE"}
    assert brands and set(brands) <= {s["value"] for r in records for s in r["spans"] if s["type"] == "DECOY"}
    assert not {r["text"] for r in records} & {r["text"] for r in _records(EVAL / "handwritten.jsonl")}


def test_second_handwritten_dev_set_builds_valid_and_shares_no_text(tmp_path: Path) -> None:
    """bench/pii_eval/dev2: a second writer's development set, 25% texts without personal data."""
    out = tmp_path / "handwritten_dev2.jsonl"
    built = _run(EVAL / "build_handwritten.py", "--src", EVAL / "dev2" / "src", "--out", out, "--prefix", "hwdev2")
    assert built.returncode == 0, built.stderr
    checked = _run(EVAL / "check.py", out)
    assert checked.returncode == 0 and "clean" in checked.stdout, checked.stdout
    records = _records(out)
    assert len(records) >= 360 and len({r["country"] for r in records}) >= 55
    assert all(r["id"].startswith("hwdev2-") for r in records)
    assert 0.20 <= sum(not any(s["type"] != "DECOY" for s in r["spans"]) for r in records) / len(records) <= 0.30
    first = _run(EVAL / "build_handwritten.py", "--src", EVAL / "dev" / "src", "--out", tmp_path / "dev.jsonl")
    assert first.returncode == 0, first.stderr
    others = {r["text"] for path in (EVAL / "handwritten.jsonl", tmp_path / "dev.jsonl") for r in _records(path)}
    assert not {r["text"] for r in records} & others


def _valid_record() -> dict:
    text = "Call Ann Lee on 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00. Ann Lee paid."
    again = text.rindex("Ann Lee")
    spans = [_span(text, "PERSON", "Ann Lee"), _span(text, "CREDIT_CARD", "4111 1111 1111 1111"),
             _span(text, "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
             {"type": "PERSON", "start": again, "end": again + 7, "value": "Ann Lee"}]
    return {"id": "t-1", "kind": "email", "country": "GB", "text": text, "spans": spans}


def _corrupt(record: dict, how: str) -> dict:
    spans = record["spans"]
    if how == "offset":
        spans[0]["start"] += 1
    elif how == "overlap":
        spans.append({"type": "LOCATION", "start": spans[0]["start"] + 4, "end": spans[0]["end"], "value": "Lee"})
    elif how == "luhn":
        record["text"] = record["text"].replace("1111, IBAN", "1112, IBAN")
        spans[1]["value"] = spans[1]["value"][:-1] + "2"
    elif how == "iban":
        record["text"] = record["text"].replace("DE89", "DE88")
        spans[2]["value"] = spans[2]["value"].replace("DE89", "DE88")
    elif how == "unlabelled repeat":
        del spans[3]
    elif how == "type":
        spans[0]["type"] = "NAME"
    return record


@pytest.mark.parametrize(("how", "message"), [
    ("offset", "text[start:end] != value"), ("overlap", "overlaps"), ("luhn", "Luhn"), ("iban", "mod-97"),
    ("unlabelled repeat", "not labelled"), ("type", "unknown type"),
])
def test_checker_rejects_each_kind_of_fault(tmp_path: Path, how: str, message: str) -> None:
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(json.dumps(_valid_record()) + "\n", encoding="utf-8")
    bad.write_text(json.dumps(_corrupt(_valid_record(), how)) + "\n", encoding="utf-8")
    assert _run(EVAL / "check.py", good).returncode == 0
    done = _run(EVAL / "check.py", bad)
    assert done.returncode == 1 and message in done.stdout, done.stdout


def test_mimesis_set_is_deterministic_valid_and_multilingual(tmp_path: Path) -> None:
    outs = [tmp_path / name for name in ("a.jsonl", "b.jsonl", "c.jsonl")]
    for out, seed in zip(outs, (5, 5, 6), strict=True):
        done = _run(EVAL / "mimesis_set.py", "--seed", seed, "--n", 200, "--out", out)
        assert done.returncode == 0, done.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert outs[0].with_suffix(".brands.txt").read_bytes() == outs[1].with_suffix(".brands.txt").read_bytes()
    assert outs[0].read_bytes() != outs[2].read_bytes()
    assert _run(EVAL / "check.py", outs[0]).returncode == 0
    records = _records(outs[0])
    assert len({r["country"] for r in records}) >= 15
    assert any(s["type"] == "DECOY" for r in records for s in r["spans"])
    assert any(not r["spans"] for r in records)


# --- the scorer -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("length", "covered", "expected"), [
    (100, 80, True), (100, 79, False), (5, 4, True), (5, 3, False), (7, 6, True), (1, 1, True), (1, 0, False),
])
def test_a_span_is_caught_from_80_percent_coverage(length: int, covered: int, expected: bool) -> None:
    mask = [True] * covered + [False] * (length - covered)
    assert caught(0, length, mask) is expected


def test_score_set_counts_recall_precision_decoys_and_leaks() -> None:
    text = "Hi Ann Lee, call 555-0101 re Ella Rose serum."
    gold = [{"text": text, "spans": [_span(text, "PERSON", "Ann Lee"), _span(text, "PHONE_NUMBER", "555-0101"),
                                     _span(text, "DECOY", "Ella Rose")]},
            {"text": "Lovely serum, five stars.", "spans": []}]
    person, decoy = gold[0]["spans"][0], gold[0]["spans"][2]
    # "Ann Le" (6 of 7 characters) and "Ella" (4 characters of the decoy); the clean text gets one 6-char finding.
    predictions = [[(person["start"], person["end"] - 1), (decoy["start"], decoy["start"] + 4)], [(0, 6)]]
    masked = ["Hi <P>e, call 555-0101 re <X> Rose serum.", "<X> serum, five stars."]
    counts = score_set(gold, predictions, masked)
    assert counts["total"] == {"PERSON": 1, "PHONE_NUMBER": 1}
    assert counts["caught"] == {"PERSON": 1, "PHONE_NUMBER": 0}
    rates = summarise(counts)
    assert rates["all_pii_recall"] == 0.5
    assert rates["char_precision"] == 6 / 16  # 6 + 4 + 6 predicted characters, 6 inside PII
    assert rates["span_precision"] == 1 / 3
    assert rates["decoys_masked"] == 1.0
    assert rates["clean_flagged"] == 1.0
    assert (rates["leaks"], rates["leak_share"]) == (1, 0.5)  # the phone number is still there, the name is not


def test_overlapping_predictions_count_each_character_once() -> None:
    text = "Ring Bea Oduya now."
    gold = [{"text": text, "spans": [_span(text, "PERSON", "Bea Oduya")]}]
    start = text.index("Bea")
    counts = score_set(gold, [[(start, start + 6), (start + 3, start + 9)]], None)
    assert counts["caught"] == {"PERSON": 1}
    assert summarise(counts)["char_precision"] == 1.0
    assert "leaks" not in counts


@pytest.mark.parametrize(("value", "text", "expected"), [
    ("Anna", "Thanks to Anna.", True), ("Anna", "Thanks Annabel.", False), ("12345", "order A12345", False),
    ("12345", "code 12345-X", True), ("a@b.io", "mail a@b.io", True), ("Lee", "no name here", False),
])
def test_leaks_are_values_not_glued_to_letters_or_digits(value: str, text: str, expected: bool) -> None:
    assert appears_verbatim(value, text) is expected


def test_the_benchmark_writes_one_table_per_set(tmp_path: Path) -> None:
    md, js = tmp_path / "eval.md", tmp_path / "eval.json"
    done = _run(ROOT / "bench" / "pii_eval.py", "--sets", "handwritten", "--systems", "rules", "--limit", 12,
                "--out", md, "--json", js, "--data", tmp_path)
    assert done.returncode == 0, done.stderr
    table = md.read_text(encoding="utf-8")
    assert table.startswith("### handwritten: 12 texts") and "| **ALL-PII recall** |" in table
    result = json.loads(js.read_text(encoding="utf-8"))["handwritten"]
    assert result["texts"] == 12 and list(result["systems"]) == ["rules"]
    rules = result["systems"]["rules"]
    assert 0 <= rules["all_pii_recall"] <= 1 and rules["texts_per_s"] > 0


def test_the_table_names_the_systems_it_left_out() -> None:
    text = "Hi Ann Lee."
    records = [{"text": text, "spans": [_span(text, "PERSON", "Ann Lee")]}]
    rates = {**summarise(score_set(records, [[(3, 10)]], [text])), "texts_per_s": 10.0}
    table = markdown("tiny", records, {"presidio": rates}, 0, {"ours": "failed: AnonymizerError: no model"})
    assert "| PERSON recall | 1 | 100.0% |" in table
    assert "| leaks (count) | | 1 |" in table and "| speed vs presidio | | 1.00x |" in table
    assert "Not in the table: ours (failed: AnonymizerError: no model)." in table


@pytest.mark.parametrize(("value", "expected"), [
    ("Ella Rose", True), ("ELLA ROSE's", True), ("(Ella Rose)", True), ("Ella Rose’s serum", True),
    ("the Nordvik kettle", True), ("Ella Roses", False), ("Rose", False), ("Nordvikhus", False),
    ("Leeds Trinity branch", False), ("0800 123 456", False),
])
def test_catalog_brand_decoys_are_allow_list_terms_or_hold_one_as_whole_words(value: str, expected: bool) -> None:
    from bench.pii_eval import catalog_matcher

    is_catalog = catalog_matcher(["Ella Rose", " Nordvik ", ""])
    assert is_catalog is not None and is_catalog(value) is expected
    assert catalog_matcher(["", "  "]) is None


def test_catalog_brand_decoys_are_scored_beside_all_decoys() -> None:
    """Of three decoys (a brand, a brand's possessive, a store hotline) the brand and the hotline are masked: all
    decoys 2/3 as before, catalog-brand decoys 1/2; without an allow-list the catalog figure is absent ("-")."""
    text = "Ella Rose and Nordvik's kettle; store line 0800 123 456; Ann Lee"
    spans = [_span(text, "DECOY", "Ella Rose"), _span(text, "DECOY", "Nordvik's"),
             _span(text, "DECOY", "0800 123 456"), _span(text, "PERSON", "Ann Lee")]
    records = [{"text": text, "spans": spans}]
    predictions = [[(0, 4), (spans[2]["start"], spans[2]["end"]), (spans[3]["start"], spans[3]["end"])]]
    counts = score_set(records, predictions, None, ["ella rose", "NORDVIK"])
    assert (counts["catalog_decoys"], counts["catalog_decoys_masked"]) == (2, 1)
    rates = summarise(counts)
    assert rates["decoys_masked"] == 2 / 3 and rates["catalog_decoys_masked"] == 0.5
    plain = summarise(score_set(records, predictions, None))
    assert plain["decoys_masked"] == 2 / 3 and plain["catalog_decoys_masked"] is None
    assert plain["catalog_decoys"] is None
    table = markdown("tiny", records, {"ours": {**rates, "texts_per_s": 1.0}}, 2)
    assert "| decoys masked | | 66.7% |\n| catalog-brand decoys masked | 2 | 50.0% |" in table
    table = markdown("tiny", records, {"ours": {**plain, "texts_per_s": 1.0}}, 0)
    assert "| catalog-brand decoys masked | | - |" in table


def test_the_development_analysis_lists_each_catalog_brand_decoy_still_masked() -> None:
    """bench/detector_dev.py --analyse: every catalog-brand decoy a span still overlaps, with that span's type, text
    and source; decoys outside the allow-list (a hotline) and unmasked brands are not listed."""
    from anonymize.findings import Finding
    from bench.detector_dev import analyse

    text = "Kyotoシリーズ good, Tiffany too; call 0800 123 456"
    spans = [_span(text, "DECOY", "Kyoto"), _span(text, "DECOY", "Tiffany"), _span(text, "DECOY", "0800 123 456")]
    hotline = spans[2]
    findings = [Finding("PERSON", 0, 9, 0.85, "spacy-ner"),
                Finding("PHONE_NUMBER", hotline["start"], hotline["end"], 0.9, "phone")]
    report = analyse([{"id": "d-1", "text": text, "spans": spans}], [findings], brands=["Kyoto", "Tiffany"])
    assert "catalog-brand decoys masked (1):\n    d-1 'Kyoto': PERSON 'Kyotoシリーズ' by spacy-ner" in report
    assert "catalog-brand decoys masked" not in analyse([{"text": text, "spans": spans}], [findings])
