"""Export gate, signed bundle, torch-free runtime and the HTTP API (errors, keys, reload, no raw ids in logs)."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from appliance.data.home import Home
from appliance.serve.apikeys import KEYS_FILE, create_key, revoke_key
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from appliance.serve.service import Service
from export.bundle import BundleError
from export.cf import export_cf

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def served(bundle_home: tuple[Home, Path]) -> tuple[TestClient, str, Home, Path]:
    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    return TestClient(create_app(*build_service(home.config))), token, home, sample


def test_export_writes_gate_and_precomputed_answers(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    path = export_cf(home, "lightgcn", version="v1")
    gate = json.loads((path / "metrics.json").read_text())["gate"]
    assert gate["chosen"] in ("int8", "fp32") and gate["ndcg10_fp32"] >= 0
    if gate["chosen"] == "int8":
        assert gate["relative_drop"] <= 0.01
    pre = np.load(path / "precomputed.npy")
    assert pre.shape[1] == min(100, len(json.loads((path / "items.json").read_text())))


def test_cached_answer_excludes_history_and_matches_live(served, serve_sample) -> None:
    client, token, _, sample = served
    user = serve_sample.customers(sample)[0]
    auth = {"Authorization": f"Bearer {token}"}
    cached = client.post("/v1/recommendations", json={"user_id": user, "k": 5, "explain": True}, headers=auth)
    assert cached.status_code == 200, cached.text
    body = cached.json()
    assert body["source"] == "cached" and len(body["items"]) == 5
    assert all(1 <= len(item["because"]) <= 2 for item in body["items"])
    bought = {row["sku"] for row in csv.DictReader((sample / "interactions.csv").open())
              if row["customer_id"] == user}
    assert not bought & {item["sku"] for item in body["items"]}
    excluded = client.post("/v1/recommendations", headers=auth,
                           json={"user_id": user, "k": 5, "exclude": [body["items"][0]["sku"]]}).json()
    assert body["items"][0]["sku"] not in {item["sku"] for item in excluded["items"]}


@pytest.mark.parametrize(("payload", "status", "text"), [
    ({"user_id": "C999999999"}, 404, "unknown user"),
    ({"history": []}, 404, "empty history"),
    ({"history": ["no-such-sku"]}, 404, "unknown sku"),
    ({"user_id": "x", "k": 100000}, 422, "less than or equal"),
    ({"k": 3}, 422, "user_id or history"),
])
def test_documented_errors(served, payload: dict, status: int, text: str) -> None:
    client, token, *_ = served
    response = client.post("/v1/recommendations", json=payload, headers={"X-API-Key": token})
    assert response.status_code == status and text in response.text


def test_malformed_json_oversize_and_keys(served) -> None:
    client, token, home, _ = served
    auth = {"X-API-Key": token, "content-type": "application/json"}
    assert client.post("/v1/recommendations", content=b"{not json", headers=auth).status_code == 422
    assert client.post("/v1/recommendations", content=b" " * 70_000, headers=auth).status_code == 413
    chunked = client.post("/v1/recommendations", content=iter([b" " * 40_000, b" " * 40_000]), headers=auth)
    assert chunked.status_code == 413
    assert client.post("/v1/recommendations", json={"user_id": "x"}).status_code == 401
    revoke_key(home.config.data_dir / KEYS_FILE, token.split("_")[1])
    assert client.post("/v1/recommendations", json={"user_id": "x"}, headers=auth).status_code == 401


def test_history_request_is_live_and_similar_items(served) -> None:
    client, token, _, sample = served
    skus = [json.loads(line)["sku"] for line in (sample / "items.jsonl").open()][:3]
    live = client.post("/v1/recommendations", json={"history": skus, "k": 4}, headers={"X-API-Key": token}).json()
    assert live["source"] == "live" and not set(skus) & {i["sku"] for i in live["items"]}
    similar = client.get(f"/v1/items/{skus[0]}/similar?k=3", headers={"X-API-Key": token})
    assert similar.status_code == 200 and len(similar.json()["items"]) == 3


def test_access_log_never_holds_the_raw_id(served, caplog: pytest.LogCaptureFixture, serve_sample) -> None:
    client, token, _, sample = served
    user = serve_sample.customers(sample)[1]
    with caplog.at_level(logging.INFO, logger="tanaban.access"):
        client.post("/v1/recommendations", json={"user_id": user}, headers={"X-API-Key": token})
    assert "/v1/recommendations 200" in caplog.text and user not in caplog.text
    metrics = client.get("/metrics").text
    assert 'tanaban_requests_total{route="/v1/recommendations",status="200"} 1' in metrics


def test_tampered_bundle_refused_at_start_and_at_reload(served) -> None:
    client, _, home, _ = served
    root = home.config.artifacts_dir / "bundles"
    export_cf(home, "lightgcn", version="v2")
    (root / "v2" / "items.json").write_text("[]")
    admin = create_key(home.config.data_dir / KEYS_FILE, "ops", ("admin",))  # /v1/admin/* needs the admin scope
    reload = client.post("/v1/admin/reload", headers={"X-API-Key": admin})
    assert reload.status_code == 409 and "sha256" in reload.text
    assert client.get("/readyz").json()["bundle"] == "v1"  # still serving the good one
    with pytest.raises(BundleError, match=r"items\.json does not match"):
        build_service(home.config)


def test_reload_under_load_loses_no_request(served, serve_sample) -> None:
    client, token, home, sample = served
    users = serve_sample.customers(sample)
    statuses: list[int] = []

    def hammer() -> None:
        for i in range(60):
            r = client.post("/v1/recommendations", json={"user_id": users[i % len(users)], "k": 3},
                            headers={"X-API-Key": token})
            statuses.append(r.status_code)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    export_cf(home, "lightgcn", version="v2")
    admin = create_key(home.config.data_dir / KEYS_FILE, "ops", ("admin",))  # /v1/admin/* needs the admin scope
    assert client.post("/v1/admin/reload", headers={"X-API-Key": admin}).json() == {"bundle": "v2"}
    for t in threads:
        t.join()
    assert statuses.count(200) == 180


def test_service_without_bundle_says_what_to_do(home: Home) -> None:
    with pytest.raises(BundleError, match="tanaban export"):
        Service(home.config.artifacts_dir / "bundles", []).reload()


def test_batch_path_unknown_user(bundle_home, serve_sample) -> None:
    from appliance.serve.service import recommend_batch

    home, sample = bundle_home
    export_cf(home, "lightgcn")
    rows = recommend_batch(home.config, serve_sample.customers(sample)[:2], None, 3, True)
    assert [len(r.answer.items) for r in rows] == [3, 3]
    (row,) = recommend_batch(home.config, ["nobody"], None, 3, False)  # one bad row never aborts a batch
    assert row.status == "unknown_customer" and "unknown user" in row.error and row.answer is None


def test_serving_imports_no_training_stack() -> None:
    code = ("import sys\nimport appliance.serve.service, appliance.serve.http, export.bundle, appliance.serve.encoder\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'optimum')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_real_http_on_loopback(bundle_home, serve_sample) -> None:
    from appliance.serve.server import loopback_json, serving_on_loopback

    home, sample = bundle_home
    export_cf(home, "lightgcn")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    with serving_on_loopback(home.config) as port:
        status, body = loopback_json(port, "POST", "/v1/recommendations",
                                     {"user_id": serve_sample.customers(sample)[0], "k": 3, "explain": True}, token)
        assert status == 200 and len(body["items"]) == 3 and body["items"][0]["because"]
        assert loopback_json(port, "GET", "/readyz")[0] == 200
        assert loopback_json(port, "GET", "/openapi.json")[1]["paths"]["/v1/recommendations"]


def test_generative_bundle_served_live(bundle_home, serve_sample) -> None:
    """A tiny generative model (random unique codes) exported, signed and served (from the lists decoded at
    export): valid, unowned items only."""
    import dataclasses

    from appliance.generative.pipeline import train_gen
    from export.gen_bundle import export_gen_bundle

    home, sample = bundle_home
    serve_sample.random_codes(home)
    gen = dataclasses.replace(home.config.gen, preset="tiny", tasks=("seq",), max_epochs=1, valid_users=10)
    train_gen(home, gen, progress=False)
    path = export_gen_bundle(home, quantize=False)
    export_cf(home, "lightgcn")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(home.config)))
    user = serve_sample.customers(sample)[0]
    body = client.post("/v1/recommendations", json={"user_id": user, "k": 4, "model": "generative"},
                       headers={"X-API-Key": token}).json()
    skus = {json.loads(line)["sku"] for line in (sample / "items.jsonl").open()}
    bought = {row["sku"] for row in csv.DictReader((sample / "interactions.csv").open()) if row["customer_id"] == user}
    got = [item["sku"] for item in body["items"]]
    assert body["source"] == "cached" and body["bundle"] == path.name and 1 <= len(got) <= 4
    assert set(got) <= skus and not set(got) & bought and len(set(got)) == len(got)


def test_serving_maps_raw_ids_like_ingest_after_a_key_rotation(bundle_home, serve_sample) -> None:
    """After `keys rotate` the store holds chained pseudonyms; a re-exported bundle must still find the customer."""
    from appliance.data.rotation import rotate_pseudonym_key

    home, sample = bundle_home
    user = serve_sample.customers(sample)[0]
    rotate_pseudonym_key(home)
    export_cf(home, "lightgcn")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(home.config)))
    response = client.post("/v1/recommendations", json={"user_id": user, "k": 2}, headers={"X-API-Key": token})
    assert response.status_code == 200, response.text


def test_bundles_from_before_and_after_a_key_rotation_both_find_the_customer(bundle_home, serve_sample) -> None:
    """A bundle exported before `keys rotate` keeps answering (lookups use the bundle's key); a server started
    before the rotation finds customers in a bundle exported after it (the key chain is read again)."""
    from appliance.data.rotation import rotate_pseudonym_key
    from appliance.serve.service import recommend_batch

    home, sample = bundle_home
    user = serve_sample.customers(sample)[0]
    old = export_cf(home, "lightgcn")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    service, *rest = build_service(home.config)
    client = TestClient(create_app(service, *rest))

    def ask(c: TestClient) -> dict:
        response = c.post("/v1/recommendations", json={"user_id": user, "k": 2}, headers={"X-API-Key": token})
        assert response.status_code == 200, response.text
        return response.json()

    before = ask(client)
    rotate_pseudonym_key(home)
    assert ask(client) == before  # the old bundle, the old process
    assert ask(TestClient(create_app(*build_service(home.config)))) == before  # the old bundle, a new process
    (row,) = recommend_batch(home.config, [user], None, 2, False)  # the batch path too
    assert row.customer_id == user and row.status == "ok" and row.answer.items
    new = export_cf(home, "lightgcn")
    assert service.reload() == new.name != old.name
    assert ask(client)["bundle"] == new.name  # the new bundle, a process that started before the rotation


def test_bundle_whose_pseudonym_key_is_gone_answers_503_with_the_fix(bundle_home, serve_sample) -> None:
    """An archived key deleted after a rotation: the old bundle cannot map customers; a clear 503, not a 500."""
    from appliance.data.rotation import ARCHIVE_DIR, rotate_pseudonym_key

    home, sample = bundle_home
    export_cf(home, "lightgcn")
    rotate_pseudonym_key(home)
    for path in (home.config.keys_dir / ARCHIVE_DIR).glob("*.key"):
        path.unlink()
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(home.config)))
    for _ in range(2):  # the same answer again once the missing key is known
        response = client.post("/v1/recommendations", json={"user_id": serve_sample.customers(sample)[0], "k": 2},
                               headers={"X-API-Key": token})
        assert response.status_code == 503 and "re-export the bundle" in response.json()["error"]["message"]
