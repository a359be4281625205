"""Generalisation (k-anonymity style coarsening): postcodes to their outward code or ZIP prefix, dates to their
month. Values it cannot coarsen safely, and other entity types, fall back to a typed placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from anonymize.operators.base import OperatorState
from anonymize.operators.placeholder import Placeholder

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_UK = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?\d[A-Z]{2}$")
_US = re.compile(r"^(\d{3})\d{2}(?:-\d{4})?$")
_CA = re.compile(r"^([A-Z]\d[A-Z]) ?\d[A-Z]\d$")
_ISO = re.compile(r"^((?:19|20)\d{2})-(\d{2})-\d{2}$")
_WRITTEN_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d %B", "%d %b", "%B %d", "%b %d")


def generalize_postcode(value: str) -> str | None:
    """UK "SW1A 1AA" -> "SW1A"; US "94105-1234" -> "941XX"; Canada "K1A 0B1" -> "K1A"; else None."""
    value = value.strip().upper()
    if m := _UK.match(value):
        return m.group(1)
    if m := _US.match(value):
        return m.group(1) + "XX"
    if m := _CA.match(value):
        return m.group(1)
    return None


def generalize_date(value: str) -> str | None:
    """A date to "March 2024" (or "March" when it had no year); numeric d/m/y is ambiguous and returns None."""
    value = value.strip()
    if m := _ISO.match(value):
        month = int(m.group(2))
        return f"{_MONTHS[month - 1]} {m.group(1)}" if 1 <= month <= 12 else None
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value, flags=re.IGNORECASE)
    cleaned = re.sub(r"\bof\b|,|\.", " ", cleaned)
    cleaned = " ".join(w.capitalize() if w.isalpha() else w for w in cleaned.split())
    cleaned = cleaned.replace("Sept ", "Sep ")
    for fmt in _WRITTEN_FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        return f"{_MONTHS[parsed.month - 1]} {parsed.year}" if "%Y" in fmt else _MONTHS[parsed.month - 1]
    return None


@dataclass(frozen=True)
class Generalize:
    name: str = "generalize"

    def apply(self, value: str, entity_type: str, state: OperatorState) -> str:
        coarse = None
        if entity_type == "POSTCODE":
            coarse = generalize_postcode(value)
        elif entity_type == "DATE_TIME":
            coarse = generalize_date(value)
        return coarse if coarse is not None else Placeholder().apply(value, entity_type, state)
