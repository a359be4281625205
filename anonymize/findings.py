"""The one plain type detectors and operators meet through, and deterministic overlap resolution (overlapping
findings merge into one span typed by the longest).

Entity names follow Presidio's (`PERSON`, `EMAIL_ADDRESS`, ...; presidio-analyzer `RecognizerResult`) plus the retail
ones this appliance adds. Offsets are Python string indices into the original text, end exclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One detected span: `text[start:end]` is of `entity_type` with confidence `score` (0..1)."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, object]:
        return {"entity_type": self.entity_type, "start": self.start, "end": self.end,
                "score": round(self.score, 4), "recognizer": self.recognizer}


GENERIC_TYPES = ("LOCATION", "PERSON")  # NER's broad types lose a tie to a specific one ("maple avenue" is an address)


def _priority(finding: Finding) -> tuple:
    # Longest span first (a card number beats the phone number inside it), then a specific type before NER's
    # generic ones ("Mill Court" is an address, whatever spaCy says), then the most confident, then a fixed order
    # so the result never depends on the order recognizers ran in.
    generic = finding.entity_type in GENERIC_TYPES
    return (-finding.length, generic, -finding.score, finding.entity_type, finding.start, finding.recognizer)


FREE_TEXT_TYPES = ("LOCATION", "PERSON", "STREET_ADDRESS")  # types whose edges detectors disagree on


STATISTICAL = ("learned-ner", "spacy-ner")  # recognizer names of the NER models: their edges are predictions


def _mergeable(finding: Finding, kept: Finding) -> bool:
    """Whether `finding` may widen the group `kept` leads: both free-text types (names, places, street lines: where
    one detector's span runs past another's) or the same type; a structured value's edges are exact, unless a NER
    model predicted them: a free-text span overlapping a NER's id-typed span joins it (the learned detector typing
    "大阪府大阪市北区芝田2丁目8-11" a POSTCODE beside the place rule's "大阪府大阪市北区芝田2丁目": dropping the
    shorter left "大阪府大阪市北区芝田" readable)."""
    if finding.entity_type == kept.entity_type:
        return True
    free = (finding.entity_type in FREE_TEXT_TYPES, kept.entity_type in FREE_TEXT_TYPES)
    return all(free) or (any(free) and (finding.recognizer.startswith(STATISTICAL)
                                        or kept.recognizer.startswith(STATISTICAL)))


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings, sorted by start. The longest (then most specific, then most confident) finding of
    each group of overlapping ones gives the group its type, score and recognizer, and the group's span is the
    UNION of its free-text members (`_mergeable`): a shorter name, place or street line that runs past the kept one
    is merged into it, not dropped, so no character two detectors disagree on is left readable ("gyvenu Gedimino pr"
    from one detector and "Gedimino pr. 14-7" from another mask "gyvenu Gedimino pr. 14-7"; keeping only the longer
    left ". 14-7" in the text); a free-text span and a NER model's id span merge too (`_mergeable`). Other
    overlapping findings are dropped, as before: the longest wins."""
    kept: list[list] = []  # [the group's finding, start, end]
    for finding in sorted(findings, key=_priority):
        hit = [k for k in kept if finding.start < k[2] and k[1] < finding.end]
        if not hit:
            kept.append([finding, finding.start, finding.end])
            continue
        if not all(_mergeable(finding, k[0]) for k in hit):
            continue  # a shape rule's reading that crosses another value's exact edge ("1111 ON" in a card number)
        # kept in priority order, so hit[0] outranks the others; a finding bridging two groups joins them
        group = hit[0]
        group[1] = min(finding.start, *(k[1] for k in hit))
        group[2] = max(finding.end, *(k[2] for k in hit))
        for other in hit[1:]:
            kept.remove(other)
    out = [f if (f.start, f.end) == (start, end) else Finding(f.entity_type, start, end, f.score, f.recognizer)
           for f, start, end in kept]
    return sorted(out, key=lambda f: (f.start, f.end))


def gaps(start: int, end: int, cuts: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `start..end` outside `cuts` (sorted spans that overlap it and may reach past either end), in
    order, the empty ones included: what is left of a finding once the allow-list's or a filter's spans are cut out."""
    pieces, cursor = [], start
    for cut_start, cut_end in cuts:
        pieces.append((cursor, max(cursor, min(cut_start, end))))
        cursor = max(cursor, cut_end)
    pieces.append((cursor, end))
    return pieces
