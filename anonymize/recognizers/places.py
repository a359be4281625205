"""Towns and cities in any letter case ("leeds", "GLASGOW"), which spaCy's small model misses outside Title Case.

A gazetteer of the larger UK, Irish, US, Canadian and Australian cities and European capitals (written out by hand
from the ONS / Census Bureau population tables). Place names that are also common words ("Reading", "Bath",
"Nice") count only after a preposition of place ("in", "from", "to", "near").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CITIES = _words("""
bath reading wells nice
london birmingham manchester leeds glasgow liverpool sheffield bristol edinburgh cardiff leicester coventry
bradford belfast nottingham newcastle sunderland brighton hull plymouth stoke wolverhampton derby swansea
southampton salford aberdeen portsmouth york peterborough dundee lancaster oxford cambridge norwich exeter
gloucester worcester chester durham canterbury inverness stirling perth carlisle lincoln preston blackpool
bournemouth swindon luton ipswich middlesbrough huddersfield harrogate cheltenham dublin cork galway limerick
chicago boston seattle houston phoenix philadelphia dallas austin denver atlanta miami detroit portland oakland
albany baltimore nashville memphis louisville milwaukee sacramento pittsburgh cincinnati cleveland minneapolis
toronto vancouver montreal ottawa calgary sydney melbourne brisbane adelaide auckland wellington paris berlin
madrid rome lisbon amsterdam brussels vienna prague warsaw budapest copenhagen stockholm oslo helsinki athens
zurich geneva munich hamburg frankfurt cologne milan barcelona lyon marseille krakow
""") | {"new york", "los angeles", "san francisco", "san diego", "las vegas", "new orleans", "milton keynes",
     "st albans", "st andrews", "washington dc", "tel aviv", "hong kong", "buenos aires"}
# Also words or names: a place only after "in", "from", ...
AMBIGUOUS_PLACES = _words("reading bath nice wells sale derby chester lincoln preston "
                          "durham york perth austin sydney phoenix dallas denver hull cork florence")
_PLACE_RE = re.compile(r"(?<![\w-])(" + "|".join(sorted((re.escape(c).replace(r"\ ", r"\s+") for c in CITIES),
                                                        key=len, reverse=True)) + r")(?![\w-])", re.IGNORECASE)
_PREPOSITION_BEFORE = re.compile(r"\b(?:in|from|to|near|at|of|outside|around|visit|visited|visiting)\s+$",
                                 re.IGNORECASE)


@dataclass
class PlaceRecognizer:
    name: str = "place-gazetteer"
    score: float = 0.7  # a listed city is good evidence; NER's 0.85 still wins where it agrees
    context_score: float = 0.85  # after a preposition of place

    @property
    def entities(self) -> tuple[str, ...]:
        return ("LOCATION",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = []
        for match in _PLACE_RE.finditer(text):
            place = " ".join(match.group(1).lower().split())
            context = _PREPOSITION_BEFORE.search(text[max(0, match.start() - 12): match.start()]) is not None
            if place in AMBIGUOUS_PLACES and not context:
                continue
            out.append(Finding("LOCATION", match.start(), match.end(),
                               self.context_score if context else self.score, self.name))
        return out
