"""SASRec from training to a served answer: export (parity, int8 gate, precomputed top-K), the torch-free
SequentialBundle (cached answers equal torch's top-K, live scores equal torch's), explanations, and `export_best`
choosing the model with the best validation NDCG@10."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastapi.testclient import TestClient  # noqa: E402

from appliance.config import IntentsConfig, SASRecConfig  # noqa: E402
from appliance.data.artifacts import data_fingerprint, save_artifact  # noqa: E402
from appliance.data.home import Home  # noqa: E402
from appliance.data.keys import PUBLIC_FILE, load_public_key  # noqa: E402
from appliance.data.splits import load_split  # noqa: E402
from appliance.models.contract import top_k  # noqa: E402
from appliance.models.sasrec import SASRecNet, load_sasrec, train_sasrec  # noqa: E402
from appliance.serve.apikeys import KEYS_FILE, create_key  # noqa: E402
from appliance.serve.errors import RequestError  # noqa: E402
from appliance.serve.http import create_app  # noqa: E402
from appliance.serve.node import build_service  # noqa: E402
from appliance.serve.sequential import SequentialBundle, pad_history  # noqa: E402
from appliance.serve.service import CFBundle, load_bundle, recommend_batch  # noqa: E402
from appliance.text.intents import build_intents  # noqa: E402
from export.sasrec import export_best, export_sasrec, export_scorer, full_sequences, gate_int8  # noqa: E402

TINY = SASRecConfig(dim=8, blocks=1, heads=2, max_len=5, dropout=0.0, lr=2e-2, batch_size=4, max_epochs=6,
                    eval_every=3, patience=100, seed=0)


@pytest.fixture
def trained(home: Home, tiny_themes, one_torch_thread) -> Home:
    """The tiny three-theme home (7 customers cust-0..6, 11 items) with a trained SASRec artifact."""
    tiny_themes.fill_home(home)
    train_sasrec(home, cfg=TINY)
    return home


def _bundle(home: Home, path: Path) -> SequentialBundle:
    bundle = load_bundle(path, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])
    assert isinstance(bundle, SequentialBundle)
    return bundle


def _torch_scores(home: Home, inputs: np.ndarray) -> np.ndarray:
    model, _ = load_sasrec(home.config.artifacts_dir)
    assert model.net is not None
    with torch.no_grad():
        return model.net.item_logits(model.net(torch.from_numpy(inputs))[:, -1]).numpy()


def test_cached_answers_are_torch_top_k(trained: Home) -> None:
    path = export_sasrec(trained, quantize=False, version="v1")
    bundle = _bundle(trained, path)
    split = load_split(trained.engine)
    sequences = full_sequences(split)
    inputs = np.concatenate([pad_history(s, TINY.max_len) for s in sequences])
    scores = _torch_scores(trained, inputs)
    for user, seq in enumerate(sequences):
        scores[user, seq] = -np.inf  # everything the customer bought is masked
    expected = top_k(scores, 3)
    for pseudonym, user in bundle.users.items():
        answer = bundle.for_user(pseudonym, 3)
        assert answer.source == "cached"
        assert [r.sku for r in answer.items] == [bundle.items[i]["sku"] for i in expected[user]]
        np.testing.assert_allclose([r.score for r in answer.items], scores[user, expected[user]], rtol=1e-4)
    meta = json.loads((path / "manifest.json").read_text())["meta"]
    assert meta["kind"] == "sequential" and meta["scorer"] == "fp32" and meta["parity"]["max_abs_diff"] < 1e-3


def test_live_history_scores_match_torch(trained: Home) -> None:
    bundle = _bundle(trained, export_sasrec(trained, quantize=False, version="v1"))
    history = [bundle.items[i]["sku"] for i in (9, 0, 3, 1, 4, 7, 2)]  # longer than max_len: the last 5 count
    indices = np.array([9, 0, 3, 1, 4, 7, 2])
    inputs = pad_history(indices, TINY.max_len)
    assert inputs.tolist() == [[4, 2, 5, 8, 3]]  # the 5 most recent, shifted by one (0 = padding)
    np.testing.assert_allclose(bundle.scores(inputs), _torch_scores(trained, inputs), rtol=1e-4, atol=1e-5)
    answer = bundle.for_history(history, 3, exclude=[bundle.items[5]["sku"]])
    assert answer.source == "live" and len(answer.items) == 3
    assert not {r.sku for r in answer.items} & {*history, bundle.items[5]["sku"]}
    left = [i for i in range(11) if i not in {*indices.tolist(), 5}]
    torch_scores = _torch_scores(trained, inputs)[0]
    assert [r.sku for r in answer.items] == [bundle.items[i]["sku"]
                                             for i in sorted(left, key=lambda i: (-torch_scores[i], i))[:3]]
    with pytest.raises(RequestError, match="unknown sku"):
        bundle.for_history([history[0], "no-such-sku"], 3)
    with pytest.raises(RequestError, match="empty history"):
        bundle.for_history([], 3)


def test_short_history_is_left_padded() -> None:
    assert pad_history([4, 0], 5).tolist() == [[0, 0, 0, 5, 1]]
    assert pad_history(list(range(7)), 5).tolist() == [[3, 4, 5, 6, 7]]


@pytest.mark.parametrize(("fp32", "int8", "chosen"), [
    (0.200, 0.199, "int8"),  # -0.5%: within the 1% allowance
    (0.200, 0.197, "fp32"),  # -1.5%: refused
    (0.200, 0.210, "int8"),  # better is fine
    (0.0, 0.0, "int8"),  # nothing to lose
])
def test_int8_gate_rule(fp32: float, int8: float, chosen: str) -> None:
    assert gate_int8(fp32, int8).chosen == chosen


def test_int8_gate_refuses_a_worse_quantized_model(trained: Home) -> None:
    """A "quantizer" that writes an untrained network: NDCG@10 drops, so the bundle ships fp32 and says why."""
    def bad_quantizer(fp32: Path, int8: Path) -> None:
        torch.manual_seed(123)
        export_scorer(SASRecNet(11, TINY).eval(), int8)

    path = export_sasrec(trained, version="v1", quantizer=bad_quantizer)
    gate = json.loads((path / "metrics.json").read_text())["gate"]
    assert gate["chosen"] == "fp32" and gate["relative_drop"] > 0.01 and "at most 1%" in gate["reason"]
    assert gate["ndcg10_int8"] < gate["ndcg10_fp32"]
    assert json.loads((path / "manifest.json").read_text())["meta"]["scorer"] == "fp32"


def _fake_lightgcn(home: Home, valid_ndcg: float, fingerprint: str | None = None) -> None:
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    arrays = {"user_emb": rng.normal(size=(split.n_users, 4)).astype(np.float32),
              "item_emb": rng.normal(size=(split.n_items, 4)).astype(np.float32),
              "user_ids": split.user_ids, "item_ids": split.item_ids}
    save_artifact(home.config.artifacts_dir, "cf-lightgcn", arrays, {
        "model": "lightgcn", "metrics": {"valid/ndcg@10": valid_ndcg},
        "data_fingerprint": fingerprint or data_fingerprint(home.engine)})


@pytest.mark.parametrize(("offset", "chosen", "kind"), [(+0.05, "lightgcn", "cf"), (-0.05, "sasrec", "sequential")])
def test_export_best_picks_the_best_validation_ndcg(trained: Home, offset: float, chosen: str, kind: str) -> None:
    sasrec_ndcg = json.loads(next((trained.config.artifacts_dir / "sasrec").glob("*/manifest.json")).read_text())[
        "metrics"]["valid/ndcg@10"]
    _fake_lightgcn(trained, sasrec_ndcg + offset)
    meta = json.loads((export_best(trained, quantize=False, version="v1", hybrid=False) / "manifest.json")
                      .read_text())["meta"]
    assert meta["kind"] == kind and meta["models"] == [chosen]
    assert meta["comparison"]["chosen"] == chosen and meta["comparison"]["metric"] == "valid/ndcg@10"
    assert meta["comparison"]["scores"] == pytest.approx({"sasrec": sasrec_ndcg, "lightgcn": sasrec_ndcg + offset})
    served = load_bundle(trained.config.artifacts_dir / "bundles" / "v1",
                         [load_public_key(trained.config.keys_dir / PUBLIC_FILE)])
    assert isinstance(served, SequentialBundle if kind == "sequential" else CFBundle)


def test_export_best_skips_models_trained_on_other_data(trained: Home) -> None:
    _fake_lightgcn(trained, 1.0, fingerprint="0" * 64)  # best score, but stale
    meta = json.loads((export_best(trained, quantize=False, version="v1", hybrid=False) / "manifest.json")
                      .read_text())["meta"]
    assert meta["comparison"]["chosen"] == "sasrec" and "lightgcn" in meta["comparison"]["skipped"]


def test_served_over_http_and_recommend_batch(trained: Home) -> None:
    export_sasrec(trained, quantize=False, version="v1")
    token = create_key(trained.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(trained.config)))
    auth = {"X-API-Key": token}
    cached = client.post("/v1/recommendations", json={"user_id": "cust-1", "k": 3, "explain": True}, headers=auth)
    assert cached.status_code == 200, cached.text
    body = cached.json()
    assert body["source"] == "cached" and len(body["items"]) == 3 and body["bundle"] == "v1"
    assert "intent" in body["explain_unavailable"]  # no intents artifact: the answer says why there are no reasons
    live = client.post("/v1/recommendations", json={"history": ["S0", "S3"], "k": 4}, headers=auth).json()
    assert live["source"] == "live" and not {"S0", "S3"} & {item["sku"] for item in live["items"]}
    (row,) = recommend_batch(trained.config, ["cust-1"], None, 3, False)  # what `tanaban recommend` runs
    assert row.customer_id == "cust-1" and row.status == "ok"
    assert [r.sku for r in row.answer.items] == [item["sku"] for item in body["items"]]


def test_explanations_reuse_intent_tables(trained: Home) -> None:
    build_intents(trained, cfg=IntentsConfig(k=3, tau=0.1))
    bundle = _bundle(trained, export_sasrec(trained, quantize=False, version="v1"))
    assert bundle.user_intents is not None and bundle.item_intents is not None and len(bundle.labels) == 3
    user = next(iter(bundle.users))
    for answer in (bundle.for_user(user, 3, explain=True), bundle.for_history(["S0", "S3"], 3, explain=True)):
        assert all(1 <= len(r.because) <= 2 and r.because[0][0] in bundle.labels for r in answer.items)
    assert all(not r.because for r in bundle.for_user(user, 3).items)  # only when asked
