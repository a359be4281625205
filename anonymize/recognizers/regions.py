"""A town followed by its state or province code: "Chicago, IL", "Brampton ON", "Mona Vale NSW", "QUÉBEC QC".

The locality line of a North American or Australian address ends in a two- or three-letter subdivision code (USPS
Publication 28 state abbreviations, Canada Post province and territory symbols, Australia Post state
abbreviations). The learned detector misses the pair when it stands outside a full address, and the town alone
covers too little of the span to count as masked. The rule takes one to three capitalised words (Title Case, or
ALL CAPS when a ZIP or postal code follows) before a code and, for the codes that are also English words in capitals
("IN", "OR", "ME", "OK", "HI"...), only when a postcode follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding


def _codes(codes: str) -> tuple[str, ...]:
    return tuple(codes.split())


US = _codes("AK AZ AR CA CT DC FL GA IA KS KY MD MI MN MS MO MT NE NV NH NJ NM NY NC ND OK RI SC SD TN TX UT VT VA WA "
            "WV WI WY")
CA = _codes("AB BC MB NB NL NS NT NU ON PE QC SK YT")
AU = _codes("NSW VIC QLD SA WA TAS ACT NT")
WORDS = _codes("AL CO DE HI ID IL IN LA MA ME OH OR PA")  # also words or common abbreviations: need a postcode after
_TOWN_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’.-]+"
_UPPER_WORD = r"[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’.-]+"
_POSTCODE = r"(?=[ ,]*(?:\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d)(?!\w))"
_SAFE = "|".join(sorted(set(US + CA + AU), key=len, reverse=True))
_ALL = "|".join(sorted(set(US + CA + AU + WORDS), key=len, reverse=True))
PATTERNS = (
    re.compile(rf"(?<![\w-])((?:{_TOWN_WORD} ){{0,2}}{_TOWN_WORD},? (?:{_SAFE}))(?![\w-])"),
    re.compile(rf"(?<![\w-])((?:{_TOWN_WORD} ){{0,2}}{_TOWN_WORD},? (?:{_ALL})){_POSTCODE}"),
    re.compile(rf"(?<![\w-])((?:{_UPPER_WORD} ){{0,2}}{_UPPER_WORD},? (?:{_ALL})){_POSTCODE}"),
)
_NOT_TOWNS = frozenset(("I", "Hi", "Hello", "Dear", "Thanks", "Order", "Ref", "The", "My", "Our", "Your", "Mr", "Mrs",
                        "Ms", "Dr", "Customer", "Agent", "Note", "Re", "To", "From", "Attn", "Ship", "Deliver"))


@dataclass
class TownRegionRecognizer:
    """LOCATION for "Town, ST" pairs with a known state, province or territory code."""

    name: str = "town-region"
    score: float = 0.8

    @property
    def entities(self) -> tuple[str, ...]:
        return ("LOCATION",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out: dict[tuple[int, int], Finding] = {}
        for regex in PATTERNS:
            for m in regex.finditer(text):
                start, end = m.span(1)
                words = m.group(1).replace(",", " ").split()
                while words and words[0].rstrip(".").title() in _NOT_TOWNS:
                    start = text.index(words[1], start + len(words[0])) if len(words) > 1 else end
                    words = words[1:]
                if len(words) >= 2:
                    out.setdefault((start, end), Finding("LOCATION", start, end, self.score, self.name))
        return list(out.values())
