"""Recognizer contract and the regex-plus-validator-plus-context recognizer most entity types use.

Follows Presidio's `PatternRecognizer` (pattern score, `validate_result`, context words that raise the score when
they appear near the match), with the context window measured in characters on the lower-cased text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from anonymize.findings import Finding

CONTEXT_WINDOW = 48  # characters before (and a little after) a match searched for context words


class Recognizer(Protocol):
    """Anything that maps a text (and, if NER ran, its spaCy doc) to findings."""

    name: str
    entities: tuple[str, ...]

    def analyze(self, text: str, doc: Any | None) -> list[Finding]: ...


@dataclass(frozen=True)
class Pattern:
    """One regex shape of an entity; `group` selects the part of the match that is the value."""

    regex: str
    score: float  # score without context
    context_score: float | None = None  # score when a context word is near; None: same as `score`
    group: int = 0
    flags: int = re.IGNORECASE
    # a regex every match needs somewhere in the text (a script's letters, a literal word): texts without it skip the
    # pattern, which must then find nothing there anyway (an exact shortcut, not a filter)
    needs: str | None = None


@dataclass
class RegexRecognizer:
    """Regex candidates, an optional validator (Luhn, mod-97...), and context words that raise the score."""

    name: str
    entity: str
    patterns: Sequence[Pattern]
    context: tuple[str, ...] = ()
    validator: Callable[[str], bool] | None = None
    # separators at which a match the validator rejects is cut back, longest valid prefix first: a greedy pattern
    # takes the next word along ("LU71 0013 9946 7680 8103 please": the last group reads "plea") or an expiry date
    # after a card number, and the value inside would otherwise be lost with it
    cut_at: str = ""
    _compiled: list[tuple[re.Pattern[str], Pattern]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._compiled = [(re.compile(p.regex, p.flags), p) for p in self.patterns]
        self._needs = {id(p): re.compile(p.needs) for p in self.patterns if p.needs is not None}
        self._context_re = (re.compile(r"\b(?:" + "|".join(self.context) + r")\b", re.IGNORECASE)
                            if self.context else None)

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.entity,)

    def has_context(self, text: str, start: int, end: int) -> bool:
        if self._context_re is None:
            return False
        before = text[max(0, start - CONTEXT_WINDOW): start]  # the match itself is not its own context
        after = text[end: end + CONTEXT_WINDOW // 3]
        return self._context_re.search(before) is not None or self._context_re.search(after) is not None

    def _valid_prefix_end(self, text: str, start: int, end: int) -> int:
        """The end of the longest prefix of text[start:end] that ends before a `cut_at` separator and validates; -1
        when none does (or nothing may be cut)."""
        if self.validator is None:
            return -1
        for cut in range(end - 1, start, -1):
            if text[cut] in self.cut_at and text[cut - 1] not in self.cut_at and self.validator(text[start:cut]):
                return cut
        return -1

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = []
        for regex, pattern in self._compiled:
            needs = self._needs.get(id(pattern))
            if needs is not None and needs.search(text) is None:
                continue
            for match in regex.finditer(text):
                start, end = match.span(pattern.group)
                if start < 0 or start == end:
                    continue
                if self.validator is not None and not self.validator(text[start:end]):
                    end = self._valid_prefix_end(text, start, end)
                    if end < 0:
                        continue
                score = pattern.score
                if pattern.context_score is not None and self.has_context(text, start, end):
                    score = pattern.context_score
                out.append(Finding(self.entity, start, end, score, self.name))
        return out
