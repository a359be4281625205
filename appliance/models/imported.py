"""The shop's existing recommender as models of the evaluation harness (issue 18): `imported` scores with imported
item vectors (user vector = mean of the history items' vectors, dot product or cosine, as in the item-embedding
baselines of Rendle et al., "Neural Collaborative Filtering vs. Matrix Factorization Revisited", RecSys 2020), and
`champion` replays the current system's top-K lists. Both read the artifacts of appliance.data.imports.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from appliance.data.artifacts import ArtifactError, load_artifact
from appliance.data.imports import EMBEDDINGS_KIND, LISTS_KIND, METRICS
from appliance.data.splits import Split
from appliance.errors import UserError
from appliance.models.contract import FitInfo

_ARRAYS_FILE = "arrays.npz"
_CONFIG_FILE = "config.json"


class ImportedModelError(UserError, RuntimeError):
    """An imported model without its artifact (nothing imported yet) or used before fit()."""


def _load(artifacts_dir: Path, kind: str, command: str) -> tuple[dict[str, np.ndarray], dict]:
    try:
        art = load_artifact(artifacts_dir, kind)
    except ArtifactError as exc:
        if (Path(artifacts_dir) / kind).is_dir():
            raise  # present but broken: the artifact's own message says which file
        raise ImportedModelError(f"nothing imported yet: run `{command}` first") from exc
    return art.arrays, art.meta


def _positions(store_ids: np.ndarray, split_ids: np.ndarray) -> np.ndarray:
    """For each store id, its index in `split_ids` or -1 (not in the split)."""
    index = {int(i): n for n, i in enumerate(split_ids)}
    return np.array([index.get(int(i), -1) for i in store_ids], dtype=np.int64)


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _save(directory: Path, config: dict, arrays: dict[str, np.ndarray]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(directory / _ARRAYS_FILE, **arrays)
    (directory / _CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _read(directory: Path, name: str) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        config = json.loads((Path(directory) / _CONFIG_FILE).read_text(encoding="utf-8"))
        with np.load(Path(directory) / _ARRAYS_FILE, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError as exc:
        raise ImportedModelError(f"{directory} is not a saved model: {exc.filename} is missing") from None
    if config.get("model") != name:
        raise ImportedModelError(f"{directory} holds model {config.get('model')!r}, not {name!r}")
    return config, arrays


class ImportedRecommender:
    """Item vectors from `tanaban ingest embeddings`; items without a vector are never recommended (-inf)."""

    name = "imported"

    def __init__(self, artifacts_dir: Path | None = None, metric: str | None = None) -> None:
        self.artifacts_dir, self.metric = artifacts_dir, metric  # metric None: the one chosen at import
        self.item_emb: np.ndarray | None = None  # (n_items, dim) aligned to the split, zero rows where missing
        self.has_vector: np.ndarray | None = None  # (n_items,) bool
        self.known: dict[str, sp.csr_matrix] = {}  # stage -> (n_users, n_items) binary history
        self.note = ""

    def fit(self, split: Split) -> FitInfo:
        start = time.perf_counter()
        if self.artifacts_dir is None:
            raise ImportedModelError("imported: no artifacts directory to read the vectors from")
        arrays, meta = _load(self.artifacts_dir, EMBEDDINGS_KIND, "tanaban ingest embeddings FILE")
        self.metric = self.metric or meta.get("metric", "dot")
        if self.metric not in METRICS:
            raise ImportedModelError(f"unknown metric {self.metric!r}: use one of {', '.join(METRICS)}")
        rows = _positions(arrays["item_ids"], split.item_ids)
        emb = np.zeros((split.n_items, arrays["item"].shape[1]), dtype=np.float64)
        emb[rows[rows >= 0]] = arrays["item"][rows >= 0]
        self.has_vector = np.zeros(split.n_items, dtype=bool)
        self.has_vector[rows[rows >= 0]] = True
        self.item_emb = _normalize(emb) if self.metric == "cosine" else emb
        for stage in ("valid", "test"):
            known = sp.csr_matrix(split.history(stage), dtype=np.float64, copy=True)
            known.data[:] = 1.0
            self.known[stage] = known
        missing = int((~self.has_vector).sum())
        self.note = f"{missing} of {split.n_items} items have no imported vector and are never recommended" \
            if missing else ""
        return FitInfo(seconds=time.perf_counter() - start, extra={"items_without_vector": float(missing)})

    def user_vectors(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(B, dim) mean of the vectors of each user's history items that have one (zeros for none)."""
        if self.item_emb is None or self.has_vector is None or stage not in self.known:
            raise ImportedModelError(f"{self.name} is not fitted (or unknown stage {stage!r}): call fit(split)")
        hist = self.known[stage][np.asarray(users, dtype=np.int64)]  # (B, n_items)
        counts = np.asarray(hist @ self.has_vector.astype(np.float64)).ravel()  # (B,)
        mean = np.asarray(hist @ self.item_emb) / np.maximum(counts, 1.0)[:, None]
        return _normalize(mean) if self.metric == "cosine" else mean

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        scores = (self.user_vectors(users, stage) @ self.item_emb.T).astype(np.float32)  # (B, n_items)
        scores[:, ~self.has_vector] = -np.inf
        return scores

    def save(self, directory: Path) -> None:
        if self.item_emb is None or self.has_vector is None:
            raise ImportedModelError("imported is not fitted: nothing to save")
        arrays = {"item_emb": self.item_emb, "has_vector": self.has_vector}
        for stage, known in self.known.items():
            arrays.update({f"{stage}_indices": known.indices, f"{stage}_indptr": known.indptr,
                           f"{stage}_shape": np.asarray(known.shape)})
        _save(directory, {"model": self.name, "metric": self.metric}, arrays)

    @classmethod
    def load(cls, directory: Path) -> ImportedRecommender:
        config, arrays = _read(directory, cls.name)
        model = cls(metric=config["metric"])
        model.item_emb, model.has_vector = arrays["item_emb"], arrays["has_vector"]
        for stage in ("valid", "test"):
            indices = arrays[f"{stage}_indices"]
            model.known[stage] = sp.csr_matrix((np.ones(len(indices)), indices, arrays[f"{stage}_indptr"]),
                                               shape=tuple(arrays[f"{stage}_shape"]))
        return model


