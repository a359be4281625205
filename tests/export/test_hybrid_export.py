"""The hybrid (export/hybrid.py): fusion fitted on validation, `export_best` choosing it only when it beats every
single model, its bundle serving hybrid / sasrec / item-knn torch-free (cached fused lists equal live fusion), and
the API's and `tanaban recommend`'s `model` parameter listing what the bundle holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastapi.testclient import TestClient  # noqa: E402

from appliance.config import SASRecConfig  # noqa: E402
from appliance.data.home import Home  # noqa: E402
from appliance.data.keys import PUBLIC_FILE, load_public_key  # noqa: E402
from appliance.data.splits import load_split  # noqa: E402
from appliance.models.baselines import item_similarity  # noqa: E402
from appliance.models.evaluate import evaluate_models  # noqa: E402
from appliance.models.fusion import FusionFit  # noqa: E402
from appliance.models.hybrid import RECENCY_GRID, HybridRecommender, fit_hybrid, report_on_test  # noqa: E402
from appliance.models.sasrec import load_sasrec, train_sasrec  # noqa: E402
from appliance.serve.apikeys import KEYS_FILE, create_key  # noqa: E402
from appliance.serve.errors import RequestError  # noqa: E402
from appliance.serve.http import create_app  # noqa: E402
from appliance.serve.node import build_service  # noqa: E402
from appliance.serve.sequential import SequentialBundle  # noqa: E402
from appliance.serve.service import load_bundle, recommend_batch  # noqa: E402
from export import sasrec as sasrec_export  # noqa: E402
from export.sasrec import export_best, export_sasrec, full_sequences  # noqa: E402

TINY = SASRecConfig(dim=8, blocks=1, heads=2, max_len=5, dropout=0.0, lr=2e-2, batch_size=4, max_epochs=6,
                    eval_every=3, patience=100, seed=0)


@pytest.fixture
def trained(home: Home, tiny_themes, one_torch_thread) -> Home:
    """The tiny three-theme home (7 customers cust-0..6, 11 items) with a trained SASRec artifact."""
    tiny_themes.fill_home(home)
    train_sasrec(home, cfg=TINY)
    return home


@pytest.fixture
def hybrid_bundle(trained: Home) -> tuple[Home, SequentialBundle, FusionFit]:
    split = load_split(trained.engine)
    model, _ = load_sasrec(trained.config.artifacts_dir, split=split)
    fit = fit_hybrid(trained, split, model)
    path = export_sasrec(trained, quantize=False, version="v1", fusion=fit)
    bundle = load_bundle(path, [load_public_key(trained.config.keys_dir / PUBLIC_FILE)])
    assert isinstance(bundle, SequentialBundle)
    return trained, bundle, fit


def test_fit_is_never_below_its_components(trained: Home) -> None:
    split = load_split(trained.engine)
    model, _ = load_sasrec(trained.config.artifacts_dir, split=split)
    fit = fit_hybrid(trained, split, model)
    assert set(fit.components) == {"sasrec", "item-knn"} and fit.weights[0] == 1.0
    assert fit.scores[fit.components[0]] >= fit.scores[fit.components[1]]  # strongest first
    assert fit.scores["hybrid"] >= max(fit.scores["sasrec"], fit.scores["item-knn"]) - 1e-12
    report = report_on_test(trained, split, model, fit)
    assert set(report) == {"sasrec", "item-knn", "hybrid"}
    assert all(0.0 <= row["ndcg@10"] <= row["recall@10"] + 1e-9 <= 1.0 + 1e-9 for row in report.values())


def test_hybrid_bundle_cached_lists_equal_live_fusion(hybrid_bundle) -> None:
    _, bundle, fit = hybrid_bundle
    meta = bundle.manifest.data["meta"]
    assert meta["models"] == ["hybrid", "sasrec", "item-knn"] and meta["model"] == "hybrid"
    assert meta["fusion"]["weights"] == list(fit.weights) and bundle.default_model == "hybrid"
    for pseudonym, user in bundle.users.items():
        cached = bundle.for_user(pseudonym, 3)
        seq = bundle.seq_items[bundle.indptr[user]:bundle.indptr[user + 1]]
        live = bundle.for_history([bundle.items[i]["sku"] for i in seq], 3)
        assert cached.source == "cached" and live.source == "live"
        assert [r.sku for r in cached.items] == [r.sku for r in live.items]
        np.testing.assert_allclose([r.score for r in cached.items], [r.score for r in live.items], rtol=1e-5)


def test_item_knn_model_scores_the_known_similarity(hybrid_bundle) -> None:
    home, bundle, _ = hybrid_bundle
    split = load_split(home.engine)
    sequences = full_sequences(split)
    known = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    for u, seq in enumerate(sequences):
        known[u, seq] = 1.0
    sim = item_similarity(known, home.config.eval.knn_shrink, home.config.eval.knn_neighbours).toarray()
    pseudonym, user = next(iter(bundle.users.items()))
    answer = bundle.for_model("item-knn").for_user(pseudonym, 4, exclude=["S1"])
    decay = bundle.fusion.params["item-knn.recency"]
    assert decay in RECENCY_GRID
    weights = np.zeros(split.n_items, dtype=np.float32)
    for back, item in enumerate(sequences[user][::-1]):  # the newest occurrence of an item sets its weight
        weights[item] = max(weights[item], decay ** back)
    expected = weights @ sim
    expected[known[user] > 0] = -np.inf
    expected[bundle.sku_index["S1"]] = -np.inf
    order = sorted(range(split.n_items), key=lambda i: (-expected[i], i))[:4]
    assert answer.source == "live" and [r.sku for r in answer.items] == [bundle.items[i]["sku"] for i in order]
    sasrec = bundle.for_model("sasrec").for_user(pseudonym, 4)  # SASRec alone: the ONNX scorer, live
    assert sasrec.source == "live" and len(sasrec.items) == 4


@pytest.mark.parametrize("hybrid_score_offset", [+0.5, -0.5])
def test_export_best_exports_the_hybrid_only_when_it_wins(trained: Home, monkeypatch, hybrid_score_offset) -> None:
    """fit_hybrid replaced by a fit whose validation NDCG@10 is above / below SASRec's: hybrid bundle / SASRec's."""
    sasrec_ndcg = json.loads(next((trained.config.artifacts_dir / "sasrec").glob("*/manifest.json")).read_text())[
        "metrics"]["valid/ndcg@10"]
    fake = FusionFit(("sasrec", "item-knn"), "rrf", (1.0, 0.5),
                     {"sasrec": sasrec_ndcg, "item-knn": 0.01, "hybrid": sasrec_ndcg + hybrid_score_offset})
    monkeypatch.setattr(sasrec_export, "fit_hybrid", lambda *args, **kwargs: fake)
    meta = json.loads((export_best(trained, quantize=False, version="v1") / "manifest.json").read_text())["meta"]
    comparison = meta["comparison"]
    assert comparison["scores"]["hybrid"] == pytest.approx(sasrec_ndcg + hybrid_score_offset)
    assert comparison["scores"]["item-knn"] == pytest.approx(0.01) and comparison["fusion"]["method"] == "rrf"
    chosen = "hybrid" if hybrid_score_offset > 0 else "sasrec"
    assert comparison["chosen"] == chosen and meta["model"] == chosen
    assert meta["models"] == (["hybrid", "sasrec", "item-knn"] if chosen == "hybrid" else ["sasrec"])


def test_model_parameter_lists_what_the_bundle_holds(hybrid_bundle) -> None:
    home, bundle, _ = hybrid_bundle
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(home.config)))
    auth = {"X-API-Key": token}
    listed = client.get("/v1/models", headers=auth).json()
    assert listed == {"models": ["hybrid", "sasrec", "item-knn"], "default": "hybrid", "bundle": "v1"}
    default = client.post("/v1/recommendations", json={"user_id": "cust-1", "k": 3}, headers=auth).json()
    assert default["source"] == "cached"
    user = _user_of(home, "cust-1", bundle)
    pseudonym = next(p for p, u in bundle.users.items() if u == user)
    for model in ("hybrid", "sasrec", "item-knn"):
        got = client.post("/v1/recommendations", json={"user_id": "cust-1", "k": 3, "model": model}, headers=auth)
        assert got.status_code == 200, got.text
        expected = bundle.for_user(pseudonym, 3, model=model)
        assert [i["sku"] for i in got.json()["items"]] == [r.sku for r in expected.items]
        assert got.json()["source"] == ("cached" if model == "hybrid" else "live")
    sasrec = client.post("/v1/recommendations", json={"history": ["S0", "S3"], "k": 3, "model": "sasrec"},
                         headers=auth).json()
    assert [i["sku"] for i in sasrec["items"]] == [r.sku for r in bundle.for_history(["S0", "S3"], 3,
                                                                                     model="sasrec").items]
    for bad in ("cf", "lightgcn", "x" * 64):
        wrong = client.post("/v1/recommendations", json={"user_id": "cust-1", "model": bad}, headers=auth)
        error = wrong.json()["error"]
        assert wrong.status_code == 422 and error["fields"][0]["loc"] == ["body", "model"]
        assert "hybrid, sasrec, item-knn" in error["message"] and bad not in error["message"]
    enum = client.get("/openapi.json").json()["components"]["schemas"]["RecommendRequest"]["properties"]["model"]
    assert ["hybrid", "sasrec", "item-knn"] in [option.get("enum") for option in enum["anyOf"]]


def test_recommend_batch_model_option(hybrid_bundle) -> None:
    home, bundle, _ = hybrid_bundle
    (row,) = recommend_batch(home.config, ["cust-2"], None, 3, False, model="item-knn")  # `recommend --model`
    pseudonym = next(p for p, u in bundle.users.items() if u == _user_of(home, "cust-2", bundle))
    assert row.status == "ok" and [r.sku for r in row.answer.items] == [
        r.sku for r in bundle.for_model("item-knn").for_user(pseudonym, 3).items]
    with pytest.raises(RequestError, match="hybrid, sasrec, item-knn"):
        recommend_batch(home.config, ["cust-2"], None, 3, False, model="generative")


def _user_of(home: Home, customer: str, bundle: SequentialBundle) -> int:
    from appliance.data.keys import load_pseudonym_key
    from appliance.data.rotation import chained_pseudonym, load_key_chain

    chain = load_key_chain(home.config.keys_dir, load_pseudonym_key(home.config.keys_dir))
    return bundle.users[chained_pseudonym(customer, chain, upto=bundle.pseudonym_key_id)]


def test_hybrid_artifacts_are_in_the_signed_bundle(hybrid_bundle) -> None:
    _, bundle, _ = hybrid_bundle
    files = json.loads((Path(bundle.path) / "manifest.json").read_text())["files"]
    assert {"fusion.json", "knn_similarity.npz"} <= set(files)


def test_evaluate_scores_the_hybrid_from_the_saved_sasrec(trained: Home) -> None:
    """`tanaban evaluate --model sasrec,hybrid`: the hybrid wraps the saved SASRec (no retraining), fits its weights
    on validation, and its test figures equal report_on_test's with the same fit, as do SASRec's own."""
    split = load_split(trained.engine)
    lines: list[str] = []
    report = evaluate_models(trained.engine, trained.config, ["item-knn", "sasrec", "hybrid"], notify=lines.append)
    rows = {r.name: r for r in report.results}
    assert rows["hybrid"].source == "artifact" and rows["hybrid"].artifact == rows["sasrec"].artifact
    assert "fusion, weights" in rows["hybrid"].note and set(rows["hybrid"].config) == {"sasrec", "eval"}
    assert any(line.startswith("hybrid: ") and "validation NDCG@10" in line for line in lines)
    model, _ = load_sasrec(trained.config.artifacts_dir, split=split)
    expected = report_on_test(trained, split, model, fit_hybrid(trained, split, model))
    for name in ("sasrec", "item-knn", "hybrid"):
        for metric in ("recall@10", "ndcg@10"):
            assert rows[name].metrics[metric] == pytest.approx(expected[name][metric], abs=1e-6), (name, metric)


def test_hybrid_scores_keep_the_fused_order(trained: Home) -> None:
    split = load_split(trained.engine)
    model, _ = load_sasrec(trained.config.artifacts_dir, split=split)
    hybrid = HybridRecommender(trained.config, model, k=4)
    hybrid.fit(split)
    users = np.arange(split.n_users)
    scores = hybrid.score(users, "test")
    assert scores.shape == (split.n_users, split.n_items)
    assert (np.isfinite(scores).sum(axis=1) <= 4).all()
    history = split.history("test")
    for u in users:  # history never listed; finite scores strictly decreasing in the fused order
        finite = np.flatnonzero(np.isfinite(scores[u]))
        assert not set(finite) & set(history[u].indices)
        assert len(set(scores[u, finite])) == len(finite)
    with pytest.raises(NotImplementedError, match="export best"):
        hybrid.save(trained.config.artifacts_dir)
