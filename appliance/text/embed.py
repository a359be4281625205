"""`tanaban embed`: encode every item profile with the local text encoder and store the vectors as a versioned
artifact (`item-embeddings`) that records the encoder's weights hash and the data fingerprint it was built from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from appliance.data.artifacts import data_fingerprint, save_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.errors import UserError
from appliance.text.profiles import load_item_profiles

KIND = "item-embeddings"


class EmbedError(UserError, RuntimeError):
    """Nothing to embed (empty catalog)."""


@store_writer("embed")
def embed_items(home: Home, *, encoder: Any = None,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Embed all item profiles; returns the artifact directory. `progress(done, total)` after each batch."""
    profiles = load_item_profiles(home.engine)
    if not profiles:
        raise EmbedError("the store has no items: run `tanaban ingest items FILE` first")
    if encoder is None:
        from appliance.text.encoder import TextEncoder

        encoder = TextEncoder(home.config.text_encoder)
    done = 0

    def _step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, len(profiles))

    vectors = encoder.encode([p.text for p in profiles], progress=_step)
    meta = {"encoder": {"model_dir": str(encoder.model_dir), "sha256": encoder.sha256,
                        "config": dataclasses.asdict(encoder.cfg)},
            "data_fingerprint": data_fingerprint(home.engine), "n_items": len(profiles), "dim": int(vectors.shape[1])}
    arrays = {"item_ids": np.array([p.item_id for p in profiles], dtype=np.int64), "vectors": vectors}
    return save_artifact(home.config.artifacts_dir, KIND, arrays, meta)
