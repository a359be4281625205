"""ONNX export and int8 quantization of the text encoder, with the parity and quality gates written into the
bundle (export issue; measured facts in DESIGN.md: per-channel dynamic int8 keeps cosine about 0.99 to torch,
per-tensor only about 0.96, so per-channel is used; the plain export is quantized, not an optimised graph).

Gates: ONNX fp32 against torch (max absolute difference of the pooled embeddings and cosine) and int8 against
torch (mean and minimum cosine). If int8 fails its gate the export falls back to fp32 and says so.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from appliance.onnx_encoder import OnnxTextEncoder

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FP32_MAX_ABS = 1e-4  # fp32 ONNX vs torch on unit vectors: anything larger means a wrong export
INT8_MIN_MEAN_COSINE = 0.98  # MiniLM measured 0.991 with per-channel int8; below 0.98 neighbours start to change


@dataclass(frozen=True)
class EncoderGate:
    fp32_max_abs: float
    fp32_min_cosine: float
    int8_mean_cosine: float | None
    int8_min_cosine: float | None
    chosen: str  # "int8" or "fp32"
    reason: str


def export_text_encoder(encoder: Any, out_dir: Path, sample_texts: list[str], *, quantize: bool = True,
                        opset: int = 17) -> EncoderGate:
    """Write `encoder.onnx` (the chosen precision) and `tokenizer.json` into `out_dir`; return the gate results."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / ".work"
    work.mkdir(exist_ok=True)
    fp32_path, int8_path = work / "encoder.fp32.onnx", work / "encoder.int8.onnx"
    _torch_export(encoder, fp32_path, opset, torch)
    tokenizer_path = out_dir / "tokenizer.json"
    encoder.tokenizer.backend_tokenizer.save(str(tokenizer_path))
    reference = encoder.encode(sample_texts)
    fp32 = _onnx_encode(fp32_path, tokenizer_path, encoder, sample_texts)
    fp32_cos = _cosines(reference, fp32)
    max_abs = float(np.abs(reference - fp32).max())
    if max_abs > FP32_MAX_ABS:
        shutil.rmtree(work)
        raise RuntimeError(f"ONNX fp32 export differs from torch by {max_abs:.2e} (> {FP32_MAX_ABS}); not exported")
    gate = EncoderGate(max_abs, float(fp32_cos.min()), None, None, "fp32", "quantization not requested")
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32_path), str(int8_path), per_channel=True, weight_type=QuantType.QInt8)
        cos = _cosines(reference, _onnx_encode(int8_path, tokenizer_path, encoder, sample_texts))
        ok = float(cos.mean()) >= INT8_MIN_MEAN_COSINE
        gate = EncoderGate(max_abs, float(fp32_cos.min()), float(cos.mean()), float(cos.min()),
                           "int8" if ok else "fp32",
                           f"int8 mean cosine {cos.mean():.4f} {'>=' if ok else '<'} {INT8_MIN_MEAN_COSINE}")
    shutil.move(str(int8_path if gate.chosen == "int8" else fp32_path), out_dir / "encoder.onnx")
    shutil.rmtree(work)
    return gate


def gate_dict(gate: EncoderGate) -> dict[str, Any]:
    return asdict(gate)


def _torch_export(encoder: Any, path: Path, opset: int, torch: Any) -> None:
    class _Hidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    from transformers import AutoModel

    # eager attention: the SDPA path's mask shortcuts get frozen into the trace and break other padding patterns
    model = AutoModel.from_pretrained(encoder.model_dir, local_files_only=True, attn_implementation="eager").eval()
    batch = encoder.tokenizer(["an example sentence", "two"], padding=True, return_tensors="pt")
    if "token_type_ids" not in batch:
        batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        torch.onnx.export(_Hidden(model), tuple(batch[n] for n in INPUTS), str(path),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=opset, dynamo=False)  # the TorchScript exporter handles BERT's dynamic axes


def _onnx_encode(model: Path, tokenizer: Path, encoder: Any, texts: list[str]) -> np.ndarray:
    cfg = encoder.cfg
    onnx = OnnxTextEncoder(model, tokenizer, max_length=cfg.max_length, batch_size=cfg.batch_size,
                           normalize=cfg.normalize)
    return onnx.encode(texts)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(axis=1)
