"""Strict JSON request bodies for the HTTP API: I-JSON (RFC 7493 §2.1) on top of RFC 8259.

Python's `json` accepts NaN and Infinity (RFC 8259 §6 forbids them), lone surrogates such as "\\ud800" (I-JSON
§2.1: MUST NOT) and duplicate member names (I-JSON §2.3: MUST NOT; the last one would silently win). Each is
rejected here as a `json.JSONDecodeError` whose message is a machine-readable reason and never holds the input, so
FastAPI answers 422 through the app's validation handler (`invalid_body`, which never echoes a value) instead of a
500 later on. `unexpected_error_line` is how a bug is logged: type and place, never the message.
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


def invalid_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The 422 body for FastAPI's validation errors: where and what (type, message), never the input itself, which
    FastAPI's default handler echoes (and which broke JSON encoding for NaN and lone surrogates: a 500)."""
    detail = []
    for error in errors:
        kind, msg = error.get("type", "invalid"), str(error.get("msg", ""))
        if kind == "json_invalid":  # from loads_strict or json itself: neither message holds the body
            cause = str(error.get("ctx", {}).get("error", ""))
            kind, msg = (cause if cause in REASONS else kind), f"JSON decode error: {cause}"
        detail.append({"type": kind, "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
                       "msg": msg})
    reason = detail[0]["type"] if detail and detail[0]["type"] in (*REASONS, "json_invalid") else "invalid_field"
    return {"detail": detail, "reason": reason}


def unexpected_error_line(method: str, route: str, exc: BaseException) -> str:
    """A bug, in one log line: the exception type and where it was raised, without its message or a traceback
    (either may quote a customer id, a query or a body)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else "?"
    return f"{method} {route}: unexpected {type(exc).__name__} at {where} (message withheld: it may hold data)"
