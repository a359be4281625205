"""Calendar dates that can identify someone (birthdays, delivery days): ISO 8601, numeric d/m/y and m/d/y, and
written forms ("12 March 2024", "March 12th, 2024"). A month and year alone, the output of the generalise
operator, is not matched, and neither are vague times ("last week") that spaCy's DATE label would include.
"""

from __future__ import annotations

from anonymize.recognizers.base import Pattern, RegexRecognizer

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
MONTH_ABBR = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_MONTH = r"(?:" + "|".join(MONTHS + MONTH_ABBR) + r")\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
DATE_CONTEXT = ("born", "birthday", "dob", "date of birth", "birth", "anniversary", "delivered", "ordered", "on")


def date_recognizer() -> RegexRecognizer:
    return RegexRecognizer("date", "DATE_TIME", [
        Pattern(rf"\b{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0.85),
        Pattern(rf"(?<![\d/.])(?:0?[1-9]|[12]\d|3[01])([/.])(?:0?[1-9]|1[0-2]|[12]\d|3[01])\1(?:{_YEAR}|\d{{2}})"
                r"(?![\d/.])", 0.75, 0.9),
        Pattern(rf"\b{_DAY}(?: of)? {_MONTH},? {_YEAR}\b", 0.85),
        Pattern(rf"\b{_MONTH} {_DAY},? {_YEAR}\b", 0.85),
        Pattern(rf"\b{_DAY}(?: of)? {_MONTH}\b(?!,? {_YEAR})", 0.65, 0.8),
        Pattern(rf"\b{_MONTH} {_DAY}\b(?!,? {_YEAR})(?!\d)", 0.6, 0.8),
    ], context=DATE_CONTEXT)
