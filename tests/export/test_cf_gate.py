"""The CF export's int8 gate scores validation a batch of customers at a time (export/cf.py `_ndcg10`): the same
NDCG@10 as one pass over every customer, without the (customers x items) matrix that at 10x Beauty is 108 GB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from appliance.data.splits import split_from_sequences
from appliance.models.metrics import rank_metrics
from export.cf import _ndcg10, onnx_scores, scorer_graph


@pytest.mark.parametrize("batch", [1, 7, 64, 10_000])
def test_batched_gate_ndcg_equals_one_pass(tmp_path: Path, batch: int) -> None:
    rng = np.random.default_rng(3)
    n_users, n_items, dim = 50, 40, 8
    split = split_from_sequences([rng.choice(n_items, size=rng.integers(3, 9), replace=False) for _ in range(n_users)],
                                 n_items)
    user_emb = rng.standard_normal((n_users, dim)).astype(np.float32)
    path = tmp_path / "scorer.onnx"
    onnx.save(scorer_graph(rng.standard_normal((n_items, dim)).astype(np.float32)), str(path))
    users = np.flatnonzero(np.diff(split.valid.indptr) > 0)
    whole = rank_metrics(onnx_scores(path, user_emb[users]), split.history("valid")[users], split.valid[users],
                         (10,))["ndcg@10"]
    assert whole > 0  # random embeddings still rank some held-out items in the top 10 of 40
    assert _ndcg10(path, user_emb, split, users, batch=batch) == pytest.approx(whole, rel=1e-6)


def test_gate_and_validation_batches_shrink_on_large_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1.2M items 2,048 customers are 10 GB of scores: the gate and LightGCN's validation take fewer rows per batch
    (appliance.models.metrics.rows_per_batch), with the same result."""
    from appliance.models import metrics
    from appliance.models.graph_cf import validation_recall
    from export.cf import valid_ndcg10

    rng = np.random.default_rng(4)
    n_users, n_items, dim = 30, 40, 8
    split = split_from_sequences([rng.choice(n_items, size=rng.integers(3, 9), replace=False) for _ in range(n_users)],
                                 n_items)
    user_emb, item_emb = (rng.standard_normal((n, dim)).astype(np.float32) for n in (n_users, n_items))
    users = split.eval_users("valid")
    rows: list[int] = []

    def score(part: np.ndarray) -> np.ndarray:
        rows.append(len(part))
        return user_emb[part] @ item_emb.T

    wide, recall = valid_ndcg10(score, split, users), validation_recall(user_emb, item_emb, split, k=5)
    assert rows == [len(users)]
    assert metrics.rows_per_batch(1_210_000, 2048) == 27 and metrics.rows_per_batch(10, 2048) == 2048
    monkeypatch.setattr(metrics, "_MAX_BATCH_CELLS", 3 * n_items)  # three customers' scores per batch
    rows.clear()
    assert valid_ndcg10(score, split, users) == pytest.approx(wide, rel=1e-6) and max(rows) == 3
    assert validation_recall(user_emb, item_emb, split, k=5) == pytest.approx(recall, rel=1e-6)
