"""Canonical JSON (the RFC 8785 subset the audit log uses), time format and the hash-chain formula."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.privacy.audit.chain import (
    GENESIS_PREV_HASH,
    AuditVerificationError,
    CanonicalJSONError,
    canonical_json,
    format_time,
    hash_entry,
    verify_chain,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(("value", "expected"), [
    ({"b": 1, "a": [True, None, "x"]}, '{"a":[true,null,"x"],"b":1}'),
    # keys in UTF-16 code-unit order: U+1F600 (D83D DE00) sorts before U+FF01, unlike code-point order
    ({"\uff01": 1, "\r": 2, "\U0001f600": 3, "1": 4, "\u20ac": 5},
     '{"\\r":2,"1":4,"\u20ac":5,"\U0001f600":3,"\uff01":1}'),
    ("\u0000\u001f\"\\/\u007f\u00e9\u2028", '"\\u0000\\u001f\\"\\\\/\u007f\u00e9\u2028"'),
    ("\b\t\n\f\r", '"\\b\\t\\n\\f\\r"'),
    (-(2**53) + 1, "-9007199254740991"),
    ([], "[]"),
    ({}, "{}"),
])
def test_canonical_json_follows_rfc8785_for_the_subset(value: object, expected: str) -> None:
    assert canonical_json(value) == expected.encode("utf-8")


@pytest.mark.parametrize("value", [1.0, float("nan"), 2**53, {1: "int key"}, "\ud800", object(), b"bytes"])
def test_values_outside_the_subset_are_refused(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


@given(json_values)
def test_canonical_json_is_valid_json_and_a_fixed_point(value: object) -> None:
    encoded = canonical_json(value)
    assert json.loads(encoded) == value
    assert canonical_json(json.loads(encoded)) == encoded


def test_time_format_is_utc_with_microseconds_and_z() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 1, 2, 4, 4, 5, 7, tzinfo=cet)) == "2026-01-02T03:04:05.000007Z"
    assert format_time(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 2))


def test_entry_hash_is_sha256_of_domain_prev_hash_and_body() -> None:
    body = b'{"seq":1}'
    expected = hashlib.sha256(b"tanaban/audit-entry/v1\x00" + bytes(32) + body).digest()
    assert hash_entry(GENESIS_PREV_HASH, body) == expected


def test_verify_chain_accepts_an_empty_log_and_rejects_a_non_object() -> None:
    verify_chain([])
    with pytest.raises(AuditVerificationError, match="schema"):
        verify_chain([{"seq": 1}])
