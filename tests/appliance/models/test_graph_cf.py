"""CF recommenders on tiny odd sizes: the contract, loss terms decreasing, explanations, save/load, train_cf."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from appliance.config import IntentsConfig, IRLLRecConfig, LightGCNConfig
from appliance.data.home import Home
from appliance.data.splits import Split, build_norm_adj, split_from_sequences
from appliance.models.bpr import fit_bpr
from appliance.models.contract import Recommender, recommend
from appliance.models.graph_cf import CFError, IRLLRecRecommender, LightGCNRecommender, load_cf, train_cf
from appliance.models.lightgcn import BPRBatch, _SymmetricSpMM, sample_bpr_epoch, to_torch_sparse
from appliance.models.registry import create_model
from appliance.text.intents import IntentSet, LocalBackend, build_intents, extract_intents

N_USERS, N_ITEMS, D_TEXT = 7, 11, 5
CFG = LightGCNConfig(dim=8, layers=2, batch_size=16, lr=0.02, max_epochs=8, eval_every=2, patience=3)
ICFG = IRLLRecConfig(intents=3, ema_momentum=0.9)
TERMS = ("align", "profile", "translation", "matching")
THEMES = ["hiking tent sleeping", "baby bottle feeding", "espresso coffee grinder"]


def _split() -> Split:
    theme = np.arange(N_ITEMS) % 3
    seqs = [np.array([i for i in range(N_ITEMS) if theme[i] == u % 3] + [(u + 4) % N_ITEMS]) for u in range(N_USERS)]
    return split_from_sequences([np.array(list(dict.fromkeys(s))) for s in seqs], N_ITEMS)


def _intents(split: Split) -> tuple[IntentSet, np.ndarray]:
    theme = np.arange(N_ITEMS) % 3
    vectors = np.eye(D_TEXT, dtype=np.float32)[theme] + np.random.default_rng(0).normal(0, .05, (N_ITEMS, D_TEXT))
    texts = [f"{THEMES[t]} item {i}" for i, t in enumerate(theme)]
    cfg = IntentsConfig(k=3, tau=0.1)
    labels, protos, item_dist, user_dist = extract_intents(vectors, texts, split.train_sequences, cfg, LocalBackend())
    return IntentSet(labels, protos, np.arange(N_ITEMS), item_dist, np.arange(N_USERS), user_dist), vectors


def _irllrec(split: Split, **weights: float) -> IRLLRecRecommender:
    intents, vectors = _intents(split)
    return IRLLRecRecommender(CFG, dataclasses.replace(ICFG, **weights), intents=intents,
                              item_vectors=vectors.astype(np.float32))


def test_symmetric_spmm_gradient_matches_torch() -> None:
    adj = to_torch_sparse(build_norm_adj(_split().train))
    e = torch.randn(N_USERS + N_ITEMS, 3, requires_grad=True)
    (_SymmetricSpMM.apply(adj, e) ** 2).sum().backward()
    fast = e.grad.clone()
    e.grad = None
    ((adj.to_dense() @ e) ** 2).sum().backward()
    torch.testing.assert_close(fast, e.grad)


@pytest.mark.parametrize("name", ["lightgcn", "irllrec"])
def test_contract_fit_score_recommend(name: str) -> None:
    split = _split()
    model = LightGCNRecommender(CFG) if name == "lightgcn" else _irllrec(split)
    assert isinstance(model, Recommender)
    info = model.fit(split)
    assert info.epochs >= info.best_epoch >= 2 and np.isfinite(info.best_score)
    scores = model.score(np.array([0, 3, 6]))
    assert scores.shape == (3, N_ITEMS) and scores.dtype == np.float32
    top = recommend(model, split, np.arange(N_USERS), k=2, stage="valid")
    assert all(not split.train[u, i] for u, row in enumerate(top) for i in row if i >= 0)


@pytest.mark.parametrize("term", ("bpr", *TERMS))
def test_each_loss_term_is_finite_and_decreases(term: str) -> None:
    split = _split()
    on = {f"{t}_weight": (1.0 if t == term else 0.0) for t in TERMS}
    net = _irllrec(split, **on).build_network(split)
    users, pos, neg = sample_bpr_epoch(split.train, np.random.default_rng(0))
    batch = BPRBatch(*(torch.from_numpy(a) for a in (users, pos, neg)))
    before = getattr(net.loss(batch), term).item()
    cfg = dataclasses.replace(CFG, max_epochs=30, eval_every=30, batch_size=64)
    fit_bpr(net, split.train, cfg, validate=lambda: 0.0, after_step=net.update_teacher)
    after = getattr(net.loss(batch), term).item()
    assert np.isfinite(before) and np.isfinite(after) and before > 0
    assert after < before


def test_explanations_use_the_intent_labels() -> None:
    split = _split()
    model = _irllrec(split)
    model.fit(split)
    items = np.array([1, 4, 2])
    expl = model.explain(1, items)  # user 1 buys theme-1 items (baby bottle feeding)
    assert len(expl) == 3 and all(1 <= len(e) <= 2 for e in expl)  # a second reason under 5% is dropped
    labels = set(model.intents.labels)
    assert all(label in labels for e in expl for label, _ in e)
    assert all(e[0][1] >= e[-1][1] >= 0 and e[0][1] <= 1 and (len(e) == 1 or e[1][1] >= 0.05) for e in expl)
    assert expl[0][0][0] == model.intents.labels[int(model.intents.item_dist[1].argmax())]
    with pytest.raises(CFError, match="intents"):
        LightGCNRecommender(CFG).explain(0, items)


@pytest.mark.parametrize("name", ["lightgcn", "irllrec"])
def test_save_load_round_trip_gives_identical_scores(name: str, tmp_path: Path) -> None:
    split = _split()
    intents, _ = _intents(split)
    model = LightGCNRecommender(CFG, intents=intents) if name == "lightgcn" else _irllrec(split)
    model.fit(split)
    model.save(tmp_path / "m")
    loaded = LightGCNRecommender.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.cfg == model.cfg
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(loaded.score(users), model.score(users))
    assert loaded.explain(2, np.array([0, 5])) == model.explain(2, np.array([0, 5]))
    if name == "irllrec":
        assert loaded.icfg == model.icfg


def test_untrained_and_missing_inputs_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(CFError, match="not trained"):
        LightGCNRecommender(CFG).score(np.array([0]))
    with pytest.raises(CFError, match="intents build"):
        IRLLRecRecommender(CFG, ICFG, artifacts_dir=tmp_path).fit(_split())
    with pytest.raises(CFError, match="no saved CF model"):
        LightGCNRecommender.load(tmp_path)


def test_registry_and_train_cf_on_a_tiny_home(home: Home, tiny_themes) -> None:
    tiny_themes.fill_home(home)
    build_intents(home, cfg=IntentsConfig(k=3, tau=0.1))
    cfg = dataclasses.replace(home.config, lightgcn=CFG, irllrec=ICFG)
    home = Home(cfg, home.engine)
    assert create_model("irllrec", cfg).name == "irllrec"
    path, metrics, info = train_cf(home, "irllrec", epochs=4, seed=3)
    assert path.parent.name == "cf-irllrec" and info.epochs == 4
    assert {"valid/recall@20", "test/ndcg@10"} <= set(metrics)
    loaded = load_cf(cfg.artifacts_dir, "irllrec")
    assert loaded.cfg.seed == 3 and loaded.arrays["user_emb"].shape[0] == 7
    assert sp.issparse(build_norm_adj(sp.csr_matrix((2, 3))))



def test_train_cf_evaluates_a_seeded_sample_when_the_store_has_more_customers(home: Home, tiny_themes) -> None:
    from appliance.config import EvalConfig
    from appliance.data.artifacts import load_artifact
    from appliance.data.splits import load_split, sample_evaluation
    from appliance.models.metrics import evaluate

    tiny_themes.fill_home(home)
    cfg = dataclasses.replace(home.config, lightgcn=CFG, eval=EvalConfig(ks=(5, 10, 20), max_customers=3, seed=1))
    _, metrics, _ = train_cf(Home(cfg, home.engine), "lightgcn", epochs=2, seed=0)
    meta = load_artifact(cfg.artifacts_dir, "cf-lightgcn").meta
    assert meta["evaluation"] == {"valid_customers": 3, "test_customers": 3, "sampled": True}
    sampled = sample_evaluation(load_split(home.engine), 3, seed=1)
    model = load_cf(cfg.artifacts_dir, "lightgcn")
    expected = evaluate(model, sampled, "test", (5, 10, 20))
    assert {k: metrics[f"test/{k}"] for k in expected} == pytest.approx(expected)
    everyone = evaluate(model, load_split(home.engine), "test", (5, 10, 20))
    assert len(load_split(home.engine).eval_users("test")) == 7 and everyone != expected

def test_side_rows_caps_the_contrastive_batch() -> None:
    split = _split()
    capped = _irllrec(split, side_rows=2).build_network(split)
    users, pos, neg = sample_bpr_epoch(split.train, np.random.default_rng(0))
    out = capped.loss(BPRBatch(*(torch.from_numpy(a) for a in (users, pos, neg))))
    assert all(torch.isfinite(getattr(out, t)) and getattr(out, t) > 0 for t in TERMS)
    assert len(capped._cap(torch.arange(9))) == 2 and len(capped._cap(torch.arange(2))) == 2


@pytest.mark.parametrize("name", ["lightgcn", "irllrec"])
def test_a_seed_reproduces_a_run_and_another_seed_differs(name: str) -> None:
    split, global_seeds = _split(), iter(range(100, 200))

    def fit(seed: int) -> np.ndarray:
        torch.manual_seed(next(global_seeds))  # whatever the global RNG holds, the model's seed decides
        cfg = dataclasses.replace(CFG, seed=seed)
        model = LightGCNRecommender(cfg) if name == "lightgcn" else _irllrec(split)
        model.cfg = cfg
        model.fit(split)
        return model.score(np.arange(N_USERS))

    np.testing.assert_array_equal(fit(0), fit(0))
    assert not np.allclose(fit(0), fit(1))


@pytest.mark.parametrize("name", ["lightgcn", "irllrec"])
def test_test_stage_folds_validation_purchases_into_the_graph_and_valid_stage_does_not(name: str) -> None:
    split = _split()
    model = LightGCNRecommender(CFG) if name == "lightgcn" else _irllrec(split)
    model.fit(split)
    users = np.arange(N_USERS)
    train_only = model.arrays["user_emb"] @ model.arrays["item_emb"].T
    np.testing.assert_allclose(model.score(users, "valid"), train_only, rtol=1e-6)  # no validation leak
    folded = model.arrays["user_emb_test"] @ model.arrays["item_emb_test"].T
    np.testing.assert_allclose(model.score(users, "test"), folded, rtol=1e-6)
    assert not np.allclose(folded, train_only)  # the validation edges changed the propagated embeddings


def test_fold_in_is_lightgcn_propagation_over_train_plus_valid() -> None:
    from appliance.models.graph_cf import _fold_in

    split = _split()
    net = LightGCNRecommender(CFG).build_network(split)
    e0 = torch.cat([net.user_emb.weight, net.item_emb.weight]).detach().numpy()
    adj = build_norm_adj(((split.train + split.valid) > 0).astype(np.float32).tocsr()).toarray()
    layers, e = [e0], e0
    for _ in range(CFG.layers):
        e = adj @ e
        layers.append(e)
    expected = np.mean(layers, axis=0)
    users, items = _fold_in(net, split)
    np.testing.assert_allclose(np.concatenate([users, items]), expected, rtol=1e-4, atol=1e-6)
    trained_graph = np.concatenate(net.embeddings())  # the net's own (training) graph is restored afterwards
    assert not np.allclose(trained_graph, expected)
