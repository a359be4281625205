"""The operator contract and the state one request shares (placeholder numbering across its texts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

# Tokens our operators emit: <PERSON_1>, <PERSON#3fa2c1d09b7e>, <POSTCODE>, <REDACTED>. The residual check
# ignores them, and no recognizer should flag them.
PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z_]*?(?:_\d+|#[0-9a-f]{12})?>")


def normalise(value: str) -> str:
    """The form under which two mentions count as the same value ("Dave", "DAVE", "dave ")."""
    return " ".join(value.split()).casefold()


@dataclass
class OperatorState:
    """Per-request memory: the number each (entity type, value) got, so `<PERSON_1>` recurs consistently."""

    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def number(self, entity_type: str, value: str) -> int:
        key = (entity_type, normalise(value))
        if key not in self.numbers:
            self.counts[entity_type] = self.counts.get(entity_type, 0) + 1
            self.numbers[key] = self.counts[entity_type]
        return self.numbers[key]


class Operator(Protocol):
    name: str

    def apply(self, value: str, entity_type: str, state: OperatorState) -> str: ...
