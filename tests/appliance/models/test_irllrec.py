"""IRLLRec on tiny odd sizes: loss terms finite and switchable, training lowers them, EMA teacher, text inputs."""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from appliance.config import IRLLRecConfig, LightGCNConfig
from appliance.models import intent_losses, irllrec
from appliance.models.bpr import fit_bpr
from appliance.models.intent_losses import ema_update, hard_negatives, infonce, infonce_reference, intent_aware
from appliance.models.irllrec import IRLLRec, TextInputs, build_text_inputs
from appliance.models.lightgcn import BPRBatch, sample_bpr_epoch

N_USERS, N_ITEMS, D, D_TEXT, K = 7, 11, 8, 13, 5
TERMS = ("align", "profile", "translation", "matching")


def _train() -> sp.csr_matrix:
    rng = np.random.default_rng(3)
    dense = (rng.random((N_USERS, N_ITEMS)) < 0.35).astype(np.float32)
    dense[np.arange(N_USERS), np.arange(N_USERS)] = 1.0
    return sp.csr_matrix(dense)


def _adj(train: sp.csr_matrix) -> sp.csr_matrix:
    adj = sp.bmat([[None, train], [train.T, None]]).tocsr()
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
    return sp.diags(inv) @ adj @ sp.diags(inv)


def _text() -> TextInputs:
    rng = np.random.default_rng(4)
    sizes = (N_USERS, N_ITEMS, N_USERS, N_ITEMS)
    return TextInputs(*(rng.standard_normal((n, D_TEXT)).astype(np.float32) for n in sizes))


def _model(**weights: float) -> IRLLRec:
    cfg = LightGCNConfig(dim=D, layers=2, batch_size=6, lr=0.02, max_epochs=15, eval_every=1, patience=100)
    icfg = dataclasses.replace(IRLLRecConfig(intents=K, ema_momentum=0.9), **weights)
    return IRLLRec(N_USERS, N_ITEMS, _adj(_train()), cfg, icfg, _text())


def _batch(train: sp.csr_matrix) -> BPRBatch:
    users, pos, neg = sample_bpr_epoch(train, np.random.default_rng(0))
    return BPRBatch(torch.from_numpy(users), torch.from_numpy(pos), torch.from_numpy(neg))


def test_all_terms_finite_and_positive() -> None:
    out = _model().loss(_batch(_train()))
    for name in TERMS:
        value = getattr(out, name)
        assert torch.isfinite(value) and value > 0, name


@pytest.mark.parametrize("term", TERMS)
def test_each_term_switches_off(term: str) -> None:
    out = _model(**{f"{term}_weight": 0.0}).loss(_batch(_train()))
    assert getattr(out, term) == 0
    assert all(getattr(out, t) > 0 for t in TERMS if t != term)


def test_training_lowers_the_total_loss_and_moves_the_teacher() -> None:
    model, train = _model(), _train()
    batch = _batch(train)
    before = model.loss(batch).total.item()
    teacher_before = [p.clone() for p in model._teacher.parameters()]
    fit_bpr(model, train, model.cfg, validate=lambda: -model.loss(batch).total.item(),
            after_step=model.update_teacher)
    assert model.loss(batch).total.item() < before
    assert any(not torch.equal(a, b) for a, b in zip(teacher_before, model._teacher.parameters(), strict=True))


def test_intent_aware_is_a_prototype_mixture() -> None:
    protos = torch.eye(3)[:, :2] * 50  # (d=3, K=2): two sharp prototypes along axes 0 and 1
    out = intent_aware(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), protos)
    torch.testing.assert_close(out, torch.tensor([[50.0, 0.0, 0.0], [0.0, 50.0, 0.0]]))


def test_infonce_prefers_aligned_pairs() -> None:
    x = torch.eye(4)
    assert infonce(x, x, 0.2) < infonce(x, x.roll(1, dims=0), 0.2)


def test_hard_negative_is_never_the_positive() -> None:
    z = torch.randn(9, 4, generator=torch.Generator().manual_seed(0))
    neg = hard_negatives(z, z)
    assert (neg != torch.arange(9)).all()


def test_ema_update_moves_towards_student() -> None:
    teacher, student = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = teacher.weight.detach().clone()
    ema_update(teacher, student, momentum=0.75)
    torch.testing.assert_close(teacher.weight, 0.75 * before + 0.25 * student.weight.detach())


def test_text_inputs_use_only_the_given_history() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((N_ITEMS, D_TEXT)).astype(np.float32)
    dist_i, dist_u, protos = rng.random((N_ITEMS, K)), rng.random((2, K)), rng.standard_normal((K, D_TEXT))
    a = build_text_inputs(vectors, [np.array([1, 2]), np.array([], dtype=int)], dist_i, dist_u, protos)
    b = build_text_inputs(vectors * 1.0, [np.array([1, 2]), np.array([], dtype=int)], dist_i, dist_u, protos)
    np.testing.assert_array_equal(a.user_profile, b.user_profile)
    expected = 0.8 * vectors[1] + vectors[2]
    np.testing.assert_allclose(a.user_profile[0], expected / np.linalg.norm(expected), rtol=1e-5)
    assert not a.user_profile[1].any()  # no history, no profile
    np.testing.assert_allclose(np.linalg.norm(a.item_intent, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("temperature", [0.2, 1.0, 0.01])  # 0.01: the stable fallback path
def test_fused_infonce_equals_the_textbook_form(temperature: float) -> None:
    gen = torch.Generator().manual_seed(1)
    a1, p1 = (torch.randn(37, 5, generator=gen).requires_grad_() for _ in range(2))
    a2, p2 = (x.detach().clone().requires_grad_() for x in (a1, p1))
    fused, textbook = infonce(a1, p1, temperature), infonce_reference(a2, p2, temperature)
    (3.0 * fused).backward()
    (3.0 * textbook).backward()
    torch.testing.assert_close(fused, textbook, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a1.grad, a2.grad, rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(p1.grad, p2.grad, rtol=1e-3, atol=1e-6)


def test_training_with_the_fused_infonce_matches_the_textbook_one() -> None:
    """Same seed, same steps: the speed-up changes nothing but float noise in losses and weights."""
    def run(fn: object) -> tuple[list[float], dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        model, train = _model(), _train()
        losses: list[float] = []
        with mock.patch.object(irllrec, "infonce", fn), mock.patch.object(intent_losses, "infonce", fn):
            fit_bpr(model, train, model.cfg, validate=lambda: 0.0, after_step=model.update_teacher,
                    progress=lambda epoch, m: losses.append(m["total"]))
        return losses, model.state_dict()

    fast_losses, fast_state = run(infonce)
    slow_losses, slow_state = run(infonce_reference)
    np.testing.assert_allclose(fast_losses, slow_losses, rtol=1e-4)
    assert len(fast_losses) == 15 and fast_losses[-1] < fast_losses[0]
    for name, value in slow_state.items():
        torch.testing.assert_close(fast_state[name], value, rtol=1e-3, atol=1e-5)
