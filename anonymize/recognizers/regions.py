"""Places an address writes by its format: a town followed by its state or province code ("Chicago, IL", "Brampton
ON", "Mona Vale NSW", "QUÉBEC QC"), the town of a postcode-first locality line ("1706 ME Ravenstein", UPU S42
templates; `LocalityLineRecognizer`) and an administrative division named with its ISO 3166-2 category word ("Tartu
maakond", "Landkreis Harburg"; `SubdivisionRecognizer`).

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
from anonymize.recognizers.places import CITIES


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
# The same line typed in lower case before a five-digit ZIP ("2290 kietzke ln unit 114 reno nv 89502"): the town is the
# longest run of the words before the code that the city gazetteer holds, else the last word alone
_LOWER_SAFE = "|".join(sorted({c.lower() for c in US} - {"ok", "mi", "ne", "va", "ms"} | {"il", "pa", "ma", "oh"},
                              key=len, reverse=True))  # not words of English, Spanish, French, Italian
LOWER_LINE = re.compile(rf"(?<![\w-])((?:[a-z]+ ){{0,2}}[a-z]+),? (?:{_LOWER_SAFE})(?=[ ,]*\d{{5}}(?:-\d{{4}})?(?!\w))")
_NOT_TOWNS = frozenset(("I", "Hi", "Hello", "Dear", "Thanks", "Order", "Ref", "The", "My", "Our", "Your", "Mr", "Mrs",
                        "Ms", "Dr", "Customer", "Agent", "Note", "Re", "To", "From", "Attn", "Ship", "Deliver"))


class _PlaceRule:
    """What the three rules share: they find `LOCATION` only."""

    @property
    def entities(self) -> tuple[str, ...]:
        return ("LOCATION",)


@dataclass
class TownRegionRecognizer(_PlaceRule):
    """LOCATION for "Town, ST" pairs with a known state, province or territory code."""

    name: str = "town-region"
    score: float = 0.8

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
        for m in LOWER_LINE.finditer(text) if any(ch.isdigit() for ch in text) else ():
            words = m.group(1).split()
            town = next((" ".join(words[i:]) for i in range(len(words)) if " ".join(words[i:]) in CITIES), words[-1])
            start = m.start(1) + m.group(1).rindex(town)
            out.setdefault((start, m.end()), Finding("LOCATION", start, m.end(), self.score, self.name))
        return list(out.values())


# The locality line of the countries that write the postcode before the town (UPU S42 templates: "1706 ME
# Ravenstein", "1200-095 Lisboa", "00-950 Warszawa", "114 55 Stockholm", "D-10115 Berlin"): the town after a postcode
# of one of these shapes, where an address writes it: at the start of a line or after a comma. A bare four- or
# five-digit number is left out: "..., 2024 Black Friday" is a year, not a Belgian postcode.
_LOCALITY_POSTCODE = (r"(?:[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}"  # Netherlands (PostNL)
                      r"|\d{4}-\d{3}"  # Portugal
                      r"|\d{2}-\d{3}"  # Poland
                      r"|\d{3} \d{2}"  # Sweden, Czechia, Slovakia, Greece
                      r"|(?:A|B|CH|D|DE|DK|E|F|FI|FL|I|L|LT|LV|N|NL|NO|P|PL|S|SE|SI|SK|HR|CZ|EE|HU|RO)-\d{4,5})")
_TOWN_PART = (r"(?:[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃŒ][a-z]{0,2}\.|[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃŒ][\w'’]*(?:-[\w'’]+)*"
              r"|['’][st]-?[A-Z][\w'’]*(?:-[\w'’]+)*)")  # "St.", a word, or Dutch "'s-Hertogenbosch", "'t Zandt"
_LOCALITY_TOWN = (rf"{_TOWN_PART}(?:[ \t](?:(?:an der|am|an|im|ob|bei|nad|pod|sur|sous|en|de|del|la|le|aan de|"
                  rf"aan den|aan|op)[ \t])?{_TOWN_PART}){{0,2}}")
_LOCALITY = re.compile(rf"(?:^|(?<=\n)|(?<=, )|(?<=,)|(?<=: ))[ \t]*{_LOCALITY_POSTCODE}[ \t]+({_LOCALITY_TOWN})"
                       rf"(?=[ \t]*(?:$|[\n,;.()/]|[ \t]+[a-zа-я(]|[ \t]+\d))", re.MULTILINE)


@dataclass
class LocalityLineRecognizer(_PlaceRule):
    """LOCATION for the town of a postcode-first locality line ("..., 1706 ME Ravenstein", "\\n00-950 Warszawa")."""

    name: str = "locality-line"
    score: float = 0.8

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = []
        for m in _LOCALITY.finditer(text):
            start, end = m.span(1)
            if text[start:end].split()[0].rstrip(".").title() not in _NOT_TOWNS:
                out.append(Finding("LOCATION", start, end, self.score, self.name))
        return out


# Administrative divisions named with their category word (ISO 3166-2's subdivision categories, as each language
# writes them): after the name ("Tartu maakond", "Черкаська область", "Ústecký kraj", "Stockholms län", "Bács-Kiskun
# megye", "Antalya ili") or before it ("województwo mazowieckie", "Landkreis Harburg", "provincia di Cuneo", "County
# Kerry"). The category word is part of the place's name, so the span takes both.
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁЇІЄҐΑ-Ω](?:[^\W\d_]|['’])*(?:-[^\W\d_]+)*"  # letters only: "Clare", not "V95"
_AFTER_NAME = ("maakond", "maakonna", "novads", "apskritis", "apskr.", "kraj", "megye", "županija", "oblast",
               "область", "обл.", "край", "район", "raion", "län", "fylke", "ilçesi", "voivodeship", "prefecture",
               "governorate", "oblysy", "okrug", "округ")  # not "ili", "vald", "rayon": words of other languages
_BEFORE_NAME = ("województwo", "woj.", "powiat", "gmina", "okres", "Landkreis", "Kreis", "Bezirk", "Kanton",
                "canton", "provincia di", "provincia de", "provincia del", "província de", "province of",
                "departamento de", "departamento del", "département de", "département du", "comune di",
                "comunidad de", "estado de", "County", "Co.", "oblast", "județul", "judetul", "jud.")
_SUBDIVISION = re.compile(
    rf"(?<![\w'’-])(?:({_CAP}(?:[ \t]{_CAP})?)[ \t]+(?:{'|'.join(re.escape(w) for w in _AFTER_NAME)})"
    rf"|(?:{'|'.join(re.escape(w) for w in _BEFORE_NAME)})[ \t]+{_CAP}(?:[ \t]{_CAP})?)(?![\w-])",
    re.IGNORECASE)


@dataclass
class SubdivisionRecognizer(_PlaceRule):
    """LOCATION for an administrative division named with its category word ("Tartu maakond", "Landkreis Harburg")."""

    name: str = "subdivision"
    score: float = 0.8

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = []
        for m in _SUBDIVISION.finditer(text):
            words = m.group().split()
            names = [w for w in words if w.lower().rstrip(".") not in _CATEGORY_WORDS]
            if names and all(w[:1].isupper() or w[:1].isdigit() or w.lower() in _LOWER_NAMES for w in names) \
                    and names[0].rstrip(".").title() not in _NOT_TOWNS:
                out.append(Finding("LOCATION", m.start(), m.end(), self.score, self.name))
        return out


_CATEGORY_WORDS = frozenset(w.lower().rstrip(".") for phrase in (*_AFTER_NAME, *_BEFORE_NAME) for w in phrase.split())
_LOWER_NAMES = frozenset(("mazowieckie", "małopolskie", "śląskie", "wielkopolskie", "pomorskie", "łódzkie",
                          "dolnośląskie", "lubelskie", "podkarpackie", "kujawsko-pomorskie", "zachodniopomorskie",
                          "warmińsko-mazurskie", "świętokrzyskie", "podlaskie", "lubuskie", "opolskie"))
