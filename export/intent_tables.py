"""Intent tables for any bundle: the item intent distributions of the intents artifact (appliance.text.intents,
IRLLRec's text intents, Wang et al., SIGIR 2025) in a split's item order, and a customer's intents as the mean over
the items they bought, so every served model (SASRec, hybrid, LightGCN, generative) explains its lists the same way
(appliance.models.explain.intent_reasons). A bundle written without them answers `explain` with a note saying why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from appliance.data.artifacts import ArtifactError
from appliance.data.home import Home
from appliance.data.splits import Split

ITEM_INTENTS, USER_INTENTS, LABELS = "item_intents.npy", "user_intents.npy", "intent_labels.json"


def intent_tables(home: Home, split: Split) -> tuple[np.ndarray, list[str]] | None:
    """Item intent distributions (n_items, K) in split order and their labels, when an intents artifact covers the
    catalog; None otherwise (no `tanaban intents build` yet, or it predates items the split holds)."""
    from appliance.text.intents import load_intents

    try:
        intents = load_intents(home.config.artifacts_dir)
    except ArtifactError:
        return None
    row = {int(i): r for r, i in enumerate(intents.item_ids)}
    if any(int(i) not in row for i in split.item_ids):
        return None
    return intents.item_dist[[row[int(i)] for i in split.item_ids]].astype(np.float32), list(intents.labels)


def mean_intents(item_intents: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
    """(n_users, K): each history's mean item intent distribution; uniform for an empty history."""
    k = item_intents.shape[1]
    out = np.full((len(histories), k), 1.0 / max(k, 1), dtype=np.float32)
    for user, items in enumerate(histories):
        if len(items):
            out[user] = item_intents[np.asarray(items, dtype=np.int64)].mean(axis=0)
    return out


def write_intent_tables(home: Home, split: Split, staging: Path, histories: Sequence[np.ndarray]) -> bool:
    """Write item_intents.npy, user_intents.npy (mean over `histories`, one per split user) and intent_labels.json
    into `staging`; False (nothing written) when no intents artifact covers the split's items."""
    tables = intent_tables(home, split)
    if tables is None:
        return False
    items, labels = tables
    np.save(staging / ITEM_INTENTS, items)
    np.save(staging / USER_INTENTS, mean_intents(items, histories))
    (staging / LABELS).write_text(json.dumps(labels, ensure_ascii=False) + "\n", encoding="utf-8")
    return True
