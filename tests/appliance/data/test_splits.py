"""Splits (leave-one-out and given) from sequences and from the store (on SQLite and on PostgreSQL), and the normalised
adjacency."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from appliance.data.home import Home
from appliance.data.splits import (
    DataError,
    build_norm_adj,
    load_split,
    sample_evaluation,
    split_from_arrays,
    split_from_sequences,
)
from appliance.data.store import Interaction, Item, User

N_ITEMS = 11  # odd sizes so transposed dimensions fail loudly


def _rows(matrix: sp.csr_matrix) -> list[list[int]]:
    return [sorted(matrix.indices[a:b].tolist()) for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)]


def test_leave_one_out_by_hand() -> None:
    seqs = [np.array([4, 2, 9, 2, 7]),  # duplicate 2 dropped: 4 2 9 7 -> train 4 2, valid 9, test 7
            np.array([1, 3, 5]),  # exactly 3: train 1, valid 3, test 5
            np.array([6, 6, 0]),  # 2 distinct items: everything in train, nothing held out
            np.array([], dtype=np.int64)]  # no interactions at all
    split = split_from_sequences(seqs, N_ITEMS)
    assert (split.n_users, split.n_items, split.protocol) == (4, N_ITEMS, "leave-one-out")
    assert _rows(split.train) == [[2, 4], [1], [0, 6], []]
    assert _rows(split.valid) == [[9], [3], [], []]
    assert _rows(split.test) == [[7], [5], [], []]
    assert [s.tolist() for s in split.train_sequences] == [[4, 2], [1], [6, 0], []]
    assert [s.tolist() for s in split.sequences("test")] == [[4, 2, 9], [1, 3], [6, 0], []]
    assert split.sequences("valid") is split.train_sequences
    assert _rows(split.history("test")) == [[2, 4, 9], [1, 3], [0, 6], []]
    assert split.history("valid") is split.train
    assert split.train.dtype == np.float32 and set(split.train.data) == {1.0}


def test_given_split_keeps_labels_and_first_occurrence() -> None:
    users = np.array([0, 0, 0, 0, 1, 1])
    items = np.array([3, 8, 3, 5, 2, 10])
    labels = np.array([0, 2, 2, 1, 0, 1])  # user 0 buys 3 again in test: a repeat, not a held-out item
    split = split_from_arrays(users, items, 2, N_ITEMS, labels=labels, user_ids=np.array([40, 41]))
    assert split.protocol == "given" and split.user_ids.tolist() == [40, 41]
    assert _rows(split.train) == [[3], [2]]
    assert _rows(split.valid) == [[5], [10]]
    assert _rows(split.test) == [[8], []]
    assert [s.tolist() for s in split.sequences("test")] == [[3, 5], [2, 10]]


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(DataError, match="item indices"):
        split_from_sequences([np.array([0, 11])], N_ITEMS)
    with pytest.raises(DataError, match="user indices"):
        split_from_arrays(np.array([0, 2]), np.array([0, 1]), 2, N_ITEMS)
    with pytest.raises(DataError, match="differ in length"):
        split_from_arrays(np.array([0, 1]), np.array([0, 1]), 2, N_ITEMS, labels=np.array([0]))
    with pytest.raises(DataError, match="ordered by user"):
        split_from_arrays(np.array([1, 0]), np.array([0, 1]), 2, N_ITEMS)
    with pytest.raises(DataError, match="unknown stage"):
        split_from_sequences([np.array([0, 1, 2])], N_ITEMS).history("train")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, N_ITEMS - 1), max_size=9), min_size=1, max_size=7))
def test_every_distinct_pair_lands_in_exactly_one_part(seqs: list[list[int]]) -> None:
    split = split_from_sequences([np.array(s, dtype=np.int64) for s in seqs], N_ITEMS)
    for user, seq in enumerate(seqs):
        distinct = list(dict.fromkeys(seq))
        parts = [set(_rows(m)[user]) for m in (split.train, split.valid, split.test)]
        assert sum(len(p) for p in parts) == len(parts[0] | parts[1] | parts[2])  # disjoint
        assert parts[0] | parts[1] | parts[2] == set(distinct)
        if len(distinct) >= 3:
            assert parts[2] == {distinct[-1]} and parts[1] == {distinct[-2]}
        else:
            assert not parts[1] and not parts[2]
        assert split.sequences("test")[user].tolist() == distinct[: len(distinct) - len(parts[2])]


def _fill_store(home: Home, rows: list[tuple[int, int, int, str | None]], n_items: int = 5) -> None:
    """Items 1..n_items, users 1..3, interactions (user, item, ts, split) in insertion order."""
    with home.engine.begin() as conn:
        conn.execute(insert(Item), [{"id": i, "sku": f"sku-{i}", "title": f"item {i}"} for i in range(1, n_items + 1)])
        conn.execute(insert(User), [{"id": u, "pseudonym": f"usr-k-{u}", "key_id": "k"} for u in (1, 2, 3)])
        conn.execute(insert(Interaction), [{"user_id": u, "item_id": i, "ts": ts, "event": e, "split": s}
                                           for u, i, ts, s, e in ((*r, ("purchase", "view")[n % 2])
                                                                  for n, r in enumerate(rows))])


def test_load_split_orders_by_time_then_insertion(backend_home: Home) -> None:
    home = backend_home
    _fill_store(home, [(3, 2, 50, None), (3, 4, 10, None), (3, 1, 30, None), (3, 5, 30, None),  # ts tie: id order
                       (1, 1, 5, None), (1, 2, 6, None)])  # user 1: two items, all train; user 2: none
    split = load_split(home.engine)
    assert split.protocol == "leave-one-out"
    assert split.user_ids.tolist() == [1, 3] and split.item_ids.tolist() == [1, 2, 3, 4, 5]
    assert [s.tolist() for s in split.train_sequences] == [[0, 1], [3, 0]]  # item 3 never seen, still rankable
    assert _rows(split.valid) == [[], [4]] and _rows(split.test) == [[], [1]]


def test_load_split_given_and_auto(backend_home: Home) -> None:
    home = backend_home
    _fill_store(home, [(1, 1, 1, "train"), (1, 2, 2, "test"), (1, 3, 3, "valid"), (2, 4, 1, None)])
    split = load_split(home.engine, "auto")
    assert split.protocol == "given"
    assert _rows(split.train) == [[0], [3]] and _rows(split.valid) == [[2], []] and _rows(split.test) == [[1], []]
    assert load_split(home.engine, "leave-one-out").protocol == "leave-one-out"


def test_load_split_errors(home: Home) -> None:
    with pytest.raises(DataError, match="no interactions"):
        load_split(home.engine)
    with pytest.raises(DataError, match="unknown protocol"):
        load_split(home.engine, "random")
    _fill_store(home, [(1, 1, 1, None)])
    with pytest.raises(DataError, match="--protocol leave-one-out"):
        load_split(home.engine, "given")


def test_norm_adj_by_hand() -> None:
    # users u0: {i0, i1}, u1: {i1}; item i2 isolated. Degrees: u0 2, u1 1, i0 1, i1 2, i2 0.
    adj = build_norm_adj(sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], dtype=np.float32)))
    expected = np.zeros((5, 5))
    for u, i, du, di in ((0, 0, 2, 1), (0, 1, 2, 2), (1, 1, 1, 2)):
        expected[u, 2 + i] = expected[2 + i, u] = 1 / np.sqrt(du * di)
    assert adj.dtype == np.float32 and sp.issparse(adj)
    np.testing.assert_allclose(adj.toarray(), expected, rtol=1e-6)
    assert build_norm_adj(sp.csr_matrix((2, 3))).nnz == 0


def _many_users(n_users: int = 40) -> list[np.ndarray]:
    rng = np.random.default_rng(3)  # users 0, 5, 10, ... have two items only: no held-out item, never sampled
    return [rng.choice(N_ITEMS, 2 if u % 5 == 0 else 4, replace=False) for u in range(n_users)]


def test_sample_evaluation_draws_a_fixed_sample_of_customers_with_held_out_items() -> None:
    split = split_from_sequences(_many_users(), N_ITEMS)
    with_heldout = np.flatnonzero(np.diff(split.valid.indptr) > 0)
    assert len(with_heldout) == 32 and split.evaluated is None
    sampled = sample_evaluation(split, 10, seed=0)
    rows = sampled.evaluated
    assert rows is not None and len(rows) == 10 and np.all(np.diff(rows) > 0)  # sorted, distinct
    assert set(rows.tolist()) <= set(with_heldout.tolist())
    assert sampled.eval_users("valid").tolist() == rows.tolist() == sampled.eval_users("test").tolist()
    assert sample_evaluation(split, 10, seed=0).evaluated.tolist() == rows.tolist()  # reproducible
    assert any(sample_evaluation(split, 10, seed=s).evaluated.tolist() != rows.tolist() for s in (1, 2, 3))
    # training, histories and input sequences are the split's own: customers outside the sample still train and serve
    assert sampled.train is split.train and sampled.valid is split.valid and sampled.test is split.test
    assert sampled.sequences("test")[0].tolist() == split.sequences("test")[0].tolist()
    assert (sampled.history("test") != split.history("test")).nnz == 0
    assert sampled.evaluation_record() == {"valid_customers": 10, "test_customers": 10, "sampled": True}
    assert split.eval_users("test").tolist() == with_heldout.tolist()
    assert split.evaluation_record() == {"valid_customers": 32, "test_customers": 32, "sampled": False}


def test_sample_evaluation_leaves_small_stores_whole_and_refuses_a_negative_size() -> None:
    split = split_from_sequences(_many_users(), N_ITEMS)
    assert sample_evaluation(split, 0) is split  # 0: every customer
    assert sample_evaluation(split, 32) is split  # no more candidates than the sample size
    assert sample_evaluation(split, 31).evaluated is not None
    with pytest.raises(ValueError, match="max_customers"):
        sample_evaluation(split, -1)


def test_eval_config_refuses_a_negative_sample_size() -> None:
    from appliance.config import ConfigError, EvalConfig

    assert EvalConfig().max_customers == 100_000
    with pytest.raises(ConfigError, match=r"eval\.max_customers"):
        EvalConfig(max_customers=-5)


def test_evaluation_on_a_sample_is_the_mean_over_the_sampled_customers_only() -> None:
    from appliance.models.metrics import evaluate, rank_metrics

    split = split_from_sequences(_many_users(), N_ITEMS)
    sampled = sample_evaluation(split, 12, seed=4)
    scores = np.random.default_rng(5).standard_normal((split.n_users, N_ITEMS)).astype(np.float32)

    class Fixed:  # a model whose scores are a fixed table
        name = "fixed"

        def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
            return scores[users]

    rows = sampled.evaluated
    for stage in ("valid", "test"):
        expected = rank_metrics(scores[rows], split.history(stage)[rows], split.heldout(stage)[rows], (1, 3, 5))
        assert evaluate(Fixed(), sampled, stage, (1, 3, 5), batch_users=5) == pytest.approx(expected)
        whole = rank_metrics(scores, split.history(stage), split.heldout(stage), (1, 3, 5))
        assert evaluate(Fixed(), split, stage, (1, 3, 5), batch_users=5) == pytest.approx(whole)
