"""The hybrid recommender of issue 15 (part 4): rank fusion of SASRec (Kang & McAuley, ICDM 2018) and item-kNN
(Sarwar et al., WWW 2001; appliance/models/baselines.py) with rule and weights fitted on the validation split
(appliance/models/fusion.py). What `tanaban export best` serves when it wins, and what `tanaban evaluate --model
hybrid` scores, so the served model's test figures come from one command.

`fit_hybrid` ranks the validation users with both components (each model as it stands before the validation stage:
SASRec's validation inputs, item-kNN fitted on the training interactions, its history rows weighted by recency with
the decay of RECENCY_GRID that scores best alone) and fits the fusion; the weights are never re-fitted on the stage
being reported. `HybridRecommender` wraps a fitted SASRec (the saved artifact, or one trained now) with that fit and
answers `score` with the fused lists, the other items at -inf: exactly the lists a hybrid bundle precomputes.
export/hybrid.py writes the bundle's item-kNN table and fusion file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from appliance.data.splits import Split
from appliance.models.baselines import ItemKNNRecommender
from appliance.models.contract import FitInfo
from appliance.models.fusion import (
    CANDIDATES,
    FusionFit,
    TopLists,
    fit_fusion,
    fuse,
    list_ndcg,
    recency_weighted,
    stack,
    top_lists,
)
from appliance.serve.sequential import KNN_RECENCY

SASREC, KNN, HYBRID = "sasrec", "item-knn", "hybrid"  # the model names a hybrid bundle answers to
RECENCY_GRID = (1.0, 0.8, 0.6, 0.4)  # 1.0 = plain item-kNN; DESIGN.md found 0.6 best on Beauty validation
_BATCH = 1024  # users per scoring batch: (1024, n_items) float32 stays small on a book-sized catalog


def batches(users: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(users), _BATCH):
        yield users[start:start + _BATCH]


def sasrec_lists(split: Split, sasrec: Any, stage: str, users: np.ndarray) -> TopLists:
    """Top-CANDIDATES lists of `users` at `stage` (history masked) from SASRec (torch)."""
    history = split.history(stage)
    return stack([top_lists(sasrec.score(part, stage), history[part]) for part in batches(users)])


def knn_lists(split: Split, knn: ItemKNNRecommender, stage: str, users: np.ndarray, decay: float) -> TopLists:
    """Top-CANDIDATES lists of `users` at `stage` from item-kNN over their recency-weighted history rows."""
    history, sequences = split.history(stage), split.sequences(stage)
    parts = []
    for part in batches(users):
        rows = recency_weighted([sequences[u] for u in part], split.n_items, decay)
        parts.append(top_lists((rows @ knn.similarity[stage]).toarray(), history[part]))
    return stack(parts)


def _stage_users(split: Split, stage: str) -> np.ndarray:
    return split.eval_users(stage)


def fit_knn(home_or_cfg: Any, split: Split) -> ItemKNNRecommender:
    """Item-kNN with the `[eval]` settings of a Home (or of an ApplianceConfig), fitted on `split`."""
    cfg = getattr(home_or_cfg, "config", home_or_cfg)
    knn = ItemKNNRecommender(cfg.eval)
    knn.fit(split)
    return knn


def fit_hybrid(home: Any, split: Split, sasrec: Any, knn: ItemKNNRecommender | None = None) -> FusionFit:
    """Fusion rule and weights fitted on validation NDCG@10; components ordered strongest first."""
    knn = knn or fit_knn(home, split)
    users = _stage_users(split, "valid")
    heldout = split.heldout("valid")[users]
    by_decay = {decay: knn_lists(split, knn, "valid", users, decay) for decay in RECENCY_GRID}
    decay = max(RECENCY_GRID, key=lambda d: (list_ndcg(by_decay[d].items, heldout)[1], d))  # a tie: less decay
    lists = {SASREC: sasrec_lists(split, sasrec, "valid", users), KNN: by_decay[decay]}
    single = {name: list_ndcg(c.items, heldout)[1] for name, c in lists.items()}
    order = sorted(lists, key=lambda n: (-single[n], n != SASREC))
    fit = fit_fusion({name: lists[name] for name in order}, heldout)
    return dataclasses.replace(fit, params={KNN_RECENCY: decay})


def fused_lists(split: Split, sasrec: Any, knn: ItemKNNRecommender, fit: FusionFit, stage: str, users: np.ndarray,
                k: int) -> TopLists:
    """The hybrid's top-`k` lists of `users` at `stage` (history masked), with `fit`'s weights."""
    lists = {SASREC: sasrec_lists(split, sasrec, stage, users),
             KNN: knn_lists(split, knn, stage, users, fit.params.get(KNN_RECENCY, 1.0))}
    return fuse([lists[n] for n in fit.components], fit.weights, fit.method, k)


def report_on_test(home: Any, split: Split, sasrec: Any, fit: FusionFit,
                   knn: ItemKNNRecommender | None = None) -> dict[str, dict[str, float]]:
    """Test Recall@10 / NDCG@10 of each component and of the hybrid with `fit`'s (validation) weights."""
    knn = knn or fit_knn(home, split)
    users = _stage_users(split, "test")
    lists = {SASREC: sasrec_lists(split, sasrec, "test", users),
             KNN: knn_lists(split, knn, "test", users, fit.params.get(KNN_RECENCY, 1.0))}
    heldout = split.heldout("test")[users]
    fused = fuse([lists[n] for n in fit.components], fit.weights, fit.method, 10)
    out = {name: c.items for name, c in lists.items()} | {HYBRID: fused.items}
    return {name: dict(zip(("recall@10", "ndcg@10"), list_ndcg(top, heldout), strict=True))
            for name, top in out.items()}


