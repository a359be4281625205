"""The case-normalised second NER pass: for texts written entirely in capitals or in lower case, spaCy's small
model loses its capitalisation cue, so the engine also runs it on `str.title()` of the text (same offsets) and
keeps the PERSON spans that survive an ordinary-word filter.
"""

from __future__ import annotations

import re
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.name_lists import COMMON_WORDS, FIRST_NAMES, NOT_AFTER_RELATION, SURNAMES
from anonymize.recognizers.places import CITIES
from anonymize.recognizers.refine import is_stop_word
from anonymize.recognizers.words import WORD
from anonymize.recognizers.world_names import is_first_name

_WORD = re.compile(WORD)  # a word with its combining marks ("सुनीता"): the world list holds names of those scripts

RECASED_SCORE = 0.7  # a PERSON found only after Title-Casing an ALL-CAPS or lower-case text: weaker than NER's 0.85


# a word of letters before a space, punctuation or the end; single_case and lower_case keep those of the Latin script
# with its accents ("Ayşe Yılmaz aradı" was "Ay", "lmaz", "arad": the capitals lost, the text taken for lower case)
_LATIN_WORD = re.compile(r"[^\W\d_]+(?=[\s.,;:!?)]|$)")


def single_case(text: str) -> bool:
    """Nine in ten words ALL CAPS, or nine in ten all lower case, where the small model loses its capitalisation
    cue (codes like "X7KQ-2M9P" do not count as words). str.title() must keep the length, so offsets hold."""
    words = [w for w in _LATIN_WORD.findall(text) if len(w) > 1 and max(w) < "\u0250"]
    if len(words) < 3 or len(text.title()) != len(text):
        return False
    upper, lower = sum(w.isupper() for w in words), sum(w.islower() for w in words)
    if max(upper, lower) < 0.9 * len(words):
        return False
    return upper > lower or not sentence_case(text)


def sentence_case(text: str) -> bool:
    """Three sentences or more, each opening with a capital, and the rest in lower case: ordinary prose of a writer who
    capitalises (a review: "Ürün açıklamada yazdığı gibi. Kumaşı kalın. Kargo biraz geç geldi ama ..."), whose
    names would be capitalised too; the capital of one opening word alone can be a keyboard's."""
    openers = [m.group(1) for m in _SENTENCE_OPENER.finditer(text.strip())]
    return len(openers) >= 3 and all(ch.isupper() for ch in openers) and any(ch.islower() for ch in text)


_SENTENCE_OPENER = re.compile(r"(?:^|[.!?]\s+)([^\W\d_])")


def lower_case(text: str) -> bool:
    """A `single_case` text written in lower case rather than in capitals."""
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if max(w) < "\u0250"]
    return sum(w.islower() for w in words) > sum(w.isupper() for w in words)


def listed_name(value: str) -> bool:
    """Some word of `value` is a listed given name (English or world lists) or surname, in any letter case."""
    return any(w in FIRST_NAMES or w in SURNAMES or is_first_name(w) for w in _WORD.findall(value.lower()))


def recased_persons(text: str, recased: Any, recognizer: str) -> list[Finding]:
    """PERSON spans of the case-normalised pass ("Bartholomew Abernathy Here" -> "Bartholomew Abernathy"):
    ordinary words are trimmed from both ends, and a span must keep a listed first name or surname, or, in an ALL
    CAPS text (a shipping label, a form), two words none of which is a stop word, label or particle of the
    languages of anonymize.recognizers.refine, since Title Case makes spaCy see names everywhere ("Order Came", and
    words of other languages: "Dobrý Den", "Gustó La Talla"). A lower-case text is casual prose (a chat, a review)
    where two unlisted words are mostly ordinary words of a language the stop lists miss ("gerne wieder", "dan
    sehat"); its names are the gazetteers' and the cue rules' to find, unless written with a capital on purpose."""
    two_words_ok = not lower_case(text)
    out = []
    for ent in recased.ents:
        if ent.label_ != "PERSON":
            continue
        words = [(m.start() + ent.start_char, m.end() + ent.start_char, m.group().lower())
                 for m in re.finditer(r"[^\W\d_][\w'’-]*", text[ent.start_char:ent.end_char])]  # "Důvod": one word
        while words and _ordinary(words[0][2]):
            words.pop(0)
        while words and _ordinary(words[-1][2]):
            words.pop()
        if not words or len(words) > 4 or any(_ordinary(w) for _, _, w in words):
            continue  # five words or more: a sentence Title-Cased ("Kargo Biraz Geç Geldi Ama Satıcı ..."), no name
        listed = any(w in FIRST_NAMES or w in SURNAMES for _, _, w in words)
        as_written = text[words[0][0]:words[-1][1]]
        if listed or (len(words) >= 2 and (two_words_ok or not as_written.islower())
                      and not any(is_stop_word(w) for _, _, w in words)):
            out.append(Finding("PERSON", words[0][0], words[-1][1], RECASED_SCORE, recognizer + "-recased"))
    return out


def _ordinary(word: str) -> bool:
    return (word in COMMON_WORDS or word in NOT_AFTER_RELATION or word in CITIES
            or word.endswith(("ed", "ing", "ly")))
