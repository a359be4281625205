"""Text search end to end on a tiny home with a tiny BERT: `export cf` packages the ONNX encoder and the item text
embeddings (signed), `POST /v1/search` ranks items by cosine, validates its input, and never logs the query."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import Home, init_home, open_home
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.errors import ServeError
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from appliance.serve.search import ENCODER_DIR, ITEM_TEXT_EMB, MAX_QUERY_CHARS
from appliance.serve.service import MAX_K, CFBundle
from appliance.text.encoder import file_sha256
from appliance.text.profiles import load_item_profiles
from export.bundle import BundleError, verify_bundle
from export.cf import export_cf

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory, serve_sample) -> Path:
    """A random tiny BERT whose vocabulary holds every word of the serving fixture's sample (same seed)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    sample = serve_sample.write(tmp_path_factory.mktemp("vocab-sample"))  # the sample `bundle_home` ingests
    words = set(re.findall(r"\w+|[^\w\s]", (sample / "items.jsonl").read_text(encoding="utf-8").lower()))
    out = tmp_path_factory.mktemp("tiny-bert")
    (out / "vocab.txt").write_text("\n".join(SPECIAL + sorted(words)) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(out / "vocab.txt")).save_pretrained(out)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(SPECIAL) + len(words), hidden_size=24, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=37, max_position_embeddings=67)).save_pretrained(out)
    return out


def _tiny_home(data_dir: Path, encoder_dir: Path) -> Home:
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(data_dir),
                                 "TANABAN_TEXT_ENCODER__MODEL_DIR": str(encoder_dir),
                                 "TANABAN_TEXT_ENCODER__SHA256": file_sha256(encoder_dir / "model.safetensors"),
                                 "TANABAN_TEXT_ENCODER__MAX_LENGTH": "64"})
    init_home(cfg)
    return open_home(cfg)


@pytest.fixture
def home(tmp_path: Path, tiny_encoder_dir: Path) -> Home:
    """Overrides the shared `home` (so `bundle_home` too): the same appliance, with the tiny encoder configured."""
    return _tiny_home(tmp_path / "data", tiny_encoder_dir)


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path,
             serve_sample) -> tuple[TestClient, str, Home, Path]:
    """One exported bundle with its encoder for the read-only tests (an export takes seconds)."""
    tmp = tmp_path_factory.mktemp("searched")
    home = _tiny_home(tmp / "data", tiny_encoder_dir)
    serve_sample.ingest(home, tmp / "sample")
    serve_sample.fake_cf(home, labels=None)
    path = export_cf(home, "lightgcn", version="v1", encoder=True, progress=False)
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    return TestClient(create_app(*build_service(home.config))), token, home, path


def test_bundle_carries_signed_encoder_and_gates(searched) -> None:
    _, _, home, path = searched
    manifest = verify_bundle(path, [home.signing_key.public])
    assert {f"{ENCODER_DIR}/encoder.onnx", f"{ENCODER_DIR}/tokenizer.json", f"{ENCODER_DIR}/encoder.json",
            ITEM_TEXT_EMB} <= set(manifest.files)
    gate = json.loads((path / "metrics.json").read_text())["encoder_gate"]
    assert gate["chosen"] in ("int8", "fp32") and gate["fp32_max_abs"] < 1e-4
    assert gate["int8_mean_cosine"] is not None
    assert gate["n_items"] == len(json.loads((path / "items.json").read_text()))
    assert manifest.data["meta"]["encoder"] == gate["chosen"]
    emb = np.load(path / ITEM_TEXT_EMB)
    assert emb.dtype == np.float32 and emb.shape == (gate["n_items"], 24)


def test_item_embeddings_are_made_by_the_bundled_encoder(searched) -> None:
    _, _, home, path = searched
    from appliance.serve.encoder import OnnxTextEncoder

    items = json.loads((path / "items.json").read_text())
    texts = {p.sku: p.text for p in load_item_profiles(home.engine)}
    onnx = OnnxTextEncoder(path / ENCODER_DIR / "encoder.onnx", path / ENCODER_DIR / "tokenizer.json", max_length=64,
                           batch_size=1)  # as serving encodes a query
    np.testing.assert_allclose(np.load(path / ITEM_TEXT_EMB)[:5], onnx.encode([texts[r["sku"]] for r in items[:5]]),
                               atol=1e-6)


