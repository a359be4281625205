"""Text encoder export: ONNX fp32 matches torch, int8 passes or falls back by its gate, and the ONNX encoder runs
without torch behind the same encode() contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from appliance.config import TextEncoderConfig
from appliance.textenc import TextEncoder, file_sha256
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
    code = ("import sys\nfrom appliance.onnx_encoder import OnnxTextEncoder\n"
            f"e = OnnxTextEncoder({str(tmp_path / 'encoder.onnx')!r}, {str(tmp_path / 'tokenizer.json')!r})\n"
            "v = e.encode(['red lipstick', 'gloss'])\n"
            "assert v.shape[0] == 2\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'optimum')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
