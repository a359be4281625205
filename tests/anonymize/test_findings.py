"""Overlap resolution is deterministic: longest span, then highest score, then specific types before generic."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from anonymize.findings import Finding, resolve_overlaps


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
