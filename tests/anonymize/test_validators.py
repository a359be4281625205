"""Checksums: Luhn (ISO/IEC 7812-1), IBAN mod-97 (ISO 13616), SSN field rules."""

from __future__ import annotations

import pytest

from anonymize.recognizers.validators import card_ok, iban_ok, luhn_ok, ssn_ok


@pytest.mark.parametrize(("number", "ok"), [
    ("4111111111111111", True), ("4111 1111 1111 1111", True), ("4111-1111-1111-1112", False),
    ("79927398713", True), ("79927398710", False), ("", False), ("0", True),
])
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


@pytest.mark.parametrize(("number", "ok"), [
    ("4111 1111 1111 1111", True), ("5555 5555 5555 4444", True), ("3782 822463 10005", True),
    ("1234 5678 9012 3452", False),  # Luhn-valid but no issuer starts with 1
    ("4111 1111 1111 1112", False), ("4111 1111 111", False),
])
def test_card(number: str, ok: bool) -> None:
    assert card_ok(number) is ok


@pytest.mark.parametrize(("iban", "ok"), [
    ("GB82 WEST 1234 5698 7654 32", True), ("GB82WEST12345698765432", True), ("DE89 3704 0044 0532 0130 00", True),
    ("gb82 west 1234 5698 7654 32", True), ("GB83 WEST 1234 5698 7654 32", False),
    ("GB82 WEST 1234 5698 7654 3", False),  # wrong length for GB
    ("XX82 WEST 1234 5698 7654 32", False),
])
def test_iban(iban: str, ok: bool) -> None:
    assert iban_ok(iban) is ok


@pytest.mark.parametrize(("ssn", "ok"), [
    ("536-22-1234", True), ("000-22-1234", False), ("666-22-1234", False), ("912-22-1234", False),
    ("536-00-1234", False), ("536-22-0000", False), ("536-22-123", False),
])
def test_ssn(ssn: str, ok: bool) -> None:
    assert ssn_ok(ssn) is ok


_NBSP_IBAN = "\u00a0".join(("DE89", "3704", "0044", "0532", "0130", "00"))


@pytest.mark.parametrize(("text", "found"), [
    ("Konto: DE89-3704-0044-0532-0130-00 bitte", ["DE89-3704-0044-0532-0130-00"]),  # hyphens between the groups
    ("my iban is de89 3704 0044 0532 0130 00 thx", ["de89 3704 0044 0532 0130 00"]),  # lower case
    ("IBAN " + _NBSP_IBAN, [_NBSP_IBAN]),  # no-break spaces
    ("Order DE12-3456-7890 shipped", []),  # no valid IBAN: wrong length and check digits
])
def test_ibans_written_with_other_separators(text: str, found: list[str]) -> None:
    from anonymize.recognizers.financial import iban_recognizer

    assert [text[f.start:f.end] for f in iban_recognizer().analyze(text)] == found


def test_an_account_number_cue_of_other_languages_keeps_a_mistyped_iban() -> None:
    from anonymize.recognizers.cues import iban_cue_recognizer

    text = "Kontonummer: DE88 3704 0044 0532 0130 00 (typo)"  # one digit off: no valid IBAN, still an account
    assert [text[f.start:f.end] for f in iban_cue_recognizer().analyze(text)] == ["DE88 3704 0044 0532 0130 00"]
