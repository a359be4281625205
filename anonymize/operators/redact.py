"""Redaction: the value is replaced by a fixed marker that keeps neither the value nor its type."""

from __future__ import annotations

from dataclasses import dataclass

from anonymize.operators.base import OperatorState

REDACTED = "<REDACTED>"


@dataclass(frozen=True)
class Redact:
    name: str = "redact"

    def apply(self, value: str, entity_type: str, state: OperatorState) -> str:
        return REDACTED
