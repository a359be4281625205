"""What a hybrid bundle adds to a SASRec bundle (issue 15, part 4): the item-kNN table fitted on every known
interaction (`knn_similarity.npz`, so a posted history is scored live without torch), the fusion fitted on
validation (`fusion.json`), and precomputed lists that are the fused ones. The model itself (fusion of SASRec and
recency item-kNN, weights fitted on the validation split) lives in appliance/models/hybrid.py; `export_best`
(export/sasrec.py) compares its validation NDCG@10 with every single model's and exports a hybrid bundle when it wins.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from appliance.models.baselines import item_similarity
from appliance.models.fusion import CANDIDATES, FusionFit, TopLists, fuse, recency_weighted, stack, top_lists
from appliance.models.hybrid import KNN, SASREC, batches
from appliance.serve.sequential import FUSION_FILE, KNN_FILE, KNN_RECENCY


def write_hybrid(staging: Path, fit: FusionFit, sequences: list[np.ndarray], known: sp.csr_matrix,
                 sasrec_top: TopLists, shrink: float, neighbours: int) -> TopLists:
    """Write the item-kNN table fitted on `known` (every known interaction) and fusion.json into a bundle being
    built; returns the fused precomputed lists of every user from their SASRec lists (`sasrec_top`, history
    masked) and item-kNN's over their whole known `sequences`."""
    similarity = item_similarity(known, shrink, neighbours)
    sp.save_npz(staging / KNN_FILE, similarity.astype(np.float32).tocsr())
    (staging / FUSION_FILE).write_text(json.dumps(fit.to_json(), sort_keys=True) + "\n", encoding="utf-8")
    decay = fit.params.get(KNN_RECENCY, 1.0)
    knn_parts = [top_lists((recency_weighted([sequences[u] for u in part], known.shape[1], decay) @ similarity)
                           .toarray(), known, part, CANDIDATES) for part in batches(np.arange(known.shape[0]))]
    lists = {SASREC: sasrec_top, KNN: stack(knn_parts)}
    return fuse([lists[n] for n in fit.components], fit.weights, fit.method, sasrec_top.items.shape[1])
