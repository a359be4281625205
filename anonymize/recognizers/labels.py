"""Form field labels the NER models take for places or names: "Ciudad: Córdoba", "City / Ville : Toronto", "Город:
Санкт-Петербург", "Suburb: Alice Springs NT 0871" - the word before the colon is the form's, the value after it the
customer's.

A filter on the NER layers' findings, like `anonymize.recognizers.branches` and `organisations`: a LOCATION or
STREET_ADDRESS span right before a colon, at most three words into its line, is dropped, unless it holds a listed
given name or surname (a chat speaker the NER typed as a place: "Sophie: hi", "Алина: Здравствуйте"). A PERSON
there is a chat speaker ("Agent Thandi: Hi there") and keeps its finding, unless a slash and a second label follow
it ("Straße/Hausnr.:", "CP / Ville :"), which no speaker writes, unless that second word is a chat role
("Thandi/Agent:"). This is the label heuristic of rule-based
de-identification (field labels as context, not content: Neamatullah et al. 2008, PhysioNet deid), measured on the
development sets only (docs/BENCHMARKS.md, issue 12, 2026-12-07).
"""

from __future__ import annotations

import re

from anonymize.findings import Finding
from anonymize.recognizers.recase import listed_name

LABEL_TYPES = ("LOCATION", "STREET_ADDRESS")
_LABEL_COLON = re.compile(r"\.?[ \t]*[:：](?!\d)")
# the first of two labels one field shares, joined by a slash: "Straße/Hausnr.:", "CP / Ville :", "City/State:"
_SLASH_LABEL = re.compile(r"\.?[ \t]*/[ \t]*([^\W\d_][\w.-]*)(?:[ \t][^\W\d_][\w.-]*)?[ \t]*[:：](?!\d)")
# a chat speaker's role after a slash: "Thandi/Agent:", "Marta/Cliente:" - a person and a role, not two labels
_SPEAKER_ROLES = frozenset(re.findall(r"\S+", """agent agente agentin advisor adviser rep cs support staff customer
client cliente kunde kundin klant asiakas kund operator operatore operador opérateur opératrice driver courier
kurier"""))


def is_field_label(text: str, finding: Finding) -> bool:
    """`finding` stands where a form writes its field label: a colon right after it, or a slash and a second label
    and then the colon, at most three words before it on its line, and no listed given name or surname in it. A
    PERSON counts only before a slash (a chat speaker writes no second label)."""
    slash = _SLASH_LABEL.match(text, finding.end)
    slashed = slash is not None and slash.group(1).lower() not in _SPEAKER_ROLES
    if finding.entity_type not in ((*LABEL_TYPES, "PERSON") if slashed else LABEL_TYPES):
        return False
    if not slashed and _LABEL_COLON.match(text, finding.end) is None:
        return False
    if listed_name(text[finding.start:finding.end]):
        return False
    before = text[text.rfind("\n", 0, finding.start) + 1:finding.start]
    return len(before.split()) <= 3
