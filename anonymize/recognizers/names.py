"""Person names spaCy misses: lower-case and ALL-CAPS names, first names alone, "my husband dave", "MRS PATEL".

A gazetteer recognizer (name_lists.py) that works on the case-folded text, in the spirit of Presidio's deny-list
recognizers plus context words: common first names score above the threshold on their own, names that are also
English words ("will", "rose") need a relation word before them or a known surname after them, and a courtesy title
makes the next word a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.name_lists import (
    AMBIGUOUS,
    COMMON_WORDS,
    FIRST_NAMES,
    NOT_AFTER_RELATION,
    RELATION_WORDS,
    SURNAMES,
    TITLES,
)
from anonymize.recognizers.recase import sentence_case
from anonymize.recognizers.refine import OTHER_LANGUAGE_WORDS, is_stop_word

# Words of any script's letters: an ASCII-only token cut "Bettwäsche" after "Bettw", which then followed a name as
# its surname ("Roan Rose Bettw"), and "Dvořák" after "Dvo".
_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|['’])*(?:-[^\W\d_]+)*")
_RELATION_BEFORE = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in RELATION_WORDS) + r")[\s,:;.!'\"-]{1,3}$")
_RELATION_AFTER = re.compile(r"^,?\s+(?:my|our|the|a)\s+(?:" + "|".join(RELATION_WORDS[:36]) + r")\b")
_KINSHIP_BEFORE = re.compile(r"(?:\b(?:my|our|his|her|their)\s+(?:" + "|".join(RELATION_WORDS[:36]) + r")|"
                             r"^(?:hi|hello|dear)|\b(?:thanks|thank you|cheers|regards)),?\s$")
_TITLE_BEFORE = re.compile(r"(?<![\w.@/-])(?:" + "|".join(TITLES) + r")\.?[ \t]$")  # "Dr Ng", not "….mx\nAgente"
_AFTER_DIGIT = re.compile(r"^\s*\d")
# Words that a name follows in English ("with dan", "met ben", "as per sam's mail"): no sign of another language.
_ENGLISH_BEFORE = COMMON_WORDS | frozenset(w for w in RELATION_WORDS if " " not in w) | frozenset(
    ("via", "up", "ok", "okay", "please", "pls", "sorry", "yes", "no", "all", "everyone", "team", "met", "per",
     "die", "hat", "um", "er", "ma", "ta", "god", "ho", "em", "con", "dat", "ten", "tag"))


@dataclass
class NameRecognizer:
    """First-name / surname gazetteer with relation-word and title context; case-insensitive."""

    name: str = "name-gazetteer"
    score: float = 0.6  # a common first name on its own: above the default threshold, below NER's 0.85
    context_score: float = 0.9  # after "my husband" or before a known surname
    open_class_score: float = 0.65  # an unlisted word after "my sister": likely a name, but the weakest evidence

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PERSON",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        tokens = [_without_possessive(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        out = []
        for i, (start, _end, word) in enumerate(tokens):
            lower = word.lower()
            after_title = _TITLE_BEFORE.search(text[max(0, start - 7): start].lower()) is not None
            if after_title and word.islower() and (lower in COMMON_WORDS or is_stop_word(word)):
                after_title = False  # "Sir please don't", "the lady from flat 2": a title used as a noun
            if lower in COMMON_WORDS and not after_title and not self._known_surname_follows(tokens, i, text):
                continue  # "will do" is not a name, "will smith" is
            if after_title:
                out.append(self._span(tokens, i, text, self.context_score, any_next=True))
            elif lower in FIRST_NAMES or lower in AMBIGUOUS:
                finding = self._first_name(tokens, i, text)
                if finding is not None:
                    out.append(finding)
            elif self._unknown_name_after_relation(text, start, lower):
                out.append(self._span(tokens, i, text, self.open_class_score, any_next=False))
        return out

    def _unknown_name_after_relation(self, text: str, start: int, lower: str) -> bool:
        """"my sister saoirse", "thanks keanu": a word in no list, right after a kinship word, an opening
        greeting or a thank-you, that does not look like a verb or adverb (no -ed/-ing/-ly/-s ending, not listed)."""
        if len(lower) < 3 or lower in NOT_AFTER_RELATION or lower.endswith(("ed", "ing", "ly", "s", "'")):
            return False
        if is_stop_word(lower):
            return False  # "Dear Sir/Madam", "Hello team"
        window = ("\x00" if start > 24 else "") + text[max(0, start - 24): start].lower()  # ^ = start of text only
        return _KINSHIP_BEFORE.search(window) is not None

    def _first_name(self, tokens: list[tuple[int, int, str]], i: int, text: str) -> Finding | None:
        """A listed first name; an ambiguous one, or one written in lower case right after a function word of
        another language ("Dobar dan", "ik ben verhuisd", "ja sam"), only with a relation word or a surname beside
        it."""
        start, end, word = tokens[i]
        has_surname = self._surname_follows(tokens, i, text)
        context = (_RELATION_BEFORE.search(text[max(0, start - 24): start].lower()) is not None
                   or _RELATION_AFTER.match(text[end: end + 30].lower()) is not None)
        ordinary = _AFTER_DIGIT.match(text[end:]) is not None or not (context or has_surname)
        foreign = word.islower() and i > 0 and _foreign_function_word(tokens[i - 1][2]) and \
            text[tokens[i - 1][1]:start] == " "
        if (word.lower() in AMBIGUOUS or foreign) and ordinary:
            return None  # "may 2024", "will do": ordinary words
        handle = text[start - 1:start] == "@" or re.match(r"[._@]\w", text[end:end + 2]) is not None
        if word.islower() and ordinary and not handle and sentence_case(text):
            return None  # prose whose every sentence opens with a capital ("Kargo biraz geç geldi ama satıcı
            # ilgiliydi. Teşekkürler."): its writer capitalises names too ("I met ben at the store" is not such
            # prose: one sentence); a handle or a user name ("@rahul.k.deshmukh") is written in lower case anyway
        score = self.context_score if (context or has_surname) else self.score
        return self._span(tokens, i, text, score, any_next=False)

    def _known_surname_follows(self, tokens: list[tuple[int, int, str]], i: int, text: str) -> bool:
        return (i + 1 < len(tokens) and text[tokens[i][1]: tokens[i + 1][0]] == " "
                and tokens[i + 1][2].lower() in SURNAMES)

    def _surname_follows(self, tokens: list[tuple[int, int, str]], i: int, text: str) -> bool:
        if self._known_surname_follows(tokens, i, text):
            return True
        if i + 1 >= len(tokens) or text[tokens[i][1]: tokens[i + 1][0]] != " ":
            return False
        word, nxt = tokens[i][2], tokens[i + 1][2]
        # "Sarah Okonkwo": a capitalised unknown word after a capitalised first name, outside ALL-CAPS text
        return (word[0].isupper() and not word.isupper() and nxt[0].isupper() and not nxt.isupper()
                and nxt.lower() not in COMMON_WORDS and nxt.lower() not in FIRST_NAMES and not is_stop_word(nxt))

    def _span(self, tokens: list[tuple[int, int, str]], i: int, text: str, score: float, any_next: bool) -> Finding:
        start, end, _ = tokens[i]
        follows = self._surname_follows(tokens, i, text)
        if any_next and i + 1 < len(tokens) and text[end: tokens[i + 1][0]] == " ":
            follows = follows or tokens[i][2].lower() in FIRST_NAMES
        if follows:
            end = tokens[i + 1][1]
        return Finding("PERSON", start, end, score, self.name)


def _foreign_function_word(word: str) -> bool:
    """A function word of another language than English ("dobar", "ik", "ja"): English given names that are also
    words elsewhere (Croatian "dan" = day, Dutch "ben" = am, Serbian "sam" = am) follow them as words."""
    return word.lower() in OTHER_LANGUAGE_WORDS and word.lower() not in _ENGLISH_BEFORE


def _without_possessive(start: int, end: int, word: str) -> tuple[int, int, str]:
    """"dave's" is the name "dave"; the possessive ending is not part of the span."""
    if len(word) > 3 and word[-2:].lower() in ("'s", "’s"):
        return start, end - 2, word[:-2]
    return start, end, word
