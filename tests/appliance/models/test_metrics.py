"""Recall@K / NDCG@K against hand-computed values, tie-breaking, empty users, and batching invariance."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.data.splits import split_from_sequences
from appliance.models import contract
from appliance.models.contract import FitInfo, top_k
from appliance.models.metrics import evaluate, rank_metrics

LOG3 = np.log2(3)  # 1/log2(3) is the discount at rank 2
LOG5 = np.log2(5)  # 1/log2(5) is the discount at rank 4


def _csr(rows: list[list[int]], n_items: int = 6) -> sp.csr_matrix:
    dense = np.zeros((len(rows), n_items), dtype=np.float32)
    for r, cols in enumerate(rows):
        dense[r, cols] = 1.0
    return sp.csr_matrix(dense)


# Row 0: history {1} masked -> ranking 3 (0.9), 4 (0.5), 2 (0.3), 5 (0.2), 0 (0.1); held-out {3, 5} at ranks 1, 4.
#   recall@1 = 1/2, recall@2 = 1/2, recall@4 = 2/2
#   ndcg@1 = 1/1; ndcg@2 = 1 / (1 + 1/log2 3); ndcg@4 = (1 + 1/log2 5) / (1 + 1/log2 3)
# Row 1: all scores tie -> index order 0, 1, 2, ...; held-out {2} at rank 3.
#   recall@1 = recall@2 = 0, recall@4 = 1; ndcg@4 = 1/log2(4) = 0.5
# Row 2: no held-out items -> excluded from the mean.
SCORES = np.array([[0.1, 0.9, 0.3, 0.9, 0.5, 0.2], [0.0] * 6, [5.0] * 6], dtype=np.float32)
HISTORY = _csr([[1], [], []])
HELDOUT = _csr([[3, 5], [2], []])
EXPECTED = {
    "recall@1": (0.5 + 0) / 2, "ndcg@1": (1 + 0) / 2,
    "recall@2": (0.5 + 0) / 2, "ndcg@2": (1 / (1 + 1 / LOG3) + 0) / 2,
    "recall@4": (1 + 1) / 2, "ndcg@4": ((1 + 1 / LOG5) / (1 + 1 / LOG3) + 0.5) / 2,
}


def test_hand_computed_table() -> None:
    got = rank_metrics(SCORES, HISTORY, HELDOUT, ks=(1, 2, 4))
    assert got.keys() == EXPECTED.keys()
    for key, value in EXPECTED.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_scores_are_not_modified_and_k_beyond_items_is_clipped() -> None:
    before = SCORES.copy()
    got = rank_metrics(SCORES, HISTORY, HELDOUT, ks=(50,))
    np.testing.assert_array_equal(SCORES, before)
    assert got["recall@50"] == 1.0  # every held-out item is somewhere in the full ranking


@pytest.mark.parametrize(("scores", "expected"), [
    ([3, 1, 3, 2, 3], [0, 2, 4, 3]),  # three-way tie at the top: lower index first
    ([1, 1, 1, 1, 9], [4, 0, 1, 2]),  # the tie straddles the cut: the lowest indices fill it
    ([-np.inf, 2, -np.inf, -np.inf, 1], [1, 4, -1, -1]),  # fewer rankable items than k: padded with -1
])
def test_top_k_tie_breaking(scores: list[float], expected: list[int]) -> None:
    assert top_k(np.array([scores], dtype=np.float32), 4)[0].tolist() == expected


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 15), st.sampled_from(["blocks", "argpartition"]),
       st.sampled_from([np.float32, np.float64]))
def test_top_k_equals_a_full_stable_sort(seed: int, k: int, path: str, dtype: type) -> None:
    """Both selection paths (block maxima for large catalogs, here with blocks of 3 items so that small rows take
    it; argpartition otherwise) give the stable full sort's answer, wide ties and -inf included."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(5, 200)).astype(dtype)  # few distinct values: many ties
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    full = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # stable: equal scores keep index order
    expected = np.where(np.take_along_axis(scores, full, axis=1) == -np.inf, -1, full)
    block, limit = (3, 10**9) if path == "blocks" else (10**9, 0)
    with mock.patch.multiple(contract, TOP_K_BLOCK=block, TOP_K_MAX_CANDIDATES=limit):
        np.testing.assert_array_equal(top_k(scores, k), expected)


@pytest.mark.parametrize("ties", [False, True])
def test_top_k_on_a_large_catalog_equals_a_full_stable_sort(ties: bool) -> None:
    """At the real block size (the path a 121k-item catalog takes); with wide ties it falls back to argpartition."""
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((64, 20_000)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.05] = -np.inf  # masked history
    if ties:
        scores = np.minimum(np.round(scores), 0)  # thousands of items tie at 0, the 20th score of every row
    assert (contract._top_k_blocks(scores, 20) is None) == ties
    full = np.argsort(-scores, axis=1, kind="stable")[:, :20]
    np.testing.assert_array_equal(top_k(scores, 20), full)


def test_top_k_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        top_k(np.array([[0.1, np.nan]]), 1)


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        rank_metrics(SCORES[:, :5], HISTORY, HELDOUT, ks=(1,))


class _FixedModel:
    """Scores users by a fixed table, ignoring the stage."""

    name = "fixed"

    def __init__(self, table: np.ndarray) -> None:
        self.table = table

    def fit(self, split: object) -> FitInfo:
        return FitInfo()

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        return self.table[users]

    def save(self, directory: Path) -> None:
        raise NotImplementedError  # not needed to evaluate

    @classmethod
    def load(cls, directory: Path) -> _FixedModel:
        raise NotImplementedError


def test_evaluate_is_independent_of_batching_and_masks_the_stage_history() -> None:
    rng = np.random.default_rng(0)
    seqs = [rng.permutation(11)[: rng.integers(1, 8)] for _ in range(13)]
    split = split_from_sequences(seqs, 11)
    model = _FixedModel(rng.random((13, 11)).astype(np.float32))
    for stage in ("valid", "test"):
        whole = rank_metrics(model.table, split.history(stage), split.heldout(stage), ks=(1, 3, 5))
        for batch in (1, 4, 100):
            assert evaluate(model, split, stage, ks=(1, 3, 5), batch_users=batch) == pytest.approx(whole)
    # the validation item scores highest: the test item comes first only because the test history masks it
    oracle = split.test.toarray() * 2 + split.valid.toarray() * 3
    got = evaluate(_FixedModel(oracle.astype(np.float32)), split, "test", ks=(1,))
    assert got == {"recall@1": 1.0, "ndcg@1": 1.0}


def test_large_catalogs_get_smaller_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    split = split_from_sequences([np.arange(u % 5 + 3) for u in range(9)], 11)
    model = _FixedModel(np.random.default_rng(1).random((9, 11)).astype(np.float32))
    calls: list[int] = []
    original = model.score
    monkeypatch.setattr(model, "score", lambda users, stage: calls.append(len(users)) or original(users, stage))
    expected = evaluate(model, split, "test", ks=(2,))
    monkeypatch.setattr("appliance.models.metrics._MAX_BATCH_CELLS", 22)  # two users of 11 items per batch
    calls.clear()
    assert evaluate(model, split, "test", ks=(2,)) == pytest.approx(expected)
    assert calls == [2, 2, 2, 2, 1]
