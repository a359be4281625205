"""Bounded JSON for ingest rows (RFC 8259 text, read by the stdlib json module with hooks): rows are flat records,
so nesting deeper than MAX_JSON_DEPTH, integers longer than MAX_INT_DIGITS, NaN/Infinity, duplicate keys and lone
surrogates are refused per field, before anything can raise deep inside json (RecursionError, int digit limits).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 4  # row object (1) > attributes (2) > a list (3) > its objects (4); rows are flat records
MAX_INT_DIGITS = 20  # 2**64 has 20 digits: a longer JSON integer is no count, time or numeric id
SURROGATE = ("contains a lone UTF-16 surrogate (a \\ud800-\\udfff escape, or such a code point written as bytes), "
             "which is not valid Unicode; fix the program that wrote the file")
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')  # a JSON string literal, so brackets inside it are not counted
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_SAFE_BRACKETS = 100  # fewer brackets cannot nest deep enough to trouble json's recursion: depth is checked after


class Invalid:
    """Stands in for a JSON value a row may not hold (json's hooks cannot raise per field); `reason` says why
    without the value, `key` is the repeated key of a duplicate-key object."""

    __slots__ = ("key", "reason")

    def __init__(self, reason: str, key: str | None = None) -> None:
        self.reason, self.key = reason, key


def _json_int(text: str) -> int | Invalid:
    if len(text) > MAX_INT_DIGITS and len(text.lstrip("-")) > MAX_INT_DIGITS:
        return Invalid(f"a JSON integer with more than {MAX_INT_DIGITS} digits; write long ids as strings")
    return int(text)


def _json_constant(_name: str) -> Invalid:
    return Invalid("NaN and Infinity are not JSON numbers; write null for a missing value")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any] | Invalid:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return Invalid("the same key appears twice in one object (duplicate JSON key)", key)
        seen.add(key)
    raise AssertionError("unreachable: a shorter dict means a repeated key")


def _too_deep(text: str) -> bool:
    """Whether brackets outside string literals nest deeper than MAX_JSON_DEPTH (a linear scan, no recursion)."""
    depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if char in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


_DECODER = json.JSONDecoder(parse_int=_json_int, parse_constant=_json_constant, object_pairs_hook=_json_object)
_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels (the row object counts as one); rows are flat records"
CHECKED = frozenset({Invalid, dict, list, float})  # value types invalid_reason looks into; str, int, None are fine


def loads_json(text: str) -> Any:
    """json.loads for one row (or a CSV cell holding JSON), bounded: a value a row may not hold (deep nesting,
    huge integers, NaN, duplicate keys) comes back as a marker, or is found by `invalid_reason`. Raises
    json.JSONDecodeError for text that is not JSON."""
    if text.count("[") + text.count("{") > _SAFE_BRACKETS and _too_deep(text):
        return Invalid(_DEEP)  # before json recurses: a 200,000-deep line would raise RecursionError inside it
    return _DECODER.decode(text)


def invalid_reason(value: Any, level: int = 1) -> str | None:
    """Why `value` (from loads_json, at nesting `level`; the row object is level 1) holds something a row may not:
    a marker, nesting deeper than MAX_JSON_DEPTH, a float overflowed to infinity; None when it is fine."""
    kind = type(value)
    if kind is Invalid:
        return value.reason
    if kind is float:
        return None if math.isfinite(value) else "a JSON number too large for a 64-bit float"
    if kind is not dict and kind is not list:
        return None
    if level > MAX_JSON_DEPTH:
        return _DEEP
    for item in value.values() if kind is dict else value:
        if type(item) in CHECKED:
            reason = invalid_reason(item, level + 1)
            if reason is not None:
                return reason
    return None


def has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate code point (it cannot be encoded, stored or hashed)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
