"""Operators that turn a detected span into its replacement; one file each (presidio-anonymizer `operators/`).

Every operator gets the value, its entity type and the per-request `OperatorState`, and returns the replacement.
"""

from __future__ import annotations

from anonymize.operators.base import PLACEHOLDER_RE, Operator, OperatorState
from anonymize.operators.generalize import Generalize
from anonymize.operators.keyed_hash import KeyedHash
from anonymize.operators.placeholder import Placeholder
from anonymize.operators.redact import Redact

__all__ = ["PLACEHOLDER_RE", "Generalize", "KeyedHash", "Operator", "OperatorState", "Placeholder", "Redact"]
