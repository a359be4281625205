"""Numbers as call transcripts and non-Latin-script texts write them: digit strings spoken as words
(anonymize.recognizers.spoken) and national phone formats read for the regions of a text's script
(anonymize.recognizers.contact.SCRIPT_REGIONS). Made-up numbers."""

from __future__ import annotations

import pytest

from anonymize.recognizers.contact import PHONE_REGIONS, PhoneRecognizer, script_regions
from anonymize.recognizers.spoken import spoken_digits_recognizer


@pytest.mark.parametrize(("text", "expected"), [
    ("it's seven one three five five five zero one four two", ["seven one three five five five zero one four two"]),
    ("oh two oh, double seven one, four four eight nine please", ["oh two oh, double seven one, four four eight nine"]),
    ("Meine Nummer ist null eins sieben sechs, drei drei acht", ["null eins sieben sechs, drei drei acht"]),
    ("el pedido es cuatro ocho dos dos uno siete tres", ["cuatro ocho dos dos uno siete tres"]),
    ("số của em là không chín một hai, ba bốn năm", ["không chín một hai, ba bốn năm"]),
    ("رقمي صفر خمسة اربعة ثلاثة واحد سبعة", ["صفر خمسة اربعة ثلاثة واحد سبعة"]),
    # not six digit words in a row
    ("I ordered two, then one, then three more and four after that", []),
    ("one two three four five", []),
    ("Sono arrivati due pacchi, uno rotto e tre integri", []),
    ("twenty one, thirty two, forty three", []),  # three groups: a list of quantities
])
def test_spoken_digit_strings(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in spoken_digits_recognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("mi móvil es seis, sesenta y uno, veintidós, cuarenta y siete, trece", ["seis, sesenta y uno, veintidós, "
                                                                            "cuarenta y siete, trece"]),
    ("c'est le zéro sept, trente et un, quatre-vingt-dix, douze, cinquante", ["zéro sept, trente et un, "
                                                                             "quatre-vingt-dix, douze, cinquante"]),
    ("номер девять сто двадцать три, сорок пять, шестьдесят семь, восемь", ["девять сто двадцать три, сорок пять, "
                                                                           "шестьдесят семь, восемь"]),
    ("ring på otte, treogtyve, nitten, femogfyrre", ["otte, treogtyve, nitten, femogfyrre"]),
    ("ring meg på sekstiåtte, fire, nitten, tjueto", ["sekstiåtte, fire, nitten, tjueto"]),
    ("Rufen Sie an: null sieben eins, neunundfünfzig, zweiundzwanzig, elf", ["null sieben eins, neunundfünfzig, "
                                                                            "zweiundzwanzig, elf"]),
    ("call five five five, nineteen seventy, sixty two", ["five five five, nineteen seventy, sixty two"]),
    # prices, sizes and quantities: fewer than four groups, or fewer than seven digits
    ("paid forty five for two and thirty for the third", []),
    ("tallas treinta y ocho, cuarenta y cuarenta y dos", []),
    ("uno, dos, tres, cuatro", []),
])
def test_numbers_read_in_groups(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in spoken_digits_recognizer().analyze(text)] == expected


def test_script_regions_come_from_the_scripts_a_text_holds() -> None:
    assert script_regions("Ship to Leeds, 0113 496 0000") == ()
    assert script_regions("电话 138 0013 8000") == ("CN", "HK", "TW", "JP")
    assert script_regions("전화 010-1234-5678, Москва") == ("KR", "RU", "UA", "BG", "RS")
    assert script_regions("電話 03-1234-5678 です", ("JP",)) == ("CN", "HK", "TW")  # a region already read: once


@pytest.mark.parametrize(("text", "phone"), [
    ("收件人王芳，电话139 1234 5678", "139 1234 5678"),  # a Chinese mobile after a Han cue, no +86
    ("電話：9123 4567", "9123 4567"),  # Hong Kong
    ("연락처 010-9876-5432 입니다", "010-9876-5432"),  # Korea
    ("Телефон: 8 916 123-45-67", "8 916 123-45-67"),  # Russia, trunk prefix 8
    ("טלפון 052-123-4567", "052-123-4567"),  # Israel
])
def test_national_phones_of_a_texts_script(text: str, phone: str) -> None:
    plain = PhoneRecognizer(regions=PHONE_REGIONS)
    found = [text[f.start:f.end] for f in plain.analyze(text)]
    assert found == [phone]


def test_a_latin_text_parses_in_the_default_regions_only() -> None:
    text = "order 139 1234 5678 shipped"  # valid in China, in no default region
    assert PhoneRecognizer().analyze(text) == []
