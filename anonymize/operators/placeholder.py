"""Typed, numbered placeholder: `<PERSON_1>` each time the same name recurs within one request."""

from __future__ import annotations

from dataclasses import dataclass

from anonymize.operators.base import OperatorState


@dataclass(frozen=True)
class Placeholder:
    name: str = "placeholder"

    def apply(self, value: str, entity_type: str, state: OperatorState) -> str:
        return f"<{entity_type}_{state.number(entity_type, value)}>"
