"""Pre-caching of top-K lists per user (Semantic Convergence, Li et al., AAAI 2025): recommendations
are computed ahead of time from each user's full history and stored in the `precomputed` table with the version
of the model that made them, so serving a known user is a lookup and only changed users need live decoding.

No torch at import: the generative model is loaded lazily by `precompute_home`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from rich.progress import Progress
from sqlalchemy import Engine, delete, insert, select

from appliance.data.home import Home
from appliance.data.store import Precomputed

GEN_KIND = "gen"  # artifact kind written by `tanaban train gen`


class PrecomputeError(RuntimeError):
    """Nothing to precompute from (no trained model, or the store changed since it was trained)."""


class TopKModel(Protocol):
    def recommend_for(self, sequences: Sequence[np.ndarray], histories: Sequence[np.ndarray],
                      k: int) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class PrecomputeReport:
    users: int
    k: int
    bundle_version: str


def full_sequences(split: Any) -> list[np.ndarray]:
    """Every user's complete chronological history: training, then validation, then test items."""
    test = np.split(split.test.indices, split.test.indptr[1:-1])
    return [np.concatenate([s, t]).astype(np.int64) for s, t in zip(split.sequences("test"), test, strict=True)]


def precompute(model: TopKModel, split: Any, k: int, *, batch_users: int = 64,
               progress: Callable[[int], None] | None = None) -> dict[int, list[int]]:
    """Store user id -> top-k store item ids from the user's full history (history items excluded)."""
    sequences = full_sequences(split)
    out: dict[int, list[int]] = {}
    for start in range(0, len(sequences), batch_users):
        rows = range(start, min(start + batch_users, len(sequences)))
        batch = [sequences[r] for r in rows]
        items, _ = model.recommend_for(batch, batch, k)
        for r, top in zip(rows, items, strict=True):
            out[int(split.user_ids[r])] = [int(split.item_ids[i]) for i in top if i >= 0]
        if progress is not None:
            progress(len(batch))
    return out


def save_precomputed(engine: Engine, lists: dict[int, list[int]], bundle_version: str, *,
                     now: datetime | None = None) -> int:
    """Replace the stored lists of these users in one transaction; returns the number of rows written."""
    created = int((now or datetime.now(UTC)).timestamp())
    rows = [{"user_id": u, "items": items, "bundle_version": bundle_version, "created_at": created}
            for u, items in lists.items()]
    with engine.begin() as conn:
        users = list(lists)
        for start in range(0, len(users), 500):  # stay below SQLite's bound-parameter limit
            conn.execute(delete(Precomputed).where(Precomputed.user_id.in_(users[start:start + 500])))
        if rows:
            conn.execute(insert(Precomputed), rows)
    return len(rows)


def load_precomputed(engine: Engine, user_id: int) -> tuple[list[int], str] | None:
    """(store item ids, bundle version) for a user, or None when nothing was precomputed."""
    with engine.connect() as conn:
        row = conn.execute(select(Precomputed.items, Precomputed.bundle_version)
                           .where(Precomputed.user_id == user_id)).first()
    return (list(row.items), row.bundle_version) if row else None


def precompute_home(home: Home, k: int, *, version: str | None = None, progress: bool = True,
                    now: datetime | None = None) -> PrecomputeReport:
    """Load the "gen" artifact (latest or `version`), decode top-k for every user, store the lists."""
    from appliance.data.artifacts import ArtifactError, load_artifact
    from appliance.data.splits import load_split
    from appliance.generative.model import GenerativeRecommender

    try:
        art = load_artifact(home.config.artifacts_dir, GEN_KIND, version)
    except ArtifactError as exc:
        raise PrecomputeError(f"{exc} (train one with `tanaban train gen`)") from None
    split = load_split(home.engine)
    if [int(i) for i in split.item_ids] != art.meta["item_ids"]:
        raise PrecomputeError("the catalog changed since the generative model was trained: run "
                              "`tanaban tokenize` and `tanaban train gen` again")
    model = GenerativeRecommender.from_state(art.arrays, art.meta)
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("precomputing", total=split.n_users)
        lists = precompute(model, split, k, progress=lambda n: bar.advance(task, n))
    save_precomputed(home.engine, lists, art.meta["version"], now=now)
    return PrecomputeReport(len(lists), k, art.meta["version"])
