"""The contract every recommender meets (fit on a Split, score users, save/load) and the ranking helpers the
models and the harness share (RecBole's `full_sort_predict` contract, minus the framework). The registry of
named models lives in appliance.models.registry, so models never import the module that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from appliance.data.splits import Split


@dataclass(frozen=True)
class FitInfo:
    """What a fit reports back (all optional beyond the time taken)."""

    seconds: float = 0.0  # wall time of fit()
    epochs: int = 0  # 0 for closed-form models
    best_epoch: int = 0  # epoch whose weights were kept (early stopping)
    best_score: float = float("nan")  # validation metric at best_epoch
    extra: dict[str, float] = field(default_factory=dict)  # model-specific figures (loss parts, sizes)


@runtime_checkable
class Recommender(Protocol):
    name: str

    def fit(self, split: Split) -> FitInfo | None: ...

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(len(users), n_items) float32 scores; the harness masks history."""
        ...

    def save(self, directory: Path) -> None:
        """Write the model with its resolved config as JSON."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Recommender: ...


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(B, k) indices of the k highest scores per row, best first; ties go to the lower item index.

    Exact and deterministic without a full sort. Large catalogs (`_top_k_blocks`): a lower bound on each row's k-th
    score from block maxima, then an exact sort of the few items at or above it. Otherwise, or when too many items
    reach the bound (wide ties): argpartition finds k candidates; where items equal to the k-th value were left out,
    the row is redone taking everything above that value and then the equal items in index order. Rows with fewer
    than k finite scores are padded with -1.
    """
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN: the model produced invalid output")
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    if k <= 0:
        return np.zeros((n_rows, 0), dtype=np.int64)
    if -(-n_items // TOP_K_BLOCK) >= 4 * k:
        out = _top_k_blocks(scores, k)
        if out is not None:
            return out
    cols = np.argpartition(scores, n_items - k, axis=1)[:, n_items - k:]  # (B, k) unordered candidates
    vals = np.take_along_axis(scores, cols, axis=1)
    kth = vals.min(axis=1)  # (B,) the k-th largest value
    spilled = (scores == kth[:, None]).sum(axis=1) != (vals == kth[:, None]).sum(axis=1)
    for row in np.flatnonzero(spilled):  # only rows whose tie at the k-th value was cut
        cols[row] = _exact_row(scores[row], kth[row], k)
    vals = np.take_along_axis(scores, cols, axis=1)
    order = np.lexsort((cols, -vals), axis=-1)  # score descending, then index ascending
    out = np.take_along_axis(cols, order, axis=1).astype(np.int64)
    out[np.take_along_axis(vals, order, axis=1) == -np.inf] = -1
    return out


TOP_K_BLOCK = 512  # items per block of `_top_k_blocks`
TOP_K_MAX_CANDIDATES = 64  # per row and per k: more items at or above the bound (wide ties) fall back to argpartition


def _top_k_blocks(scores: np.ndarray, k: int) -> np.ndarray | None:
    """`top_k` through block maxima, 6.8x less CPU than argpartition on a 121k-item catalog (docs/BENCHMARKS.md,
    "Issue 17: training, evaluation and export at 10x Beauty"); None when too many items reach the bound.

    The k-th largest of a row's block maxima is at most the row's k-th largest score (k blocks each hold an item at
    least that high), so every item of the top k, ties at the k-th value included, scores at or above it; those
    candidates are sorted exactly (row, score descending, index ascending) and the first k of each row kept."""
    n_rows, n_items = scores.shape
    full = n_items // TOP_K_BLOCK
    maxima = scores[:, :full * TOP_K_BLOCK].reshape(n_rows, full, TOP_K_BLOCK).max(axis=2)
    if n_items % TOP_K_BLOCK:
        maxima = np.concatenate([maxima, scores[:, full * TOP_K_BLOCK:].max(axis=1, keepdims=True)], axis=1)
    bound = np.partition(maxima, maxima.shape[1] - k, axis=1)[:, maxima.shape[1] - k]
    reached = scores >= bound[:, None]
    if bound.min() == -np.inf or int(reached.sum()) > n_rows * k * TOP_K_MAX_CANDIDATES:
        return None
    rows, cols = np.nonzero(reached)
    vals = scores[rows, cols]
    order = np.lexsort((cols, -vals, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, np.arange(n_rows))[rows]  # place within its row
    keep = rank < k  # every row has at least k candidates (see above)
    out = np.empty((n_rows, k), dtype=np.int64)
    out[rows[keep], rank[keep]] = cols[keep]
    return out


def _exact_row(row: np.ndarray, kth: float, k: int) -> np.ndarray:
    """The k indices of one row: all above `kth`, then the lowest-index items equal to it."""
    above = np.flatnonzero(row > kth)
    return np.concatenate([above, np.flatnonzero(row == kth)[: k - len(above)]])


def mask_history(scores: np.ndarray, history: sp.csr_matrix, users: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Scores with the users' history items (rows `users` of `history`) set to -inf; in place if copy=False."""
    masked = np.array(scores, dtype=np.float32, copy=True) if copy else scores
    r, c = history[users].nonzero()
    masked[r, c] = -np.inf
    return masked


def recommend(model: Recommender, split: Split, users: np.ndarray, k: int, stage: str = "test") -> np.ndarray:
    """(len(users), k) top-k item indices per user with the stage's history masked (-1 where none is left)."""
    users = np.asarray(users, dtype=np.int64)
    scores = model.score(users, stage)
    return top_k(mask_history(scores, split.history(stage), users), k)
