"""ONNX export and int8 quantization of the text encoder, with the parity and quality gates written into the
bundle (export issue; measured facts in DESIGN.md: per-channel dynamic int8 keeps cosine about 0.99 to torch,
per-tensor only about 0.96, so per-channel is used; the plain export is quantized, not an optimised graph).

Gates: ONNX fp32 against torch (max absolute difference of the pooled embeddings and cosine) and int8 against
torch (mean and minimum cosine). If int8 fails its gate the export falls back to fp32 and says so.
`package_encoder` puts the chosen model, its tokenizer and settings into a bundle's `encoder/` directory and embeds
the catalog's item profiles (appliance.text.profiles) with THAT ONNX model, so search queries and items share one space.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from appliance.data.home import Home
from appliance.serve.encoder import OnnxTextEncoder
from appliance.serve.search import ENCODER_DIR, ENCODER_SETTINGS, ITEM_TEXT_EMB
from appliance.text.encoder import TextEncoder, TextEncoderError
from appliance.text.profiles import load_item_profiles
from export.quiet import quantize_int8

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FP32_MAX_ABS = 1e-4  # fp32 ONNX vs torch on unit vectors: anything larger means a wrong export
INT8_MIN_MEAN_COSINE = 0.98  # MiniLM measured 0.991 with per-channel int8; below 0.98 neighbours start to change
GATE_TEXTS = 48  # catalog profiles and as many titles (query-like) for the gate: a stable mean at a few seconds
# Items are embedded one text per run, as serving embeds a query: int8 dynamic quantization scales activations per
# tensor, so a text's vector depends on its batch-mates (MiniLM int8, 300 profiles: mean cosine 0.993, min 0.987
# between batch 1 and batch 8); one per run costs no more CPU per text (no padding). docs/bench/encoder.md.
ITEM_BATCH = 1


@dataclass(frozen=True)
class EncoderGate:
    fp32_max_abs: float
    fp32_min_cosine: float
    int8_mean_cosine: float | None
    int8_min_cosine: float | None
    chosen: str  # "int8" or "fp32"
    reason: str


def export_text_encoder(encoder: Any, out_dir: Path, sample_texts: list[str], *, quantize: bool = True,
                        opset: int = 17, batch_size: int | None = None) -> EncoderGate:
    """Write `encoder.onnx` (the chosen precision) and `tokenizer.json` into `out_dir`; return the gate results.

    The ONNX side of the gates runs at `batch_size` (default: the encoder config's), the size it will be used at.
    """
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / ".work"
    work.mkdir(exist_ok=True)
    fp32_path, int8_path = work / "encoder.fp32.onnx", work / "encoder.int8.onnx"
    _torch_export(encoder, fp32_path, opset, torch)
    tokenizer_path = out_dir / "tokenizer.json"
    encoder.tokenizer.backend_tokenizer.save(str(tokenizer_path))
    reference = encoder.encode(sample_texts)
    fp32 = _onnx_encode(fp32_path, tokenizer_path, encoder, sample_texts, batch_size)
    fp32_cos = _cosines(reference, fp32)
    max_abs = float(np.abs(reference - fp32).max())
    if max_abs > FP32_MAX_ABS:
        shutil.rmtree(work)
        raise RuntimeError(f"ONNX fp32 export differs from torch by {max_abs:.2e} (> {FP32_MAX_ABS}); not exported")
    gate = EncoderGate(max_abs, float(fp32_cos.min()), None, None, "fp32", "quantization not requested")
    if quantize:
        quantize_int8(fp32_path, int8_path)
        cos = _cosines(reference, _onnx_encode(int8_path, tokenizer_path, encoder, sample_texts, batch_size))
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


def _onnx_encode(model: Path, tokenizer: Path, encoder: Any, texts: list[str],
                 batch_size: int | None = None) -> np.ndarray:
    cfg = encoder.cfg
    onnx = OnnxTextEncoder(model, tokenizer, max_length=cfg.max_length, batch_size=batch_size or cfg.batch_size,
                           normalize=cfg.normalize)
    return onnx.encode(texts)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(axis=1)


def package_encoder(home: Home, bundle_dir: Path, item_ids: np.ndarray, *, quantize: bool = True,
                    progress: bool = True) -> dict[str, Any]:
    """Export the configured encoder into `<bundle_dir>/encoder/` and write `item_text_emb.npy` (float32, one row
    per entry of `item_ids`, in that order) computed with the exported ONNX model; returns the gate figures.
    """
    texts, titles = _item_texts(home, item_ids)
    try:
        encoder = TextEncoder(home.config.text_encoder)
    except TextEncoderError as exc:
        message = f"{exc}; or export the bundle without text search: `tanaban export cf --no-encoder`"
        raise TextEncoderError(message) from None
    out = bundle_dir / ENCODER_DIR
    with _progress_bar(progress) as step:
        step("encoder: ONNX export and gates", 0, 1)
        gate = export_text_encoder(encoder, out, _gate_sample(texts, titles), quantize=quantize,
                                   batch_size=ITEM_BATCH)
        settings = {"max_length": encoder.cfg.max_length, "normalize": encoder.cfg.normalize,
                    "batch_size": ITEM_BATCH, "dim": encoder.dim, "pooling": "mean",
                    "precision": gate.chosen, "source_sha256": encoder.sha256}
        (out / ENCODER_SETTINGS).write_text(json.dumps(settings, sort_keys=True) + "\n", encoding="utf-8")
        onnx = OnnxTextEncoder(out / "encoder.onnx", out / "tokenizer.json", max_length=encoder.cfg.max_length,
                               batch_size=ITEM_BATCH, normalize=encoder.cfg.normalize, threads=1)
        done = 0

        def _step(n: int) -> None:
            nonlocal done
            done += n
            step("encoder: item text embeddings", done, len(texts))

        vectors = onnx.encode(texts, progress=_step)
    np.save(bundle_dir / ITEM_TEXT_EMB, vectors.astype(np.float32))
    return {**gate_dict(gate), "n_items": len(texts), "dim": int(vectors.shape[1]) if len(texts) else encoder.dim}


def _item_texts(home: Home, item_ids: np.ndarray) -> tuple[list[str], list[str]]:
    """Profile texts and titles of `item_ids` (store ids), in that order."""
    profiles = {p.item_id: p for p in load_item_profiles(home.engine)}
    rows = [profiles[int(i)] for i in item_ids]
    return [p.text for p in rows], [p.title for p in rows]


def _gate_sample(texts: list[str], titles: list[str]) -> list[str]:
    """Up to GATE_TEXTS profiles and GATE_TEXTS titles spread evenly over the catalog (deterministic)."""
    picks = np.unique(np.linspace(0, max(len(texts) - 1, 0), num=min(GATE_TEXTS, len(texts))).astype(int))
    sample = [texts[i] for i in picks] + [titles[i] for i in picks]
    return sample or ["an example product"]


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A transient rich bar on stderr (a terminal only); yields `step(description, done, total)`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda *_: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("encoder", total=None)
        yield lambda description, done, total: bar.update(task, description=description, completed=done,
                                                          total=total)
