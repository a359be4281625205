"""What every bundle kind answers with (a list of `Recommendation`s in an `Answer`) and the sku -> item index
lookup they share, so that each bundle module (service.py: CF and generative; sequential.py: SASRec) imports these
and no bundle module imports another. Plain dataclasses and numpy: no torch (tests/test_imports.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from appliance.serve.errors import RequestError


@dataclass(frozen=True)
class Recommendation:
    sku: str
    title: str
    score: float
    because: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    items: list[Recommendation]
    source: str  # "cached" (precomputed top-K) or "live"
    bundle: str


def sku_indices(sku_index: dict[str, int], skus: Sequence[str], *, strict: bool) -> np.ndarray:
    """Bundle item indices of `skus`; an unknown sku raises RequestError when `strict`, else it is dropped."""
    idx = [sku_index.get(s) for s in skus]
    if strict and None in idx:
        raise RequestError(f"unknown sku {skus[idx.index(None)]!r}: not in the current bundle's catalog")
    return np.array([i for i in idx if i is not None], dtype=np.int64)
