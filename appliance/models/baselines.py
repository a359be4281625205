"""Non-learned baselines every model must beat: most-popular items, and item-based kNN.

Item-kNN follows Sarwar et al. (WWW 2001) with the shrunk cosine and top-k pruning of Dacrema et al. ("Are we
really making much progress?", RecSys 2019, `Compute_Similarity`): sim(i, j) = r_i . r_j / (|r_i| |r_j| + shrink)
on the binary matrix of the interactions known before the stage (train for validation, train + validation for
test), keeping for each target item j its `knn_neighbours` most similar items i, and
score(u, j) = sum of sim(i, j) over the user's history items i. Both models need only scipy.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from appliance.config import EvalConfig
from appliance.data.splits import STAGES, Split
from appliance.errors import UserError
from appliance.models.contract import FitInfo

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.npz"
_BLOCK_CELLS = 8_000_000  # dense cells per similarity block (32 MB float32): bounded memory on book-sized data


class BaselineError(UserError, RuntimeError):
    """A baseline was used before fit(), or its saved directory is incomplete."""


def _binary(matrix: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data[:] = 1.0
    return out


class _HistoryMixin:
    """Keeps the split's train/valid matrices: the data known before each stage (train for "valid", train +
    valid for "test"), which is both the users' history at scoring time and what the statistics are fitted on.
    Using the validation interactions at the test stage is not leakage: they are history the harness masks."""

    train: sp.csr_matrix | None = None
    valid: sp.csr_matrix | None = None
    _known_test: sp.csr_matrix | None = None

    def _set_history(self, train: sp.csr_matrix, valid: sp.csr_matrix) -> None:
        self.train, self.valid = _binary(train), _binary(valid)
        self._known_test = _binary(self.train + self.valid)

    def _known(self, stage: str) -> sp.csr_matrix:
        """(n_users, n_items) binary interactions known before `stage`."""
        if self.train is None or self.valid is None:
            raise BaselineError(f"{self.name} is not fitted: call fit(split) or load() first")  # type: ignore[attr-defined]
        if stage not in STAGES:
            raise BaselineError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
        return self.train if stage == "valid" else self._known_test

    def _history_arrays(self) -> dict[str, np.ndarray]:
        assert self.train is not None and self.valid is not None
        return {**_csr_arrays("train", self.train), **_csr_arrays("valid", self.valid)}


def _csr_arrays(prefix: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {f"{prefix}_data": matrix.data, f"{prefix}_indices": matrix.indices, f"{prefix}_indptr": matrix.indptr,
            f"{prefix}_shape": np.asarray(matrix.shape, dtype=np.int64)}


def _csr_from(arrays: dict[str, np.ndarray], prefix: str) -> sp.csr_matrix:
    try:
        return sp.csr_matrix((arrays[f"{prefix}_data"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]),
                             shape=tuple(arrays[f"{prefix}_shape"]))
    except KeyError as exc:
        raise BaselineError(f"saved model lacks array {exc}: the directory is incomplete") from None


def _write(directory: Path, config: dict[str, object], arrays: dict[str, np.ndarray]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _read(directory: Path, name: str) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    directory = Path(directory)
    try:
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError as exc:
        raise BaselineError(f"{directory} is not a saved model: {exc.filename} is missing") from None
    if config.get("model") != name:
        raise BaselineError(f"{directory} holds model {config.get('model')!r}, not {name!r}")
    return config, arrays


class PopularityRecommender(_HistoryMixin):
    """Scores every item by its number of users in the known data, the same list for everyone."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts: dict[str, np.ndarray] = {}  # stage -> (n_items,) float32

    def fit(self, split: Split) -> FitInfo:
        start = time.perf_counter()
        self._set_history(split.train, split.valid)
        self.counts = {stage: np.asarray(self._known(stage).sum(axis=0), dtype=np.float32).ravel()
                       for stage in STAGES}
        return FitInfo(seconds=time.perf_counter() - start)

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        if stage not in self.counts:
            self._known(stage)  # raises the right error: not fitted, or unknown stage
        counts = self.counts[stage]
        return np.broadcast_to(counts, (len(users), len(counts))).copy()

    def save(self, directory: Path) -> None:
        if not self.counts:
            raise BaselineError("popularity is not fitted: nothing to save")
        arrays = {f"counts_{stage}": counts for stage, counts in self.counts.items()}
        _write(directory, {"model": self.name}, {**arrays, **self._history_arrays()})

    @classmethod
    def load(cls, directory: Path) -> PopularityRecommender:
        _, arrays = _read(directory, cls.name)
        model = cls()
        model._set_history(_csr_from(arrays, "train"), _csr_from(arrays, "valid"))
        model.counts = {stage: arrays[f"counts_{stage}"] for stage in STAGES}
        return model


