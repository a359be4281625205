"""The synthetic retail sample: determinism, generic-format schema, exact PII labels, and the behavioural
structure (intents, complementary order, co-occurrence) that the models downstream rely on."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from appliance.config import SampleConfig
from appliance.data.ingest import ingest_file
from appliance.data.store import EVENTS
from appliance.demo.sample import (
    FILES,
    START_TS,
    YEAR_S,
    Sample,
    SampleError,
    build_sample,
    generate_sample,
    write_sample,
)
from appliance.demo.sample_vocab import BRANDS, COMPLEMENTS, FIRST_NAMES, INTENTS, PRODUCT_TYPES
from cli.main import app

CFG = replace(SampleConfig(), n_items=500, n_users=700)  # about 10k purchases, 2.5k reviews, 250 with PII
ENTITY_TYPES = {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "POSTCODE", "CREDIT_CARD",
                "ORDER_NUMBER", "IBAN_CODE"}


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample(CFG)


@pytest.fixture(scope="module")
def files(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(sample, out)
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _sequences(sample: Sample) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in sample.customers]
    for user, item, _ts in sample.purchases:
        out[user].append(item)
    return out


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", number)][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


# --- determinism --------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    runs = {name: generate_sample(tmp_path / name, seed=seed, n_items=90, n_users=60)
            for name, seed in (("a", 5), ("b", 5), ("c", 6))}
    assert runs["a"].n_interactions > 0
    for name in FILES:
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), name
        assert first != (tmp_path / "c" / name).read_bytes(), name


# --- schema of every file (the generic ingest format) -------------------------------------------------------


def test_items_follow_the_generic_item_format(files: Path) -> None:
    items = _jsonl(files / "items.jsonl")
    assert len(items) == CFG.n_items and len({i["sku"] for i in items}) == CFG.n_items
    departments = {t.path[0] for t in PRODUCT_TYPES}
    assert 6 <= len(departments) <= 10
    for item in items:
        assert set(item) == {"sku", "title", "brand", "categories", "description", "price", "attributes"}
        assert item["title"].startswith(item["brand"] + " ") and "," in item["title"]
        assert len(item["categories"]) == 3 and item["categories"][0] in departments
        assert isinstance(item["price"], float) and item["price"] >= 0
        assert set(item["attributes"]) == {"colour", "size"}
        assert 1 <= len(re.split(r"(?<=\.) ", item["description"])) <= 3  # 1-3 sentences
    spanning = [name for name, depts in BRANDS if len(depts) > 1]
    assert spanning and len({i["brand"] for i in items} & set(spanning)) > 0


def test_interactions_follow_the_generic_format_and_are_chronological(files: Path) -> None:
    skus = {i["sku"] for i in _jsonl(files / "items.jsonl")}
    with (files / "interactions.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["customer_id", "sku", "timestamp", "event", "rating"]
    last_ts: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for row in rows:
        assert re.fullmatch(r"C\d{6}", row["customer_id"]) and row["sku"] in skus and row["event"] in EVENTS
        ts = int(row["timestamp"])
        assert START_TS <= ts < START_TS + YEAR_S and ts > last_ts.get(row["customer_id"], 0)
        last_ts[row["customer_id"]] = ts
        assert row["rating"] == "" or 1 <= int(row["rating"]) <= 5
        counts[row["customer_id"]] += 1
    assert len(counts) == CFG.n_users
    assert CFG.min_purchases <= min(counts.values()) and max(counts.values()) <= CFG.max_purchases


def test_reviews_follow_the_generic_format(files: Path, sample: Sample) -> None:
    skus = {i["sku"] for i in sample.catalog.items}
    reviews = _jsonl(files / "reviews.jsonl")
    for review in reviews:
        assert set(review) <= {"customer_id", "sku", "timestamp", "rating", "text"}
        assert review["sku"] in skus and isinstance(review["timestamp"], int) and 1 <= review["rating"] <= 5
        assert review.get("customer_id", "C000000") in set(sample.customers) | {"C000000"}
        assert review["text"].strip() and review["text"].count(".") + review["text"].count("!") >= 1
    n, p = len(sample.purchases), CFG.review_rate
    assert abs(len(reviews) - n * p) < 5 * (n * p * (1 - p)) ** 0.5  # binomial: five standard deviations


# --- planted personal data ----------------------------------------------------------------------------------


def test_label_spans_point_exactly_at_the_planted_text(files: Path) -> None:
    reviews = _jsonl(files / "reviews.jsonl")
    labels = _jsonl(files / "pii_labels.jsonl")
    assert labels
    for label in labels:
        review = reviews[label["line"] - 1]
        assert (review["sku"], review.get("customer_id"), review["timestamp"]) == (
            label["sku"], label["customer_id"], label["timestamp"])
        spans = sorted(label["entities"] + label["decoys"], key=lambda s: s["start"])
        assert label["entities"]
        for span in spans:
            assert review["text"][span["start"]:span["end"]] == span["text"] != ""
        assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(spans)), "spans overlap"
        assert {e["entity_type"] for e in label["entities"]} <= ENTITY_TYPES


def test_planted_forms_cover_the_hard_cases(sample: Sample) -> None:
    entities = [e for label in sample.pii_labels for e in label["entities"]]
    assert {e["entity_type"] for e in entities} == ENTITY_TYPES
    people = [e["text"] for e in entities if e["entity_type"] == "PERSON"]
    assert any(p.islower() and " " in p for p in people) and any(p.isupper() for p in people)
    assert any(p.islower() and " " not in p for p in people)  # first name only ("my husband dave")
    phones = [e["text"] for e in entities if e["entity_type"] == "PHONE_NUMBER"]
    assert all(any(p.startswith(prefix) for p in phones) for prefix in ("+44 ", "(555) ", "+49 "))
    streets = [e["text"] for e in entities if e["entity_type"] == "STREET_ADDRESS"]
    assert any(s[0].isdigit() for s in streets) and any(not re.search(r"\d", s) for s in streets)
    cards = [e["text"] for e in entities if e["entity_type"] == "CREDIT_CARD"]
    assert all(" " in c and _luhn_ok(c) for c in cards)
    assert not _luhn_ok("4111 1111 1111 1112")  # the check itself can fail


def test_name_like_brands_are_decoys_never_labels(sample: Sample) -> None:
    name_like = {name for name, _ in BRANDS[:6]}
    decoys = [d["text"] for label in sample.pii_labels for d in label["decoys"]]
    assert set(decoys) & name_like
    labelled = {e["text"] for label in sample.pii_labels for e in label["entities"]}
    assert not labelled & {name for name, _ in BRANDS}


def test_reviews_without_labels_carry_no_planted_data(sample: Sample) -> None:
    labelled = {label["line"] for label in sample.pii_labels}
    names = re.compile(r"\b(" + "|".join(FIRST_NAMES) + r")\b", re.IGNORECASE)
    clean = [r["text"] for line, r in enumerate(sample.reviews, 1) if line not in labelled]
    assert clean
    assert not [t for t in clean if names.search(t) or "@" in t or re.search(r"\d{3}", t)]


# --- behavioural structure ----------------------------------------------------------------------------------


def _intent_share(sample: Sample, intents_of_user: list[tuple[str, ...]]) -> float:
    by_name = {i.name: i for i in INTENTS}
    shares = []
    for user, items in enumerate(_sequences(sample)):
        keys = {k.lstrip("@") for name in intents_of_user[user] for k in by_name[name].types}
        hits = [bool(keys & {PRODUCT_TYPES[t].name, *PRODUCT_TYPES[t].path[:2]})
                for t in sample.catalog.item_type[items]]
        shares.append(np.mean(hits))
    return float(np.mean(shares))


def test_purchases_concentrate_on_the_users_intents(sample: Sample) -> None:
    observed = _intent_share(sample, sample.user_intents)
    rng = np.random.default_rng(1)
    nulls = [_intent_share(sample, [sample.user_intents[i] for i in rng.permutation(len(sample.customers))])
             for _ in range(3)]
    assert observed > 2 * max(nulls), (observed, nulls)


def test_complementary_items_follow_rather_than_precede(sample: Sample) -> None:
    names = [PRODUCT_TYPES[t].name for t in sample.catalog.item_type]

    def pairs(sequences: list[list[int]]) -> int:
        return sum(names[b] in COMPLEMENTS.get(names[a], ()) for seq in sequences
                   for a, b in itertools.pairwise(seq))

    forward = pairs(_sequences(sample))
    backward = pairs([seq[::-1] for seq in _sequences(sample)])
    assert forward > 1.5 * backward, (forward, backward)  # measured about 2x at this size


def test_recent_purchases_say_more_about_the_next_one_than_older_ones(sample: Sample) -> None:
    department = [PRODUCT_TYPES[t].path[0] for t in sample.catalog.item_type]

    def same_department(lag: int) -> np.ndarray:
        return np.array([department[seq[i - lag]] == department[seq[i]]
                         for seq in _sequences(sample) for i in range(5, len(seq))])

    near, far = same_department(1), same_department(5)
    stderr = (near.var() / len(near) + far.var() / len(far)) ** 0.5
    assert near.mean() - far.mean() > 4 * stderr, (near.mean(), far.mean(), stderr)


def test_item_knn_clearly_beats_popularity_on_the_last_purchase(sample: Sample) -> None:
    sequences = [seq for seq in _sequences(sample) if len(set(seq[:-1])) >= 2]
    users = np.repeat(np.arange(len(sequences)), [len(s) - 1 for s in sequences])
    train = sp.csr_matrix((np.ones(len(users)), (users, np.concatenate([s[:-1] for s in sequences]))),
                          shape=(len(sequences), CFG.n_items))
    train.data[:] = 1.0
    test = np.array([s[-1] for s in sequences])
    counts = np.asarray(train.sum(axis=0)).ravel()
    sim = (train.T @ train).toarray() / (np.sqrt(np.outer(counts, counts)) + 10.0)  # shrunk cosine
    np.fill_diagonal(sim, 0.0)

    def recall_at_10(scores: np.ndarray) -> float:
        scores = np.where(train.toarray() > 0, -np.inf, scores)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        return float(np.mean((top == test[:, None]).any(axis=1)))

    popularity = recall_at_10(np.tile(counts, (len(sequences), 1)))
    knn = recall_at_10(np.asarray(train @ sim))
    assert knn > 1.5 * popularity, (knn, popularity)


# --- errors, CLI and the real ingester ----------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"n_items": 10}, {"n_users": 0}, {"min_purchases": 0},
                                    {"complement_rate": 0.9, "repeat_rate": 0.2}])
def test_bad_sizes_raise_sample_error(change: dict) -> None:
    with pytest.raises(SampleError):
        build_sample(replace(CFG, **change))


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    with pytest.raises(SampleError, match="not a directory"):
        generate_sample(tmp_path / "taken", n_items=60, n_users=5)


def test_cli_writes_the_same_files_as_the_library(tmp_path: Path, cli_runner, config_file: Path) -> None:
    result = cli_runner.invoke(app, ["--config", str(config_file), "sample", "generate", str(tmp_path / "cli"),
                                     "--seed", "3", "--items", "80", "--users", "20"])
    assert result.exit_code == 0, result.output
    assert "80 items, 20 customers" in result.output
    generate_sample(tmp_path / "lib", seed=3, n_items=80, n_users=20)
    for name in FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "lib" / name).read_bytes()
    bad = cli_runner.invoke(app, ["--config", str(config_file), "sample", "generate", str(tmp_path / "x"),
                                  "--items", "3"])
    assert bad.exit_code == 2 and "error:" in bad.output and "n_items=3" in bad.output


def test_the_ingester_accepts_every_file(tmp_path: Path, home) -> None:
    report = generate_sample(tmp_path / "s", seed=2, n_items=70, n_users=25)
    added = {kind: ingest_file(home, tmp_path / "s" / name, kind, progress=False).added
             for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv"),
                                ("reviews", "reviews.jsonl"))}
    assert added == {"items": 70, "interactions": report.n_interactions, "reviews": report.n_reviews}
