"""Operators: numbered placeholders, keyed hash, redaction, generalisation (golden values per operator)."""

from __future__ import annotations

import pytest

from anonymize.operators import PLACEHOLDER_RE, Generalize, KeyedHash, OperatorState, Placeholder, Redact
from anonymize.operators.generalize import generalize_date, generalize_postcode

KEY = bytes(range(32))


def test_placeholder_numbers_by_type_and_value() -> None:
    state, op = OperatorState(), Placeholder()
    got = [op.apply(v, t, state) for v, t in [("Dave", "PERSON"), ("Ann", "PERSON"), ("DAVE", "PERSON"),
                                               ("a@b.co", "EMAIL_ADDRESS"), ("dave ", "PERSON")]]
    assert got == ["<PERSON_1>", "<PERSON_2>", "<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PERSON_1>"]


def test_keyed_hash_is_keyed_stable_and_carries_no_value() -> None:
    op, other = KeyedHash(KEY), KeyedHash(bytes(32))
    token = op.apply("dave@example.com", "EMAIL_ADDRESS", OperatorState())
    assert token == op.apply("DAVE@example.com ", "EMAIL_ADDRESS", OperatorState())
    assert token != other.apply("dave@example.com", "EMAIL_ADDRESS", OperatorState())
    assert token != op.apply("dave@example.com", "URL", OperatorState())  # domain-separated by type
    assert "dave" not in token and PLACEHOLDER_RE.fullmatch(token)
    assert token == "<EMAIL_ADDRESS#" + op.token("dave@example.com", "EMAIL_ADDRESS") + ">"


def test_keyed_hash_golden() -> None:
    # HMAC-SHA256(key=0..31, b"tanaban/anonymize/keyed-hash/v1\x00PERSON\x00dave")[:12]; change = token change
    import hashlib
    import hmac
    mac = hmac.new(KEY, b"tanaban/anonymize/keyed-hash/v1\x00PERSON\x00dave", hashlib.sha256).hexdigest()[:12]
    assert KeyedHash(KEY).token("Dave", "PERSON") == mac


def test_keyed_hash_rejects_short_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyedHash(b"short")


def test_redact() -> None:
    assert Redact().apply("4111 1111 1111 1111", "CREDIT_CARD", OperatorState()) == "<REDACTED>"


@pytest.mark.parametrize(("value", "expected"), [
    ("SW1A 1AA", "SW1A"), ("sw1a1aa", "SW1A"), ("M1 1AE", "M1"), ("94105", "941XX"), ("94105-1234", "941XX"),
    ("K1A 0B1", "K1A"), ("not a postcode", None),
])
def test_generalize_postcode(value: str, expected: str | None) -> None:
    assert generalize_postcode(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-12", "March 2024"), ("12 March 2024", "March 2024"), ("March 3rd, 2024", "March 2024"),
    ("3rd of Sept 2021", "September 2021"), ("12 March", "March"), ("12/03/2024", None), ("2024-13-01", None),
])
def test_generalize_date(value: str, expected: str | None) -> None:
    assert generalize_date(value) == expected


def test_generalize_falls_back_to_placeholder() -> None:
    state, op = OperatorState(), Generalize()
    assert op.apply("SW1A 1AA", "POSTCODE", state) == "SW1A"
    assert op.apply("12/03/2024", "DATE_TIME", state) == "<DATE_TIME_1>"
    assert op.apply("Dave", "PERSON", state) == "<PERSON_1>"