class ItemKNNRecommender(_HistoryMixin):
    """Item-based kNN with shrunk cosine similarity on the binary known-data matrix."""

    name = "item-knn"

    def __init__(self, cfg: EvalConfig | None = None) -> None:
        self.cfg = cfg or EvalConfig()
        self.similarity: dict[str, sp.csr_matrix] = {}  # stage -> (n_items, n_items), column j: j's neighbours

    def fit(self, split: Split) -> FitInfo:
        start = time.perf_counter()
        self._set_history(split.train, split.valid)
        self.similarity = {stage: item_similarity(self._known(stage), self.cfg.knn_shrink, self.cfg.knn_neighbours)
                           for stage in STAGES}
        nnz = float(self.similarity["test"].nnz)
        return FitInfo(seconds=time.perf_counter() - start, extra={"similarity_nnz": nnz})

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        known = self._known(stage)
        scores = known[np.asarray(users, dtype=np.int64)] @ self.similarity[stage]
        return np.asarray(scores.toarray(), dtype=np.float32)

    def save(self, directory: Path) -> None:
        if not self.similarity:
            raise BaselineError("item-knn is not fitted: nothing to save")
        arrays = {}
        for stage in STAGES:
            arrays.update(_csr_arrays(f"similarity_{stage}", self.similarity[stage]))
        config = {"model": self.name, "eval": dataclasses.asdict(self.cfg)}
        _write(directory, config, {**arrays, **self._history_arrays()})

    @classmethod
    def load(cls, directory: Path) -> ItemKNNRecommender:
        config, arrays = _read(directory, cls.name)
        saved = dict(config.get("eval", {}))  # type: ignore[arg-type]
        saved["ks"] = tuple(saved.get("ks", EvalConfig.ks))
        model = cls(EvalConfig(**saved))
        model._set_history(_csr_from(arrays, "train"), _csr_from(arrays, "valid"))
        model.similarity = {stage: _csr_from(arrays, f"similarity_{stage}") for stage in STAGES}
        return model


def item_similarity(train: sp.csr_matrix, shrink: float, neighbours: int) -> sp.csr_matrix:
    """(n_items, n_items) shrunk cosine, self-similarity 0, top `neighbours` entries kept in each column."""
    binary = _binary(train)
    by_item = binary.T.tocsr()  # (I, U)
    norms = np.sqrt(np.asarray(by_item.sum(axis=1)).ravel()).astype(np.float32)
    n_items = by_item.shape[0]
    block = max(1, _BLOCK_CELLS // max(n_items, 1))
    keep = min(neighbours, max(n_items - 1, 0))
    rows, cols, vals = [], [], []
    for start in range(0, n_items, block):
        targets = np.arange(start, min(start + block, n_items))
        dots = (by_item[targets] @ binary).toarray()  # (T, I): co-occurrence of target j with every item i
        sims = dots / (norms[targets, None] * norms[None, :] + shrink + 1e-6)
        sims[np.arange(len(targets)), targets] = 0.0
        if keep == 0:
            continue
        top = np.argpartition(-sims, keep - 1, axis=1)[:, :keep]  # (T, keep) unordered
        top_vals = np.take_along_axis(sims, top, axis=1)
        positive = top_vals > 0
        rows.append(top[positive])
        cols.append(np.repeat(targets, keep).reshape(len(targets), keep)[positive])
        vals.append(top_vals[positive])
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    data = np.concatenate(vals).astype(np.float32)
    return sp.csr_matrix((data, (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items))
