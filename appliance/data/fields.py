"""Field checks for one ingest row (the field rows of docs/INGEST.md's bad-input table): types, limits, timestamps
(ISO 8601 with an offset, or unix seconds), lone surrogates, NUL characters, and Unicode NFC (UAX #15) for skus and
customer ids.

Each check raises ValueError with what was expected, never the value; `_get` turns it into a RowError naming the
field. The raw customer id is replaced by its pseudonym in `clean_event` and goes no further.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from appliance.config import IngestConfig
from appliance.data.readers import RowError
from appliance.data.rowjson import MAX_INT_DIGITS, SURROGATE, has_surrogate, invalid_reason, loads_json
from appliance.data.store import EVENTS

TITLE_CHARS = 120  # display title taken from a free-text item field: about one line of a product listing
MAX_TS = 253_402_300_799  # 9999-12-31T23:59:59Z: anything later is a unit mistake (milliseconds), not a date
_TS_EXPECTED = "expected ISO-8601 with a UTC offset (e.g. 2024-05-01T12:00:00+00:00) or integer unix seconds"


def _get(rec: dict[str, Any], name: str, check: Callable[..., Any], *args: Any) -> Any:
    try:
        return check(rec.get(name), *args)
    except ValueError as exc:
        raise RowError(name, str(exc)) from None


def _string(value: Any, limit: int, required: bool, limit_key: str) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric ids in JSON are common; they are ids, not numbers
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError("required, but missing or empty")
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_json_type(value)}")
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters (limit {limit_key}); values are never truncated")
    if has_surrogate(value):
        raise ValueError(SURROGATE)
    if "\x00" in value:  # PostgreSQL's text type cannot hold U+0000; one rule for both store engines
        raise ValueError("contains a NUL character (U+0000, \\u0000 in JSON); remove it from the file")
    return value


def _id(value: Any, limit: int, required: bool, limit_key: str) -> str | None:
    """A sku or customer id in Unicode NFC (UAX #15), so a composed and a decomposed "é" are one id."""
    if isinstance(value, str) and not value.isascii() and not has_surrogate(value):
        value = unicodedata.normalize("NFC", value)
    return _string(value, limit, required, limit_key)


def _number(value: Any, low: float, high: float, expected: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(expected) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(expected)
    if not low <= value <= high:
        raise ValueError(expected)
    return float(value)


def _categories(value: Any, cfg: IngestConfig) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split("|") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings (in CSV: one string separated by '|')")
    if any(len(v) > cfg.max_short_chars for v in value):
        raise ValueError(f"a category is longer than {cfg.max_short_chars} characters (limit ingest.max_short_chars)")
    if any(has_surrogate(v) for v in value):
        raise ValueError(SURROGATE)
    return value


def _attributes(value: Any, cfg: IngestConfig) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = loads_json(value)  # bounded: a CSV cell gets the same depth and number limits as a JSONL row
        except json.JSONDecodeError:
            raise ValueError("expected a JSON object (in CSV: the object as a JSON string)") from None
        reason = invalid_reason(value, 2)  # the attributes object is the second level of a row
        if reason is not None:
            raise ValueError(reason)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object (in CSV: the object as a JSON string)")
    text = json.dumps(value)
    if len(text) > cfg.max_text_chars:
        raise ValueError(f"longer than {cfg.max_text_chars} characters as JSON (limit ingest.max_text_chars)")
    # ASCII-only JSON writes every surrogate (paired or not) as a `\ud...` escape: none there, none in the object
    if "\\ud" in text and has_surrogate(json.dumps(value, ensure_ascii=False)):
        raise ValueError(SURROGATE)
    return value


def _timestamp(value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > MAX_INT_DIGITS:  # no date, and int() refuses more than 4,300 digits
            raise ValueError(_TS_EXPECTED + " (from 1970 to 9999)")
        value = int(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_TS_EXPECTED) from None
        if moment.tzinfo is None:
            raise ValueError(f"{_TS_EXPECTED}; this one has no offset (add +00:00 or Z for UTC)")
        value = math.floor(moment.timestamp())
    if value is None:
        raise ValueError("required, but missing or empty")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TS:
        raise ValueError(_TS_EXPECTED + " (from 1970 to 9999)")
    return value


def _event(value: Any) -> str:
    if value is None:
        return "purchase"
    if value not in EVENTS:
        raise ValueError(f"expected one of {', '.join(EVENTS)}")
    return value


def _json_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def clean_item(rec: dict[str, Any], cfg: IngestConfig) -> dict[str, Any]:
    """An item row; a catalog without separate fields gives one free-text `text` instead (see `_free_text`)."""
    short, text = cfg.max_short_chars, cfg.max_text_chars
    free = _get(rec, "text", _string, text, False, "ingest.max_text_chars")
    row = {
        "sku": _get(rec, "sku", _id, short, True, "ingest.max_short_chars"),
        "title": _get(rec, "title", _string, short, free is None, "ingest.max_short_chars"),
        "brand": _get(rec, "brand", _string, short, False, "ingest.max_short_chars"),
        "categories": _get(rec, "categories", _categories, cfg),
        "description": _get(rec, "description", _string, text, False, "ingest.max_text_chars"),
        "price": _get(rec, "price", _number, 0.0, math.inf, "expected a number >= 0"),
        "attributes": _get(rec, "attributes", _attributes, cfg),
    }
    return _free_text(row, free) if free is not None else row


def _free_text(row: dict[str, Any], free: str) -> dict[str, Any]:
    """Fold the free-text field into the stored fields, so profiles, embeddings and the generative text task use it.

    Without a title, a short one-line text is the title itself; a longer text gives its first line, cut at a word
    boundary to TITLE_CHARS, as the display title and is kept whole as the description. With a title, the text is
    kept as (the start of) the description. Nothing is lost: the full text always reaches the item profile.
    """
    free = free.strip()
    first = free.splitlines()[0].strip() if free else ""
    if row["title"] is None and len(free) <= TITLE_CHARS and "\n" not in free:
        row["title"] = free
        return row
    if row["title"] is None:
        row["title"] = first if len(first) <= TITLE_CHARS else first[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:")
    row["description"] = free if not row["description"] else f"{free}\n{row['description']}"
    return row


def clean_event(rec: dict[str, Any], cfg: IngestConfig, pseudonym: Callable[[str], str], kind: str) -> dict[str, Any]:
    """An interaction or review row; the raw customer id is replaced by its pseudonym here and goes no further."""
    short = cfg.max_short_chars
    raw = _get(rec, "customer_id", _id, short, kind == "interactions", "ingest.max_short_chars")
    row = {
        "sku": _get(rec, "sku", _id, short, True, "ingest.max_short_chars"),
        "ts": _get(rec, "timestamp", _timestamp),
        "rating": _get(rec, "rating", _number, 1.0, 5.0, "expected a number from 1 to 5"),
    }
    if kind == "interactions":
        row["event"] = _get(rec, "event", _event)
        row["split"] = rec.get("split")  # only the dataset adapters set it; checked against SPLITS when written
    else:
        row["text"] = _get(rec, "text", _string, cfg.max_text_chars, True, "ingest.max_text_chars")
    row["user"] = pseudonym(raw) if raw is not None else None
    return row
