"""Torch-free text encoder over an exported ONNX model (fp32 or int8), the serving twin of appliance.text.encoder.

Same `encode(texts) -> (N, dim) float32` contract and the same mean pooling (Sentence-BERT); tokenization with the
`tokenizers` library from the exported `tokenizer.json`. Imports onnxruntime only, after the offline guard, so
onnxruntime's telemetry is off (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import UserError
from appliance.offline import apply_offline_env


class OnnxEncoderError(UserError, RuntimeError):
    """The exported encoder files are missing or unreadable."""


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of token vectors where mask == 1: hidden (B, T, D), mask (B, T) -> (B, D) float32."""
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


class OnnxTextEncoder:
    def __init__(self, model_path: Path, tokenizer_path: Path, *, max_length: int = 128, batch_size: int = 64,
                 normalize: bool = True, threads: int = 0) -> None:
        apply_offline_env()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        for path in (model_path, tokenizer_path):
            if not Path(path).is_file():
                raise OnnxEncoderError(f"{path} does not exist: export the encoder with `tanaban export` first")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.batch_size, self.normalize = batch_size, normalize

    def encode(self, texts: Sequence[str], *, progress: Callable[[int], Any] | None = None) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        parts: dict[int, np.ndarray] = {}
        for start in range(0, len(texts), self.batch_size):
            idx = order[start:start + self.batch_size]
            for i, row in zip(idx, self._encode_batch([texts[i] for i in idx]), strict=True):
                parts[int(i)] = row
            if progress is not None:
                progress(len(idx))
        return np.stack([parts[i] for i in range(len(texts))]) if texts else np.zeros((0, 0), np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = self.session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in self.inputs})
        pooled = mean_pool(hidden, feeds["attention_mask"])
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)
