"""Checksums: Luhn (ISO/IEC 7812-1), IBAN mod-97 (ISO 13616), SSN field rules."""

from __future__ import annotations

import pytest

from anonymize.recognizers.validators import card_ok, iban_ok, iban_print_ok, luhn_ok, ssn_ok


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


# the registry's own example IBANs of countries outside Europe: each has its country's length and check digits
@pytest.mark.parametrize("iban", [
    "SA0380000000608010167519", "AE070331234567890123456", "BR1800360305000010009795493C1", "IL620108000000099999999",
    "EG380019000500000000263180002", "UA213223130000026007233566001", "KW81CBKU0000000000001234560101",
    "PK36SCBL0000001123456702", "TN5910006035183598478831", "RU0304452522540817810538091310419",
    "LC55HEMM000100010012001200023015", "MA64011519000001205000534921", "SN08SN0100152000048500003035",
])
def test_iban_of_every_registry_country(iban: str) -> None:
    assert iban_ok(iban)
    assert not iban_ok(iban[:-1])  # one character short of the country's length


@pytest.mark.parametrize(("value", "ok"), [
    ("LU72 0013 9946 7680 8103", True),  # check digits off by one: still an IBAN in print form
    ("BR80 5726 7949 6582 4237 1848 954P 4", True), ("DE88-3704-0044-0532-0130-00", True),
    ("LU72001399467680 8103", False),  # not in groups of four
    ("LU72 0013 9946 7680 810", False),  # one digit short of Luxembourg's 20
    ("lu72 0013 9946 7680 8103", False),  # lower-case country code: could be anything
    ("AB12 3456 7890 1234", False),  # no such country
])
def test_iban_print_form(value: str, ok: bool) -> None:
    assert iban_print_ok(value) is ok


@pytest.mark.parametrize(("text", "found"), [
    # the pattern's last group takes the next word's first letters along; the valid IBAN inside is kept
    ("Refund to LU71 0013 9946 7680 8103 please", ["LU71 0013 9946 7680 8103"]),
    ("Remboursement sur LU71 0013 9946 7680 8103 s.v.p.", ["LU71 0013 9946 7680 8103"]),
    ("Remboursement sur LU72 0013 9946 7680 8103 s.v.p.", ["LU72 0013 9946 7680 8103"]),  # mistyped, print form
    ("Order DE12 3456 7890 1234 5678 90 shipped", ["DE12 3456 7890 1234 5678 90"]),  # print form: an account
    ("Order DE1234567890 shipped", []), ("SKU AB12 3456 7890 1234 please", []),
])
def test_ibans_followed_by_a_word_and_mistyped_ibans(text: str, found: list[str]) -> None:
    from anonymize.recognizers.financial import iban_print_recognizer, iban_recognizer

    spans = [f for r in (iban_recognizer(), iban_print_recognizer()) for f in r.analyze(text)]
    assert [text[f.start:f.end] for f in spans] == found


def test_a_card_number_before_its_expiry_date_is_cut_back_to_the_number() -> None:
    from anonymize.recognizers.financial import card_recognizer

    text = "Card 4111 1111 1111 1111 12/27, cvv on the back"
    assert [text[f.start:f.end] for f in card_recognizer().analyze(text)] == ["4111 1111 1111 1111"]


@pytest.mark.parametrize(("text", "found"), [
    ("Minha compra PT-4480231 veio com defeito", ["PT-4480231"]),  # no order cue in the writer's language needed
    ("Hei, voinko vaihtaa tilauksen FI-230412 osoitteen?", ["FI-230412"]),
    ("seller acct SLR-4482910 says", ["SLR-4482910"]),
    ("Kundennummer KD4974650 bitte", ["KD4974650"]),
    ("采购单 CG20241203-07 已确认", ["CG20241203-07"]),
    ("The VX-8820 model is great", []),  # a model number: four digits
    ("Rated ISO-9001 and EN-71 compliant", []),
])
def test_capitals_and_six_to_ten_digits_are_a_reference(text: str, found: list[str]) -> None:
    from anonymize.recognizers.retail import order_recognizer

    spans = [f for f in order_recognizer().analyze(text) if f.score >= 0.5]
    assert sorted({text[f.start:f.end] for f in spans}) == found


@pytest.mark.parametrize(("text", "found"), [
    ("メール：sato.ken＠example.jp まで", ["sato.ken＠example.jp"]),  # the full-width at sign of CJK text
    ("skriv till lars.holm(a)example.se", ["lars.holm(a)example.se"]),  # the Nordic and German "(a)"
    ("my mail is lina.k@gmail", ["lina.k@gmail"]),  # a web-mail provider without its top-level domain
    ("add me: mehmet1990 at hotmail", ["mehmet1990 at hotmail"]),
    ("I looked at gmail today", []), ("the deal at Orange was good", []),  # prose
    ("連絡先 chen.wei＠example．cn まで", ["chen.wei＠example．cn"]),  # the full-width dot too
    ("my addy is kim_lee AT yahoo DOT co DOT uk", ["kim_lee AT yahoo DOT co DOT uk"]),  # "AT"/"DOT" in capitals: no
    # e-mail word needed
    ("MEET US AT THE DOCK", []),  # capitals, but no "DOT" and domain after them
])
def test_emails_written_with_other_at_signs_or_without_a_top_level_domain(text: str, found: list[str]) -> None:
    from anonymize.recognizers.contact import email_recognizer, spelled_email_recognizer

    spans = {text[f.start:f.end] for r in (email_recognizer(), spelled_email_recognizer()) for f in r.analyze(text)}
    assert sorted(spans) == found


@pytest.mark.parametrize(("text", "longest"), [
    ("邮箱 wang.fang@163。com 谢谢", "wang.fang@163。com"),  # the ideographic full stop of a CJK input method
    ("邮箱 wang@163.com。谢谢", "wang@163.com"),  # ... but a sentence's full stop after an address stays outside
    ("email is anna@gmail,com sorry", "anna@gmail,com"),  # a top-level domain typed apart
    ("reach me at anna@gmail. com", "anna@gmail. com"),
    ("contact: anna.berg@gmail .com", "anna.berg@gmail .com"),
    ("escribe a ana@tienda.es, de lunes a viernes", "ana@tienda.es"),  # a word after the address is no domain
    ("mail info@shop.com. Comments welcome", "info@shop.com"),
    ("write to anna@firma, com", "anna@firma, com"),
])
def test_email_address_whole_across_a_typed_slip(text: str, longest: str) -> None:
    from anonymize.recognizers.contact import email_recognizer, spelled_email_recognizer

    spans = {text[f.start:f.end] for r in (email_recognizer(), spelled_email_recognizer()) for f in r.analyze(text)
             if f.score >= 0.5}
    assert max(spans, key=len) == longest
