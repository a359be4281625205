"""Strict JSON request bodies for the HTTP API: I-JSON (RFC 7493 §2.1) on top of RFC 8259.

Python's `json` accepts NaN and Infinity (RFC 8259 §6 forbids them), lone surrogates such as "\\ud800" (I-JSON
§2.1: MUST NOT) and duplicate member names (I-JSON §2.3: MUST NOT; the last one would silently win). Each is
rejected here as a `json.JSONDecodeError` whose message is a machine-readable reason and never holds the input, so
FastAPI answers 422 through the app's validation handler (`invalid_body`, which never echoes a value: the error
code, a message naming the field, and the fields) instead of a 500 later on. `unexpected_error_line` is how a bug is
logged: type and place, never the message.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic_core import PydanticCustomError

NON_FINITE = "non_finite_number"  # NaN, Infinity, -Infinity
LONE_SURROGATE = "lone_surrogate"  # a \ud800-\udfff escape without its pair
DUPLICATE_KEY = "duplicate_key"  # the same member name twice in one object
NOT_UTF8 = "not_utf8"  # RFC 8259 §8.1: JSON between systems is UTF-8
NUMBER_TOO_LONG = "number_too_long"  # an integer over Python's 4,300-digit conversion limit
TOO_DEEP = "too_deep"  # nesting deeper than the parser's recursion limit
REASONS = (NON_FINITE, LONE_SURROGATE, DUPLICATE_KEY, NOT_UTF8, NUMBER_TOO_LONG, TOO_DEEP)
# Only a \u escape of a surrogate can leave a lone one after strict UTF-8 decoding; cheap to look for first.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_constant(name: str) -> Any:
    raise ValueError(NON_FINITE)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e400 overflows to Infinity
        raise ValueError(NON_FINITE)
    return value


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError(DUPLICATE_KEY)
    return out


def loads_strict(body: bytes) -> Any:
    """The decoded body; raises json.JSONDecodeError (message: one of REASONS, or json's own) on anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(NOT_UTF8, "", exc.start) from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                           object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise json.JSONDecodeError(exc.msg, "", exc.pos) from None  # no copy of the body on the error
    except ValueError as exc:  # a reason from the hooks above, else int()'s digit limit
        raise json.JSONDecodeError(str(exc) if str(exc) in REASONS else NUMBER_TOO_LONG, "", 0) from None
    except RecursionError:
        raise json.JSONDecodeError(TOO_DEEP, "", 0) from None
    match = _SURROGATE_ESCAPE.search(text)
    if match is not None:
        try:  # a valid pair decodes to one character; only a lone surrogate fails to encode
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise json.JSONDecodeError(LONE_SURROGATE, "", match.start()) from None
    return value


def json_integer(value: Any) -> Any:
    """A BeforeValidator giving JSON Schema's "integer": an int or an integral float (5.0), never a boolean (Python's
    True == 1) or a string of digits (pydantic's lax mode takes both). What follows (int, ge, le) checks the rest."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer (a JSON number, not a boolean or text)")
    return value


class StrictJSONRequest(Request):
    """A request whose `json()` is `loads_strict` (FastAPI reads every JSON body through it)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """The app's route class: hands each endpoint a `StrictJSONRequest` (FastAPI's documented custom-Request way)."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Any:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler


def _loc_part(part: Any) -> str | int:
    """One step of an error's location; a field name the client made up is cut to 64 characters."""
    return part if isinstance(part, int) else str(part)[:64]


def invalid_body(errors: Sequence[Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """(error code, message, fields) of the 422 for FastAPI's validation errors: where and what (type, message),
    never the input itself, which FastAPI's default handler echoes (and which broke JSON encoding for NaN and lone
    surrogates: a 500). The code is the first error's: a strict-JSON reason (REASONS), `json_invalid`,
    `unknown_field` (a field the schema does not have) or `invalid_field`; the message names that field."""
    fields = []
    for error in errors:
        kind, msg = error.get("type", "invalid"), str(error.get("msg", ""))
        if kind == "json_invalid":  # from loads_strict or json itself: neither message holds the body
            cause = str(error.get("ctx", {}).get("error", ""))
            kind, msg = (cause if cause in REASONS else kind), f"JSON decode error: {cause}"
        fields.append({"type": kind, "loc": [_loc_part(p) for p in error.get("loc", ())], "msg": msg})
    if not fields:
        return "invalid_field", "invalid request", fields
    first = fields[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    if first["type"] in (*REASONS, "json_invalid"):
        return first["type"], f"the body is not strict JSON ({first['msg']}): send RFC 8259 JSON, UTF-8, " \
                                "no NaN or Infinity, no duplicate keys, no lone surrogates", fields
    if first["type"] == "extra_forbidden":
        return "unknown_field", f"unknown field {where}: remove it (the fields are listed in /openapi.json)", fields
    more = f" (and {len(fields) - 1} more in error.fields)" if len(fields) > 1 else ""
    return "invalid_field", f"invalid field {where}: {first['msg']}{more}", fields


def unexpected_error_line(method: str, route: str, exc: BaseException) -> str:
    """A bug, in one log line: the exception type and where it was raised, without its message or a traceback
    (either may quote a customer id, a query or a body)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else "?"
    return f"{method} {route}: unexpected {type(exc).__name__} at {where} (message withheld: it may hold data)"
