"""Rank fusion of several recommenders' top lists into one (the served "hybrid"), with weights fitted on validation.

Each component contributes its top-M list per user (history masked). Two fusion rules, chosen with the weights on
validation NDCG@10: weighted reciprocal-rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009: w / (60 + rank)) and
weighted min-max score fusion (Fox & Shaw's CombSUM over per-list min-max normalised scores; an item outside a list
adds 0). The weights come from a coordinate search over a fixed grid (the first component's weight stays 1), which
is what tuning a linear fusion on a held-out split amounts to with two or three components. `recency_weighted`
gives item-kNN's history rows weighted by recency (decay ** steps since the item's latest occurrence; DESIGN.md
measured such a decay stronger than the plain sum on Beauty), the decay also chosen on validation. Numpy and scipy
only: the torch-free serving runtime (appliance/serve/sequential.py) fuses live with these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from appliance.models.contract import mask_history, top_k

RRF_K = 60  # reciprocal-rank constant of Cormack et al. (2009), used unchanged by most fusion work since
CANDIDATES = 100  # top-M per component: a target below rank 100 in every list rarely reaches a fused top 10
METHODS = ("minmax", "rrf")
WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)  # relative to the first component's 1.0
SEARCH_PASSES = 2  # coordinate-search sweeps; a second sweep rarely moves a weight, a third never did in tests
FIT_METRIC = "ndcg@10"


@dataclass(frozen=True)
class TopLists:
    """Per-row ranked candidates of one component: items (n, M) int64, best first, -1 padded; scores (n, M)."""

    items: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class FusionFit:
    """Fitted fusion: component order, rule, weights (same order), and validation NDCG@10 of every single
    component and of the fused list ("hybrid")."""

    components: tuple[str, ...]
    method: str
    weights: tuple[float, ...]
    scores: dict[str, float] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)  # components' own fitted settings, e.g. item-kNN recency

    def to_json(self) -> dict[str, object]:
        return {"components": list(self.components), "method": self.method, "weights": list(self.weights),
                "candidates": CANDIDATES, "rrf_k": RRF_K, "scores": self.scores, "params": self.params}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FusionFit:
        return cls(tuple(data["components"]), str(data["method"]),  # type: ignore[arg-type]
                   tuple(float(w) for w in data["weights"]), dict(data.get("scores", {})),  # type: ignore[arg-type]
                   dict(data.get("params", {})))  # type: ignore[arg-type]


def top_lists(scores: np.ndarray, history: sp.csr_matrix | None = None, rows: np.ndarray | None = None,
              m: int = CANDIDATES) -> TopLists:
    """The top-`m` items of each row of `scores` (B, n_items), with `history[rows]` masked when given."""
    scores = np.asarray(scores, dtype=np.float32)
    if history is not None:
        scores = mask_history(scores, history, np.arange(len(scores)) if rows is None else rows)
    items = top_k(scores, m)
    vals = np.take_along_axis(scores, np.maximum(items, 0), axis=1)
    return TopLists(items, np.where(items >= 0, vals, 0.0).astype(np.float32))


def stack(parts: Sequence[TopLists]) -> TopLists:
    """Row-wise concatenation of batches of one component."""
    width = max((p.items.shape[1] for p in parts), default=0)
    pad = [(np.pad(p.items, ((0, 0), (0, width - p.items.shape[1])), constant_values=-1),
            np.pad(p.scores, ((0, 0), (0, width - p.scores.shape[1])))) for p in parts]
    return TopLists(np.concatenate([i for i, _ in pad]), np.concatenate([s for _, s in pad]))


def normalized(lists: TopLists, method: str) -> np.ndarray:
    """(n, M) contribution of each listed item before weighting; 0 for padding."""
    valid = lists.items >= 0
    if method == "rrf":
        ranks = np.arange(1, lists.items.shape[1] + 1, dtype=np.float32)
        return np.where(valid, 1.0 / (RRF_K + ranks), 0.0).astype(np.float32)
    if method != "minmax":
        raise ValueError(f"unknown fusion method {method!r}: use one of {', '.join(METHODS)}")
    high = np.where(valid, lists.scores, -np.inf).max(axis=1, initial=-np.inf)[:, None]
    low = np.where(valid, lists.scores, np.inf).min(axis=1, initial=np.inf)[:, None]
    span = np.where(high > low, high - low, 1.0)
    norm = np.where(high > low, (lists.scores - low) / span, 1.0)  # one distinct score: every listed item 1
    return np.where(valid, norm, 0.0).astype(np.float32)


def fuse(components: Sequence[TopLists], weights: Sequence[float], method: str, k: int) -> TopLists:
    """(n, <=k) fused top lists: per item, the sum over components of weight x normalised contribution; ties go to
    the lower item index. Items of no list with a positive weight never appear (the lists were history-masked).
    All weights 0 is taken as the first component alone."""
    n = len(components[0].items)
    used = [(c, w) for c, w in zip(components, weights, strict=True) if w > 0] or [(components[0], 1.0)]
    items = np.concatenate([c.items for c, _ in used], axis=1)  # (n, C*M)
    contrib = np.concatenate([w * normalized(c, method) for c, w in used], axis=1)
    keep = items >= 0
    rows = np.repeat(np.arange(n), items.shape[1]).reshape(items.shape)[keep]
    n_cols = int(items.max(initial=-1)) + 1
    summed = sp.csr_matrix((contrib[keep], (rows, items[keep])), shape=(n, max(n_cols, 1)))  # sums duplicates
    summed.sum_duplicates()  # also sorts each row's columns: equal scores then rank the lower index first
    lengths = np.diff(summed.indptr)
    width = int(lengths.max(initial=0))
    pos = np.arange(summed.nnz) - np.repeat(summed.indptr[:-1], lengths)
    dense_items = np.full((n, width), -1, dtype=np.int64)
    dense_vals = np.full((n, width), -np.inf, dtype=np.float32)
    row_of = np.repeat(np.arange(n), lengths)
    dense_items[row_of, pos], dense_vals[row_of, pos] = summed.indices, summed.data
    order = top_k(dense_vals, min(k, width)) if width else np.zeros((n, 0), dtype=np.int64)
    picked = np.where(order >= 0, np.take_along_axis(dense_items, np.maximum(order, 0), axis=1), -1)
    vals = np.where(order >= 0, np.take_along_axis(dense_vals, np.maximum(order, 0), axis=1), 0.0)
    return TopLists(picked, vals.astype(np.float32))


def list_ndcg(top: np.ndarray, heldout: sp.csr_matrix, k: int = 10) -> tuple[float, float]:
    """Mean (Recall@k, NDCG@k) of ranked lists `top` (n, >=k) against `heldout` rows (n, n_items), over the rows with
    held-out items; the conventions of appliance.models.metrics (binary gains, ideal DCG of min(k, |held-out|))."""
    heldout = sp.csr_matrix(heldout)
    n_held = np.diff(heldout.indptr)
    rows = np.flatnonzero(n_held > 0)
    if not len(rows):
        return float("nan"), float("nan")
    top = top[rows, :k]
    coo = heldout[rows].tocoo()
    width = heldout.shape[1]
    keys = np.sort(coo.row.astype(np.int64) * width + coo.col)
    hits = np.isin(np.arange(len(rows), dtype=np.int64)[:, None] * width + top, keys) & (top >= 0)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.minimum(k, n_held[rows]) - 1]
    recall = hits.sum(axis=1) / n_held[rows]
    return float(recall.mean()), float(((hits * discount).sum(axis=1) / ideal).mean())


def fit_fusion(components: Mapping[str, TopLists], heldout: sp.csr_matrix, *, methods: Sequence[str] = METHODS,
               grid: Sequence[float] = WEIGHT_GRID, passes: int = SEARCH_PASSES) -> FusionFit:
    """Rule and weights maximising NDCG@10 of the fused lists against `heldout` (the validation items), by a
    coordinate search over `grid` from equal weights; the first component (put the strongest one first) keeps
    weight 1. `scores` holds each single component's NDCG@10 and the fused one's ("hybrid")."""
    names = tuple(components)
    lists = [components[n] for n in names]
    scores = {n: list_ndcg(c.items, heldout)[1] for n, c in components.items()}
    best: tuple[float, str, tuple[float, ...]] = (-1.0, METHODS[0], (1.0,) + (0.0,) * (len(names) - 1))
    for method in methods:
        weights = [1.0] * len(names)
        current = list_ndcg(fuse(lists, weights, method, 10).items, heldout)[1]
        for _ in range(passes):
            for c in range(1, len(names)):
                for w in grid:
                    trial = [*weights[:c], w, *weights[c + 1:]]
                    value = list_ndcg(fuse(lists, trial, method, 10).items, heldout)[1]
                    if value > current + 1e-12:
                        current, weights = value, trial
        if current > best[0]:
            best = (current, method, tuple(weights))
    return FusionFit(names, best[1], best[2], {**scores, "hybrid": best[0]})


def recency_weighted(sequences: Sequence[np.ndarray], n_items: int, decay: float) -> sp.csr_matrix:
    """(len(sequences), n_items) history rows for item-kNN scoring: item i of a sequence (oldest first) weighs
    decay ** (steps back from the newest item to i's latest occurrence); decay 1.0 is the plain binary row."""
    rows, cols, vals = [], [], []
    for row, seq in enumerate(sequences):
        newest_first = np.asarray(seq, dtype=np.int64)[::-1]
        items, back = np.unique(newest_first, return_index=True)  # back: steps from the newest, latest occurrence
        rows.append(np.full(len(items), row, dtype=np.int64))
        cols.append(items)
        vals.append(np.power(float(decay), back).astype(np.float32))
    if not rows:
        return sp.csr_matrix((0, n_items), dtype=np.float32)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(len(sequences), n_items), dtype=np.float32)
