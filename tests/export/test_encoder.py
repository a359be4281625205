"""Text encoder export: ONNX fp32 matches torch, int8 passes or falls back by its gate, the ONNX encoder runs
without torch behind the same encode() contract, and `package_encoder` fills a bundle's encoder part."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from appliance.config import TextEncoderConfig, load_config
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.store import Item
from appliance.serve.encoder import OnnxTextEncoder
from appliance.text.encoder import TextEncoder, TextEncoderError, file_sha256
from export import encoder as export_encoder

TEXTS = ["red lipstick", "vegan cream", "trail shoe", "dog food coffee bean", "gloss", "red red red lip gloss"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> TextEncoder:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "lip", "##stick", "dog", "food", "trail", "shoe",
             "gloss", "coffee", "bean", "vegan", "cream"]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(out / "vocab.txt")).save_pretrained(out)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=24, max_position_embeddings=37)).save_pretrained(out)
    return TextEncoder(TextEncoderConfig(model_dir=str(out), sha256=file_sha256(out / "model.safetensors")))


def test_fp32_export_matches_torch(tiny_encoder: TextEncoder, tmp_path: Path) -> None:
    gate = export_encoder.export_text_encoder(tiny_encoder, tmp_path, TEXTS, quantize=False)
    assert gate.chosen == "fp32" and gate.fp32_max_abs < export_encoder.FP32_MAX_ABS
    onnx = export_encoder._onnx_encode(tmp_path / "encoder.onnx", tmp_path / "tokenizer.json", tiny_encoder, TEXTS)
    np.testing.assert_allclose(onnx, tiny_encoder.encode(TEXTS), atol=1e-4)
    assert not (tmp_path / ".work").exists()


def test_int8_gate_decides_and_reports(tiny_encoder: TextEncoder, tmp_path: Path) -> None:
    gate = export_encoder.export_text_encoder(tiny_encoder, tmp_path, TEXTS, quantize=True)
    assert gate.int8_mean_cosine is not None and -1.0 <= gate.int8_min_cosine <= gate.int8_mean_cosine <= 1.0
    assert gate.chosen == ("int8" if gate.int8_mean_cosine >= export_encoder.INT8_MIN_MEAN_COSINE else "fp32")
    assert str(round(gate.int8_mean_cosine, 4)) in gate.reason


def test_failing_int8_gate_falls_back_to_fp32(tiny_encoder: TextEncoder, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_encoder, "INT8_MIN_MEAN_COSINE", 1.01)  # no int8 model can pass this
    gate = export_encoder.export_text_encoder(tiny_encoder, tmp_path, TEXTS, quantize=True)
    assert gate.chosen == "fp32" and "<" in gate.reason
    onnx = export_encoder._onnx_encode(tmp_path / "encoder.onnx", tmp_path / "tokenizer.json", tiny_encoder, TEXTS)
    np.testing.assert_allclose(onnx, tiny_encoder.encode(TEXTS), atol=1e-4)


def test_onnx_encoder_runs_without_torch(tiny_encoder: TextEncoder, tmp_path: Path) -> None:
    export_encoder.export_text_encoder(tiny_encoder, tmp_path, TEXTS, quantize=False)
    code = ("import sys\nfrom appliance.serve.encoder import OnnxTextEncoder\n"
            f"e = OnnxTextEncoder({str(tmp_path / 'encoder.onnx')!r}, {str(tmp_path / 'tokenizer.json')!r})\n"
            "v = e.encode(['red lipstick', 'gloss'])\n"
            "assert v.shape[0] == 2\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'optimum')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _home(tmp_path: Path, model_dir: Path, sha256: str) -> Home:
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data"),
                                 "TANABAN_TEXT_ENCODER__MODEL_DIR": str(model_dir),
                                 "TANABAN_TEXT_ENCODER__SHA256": sha256})
    init_home(cfg)
    home = open_home(cfg)
    items = tmp_path / "items.jsonl"
    rows = [{"sku": f"s{i}", "title": title, "categories": ["lip", "gloss"], "description": "vegan cream"}
            for i, title in enumerate(["red lipstick", "dog food", "trail shoe coffee bean"])]
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest_file(home, items, "items", progress=False)
    return home


def test_package_encoder_embeds_items_in_the_given_order_with_the_bundled_model(tiny_encoder: TextEncoder,
                                                                                tmp_path: Path) -> None:
    from sqlalchemy import select

    home = _home(tmp_path, tiny_encoder.model_dir, tiny_encoder.sha256)
    with home.engine.connect() as conn:
        ids = np.array(conn.scalars(select(Item.id).order_by(Item.id.desc())).all())  # not store order
    bundle = tmp_path / "bundle"
    gate = export_encoder.package_encoder(home, bundle, ids, progress=False)
    settings = json.loads((bundle / "encoder" / "encoder.json").read_text())
    assert settings["precision"] == gate["chosen"] and settings["batch_size"] == 1 and settings["dim"] == 16
    assert gate["n_items"] == 3 and gate["fp32_max_abs"] < export_encoder.FP32_MAX_ABS
    onnx = OnnxTextEncoder(bundle / "encoder" / "encoder.onnx", bundle / "encoder" / "tokenizer.json", batch_size=1)
    vectors = np.load(bundle / "item_text_emb.npy")
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[0], onnx.encode(["Trail shoe coffee bean. Categories: lip > gloss. "
                                                        "vegan cream"])[0], atol=1e-6)
    np.testing.assert_allclose(vectors[2], onnx.encode(["Red lipstick. Categories: lip > gloss. vegan cream"])[0],
                               atol=1e-6)


def test_package_encoder_without_the_model_says_how_to_skip_it(tmp_path: Path) -> None:
    home = _home(tmp_path, tmp_path / "absent-model", "0" * 64)
    with pytest.raises(TextEncoderError, match=r"does not exist.*`tanaban export cf --no-encoder`"):
        export_encoder.package_encoder(home, tmp_path / "bundle", np.array([1, 2, 3]), progress=False)
    assert not (tmp_path / "bundle" / "encoder").exists()


def test_gate_sample_mixes_profiles_and_titles_deterministically() -> None:
    texts, titles = [f"profile {i}" for i in range(200)], [f"title {i}" for i in range(200)]
    sample = export_encoder._gate_sample(texts, titles)
    assert len(sample) == 2 * export_encoder.GATE_TEXTS and sample == export_encoder._gate_sample(texts, titles)
    assert sample[0] == "profile 0" and "profile 199" in sample and "title 199" in sample
    assert export_encoder._gate_sample(["one"], ["t"]) == ["one", "t"]
