"""Text search over a CF bundle's catalog: the query is embedded by the bundle's torch-free ONNX encoder
(appliance.serve.encoder: Sentence-BERT mean pooling, Reimers & Gurevych 2019) and items are ranked by cosine with
the item text embeddings that `tanaban export cf` computed with the same ONNX model (export/encoder.py).

Imports onnxruntime, tokenizers and numpy only (tests/test_imports.py). The query text is neither stored nor
logged: it lives only in the request that carries it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from appliance.serve.encoder import OnnxEncoderError, OnnxTextEncoder
from appliance.serve.errors import ServeError

ENCODER_DIR = "encoder"  # bundle subdirectory: encoder.onnx, tokenizer.json, encoder.json
ENCODER_SETTINGS = "encoder.json"  # max_length, normalize, dim, precision, source weights' sha256
ITEM_TEXT_EMB = "item_text_emb.npy"  # (n_items, dim) float32, bundle item order, made by the bundled encoder
MAX_QUERY_CHARS = 512  # a search-box query; the encoder reads 128 tokens at most, so longer text adds nothing


class SearchError(ServeError):
    """The bundle's encoder files are inconsistent with each other or with its catalog."""


class TextSearch:
    """One ONNX encoder session (loaded once per bundle) and the unit-length item text embeddings."""

    def __init__(self, encoder: OnnxTextEncoder, item_emb: np.ndarray) -> None:
        self.encoder = encoder
        norms = np.linalg.norm(item_emb, axis=1, keepdims=True)
        self.item_unit = (item_emb / np.maximum(norms, 1e-12)).astype(np.float32)  # (n_items, dim)

    @classmethod
    def load(cls, bundle_dir: Path, n_items: int) -> TextSearch | None:
        """The bundle's search index, or None when the bundle was exported without an encoder."""
        enc_dir = Path(bundle_dir) / ENCODER_DIR
        if not enc_dir.is_dir():
            return None
        try:
            settings = json.loads((enc_dir / ENCODER_SETTINGS).read_text(encoding="utf-8"))
            item_emb = np.load(Path(bundle_dir) / ITEM_TEXT_EMB)
            encoder = OnnxTextEncoder(enc_dir / "encoder.onnx", enc_dir / "tokenizer.json",
                                      max_length=int(settings["max_length"]), normalize=bool(settings["normalize"]),
                                      batch_size=1, threads=1)  # one request per thread, as the CF scorer
        except (OSError, ValueError, KeyError, OnnxEncoderError) as exc:
            raise SearchError(f"bundle {bundle_dir}: its text encoder cannot be loaded ({exc}); re-export with "
                              "`tanaban export cf`") from None
        if item_emb.shape != (n_items, int(settings["dim"])):
            raise SearchError(f"bundle {bundle_dir}: {ITEM_TEXT_EMB} has shape {item_emb.shape}, expected "
                              f"({n_items}, {settings['dim']}); re-export with `tanaban export cf`")
        return cls(encoder, item_emb)

    def scores(self, query: str) -> np.ndarray:
        """Cosine of every item's text embedding with the query's: (n_items,) float32."""
        vec = self.encoder.encode([query])[0]
        vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
        return self.item_unit @ vec
