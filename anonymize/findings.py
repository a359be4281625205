"""The one plain type detectors and operators meet through, and deterministic overlap resolution.

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


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings, sorted by start: greedily keep the longest (then highest-scoring) span."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=_priority):
        if not any(finding.overlaps(k) for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))