def test_query_equal_to_a_profile_finds_that_item_first(searched) -> None:
    client, token, home, path = searched
    items = json.loads((path / "items.json").read_text())
    texts = {p.sku: p.text for p in load_item_profiles(home.engine)}
    for row in (items[0], items[len(items) // 2], items[-1]):
        query = texts[row["sku"]]
        assert len(query) <= MAX_QUERY_CHARS  # the sample's profiles fit in one query
        response = client.post("/v1/search", json={"query": query, "k": 5}, headers={"X-API-Key": token})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["source"] == "live" and body["bundle"] == "v1" and len(body["items"]) == 5
        assert body["items"][0]["sku"] == row["sku"] and body["items"][0]["score"] > 0.999
        scores = [i["score"] for i in body["items"]]
        assert scores == sorted(scores, reverse=True)
    first = client.post("/v1/search", json={"query": texts[items[0]["sku"]], "k": 3, "exclude": [items[0]["sku"]]},
                        headers={"X-API-Key": token}).json()
    assert items[0]["sku"] not in {i["sku"] for i in first["items"]} and len(first["items"]) == 3


@pytest.mark.parametrize(("payload", "status", "text"), [
    ({"query": ""}, 422, "at least 1 character"),
    ({"query": "x" * (MAX_QUERY_CHARS + 1)}, 422, "at most 512 characters"),
    ({"query": " \n\t "}, 422, "should match pattern"),
    ({"query": "cream", "k": 0}, 422, "greater than or equal"),
    ({"query": "cream", "k": MAX_K + 1}, 422, "less than or equal"),
    ({"k": 3}, 422, "Field required"),
])
def test_search_input_errors(searched, payload: dict, status: int, text: str) -> None:
    client, token, *_ = searched
    response = client.post("/v1/search", json=payload, headers={"X-API-Key": token})
    assert response.status_code == status and text in response.text


def test_search_needs_a_key(searched) -> None:
    client, *_ = searched
    assert client.post("/v1/search", json={"query": "cream"}).status_code == 401


def test_query_never_reaches_the_logs(searched, caplog: pytest.LogCaptureFixture) -> None:
    client, token, *_ = searched
    secret = "jane.doe.4711@example.org"
    with caplog.at_level(logging.DEBUG):
        ok = client.post("/v1/search", json={"query": f"gift for {secret} moisturizer"}, headers={"X-API-Key": token})
        bad = client.post("/v1/search", json={"query": secret + "x" * 600}, headers={"X-API-Key": token})
    assert ok.status_code == 200 and bad.status_code == 422
    assert "/v1/search 200" in caplog.text and "/v1/search 422" in caplog.text
    assert "jane" not in caplog.text.lower() and "4711" not in caplog.text
    assert "jane" not in client.get("/metrics").text


def test_bundle_without_encoder_answers_404(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")  # the library default: no encoder
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    client = TestClient(create_app(*build_service(home.config)))
    response = client.post("/v1/search", json={"query": "cream"}, headers={"X-API-Key": token})
    assert response.status_code == 404 and "--no-encoder" in response.text
    assert client.post("/v1/recommendations", json={"history": [json.loads(
        (home.config.artifacts_dir / "bundles" / "v1" / "items.json").read_text())[0]["sku"]]},
        headers={"X-API-Key": token}).status_code == 200


def test_tampered_encoder_file_is_refused(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    path = export_cf(home, "lightgcn", version="v1", encoder=True, progress=False)
    target = path / ENCODER_DIR / "tokenizer.json"
    target.write_bytes(target.read_bytes().replace(b"[UNK]", b"[UNX]", 1))
    with pytest.raises(BundleError, match=r"encoder/tokenizer\.json does not match its sha256"):
        CFBundle.load(path, [home.signing_key.public])


def test_inconsistent_item_embeddings_are_refused_at_load(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    path = export_cf(home, "lightgcn", version="v1", encoder=True, progress=False)
    manifest = verify_bundle(path, [home.signing_key.public])
    np.save(path / ITEM_TEXT_EMB, np.zeros((3, 24), np.float32))  # past the signature check: the shape check
    with pytest.raises(ServeError, match="has shape"):
        CFBundle(path, manifest)


def _cli_config(home: Home, tmp_path: Path, model_dir: Path, sha256: str) -> Path:
    path = tmp_path / "cli.toml"
    path.write_text(f'[paths]\ndata_dir = "{home.config.data_dir}"\n[text_encoder]\nmodel_dir = "{model_dir}"\n'
                    f'sha256 = "{sha256}"\nmax_length = 64\n', encoding="utf-8")
    return path


def test_cli_exports_encoder_by_default(bundle_home: tuple[Home, Path], tiny_encoder_dir: Path,
                                        tmp_path: Path) -> None:
    from cli.main import app

    home, _ = bundle_home
    cfg = _cli_config(home, tmp_path, tiny_encoder_dir, file_sha256(tiny_encoder_dir / "model.safetensors"))
    result = CliRunner().invoke(app, ["--config", str(cfg), "export", "cf"])
    assert result.exit_code == 0, result.output
    assert "text encoder" in result.output and "item text embeddings" in result.output
    assert list((home.config.artifacts_dir / "bundles").glob(f"*/{ENCODER_DIR}/encoder.onnx"))


def test_missing_encoder_fails_clearly_and_no_encoder_skips_it(bundle_home: tuple[Home, Path],
                                                               tmp_path: Path) -> None:
    from cli.main import app

    home, _ = bundle_home
    cfg = _cli_config(home, tmp_path, tmp_path / "no-such-model", "0" * 64)
    failed = CliRunner().invoke(app, ["--config", str(cfg), "export", "cf"])
    assert failed.exit_code == 2 and "does not exist" in failed.output and "--no-encoder" in failed.output
    assert not list((home.config.artifacts_dir / "bundles").glob("*/manifest.json"))
    skipped = CliRunner().invoke(app, ["--config", str(cfg), "export", "cf", "--no-encoder"])
    assert skipped.exit_code == 0, skipped.output
    assert not list((home.config.artifacts_dir / "bundles").glob(f"*/{ENCODER_DIR}"))
