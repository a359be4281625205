"""Keyed pseudonyms: determinism, purpose separation, key separation, token format, input checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anonymize.pseudonym import PseudonymError, pseudonymize, token_key_id

KEY = bytes(range(32))


def test_golden_value() -> None:
    mac = hmac.new(KEY, b"tanaban/pseudonym/v1\x00store\x00C-1", hashlib.sha256).hexdigest()[:32]
    assert pseudonymize("C-1", key=KEY, key_id="k1", purpose="store") == f"usr-k1-{mac}"


@given(st.text(min_size=1, max_size=50))
def test_deterministic_and_purpose_separated(raw: str) -> None:
    store = pseudonymize(raw, key=KEY, key_id="k1", purpose="store")
    assert store == pseudonymize(raw, key=KEY, key_id="k1", purpose="store")
    egress = pseudonymize(raw, key=KEY, key_id="k1", purpose="egress")
    assert store.split("-")[2] != egress.split("-")[2]
    assert raw not in store.split("-", 2)[2] or len(raw) < 4


def test_different_keys_give_different_tokens() -> None:
    other = bytes(reversed(range(32)))
    assert pseudonymize("C-1", key=KEY, key_id="k", purpose="store") != pseudonymize(
        "C-1", key=other, key_id="k", purpose="store")


def test_token_carries_key_id() -> None:
    assert token_key_id(pseudonymize("x", key=KEY, key_id="abc123", purpose="egress")) == "abc123"


@pytest.mark.parametrize(
    ("raw", "key", "purpose", "message"),
    [
        ("", KEY, "store", "empty"),
        ("a", KEY, "marketing", "unknown pseudonym purpose"),
        ("a", b"short", "store", "at least 32 bytes"),
    ],
)
def test_bad_inputs(raw: str, key: bytes, purpose: str, message: str) -> None:
    with pytest.raises(PseudonymError, match=message):
        pseudonymize(raw, key=key, key_id="k", purpose=purpose)


def test_token_key_id_rejects_non_tokens() -> None:
    with pytest.raises(PseudonymError):
        token_key_id("C-00012345")
