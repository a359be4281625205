"""Word characters with combining marks (anonymize.recognizers.words) and the rules that read words through them."""

from __future__ import annotations

import re

import pytest

from anonymize.recognizers.words import MARKS, WORD, _mark_ranges, fold_latin, is_letters, is_word_char


def test_the_mark_blocks_hold_every_combining_mark_of_the_basic_plane() -> None:
    assert _mark_ranges(((0, 0x10000),)) == MARKS


@pytest.mark.parametrize(("text", "words"), [
    ("नाम: सुनीता शर्मा", ["नाम", "सुनीता", "शर्मा"]),  # Devanagari vowel signs and virama
    ("திரு. கார்த்திக் சுப்ரமணியன்", ["திரு", "கார்த்திக்", "சுப்ரமணியன்"]),  # Tamil, a final virama
    ("ส่งไปที่บ้าน", ["ส่งไปที่บ้าน"]),  # Thai tone marks (one run: Thai writes no spaces)
    ("שָׁלוֹם Jean-Luc O'Neil", ["שָׁלוֹם", "Jean-Luc", "O'Neil"]),  # Hebrew points; Latin as before
    ("Jose\u0301 Mari\u0301a", ["Jose\u0301", "Mari\u0301a"]),  # decomposed accents
])
def test_a_word_keeps_its_combining_marks(text: str, words: list[str]) -> None:
    assert re.findall(WORD, text) == words


def test_word_char_and_letters_count_marks_in() -> None:
    assert is_word_char("\u094d") and is_word_char("a") and is_word_char("7") and not is_word_char("-")
    assert is_letters("सुनीता") and not is_letters("") and not is_letters("\u094dक") and not is_letters("a1")


def test_a_listed_name_of_a_script_with_marks_is_listed() -> None:
    from anonymize.recognizers.recase import listed_name

    assert listed_name("सुनीता") and listed_name("रोहित")  # in the world list of given names
    assert not listed_name("धन्यवाद")  # "thank you"


def test_a_name_span_keeps_its_final_virama() -> None:
    from anonymize.recognizers.ner import _trim

    text = "பெறுநர்: கார்த்திக், நன்றி"
    start = text.index("கார்த்திக்")
    assert text[slice(*_trim(text, start, start + len("கார்த்திக்,")))] == "கார்த்திக்"


@pytest.mark.parametrize(("text", "word", "opens"), [
    ("பெறுநர்: திரு. கார்த்திக் சுப்ரமணியன்", "கார்த்திக்", False),  # after a Tamil title's abbreviation
    ("कृपया श्री. रमेश को दें", "रमेश", False),  # after "श्री." (Shri)
    ("Ring the bell, Dr. Okafor is in", "Okafor", False),
    ("Waterford, P51 X2K7. Last house on the left", "Last", True),  # a postcode's full stop ends a sentence
    ("CEP 01304-001. Deixar na portaria.", "Deixar", True),
    ("Leave it at Flat A1. Adaeze will collect", "Adaeze", False),  # a short capitalised code before the full stop
])
def test_a_caseless_scripts_title_abbreviation_opens_no_sentence(text: str, word: str, opens: bool) -> None:
    from anonymize.recognizers.ner import _at_sentence_start

    start = text.index(word)
    assert _at_sentence_start(text, start, start + len(word)) is opens


def test_a_lower_case_word_in_decomposed_form_is_judged_as_the_composed_one() -> None:
    from anonymize.recognizers.ner import _not_a_name

    # "josé" with a combining acute (NFD) is one lower-case word, as "josé" (NFC) is
    assert _not_a_name("jose\u0301", None) == _not_a_name("jos\u00e9", None) is True


@pytest.mark.parametrize(("word", "folded"), [
    ("ayşe", "ayse"), ("kasım", "kasim"), ("łukasz", "lukasz"), ("Søren", "Soren"), ("Đorđe", "Dorde"),
    ("dvořák", "dvorak"), ("Straße", "Strasse"),
    ("सुनीता", "सुनीता"), ("คำ", "คำ"), ("йогурт", "йогурт"), ("ελένη", "ελένη"),  # other scripts keep their marks
])
def test_fold_latin_drops_only_the_accents_of_latin_letters(word: str, folded: str) -> None:
    assert fold_latin(word) == folded
