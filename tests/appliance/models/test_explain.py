"""intent_reasons: the one explanation rule of the library and the HTTP API (share of the user x item intent
weight, top n, a weak reason after the first dropped, 4 decimals)."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.models.explain import intent_reasons

LABELS = ("lipstick", "skincare", "fragrance")

CASES = {  # user intents (K,), item intents (n_items, K), keyword arguments -> reasons per item
    "shares, strongest first": ([0.5, 0.5, 0], [[0.8, 0.2, 0]], {}, [[("lipstick", 0.8), ("skincare", 0.2)]]),
    "user weights count": ([0.75, 0.25, 0.0], [[0.5, 0.5, 0.0]], {}, [[("lipstick", 0.75), ("skincare", 0.25)]]),
    "second reason under 5% dropped": ([1, 1, 0], [[0.97, 0.03, 0]], {}, [[("lipstick", 0.97)]]),
    "second reason at min_share kept": ([1, 1, 1], [[0.25, 0.75, 0]], {"min_share": 0.25},
                                        [[("skincare", 0.75), ("lipstick", 0.25)]]),
    "second reason under min_share dropped": ([1, 1, 1], [[0.25, 0.75, 0]], {"min_share": 0.5}, [[("skincare", 0.75)]]),
    "n=1": ([1, 1, 1], [[0.2, 0.3, 0.5]], {"n": 1}, [[("fragrance", 0.5)]]),
    "n=3": ([1, 1, 1], [[0.2, 0.3, 0.5]], {"n": 3}, [[("fragrance", 0.5), ("skincare", 0.3), ("lipstick", 0.2)]]),
    "ties keep intent order": ([1, 1, 0], [[0.5, 0.5, 0]], {}, [[("lipstick", 0.5), ("skincare", 0.5)]]),
    "rounded to 4 places": ([1, 1, 1], [[1, 1, 1]], {}, [[("lipstick", 0.3333), ("skincare", 0.3333)]]),
    "no link: first intent, share 0": ([0, 1, 0], [[1, 0, 0]], {}, [[("lipstick", 0.0)]]),
    "one list per item": ([0, 0, 1], [[0, 0, 1], [0, 1, 1]], {}, [[("fragrance", 1.0)], [("fragrance", 1.0)]]),
    "no items": ([1, 1, 1], np.zeros((0, 3)), {}, []),
}


@pytest.mark.parametrize(("user", "items", "kwargs", "expected"), CASES.values(), ids=CASES.keys())
def test_intent_reasons(user: list[float], items: list[list[float]], kwargs: dict[str, float],
                        expected: list[list[tuple[str, float]]]) -> None:
    got = intent_reasons(np.asarray(user, dtype=np.float32), np.asarray(items, dtype=np.float32), LABELS, **kwargs)
    assert got == expected
    assert all(isinstance(share, float) for reasons in got for _, share in reasons)
