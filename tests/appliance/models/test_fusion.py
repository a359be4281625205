"""Rank fusion (appliance/models/fusion.py): hand-computed normalisations and fused lists, list metrics equal to the
harness's, and a weight search that finds a complementary component."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from appliance.models.fusion import (
    RRF_K,
    FusionFit,
    TopLists,
    fit_fusion,
    fuse,
    list_ndcg,
    normalized,
    recency_weighted,
    stack,
    top_lists,
)
from appliance.models.metrics import rank_metrics


def _lists(items: list[list[int]], scores: list[list[float]]) -> TopLists:
    return TopLists(np.array(items, dtype=np.int64), np.array(scores, dtype=np.float32))


def test_normalisations_by_hand() -> None:
    lists = _lists([[4, 2, 7, -1]], [[3.0, 2.0, 1.0, 0.0]])
    np.testing.assert_allclose(normalized(lists, "minmax"), [[1.0, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(normalized(lists, "rrf"), [[1 / (RRF_K + 1), 1 / (RRF_K + 2), 1 / (RRF_K + 3), 0.0]])
    flat = _lists([[1, 2]], [[5.0, 5.0]])  # one distinct score: every listed item counts fully
    np.testing.assert_allclose(normalized(flat, "minmax"), [[1.0, 1.0]])
    with pytest.raises(ValueError, match="unknown fusion method"):
        normalized(lists, "borda")


def test_fuse_sums_an_item_listed_twice() -> None:
    a = _lists([[0, 1, 2]], [[3.0, 2.0, 1.0]])  # minmax: 0 -> 1, 1 -> 0.5, 2 -> 0
    b = _lists([[2, 1, 5]], [[9.0, 8.0, 7.0]])  # minmax: 2 -> 1, 1 -> 0.5, 5 -> 0
    fused = fuse([a, b], [1.0, 0.6], "minmax", 4)
    # 0: 1.0; 1: 0.5 + 0.3 = 0.8; 2: 0 + 0.6; 5: 0 -> order 0, 1, 2, 5
    assert fused.items.tolist() == [[0, 1, 2, 5]]
    np.testing.assert_allclose(fused.scores, [[1.0, 0.8, 0.6, 0.0]], rtol=1e-6)
    equal = fuse([a, b], [1.0, 1.0], "minmax", 2)  # 0: 1, 1: 1, 2: 1 -> the lower index first
    assert equal.items.tolist() == [[0, 1]]
    alone = fuse([a, b], [1.0, 0.0], "rrf", 3)  # a weight of 0 leaves that list out entirely
    assert alone.items.tolist() == a.items.tolist()


def test_top_lists_mask_history_and_pad() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [0.4, 0.3, 0.2, 0.1]], dtype=np.float32)
    history = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 1, 1, 0]], dtype=np.float32))
    got = top_lists(scores, history, m=3)
    assert got.items.tolist() == [[3, 2, 0], [3, -1, -1]]
    np.testing.assert_allclose(got.scores, [[0.7, 0.5, 0.1], [0.1, 0.0, 0.0]], rtol=1e-6)
    both = stack([got, top_lists(scores[:1], m=2)])
    assert both.items.shape == (3, 3) and both.items[2].tolist() == [1, 3, -1]


def test_list_metrics_equal_the_harness() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(37, 23)).astype(np.float32)
    history = sp.random(37, 23, density=0.2, random_state=1, format="csr", dtype=np.float32)
    heldout = sp.random(37, 23, density=0.08, random_state=2, format="csr", dtype=np.float32)
    heldout = heldout - heldout.multiply(history > 0)  # held-out items are never history
    heldout.eliminate_zeros()
    expected = rank_metrics(scores, history, heldout, (10,))
    recall, ndcg = list_ndcg(top_lists(scores, history, m=10).items, heldout)
    assert recall == pytest.approx(expected["recall@10"]) and ndcg == pytest.approx(expected["ndcg@10"])


def test_fit_finds_a_complementary_component() -> None:
    """A ranks the target first for even users and 12th for odd ones, B the reverse but weaker: fused, both halves
    reach the top 10, so the hybrid beats either model and B gets a positive weight."""
    n, target = 40, 0
    items_a, items_b = [], []
    for u in range(n):
        others = [i for i in range(1, 30)]
        a = [target, *others[:19]] if u % 2 == 0 else [*others[:11], target, *others[11:19]]
        b = [target, *others[5:24]] if u % 2 == 1 else [*others[5:16], target, *others[16:24]]
        items_a.append(a)
        items_b.append(b)
    ranked = np.linspace(1.0, 0.0, 20, dtype=np.float32)
    a = TopLists(np.array(items_a), np.tile(ranked, (n, 1)))
    b = TopLists(np.array(items_b), np.tile(ranked * 0.5, (n, 1)))
    heldout = sp.csr_matrix((np.ones(n, np.float32), (np.arange(n), np.zeros(n, int))), shape=(n, 30))
    fit = fit_fusion({"a": a, "b": b}, heldout)
    assert fit.components == ("a", "b") and fit.weights[0] == 1.0 and fit.weights[1] > 0
    assert fit.scores["hybrid"] > max(fit.scores["a"], fit.scores["b"]) + 0.1
    assert FusionFit.from_json(fit.to_json()) == fit
    fused = fuse([a, b], fit.weights, fit.method, 10)
    assert (fused.items == target).any(axis=1).all()  # every user finds the target in the fused top 10


def test_recency_weights_by_latest_occurrence() -> None:
    rows = recency_weighted([np.array([3, 1, 3, 2]), np.array([], dtype=np.int64), np.array([0])], 5, 0.5)
    # newest first: 2 (back 0), 3 (back 1: its later occurrence), 1 (back 2)
    np.testing.assert_allclose(rows.toarray(), [[0, 0.25, 1.0, 0.5, 0], [0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0]])
    plain = recency_weighted([np.array([3, 1, 3, 2])], 5, 1.0)
    np.testing.assert_allclose(plain.toarray(), [[0, 1, 1, 1, 0]])  # decay 1: item-kNN's binary history row
