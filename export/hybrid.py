"""The hybrid recommender of issue 15 (part 4): rank fusion of SASRec (Kang & McAuley, ICDM 2018) and item-kNN
(Sarwar et al., WWW 2001; appliance/models/baselines.py) with rule and weights fitted on the validation split
(appliance/models/fusion.py), and what a hybrid bundle adds to a SASRec bundle.

`fit_hybrid` ranks the validation users with both components (each model as it stands before the validation stage:
SASRec's validation inputs, item-kNN fitted on the training interactions, its history rows weighted by recency with
the decay of RECENCY_GRID that scores best alone) and fits the fusion; `export_best`
(export/sasrec.py) compares its validation NDCG@10 with every single model's and exports a hybrid bundle when it
wins. The bundle then carries the item-kNN similarity fitted on every known interaction (`knn_similarity.npz`, so a
posted history is scored live without torch) and `fusion.json`; its precomputed lists are the fused ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from appliance.data.splits import Split
from appliance.models.baselines import ItemKNNRecommender, item_similarity
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
from appliance.serve.sequential import FUSION_FILE, KNN_FILE, KNN_RECENCY

SASREC, KNN, HYBRID = "sasrec", "item-knn", "hybrid"  # the model names a hybrid bundle answers to
RECENCY_GRID = (1.0, 0.8, 0.6, 0.4)  # 1.0 = plain item-kNN; DESIGN.md found 0.6 best on Beauty validation
_BATCH = 1024  # users per scoring batch: (1024, n_items) float32 stays small on a book-sized catalog


def _batches(users: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(users), _BATCH):
        yield users[start:start + _BATCH]


def sasrec_lists(split: Split, sasrec: Any, stage: str, users: np.ndarray) -> TopLists:
    """Top-CANDIDATES lists of `users` at `stage` (history masked) from SASRec (torch)."""
    history = split.history(stage)
    return stack([top_lists(sasrec.score(part, stage), history[part]) for part in _batches(users)])


def knn_lists(split: Split, knn: ItemKNNRecommender, stage: str, users: np.ndarray, decay: float) -> TopLists:
    """Top-CANDIDATES lists of `users` at `stage` from item-kNN over their recency-weighted history rows."""
    history, sequences = split.history(stage), split.sequences(stage)
    parts = []
    for part in _batches(users):
        rows = recency_weighted([sequences[u] for u in part], split.n_items, decay)
        parts.append(top_lists((rows @ knn.similarity[stage]).toarray(), history[part]))
    return stack(parts)


def _stage_users(split: Split, stage: str) -> np.ndarray:
    return np.flatnonzero(np.diff(split.heldout(stage).indptr) > 0)


def fit_knn(home: Any, split: Split) -> ItemKNNRecommender:
    knn = ItemKNNRecommender(home.config.eval)
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


def write_hybrid(staging: Path, fit: FusionFit, sequences: list[np.ndarray], known: sp.csr_matrix,
                 sasrec_top: TopLists, shrink: float, neighbours: int) -> TopLists:
    """Write the item-kNN table fitted on `known` (every known interaction) and fusion.json into a bundle being
    built; returns the fused precomputed lists of every user from their SASRec lists (`sasrec_top`, history
    masked) and item-kNN's over their whole known `sequences`."""
    import json

    similarity = item_similarity(known, shrink, neighbours)
    sp.save_npz(staging / KNN_FILE, similarity.astype(np.float32).tocsr())
    (staging / FUSION_FILE).write_text(json.dumps(fit.to_json(), sort_keys=True) + "\n", encoding="utf-8")
    decay = fit.params.get(KNN_RECENCY, 1.0)
    knn_parts = [top_lists((recency_weighted([sequences[u] for u in part], known.shape[1], decay) @ similarity)
                           .toarray(), known, part, CANDIDATES) for part in _batches(np.arange(known.shape[0]))]
    lists = {SASREC: sasrec_top, KNN: stack(knn_parts)}
    return fuse([lists[n] for n in fit.components], fit.weights, fit.method, sasrec_top.items.shape[1])