class ChampionRecommender:
    """The current system's lists from `tanaban ingest lists`: the item at rank r scores K - r, every other item
    -inf, so a customer without a list gets an empty list (a miss in every metric)."""

    name = "champion"

    def __init__(self, artifacts_dir: Path | None = None) -> None:
        self.artifacts_dir = artifacts_dir
        self.lists: sp.csr_matrix | None = None  # (n_users, n_items), value K - rank + 1 for listed items
        self.note = ""

    def fit(self, split: Split) -> FitInfo:
        start = time.perf_counter()
        if self.artifacts_dir is None:
            raise ImportedModelError("champion: no artifacts directory to read the lists from")
        arrays, _ = _load(self.artifacts_dir, LISTS_KIND, "tanaban ingest lists FILE")
        users = _positions(arrays["user_ids"], split.user_ids)  # (L,)
        items = arrays["items"]  # (L, K) store item ids, -1 padded
        cols = _positions(items.ravel(), split.item_ids).reshape(items.shape)
        cols[items < 0] = -1
        k = items.shape[1]
        rows, ranks = np.nonzero((cols >= 0) & (users[:, None] >= 0))
        self.lists = sp.csr_matrix(((k - ranks).astype(np.float32), (users[rows], cols[rows, ranks])),
                                   shape=(split.n_users, split.n_items))
        without = split.n_users - int((np.diff(self.lists.indptr) > 0).sum())
        self.note = (f"{without} of {split.n_users} customers have no champion list: their empty list counts as a "
                     "miss" if without else "")
        return FitInfo(seconds=time.perf_counter() - start, extra={"customers_without_list": float(without)})

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        if self.lists is None:
            raise ImportedModelError("champion is not fitted: call fit(split)")
        listed = self.lists[np.asarray(users, dtype=np.int64)].toarray()  # (B, n_items)
        return np.where(listed > 0, listed, -np.inf).astype(np.float32)

    def save(self, directory: Path) -> None:
        if self.lists is None:
            raise ImportedModelError("champion is not fitted: nothing to save")
        lists = self.lists
        _save(directory, {"model": self.name}, {"data": lists.data, "indices": lists.indices,
                                                "indptr": lists.indptr, "shape": np.asarray(lists.shape)})

    @classmethod
    def load(cls, directory: Path) -> ChampionRecommender:
        _, arrays = _read(directory, cls.name)
        model = cls()
        model.lists = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                    shape=tuple(arrays["shape"]))
        return model
