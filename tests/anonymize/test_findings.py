"""Overlap resolution is deterministic: longest span, then highest score, then specific types before generic; names,
places and street lines that overlap are merged into one span (no character of theirs is left readable)."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from anonymize.findings import FREE_TEXT_TYPES, Finding, resolve_overlaps


def test_longest_wins() -> None:
    card = Finding("CREDIT_CARD", 10, 29, 0.9, "card")
    phone = Finding("PHONE_NUMBER", 10, 22, 0.95, "phone")
    assert resolve_overlaps([phone, card]) == [card]


def test_equal_length_highest_score_wins_then_specific_type() -> None:
    gift = Finding("GIFT_CARD", 0, 19, 0.96, "gift")
    card = Finding("CREDIT_CARD", 0, 19, 0.9, "card")
    assert resolve_overlaps([card, gift]) == [gift]
    street = Finding("STREET_ADDRESS", 0, 12, 0.6, "street")
    place = Finding("LOCATION", 0, 12, 0.6, "ner")
    assert resolve_overlaps([place, street]) == [street]


def test_overlapping_free_text_spans_merge_into_the_longest_ones_type() -> None:
    # "... gyvenu Gedimino pr. 14-7": one detector's street ran left, another's ran right
    learned = Finding("STREET_ADDRESS", 7, 25, 0.85, "learned-ner")
    rule = Finding("STREET_ADDRESS", 14, 31, 0.8, "street-world")
    assert resolve_overlaps([rule, learned]) == [Finding("STREET_ADDRESS", 7, 31, 0.85, "learned-ner")]
    person = Finding("PERSON", 0, 12, 0.85, "ner")
    place = Finding("LOCATION", 10, 20, 0.7, "places")
    assert resolve_overlaps([place, person]) == [Finding("PERSON", 0, 20, 0.85, "ner")]


def test_a_finding_bridging_two_groups_joins_them() -> None:
    a, b = Finding("PERSON", 0, 10, 0.9, "a"), Finding("LOCATION", 14, 24, 0.9, "b")
    bridge = Finding("STREET_ADDRESS", 8, 16, 0.5, "c")
    assert resolve_overlaps([bridge, a, b]) == [Finding("LOCATION", 0, 24, 0.9, "b")]  # a tie: the fixed type order


def test_structured_values_keep_their_exact_edges() -> None:
    # "4111 1111 1111 1111 ON": the Dutch postcode shape "1111 ON" inside the card's tail widens nothing
    card = Finding("CREDIT_CARD", 10, 29, 1.0, "card")
    postcode = Finding("POSTCODE", 25, 32, 0.6, "postcode")
    assert resolve_overlaps([postcode, card]) == [card]
    street = Finding("STREET_ADDRESS", 0, 20, 0.85, "ner")
    phone = Finding("PHONE_NUMBER", 15, 30, 0.75, "phone")
    assert resolve_overlaps([phone, street]) == [street]


def test_a_place_overlapping_a_ner_models_id_span_joins_it() -> None:
    # "大阪府大阪市北区芝田2丁目8-11": the learned detector typed the address a POSTCODE from "芝田" on, the place rule
    # found "大阪府大阪市北区芝田2丁目": a NER's edges are a prediction, so the place's head stays masked
    learned = Finding("POSTCODE", 8, 22, 0.8, "learned-ner")
    place = Finding("LOCATION", 0, 13, 0.75, "cjk")
    assert resolve_overlaps([place, learned]) == [Finding("POSTCODE", 0, 22, 0.8, "learned-ner")]
    rule = Finding("POSTCODE", 8, 22, 0.8, "postcode")  # a rule's exact edges stay exact
    assert resolve_overlaps([place, rule]) == [rule]


def test_disjoint_findings_all_kept_sorted() -> None:
    a, b = Finding("PERSON", 20, 24, 0.6, "x"), Finding("EMAIL_ADDRESS", 0, 10, 0.9, "y")
    assert resolve_overlaps([a, b]) == [b, a]


_finding = st.builds(lambda s, n, sc, t: Finding(t, s, s + n, sc, "r"), st.integers(0, 40), st.integers(1, 12),
                     st.floats(0, 1), st.sampled_from(["PERSON", "LOCATION", "POSTCODE", "URL"]))


@given(st.lists(_finding, max_size=12), st.randoms())
def test_resolution_is_order_independent_and_non_overlapping(findings: list[Finding], rnd: random.Random) -> None:
    shuffled = findings[:]
    rnd.shuffle(shuffled)
    kept = resolve_overlaps(findings)
    assert kept == resolve_overlaps(shuffled)
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))
    assert all(any(f.overlaps(k) for k in kept) for f in findings)  # nothing dropped without a reason
    free = [f for f in findings if f.entity_type in FREE_TEXT_TYPES]
    covered = {i for k in kept if k.entity_type in FREE_TEXT_TYPES for i in range(k.start, k.end)}
    assert all(i in covered for f in free for i in range(f.start, f.end) if not any(
        f.overlaps(k) and k.entity_type not in FREE_TEXT_TYPES for k in kept))  # names and places: nothing unmasked
