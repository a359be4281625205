"""appliance.data.rowjson: the bounded JSON reader of ingest rows never raises anything but JSONDecodeError, agrees
with json.loads on every value it accepts, and measures nesting exactly (property tests)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.data.rowjson import MAX_JSON_DEPTH, _too_deep, invalid_reason, loads_json

SCALARS = st.none() | st.integers(-10**18, 10**18) | st.text(max_size=3) | st.floats(allow_nan=False,
                                                                                   allow_infinity=False)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=2), inner, max_size=3), max_leaves=12)


def _depth(value: Any) -> int:
    if isinstance(value, dict | list):
        inner = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(v) for v in inner), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list('[]{}",: 019eE.-+\\udN')), max_size=40))
def test_any_text_is_a_value_or_a_decode_error(text: str) -> None:
    try:
        value = loads_json(text)
    except json.JSONDecodeError:
        return
    if invalid_reason(value) is None:
        assert value == json.loads(text)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_depth_scan_and_depth_check_agree_with_the_real_depth(value: Any) -> None:
    text = json.dumps(value)
    too_deep = _depth(value) > MAX_JSON_DEPTH
    assert _too_deep(text) == too_deep
    reason = invalid_reason(loads_json(text))
    assert (reason is not None and "nested deeper" in reason) == too_deep


def test_a_200_000_deep_line_is_refused_without_recursion() -> None:
    value = loads_json("[" * 200_000 + "]" * 200_000)
    assert "nested deeper than 4 levels" in invalid_reason(value)