class HybridRecommender:
    """SASRec + recency item-kNN fused with weights fitted on validation, behind the Recommender contract.

    `sasrec` is a fitted SASRec (what `tanaban evaluate` loads from the saved artifact); without one, `fit` trains
    SASRec now with the `[sasrec]` config. `score` returns the fused top-`k` lists as scores (rank order, the other
    items -inf), so Recall/NDCG@K are exact for K <= `k` (`k` is capped at 2 x CANDIDATES, the longest fused list).
    """

    name = HYBRID

    def __init__(self, cfg: Any, sasrec: Any | None = None, k: int = CANDIDATES) -> None:
        self.cfg, self.sasrec, self.k = cfg, sasrec, min(int(k), 2 * CANDIDATES)
        self.knn: ItemKNNRecommender | None = None
        self.fusion: FusionFit | None = None
        self.split: Split | None = None
        self.progress = None  # per-epoch report of a SASRec trained now (appliance.models.training)

    def fit(self, split: Split) -> FitInfo | None:
        info = None
        if self.sasrec is None:
            from appliance.models.sasrec import make_sasrec  # torch: only when SASRec is trained now

            self.sasrec = make_sasrec(self.cfg)
            self.sasrec.progress = self.progress
            info = self.sasrec.fit(split)
        self.split, self.knn = split, fit_knn(self.cfg, split)
        self.fusion = fit_hybrid(self.cfg, split, self.sasrec, self.knn)
        return info

    def describe(self) -> str:
        """One line: rule, weights per component and item-kNN's recency decay, with the validation NDCG@10s."""
        fit = self._fitted()
        weights = ", ".join(f"{n} {w:g}" for n, w in zip(fit.components, fit.weights, strict=True))
        scores = ", ".join(f"{n} {fit.scores[n]:.4f}" for n in (*fit.components, HYBRID) if n in fit.scores)
        return (f"{fit.method} fusion, weights {weights}, item-kNN recency {fit.params.get(KNN_RECENCY, 1.0):g}; "
                f"validation NDCG@10 {scores}")

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        fit = self._fitted()
        assert self.split is not None and self.knn is not None
        users = np.asarray(users, dtype=np.int64)
        fused = fused_lists(self.split, self.sasrec, self.knn, fit, stage, users, self.k)
        out = np.full((len(users), self.split.n_items), -np.inf, dtype=np.float32)
        width = fused.items.shape[1]
        rank_scores = np.arange(width, 0, -1, dtype=np.float32)  # rank order kept; ties impossible
        rows, cols = np.nonzero(fused.items >= 0)
        out[rows, fused.items[rows, cols]] = rank_scores[cols]
        return out

    def _fitted(self) -> FusionFit:
        if self.fusion is None:
            raise RuntimeError("HybridRecommender.fit() has not run")
        return self.fusion

    def save(self, directory: Any) -> None:  # the served form is the hybrid bundle (`tanaban export best`)
        raise NotImplementedError("a hybrid is saved as a bundle: run `tanaban export best`")

    @classmethod
    def load(cls, directory: Any) -> HybridRecommender:
        raise NotImplementedError("a hybrid is loaded from its bundle by `tanaban serve`")
