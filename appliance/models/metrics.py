"""Top-K ranking metrics over the full item set with the user's history masked (numpy only, no torch).

Conventions (LightGCN / RLMRec / IRLLRec code, and the SASRec-style leave-one-out papers):
- Full ranking: every item is ranked; the user's history items (`Split.history(stage)`) are set to -inf first.
- Ties are broken deterministically: equal scores rank the lower item index first (`appliance.models.contract.top_k`).
- Recall@K = hits in the top K / |held-out items| (not / min(K, |held-out|)).
- NDCG@K: binary gains, DCG = sum over hits of 1 / log2(rank + 1) (rank 1 = top), divided by the ideal DCG of
  min(K, |held-out|) hits. With one held-out item (leave-one-out) Recall@K is the hit rate HR@K.
- Users with no held-out items at the stage are excluded from the mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from rich.progress import Progress

from appliance.models.contract import Recommender, mask_history, top_k

if TYPE_CHECKING:
    from appliance.data.splits import Split

_MAX_BATCH_CELLS = 1 << 25  # scores per batch (128 MB float32): caps batch_users on very large catalogs


def rows_per_batch(n_items: int, wanted: int) -> int:
    """Customers to score at once: `wanted`, fewer when (customers x items) float32 scores would pass
    _MAX_BATCH_CELLS (at 1.2M items, 2,048 customers would hold 10 GB of scores, and masking copies them)."""
    return max(1, min(wanted, _MAX_BATCH_CELLS // max(n_items, 1)))


def rank_metrics(scores: np.ndarray, history: sp.csr_matrix, heldout: sp.csr_matrix,
                 ks: Sequence[int] = (5, 10, 20)) -> dict[str, float]:
    """Mean Recall@K and NDCG@K over the rows with held-out items.

    Args:
        scores: (B, n_items) model scores (not modified).
        history: (B, n_items) items to mask. heldout: (B, n_items) items to find.
    Returns: {"recall@K": ..., "ndcg@K": ...} for each K; NaN when no row has held-out items.
    """
    sums, n = _metric_sums(scores, sp.csr_matrix(history), sp.csr_matrix(heldout), ks)
    return {key: (value / n if n else float("nan")) for key, value in sums.items()}


def _metric_sums(scores: np.ndarray, history: sp.csr_matrix, heldout: sp.csr_matrix,
                 ks: Sequence[int]) -> tuple[dict[str, float], int]:
    """Per-metric sums over rows with held-out items, and the number of such rows."""
    if scores.shape != heldout.shape or scores.shape != history.shape:
        raise ValueError(f"shapes differ: scores {scores.shape}, history {history.shape}, heldout {heldout.shape}")
    n_held = np.diff(heldout.indptr)
    rows = np.flatnonzero(n_held > 0)
    kmax = max(ks)
    if len(rows) == 0:
        return {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg")}, 0
    selected = np.asarray(scores[rows], dtype=np.float32)  # fancy indexing copies: masking in place is safe
    top = top_k(mask_history(selected, history, rows, copy=False), kmax)  # (R, <=kmax)
    hits = _is_heldout(heldout[rows], top)  # (R, <=kmax) bool
    n_held = n_held[rows]
    discount = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))  # rank 1 -> 1/log2(2)
    ideal_cum = np.cumsum(1.0 / np.log2(np.arange(2, kmax + 2)))
    sums: dict[str, float] = {}
    for k in ks:
        hit_k = hits[:, :k]
        sums[f"recall@{k}"] = float((hit_k.sum(axis=1) / n_held).sum())
        idcg = ideal_cum[np.minimum(k, n_held) - 1]
        sums[f"ndcg@{k}"] = float(((hit_k * discount[: hit_k.shape[1]]).sum(axis=1) / idcg).sum())
    return sums, len(rows)


def _is_heldout(heldout: sp.csr_matrix, top: np.ndarray) -> np.ndarray:
    """(R, k) whether top[r, j] is a held-out item of row r (-1 padding is never one)."""
    n_items = heldout.shape[1]
    coo = heldout.tocoo()
    keys = np.sort(coo.row.astype(np.int64) * n_items + coo.col)
    query = np.arange(top.shape[0], dtype=np.int64)[:, None] * n_items + top
    return np.isin(query, keys) & (top >= 0)


def evaluate(model: Recommender, split: Split, stage: str = "test", ks: Sequence[int] = (5, 10, 20),
             batch_users: int = 1024, *, progress: bool = False) -> dict[str, float]:
    """Mean Recall@K / NDCG@K of a fitted model at `stage` over users with held-out items (full ranking).

    Users are scored `batch_users` at a time, fewer when the catalog is so large that a batch would exceed
    _MAX_BATCH_CELLS scores.
    """
    heldout, history = split.heldout(stage), split.history(stage)
    users = split.eval_users(stage)  # every customer with held-out items, or the split's evaluation sample
    totals = {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg")}
    count = 0
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(f"ranking {model.name}", total=len(users))
        step = rows_per_batch(split.n_items, batch_users)
        for start in range(0, len(users), step):
            batch = users[start:start + step]
            scores = model.score(batch, stage)
            sums, n = _metric_sums(scores, history[batch], heldout[batch], ks)
            totals = {key: totals[key] + sums[key] for key in totals}
            count += n
            bar.advance(task, len(batch))
    return {key: (value / count if count else float("nan")) for key, value in totals.items()}
