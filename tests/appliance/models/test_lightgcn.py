"""LightGCN: propagation against a hand computation, BPR sampling invariants, loss decreases, early stopping."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.config import LightGCNConfig
from appliance.models.bpr import fit_bpr
from appliance.models.lightgcn import BPRBatch, LightGCN, sample_bpr_epoch

N_USERS, N_ITEMS, DIM = 7, 11, 8  # odd sizes so transposed dimensions fail loudly


def _toy_train(seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((N_USERS, N_ITEMS)) < 0.3).astype(np.float32)
    dense[np.arange(N_USERS), np.arange(N_USERS)] = 1.0  # every user has at least one item
    return sp.csr_matrix(dense)


def _norm_adj(train: sp.csr_matrix) -> sp.csr_matrix:
    adj = sp.bmat([[None, train], [train.T, None]]).tocsr()
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
    return sp.diags(inv) @ adj @ sp.diags(inv)


def _cfg(**kw: object) -> LightGCNConfig:
    return dataclasses.replace(LightGCNConfig(dim=DIM, layers=2, batch_size=5, lr=0.05, max_epochs=30,
                                              eval_every=1, patience=100), **kw)


def test_propagation_matches_hand_computation() -> None:
    train = _toy_train()
    adj = _norm_adj(train)
    model = LightGCN(N_USERS, N_ITEMS, adj, _cfg())
    e0 = torch.cat([model.user_emb.weight, model.item_emb.weight]).detach().numpy()
    e1 = adj @ e0
    expected = (e0 + e1 + adj @ e1) / 3
    users, items = model.embeddings()
    assert users.shape == (N_USERS, DIM) and items.shape == (N_ITEMS, DIM)
    np.testing.assert_allclose(np.vstack([users, items]), expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_bpr_epoch_covers_every_pair_and_negatives_are_unseen(seed: int) -> None:
    train = _toy_train(seed % 7)
    users, pos, neg = sample_bpr_epoch(train, np.random.default_rng(seed))
    assert sorted(zip(users.tolist(), pos.tolist(), strict=True)) == sorted(zip(*train.nonzero(), strict=True))
    assert not np.asarray(train[users, neg]).any()


def test_loss_is_finite_and_decreases() -> None:
    train = _toy_train()
    model = LightGCN(N_USERS, N_ITEMS, _norm_adj(train), _cfg())
    users, pos = (torch.from_numpy(a.astype(np.int64)) for a in train.nonzero())
    batch = BPRBatch(users, pos, torch.from_numpy(sample_bpr_epoch(train, np.random.default_rng(1))[2]))
    before = model.loss(batch)
    assert all(torch.isfinite(v) for v in before)
    fit_bpr(model, train, _cfg(max_epochs=20), validate=lambda: -model.loss(batch).bpr.item())
    assert model.loss(batch).bpr < before.bpr * 0.7


def test_early_stopping_restores_the_best_weights() -> None:
    train = _toy_train()
    model = LightGCN(N_USERS, N_ITEMS, _norm_adj(train), _cfg())
    scores = iter([0.1, 0.5, 0.2, 0.1, 0.0, 0.0])
    snapshots: list[np.ndarray] = []

    def validate() -> float:
        snapshots.append(model.user_emb.weight.detach().numpy().copy())
        return next(scores)

    report = fit_bpr(model, train, _cfg(patience=3), validate=validate)
    assert report.best_epoch == 2 and report.epochs_run == 5 and len(report.history) == 5
    np.testing.assert_array_equal(model.user_emb.weight.detach().numpy(), snapshots[1])
