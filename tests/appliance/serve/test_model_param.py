"""The `model` parameter of /v1/recommendations on a CF bundle: it accepts exactly what the bundle's manifest lists
(meta.models), defaults to the bundle's model, answers 422 with the allowed names otherwise, and keeps the 503 for
`generative` when no generative bundle is published (appliance/serve/answers.py, http.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.data.home import Home
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.serve.answers import bundle_models, select_model
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.errors import RequestError
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from appliance.serve.service import load_bundle
from export.cf import export_cf


@pytest.fixture
def client(bundle_home: tuple[Home, Path]) -> tuple[TestClient, dict[str, str]]:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    return TestClient(create_app(*build_service(home.config))), {"X-API-Key": token}


class _Manifest:
    def __init__(self, meta: dict) -> None:
        self.data = {"meta": meta}


@pytest.mark.parametrize(("meta", "expected"), [
    ({"model": "lightgcn", "models": ["lightgcn"]}, (["lightgcn"], "lightgcn")),
    ({"model": "hybrid", "models": ["sasrec", "hybrid", "item-knn"]}, (["hybrid", "sasrec", "item-knn"], "hybrid")),
    ({"model": "irllrec"}, (["irllrec"], "irllrec")),  # a bundle from before meta.models
])
def test_bundle_models_default_first(meta: dict, expected: tuple) -> None:
    assert bundle_models(_Manifest(meta)) == expected


def test_cf_bundle_accepts_its_model_only(client, serve_sample, bundle_home) -> None:
    c, auth = client
    customer = serve_sample.customers(bundle_home[1])[0]
    assert c.get("/v1/models", headers=auth).json() == {"models": ["lightgcn"], "default": "lightgcn", "bundle": "v1"}
    plain = c.post("/v1/recommendations", json={"user_id": customer, "k": 4}, headers=auth)
    named = c.post("/v1/recommendations", json={"user_id": customer, "k": 4, "model": "lightgcn"}, headers=auth)
    assert plain.status_code == named.status_code == 200 and plain.json() == named.json()
    for bad in ("cf", "sasrec", "LightGCN"):
        got = c.post("/v1/recommendations", json={"user_id": customer, "model": bad}, headers=auth)
        assert got.status_code == 422 and got.json()["error"]["code"] == "invalid_field"
        assert "hold lightgcn;" in got.json()["error"]["message"]
    empty = c.post("/v1/recommendations", json={"user_id": customer, "model": ""}, headers=auth)
    assert empty.status_code == 422  # min_length: an empty name is never a model
    gen = c.post("/v1/recommendations", json={"user_id": customer, "model": "generative"}, headers=auth)
    assert gen.status_code == 503 and "export gen" in gen.json()["error"]["message"]
    assert c.get("/v1/models").status_code == 401


def test_select_model_on_a_cf_bundle(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    path = export_cf(home, "lightgcn", version="v1")
    bundle = load_bundle(path, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])
    assert select_model(bundle, None) is bundle and select_model(bundle, "lightgcn") is bundle
    with pytest.raises(RequestError, match="hold lightgcn"):
        select_model(bundle, "hybrid")
