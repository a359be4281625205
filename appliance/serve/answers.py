"""What every bundle kind answers with (a list of `Recommendation`s in an `Answer`), the sku -> item index lookup
and the small file readers they share, so that each bundle module (service.py: CF and generative; sequential.py:
SASRec) imports these and no bundle module imports another. Plain dataclasses and numpy: no torch
(tests/test_imports.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from appliance.serve.errors import RequestError, ServeError


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


def key_id(users: dict[str, int]) -> str | None:
    """The pseudonym key the bundle's users were stored under (one key per export: rotation re-keys every user)."""
    from anonymize.pseudonym import token_key_id

    return token_key_id(next(iter(users))) if users else None


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def optional_array(path: Path) -> np.ndarray | None:
    return np.load(path) if path.is_file() else None


def verified_manifest(path: Path, public_keys: Sequence[Any], kind: str, what: str) -> Any:
    """Verify a bundle's signatures (export.bundle.verify_bundle) and refuse one of another kind."""
    from export.bundle import verify_bundle  # lazy: the plain answer types above need no bundle code

    manifest = verify_bundle(path, public_keys)
    found = manifest.data.get("meta", {}).get("kind")
    if found != kind:
        raise ServeError(f"bundle {path} is not a {what} bundle (kind {found})")
    return manifest
