"""Phone numbers after a phone word, in the groupings of countries whose national formats libphonenumber is not
asked to parse (anonymize/recognizers/contact.py: phone_cue_recognizer). The sentences are written for this test."""

from __future__ import annotations

import pytest

from anonymize.recognizers.contact import phone_cue_recognizer


@pytest.mark.parametrize(("text", "expected"), [
    ("Me chama no zap (11) 97418-2290 ou manda e-mail", ["(11) 97418-2290"]),  # a Brazilian mobile
    ("Mobilen min er 412 48 773. E-post: siri@example.no", ["412 48 773"]),  # a few words between cue and number
    ("请拨打电话138 2147 7308，谢谢", ["138 2147 7308"]),  # a cue glued into text without spaces
    ("sđt 0987 555 213 nhé", ["0987 555 213"]),
    ("Telefon 0049 (0)30 1234567", ["0049 (0)30 1234567"]),
    ("Order number 12345678 was late", []),  # "number" alone is no phone word
    ("CEP 01310-100", []),  # a Brazilian postcode
    ("Tel 06-01-2023", []),  # a date
    ("tel 2024", []),  # too few digits
    ("Hotel 12345678", []),  # a phone word inside another word
    ("Hotline: Tel. 0800 001 8263", []),  # a toll-free number is the shop's
])
def test_a_number_after_a_phone_word_is_a_phone(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in phone_cue_recognizer().analyze(text)] == expected


def test_both_layers_run_it() -> None:
    from anonymize.recognizers import default_recognizers

    for layer in ("primary", "check"):
        assert "phone-cue" in {getattr(r, "name", "") for r in default_recognizers(layer)}


@pytest.mark.parametrize(("text", "number", "shop"), [
    ("Hotline: 0161 496 0000", "0161 496 0000", True),  # the shop's service line, named as such right before it
    ("Servicenummer voor klanten: 088 424 4010.", "088 424 4010", True),
    ("Service client joignable au 09 69 32 15 15.", "09 69 32 15 15", True),
    ("Customer Care | Pennine Home Ltd | 0161 496 0000", "0161 496 0000", True),
    ("Customer service, my number is 0161 496 0000", "0161 496 0000", False),  # the writer's
    ("I called customer service from 07700 900123 twice", "07700 900123", False),
    ("Kundenservice hat mich unter 0171 2345678 angerufen", "0171 2345678", False),
    ("Please call me on 0161 496 0000", "0161 496 0000", False),  # no service cue
])
def test_a_number_after_a_service_line_cue_is_the_shops(text: str, number: str, shop: bool) -> None:
    from anonymize.findings import Finding
    from anonymize.recognizers.contact import is_service_line

    start = text.index(number)
    assert is_service_line(text, Finding("PHONE_NUMBER", start, start + len(number), 0.9, "t")) is shop
