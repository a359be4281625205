"""Digit strings written out as words, as a call transcript or a voice message renders a phone number, an order
number or an id read aloud ("six one four five five five zero one three two", "vier vier null eins acht zwei",
"cinco tres cuatro cuatro ocho dos uno nueve").

Six or more digit words in a row (separated by spaces, commas or hyphens; "double four" / "doble cuatro" counts as
one), in any mix of the languages below, are one span. Its type is PHONE_NUMBER, what such a string most often is in
a call; an order number or an id read aloud is masked as well, under that type. Six digit words in a row do not occur
in prose, so no context word is needed. Numbers read in tens or hundreds ("cincuenta y cinco", "four hundred") are
not covered: their words are ordinary number words, and a price or a quantity reads the same.

The digit words are the cardinal numbers 0-9 of English, German, French, Spanish, Portuguese, Italian, Dutch,
Polish, Czech, Slovak, Turkish, Russian, Ukrainian, the Nordic languages, Greek, Vietnamese, Arabic (Modern Standard)
and romanised Hindi.
"""

from __future__ import annotations

import re
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer

_BY_LANGUAGE = {
    "en": "zero oh nought one two three four five six seven eight nine",
    "de": "null eins zwei zwo drei vier fünf sechs sieben acht neun",
    "fr": "zéro un une deux trois quatre cinq six sept huit neuf",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve",
    "pt": "zero um uma dois duas três quatro cinco seis sete oito nove",
    "it": "zero uno due tre quattro cinque sei sette otto nove",
    "nl": "nul een één twee drie vier vijf zes zeven acht negen",
    "pl": "zero jeden jedna dwa trzy cztery pięć sześć siedem osiem dziewięć",
    "cs": "nula jedna jedno dva tři čtyři pět šest sedm osm devět",
    "sk": "nula jeden jedna dva dve tri štyri päť šesť sedem osem deväť",
    "tr": "sıfır bir iki üç dört beş altı yedi sekiz dokuz",
    "ru": "ноль нуль один одна два три четыре пять шесть семь восемь девять",
    "uk": "нуль один одна два три чотири п'ять шість сім вісім дев'ять",
    "sv": "noll ett en två tre fyra fem sex sju åtta nio",
    "da/no": "nul null en et to tre fire fem seks syv sju otte åtte ni",
    "el": "μηδέν ένα δύο τρία τέσσερα πέντε έξι επτά εφτά οκτώ οχτώ εννιά εννέα",
    "vi": "không một hai ba bốn năm sáu bảy tám chín",
    "ar": "صفر واحد اثنين اثنان ثلاثة اربعة أربعة خمسة ستة سبعة ثمانية تسعة",
    "hi": "shunya ek do teen char chaar paanch panch chhe chheh saat aath nau",
}
DIGIT_WORDS = frozenset(word for words in _BY_LANGUAGE.values() for word in words.split())
REPEATS = ("double", "triple", "doppel", "doble", "doppio", "dubbel", "dobbel")
MIN_WORDS = 6

_WORD = "(?:" + "|".join(re.escape(w) for w in sorted(DIGIT_WORDS, key=len, reverse=True)) + ")"
_DIGIT = rf"(?:(?:{'|'.join(REPEATS)})\s+)?{_WORD}"
_SEPARATOR = r"(?:\s*[,\-–]\s*|\s+)"
SPOKEN_DIGITS = rf"(?<![\w'’-]){_DIGIT}(?:{_SEPARATOR}{_DIGIT}){{{MIN_WORDS - 1},}}(?![\w'’-])"


_SPLIT = re.compile(r"[\s,\-–]+")


class SpokenDigitsRecognizer(RegexRecognizer):
    """The pattern, run only on a text holding at least MIN_WORDS digit words (a set lookup per word, far cheaper
    than the pattern's alternation at every position)."""

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        words = _SPLIT.split(text.lower())
        if sum(w.strip(".!?;:()") in DIGIT_WORDS for w in words) < MIN_WORDS:
            return []
        return super().analyze(text, doc)


def spoken_digits_recognizer() -> RegexRecognizer:
    """Six or more digit words in a row, as a PHONE_NUMBER (see the module docstring)."""
    return SpokenDigitsRecognizer("spoken-digits", "PHONE_NUMBER", [Pattern(SPOKEN_DIGITS, 0.6)])
