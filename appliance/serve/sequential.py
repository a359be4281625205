"""Torch-free serving of a sequential (SASRec) bundle from export/sasrec.py: the ONNX sequence encoder + item scorer
of SASRec (Kang & McAuley, ICDM 2018) over the customer's most recent items.

A known customer with no new history is answered from the top-K precomputed at export over their whole known
sequence (the Semantic Convergence paper's pre-caching); a posted history (skus, oldest first) is scored live: the
last `max_len` items, shifted by one and left-padded with 0, through the scorer. Items of the history and
`exclude` never appear in an answer. Explanations reuse the bundle's intent tables when it has them (a known
customer's intent distribution, or the mean over a posted history's items; appliance.models.explain); without
them items carry no reasons and the HTTP answer's `explain_unavailable` says why (it reads `user_intents`,
`item_intents` and `labels`, as for CF bundles). Imports onnxruntime and numpy only (tests/test_imports.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.models.explain import intent_reasons
from appliance.offline import apply_offline_env
from appliance.serve.answers import (
    Answer,
    Recommendation,
    key_id,
    optional_array,
    read_json,
    sku_indices,
    verified_manifest,
)
from appliance.serve.errors import RequestError
from export.bundle import Manifest

SEQUENTIAL_KIND = "sequential"  # manifest meta "kind" of a SASRec bundle
SCORER_FILE = "seq_scorer.onnx"  # input "history" (B, max_len) int64 shifted item ids; output "scores" (B, n_items)
META_FILE = "sequential.json"  # {"model", "max_len", "n_items"}


def pad_history(items: Sequence[int] | np.ndarray, max_len: int) -> np.ndarray:
    """(1, max_len) int64 scorer input: the last `max_len` item indices shifted by one, left-padded with 0
    (appliance.models.sasrec.padded_inputs for one sequence, without importing torch)."""
    out = np.zeros((1, max_len), dtype=np.int64)
    tail = np.asarray(items, dtype=np.int64)[-max_len:] + 1
    if len(tail):
        out[0, max_len - len(tail):] = tail
    return out


class SequentialBundle:
    """The tables and the ONNX scorer of one verified SASRec bundle (see the module docstring)."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        import onnxruntime as ort

        self.path, self.manifest, self.version = path, manifest, manifest.version
        self.meta: dict[str, Any] = read_json(path / META_FILE)
        self.max_len = int(self.meta["max_len"])
        self.items: list[dict[str, str]] = read_json(path / "items.json")
        self.sku_index = {row["sku"]: i for i, row in enumerate(self.items)}
        self.users: dict[str, int] = read_json(path / "users.json")
        self.pseudonym_key_id = key_id(self.users)
        self.indptr, self.seq_items = np.load(path / "seq_indptr.npy"), np.load(path / "seq_items.npy")
        self.precomputed = np.load(path / "precomputed.npy")  # (n_users, K) int32, -1 padded
        self.precomputed_scores = np.load(path / "precomputed_scores.npy")  # (n_users, K) float32
        self.item_emb = np.load(path / "item_emb.npy")  # (n_items, dim): /similar
        self.item_intents = optional_array(path / "item_intents.npy")  # (n_items, K) or None
        self.user_intents = optional_array(path / "user_intents.npy")  # (n_users, K) or None
        labels = path / "intent_labels.json"
        self.labels: list[str] = read_json(labels) if labels.is_file() else []
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one request per thread; the server's worker pool gives parallelism
        self.session = ort.InferenceSession(str(path / SCORER_FILE), options, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, path: Path, public_keys: Sequence[Any]) -> SequentialBundle:
        apply_offline_env()
        return cls(path, verified_manifest(path, public_keys, SEQUENTIAL_KIND, "sequential"))

    # --- answers
    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        user = self.users.get(pseudonym)
        if user is None:
            raise RequestError("unknown user: no purchase history for this id in the current bundle; "
                               "send `history` instead")
        seq = self.seq_items[self.indptr[user]:self.indptr[user + 1]]
        excluded = sku_indices(self.sku_index, exclude, strict=False)
        cached = self.precomputed[user]
        keep = np.flatnonzero((cached >= 0) & ~np.isin(cached, excluded))[:k]
        if len(keep) == k:
            return self._answer(cached[keep], self.precomputed_scores[user, keep], "cached", user if explain else None)
        return self._live(seq, excluded, k, user if explain else None)

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        """Live scores for a posted history (oldest first); an unknown sku is rejected, as CFBundle does."""
        hist = sku_indices(self.sku_index, skus, strict=True)
        if len(hist) == 0:
            raise RequestError("empty history: give at least one purchased sku, or a user_id")
        return self._live(hist, sku_indices(self.sku_index, exclude, strict=False), k, hist if explain else None)

    def similar(self, sku: str, k: int) -> Answer:
        """Items by cosine of SASRec's (shared input/output) item embeddings."""
        (item,) = sku_indices(self.sku_index, [sku], strict=True)
        emb = self.item_emb
        sims = emb @ emb[item] / np.maximum(np.linalg.norm(emb, axis=1) * np.linalg.norm(emb[item]), 1e-12)
        top = _top(sims.astype(np.float32), np.array([item]), k)
        return self._answer(top, sims[top], "live", None)

    def scores(self, histories: np.ndarray) -> np.ndarray:
        """(B, n_items) float32 scores for (B, max_len) padded inputs (see `pad_history`)."""
        return self.session.run(["scores"], {"history": np.asarray(histories, dtype=np.int64)})[0]

    # --- helpers
    def _live(self, seq: np.ndarray, excluded: np.ndarray, k: int, explain_for: Any) -> Answer:
        scores = self.scores(pad_history(seq, self.max_len))[0]
        top = _top(scores, np.concatenate([seq, excluded]), k)
        return self._answer(top, scores[top], "live", explain_for)

    def _answer(self, items: np.ndarray, scores: np.ndarray, source: str, explain_for: Any) -> Answer:
        """Rows for `items`; with `explain_for` (a user index or a history's item indices) and intent tables, each
        row's `because` holds the intents linking them (appliance.models.explain.intent_reasons)."""
        reasons: list[list[tuple[str, float]]] = [[] for _ in range(len(items))]
        if explain_for is not None and self.item_intents is not None and self.user_intents is not None and self.labels:
            who = (self.user_intents[explain_for] if np.isscalar(explain_for)
                   else self.item_intents[np.asarray(explain_for, dtype=np.int64)].mean(axis=0))
            reasons = intent_reasons(who, self.item_intents[np.asarray(items, dtype=np.int64)], self.labels)
        rows = [Recommendation(self.items[i]["sku"], self.items[i]["title"], float(s), because)
                for i, s, because in zip(np.asarray(items).tolist(), np.asarray(scores).tolist(), reasons, strict=True)]
        return Answer(rows, source, self.version)


def _top(scores: np.ndarray, excluded: np.ndarray, k: int) -> np.ndarray:
    """The k best item indices (ties: lower index first) with `excluded` left out."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if len(excluded):
        scores[np.asarray(excluded, dtype=np.int64)] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()))
    top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
    return top[np.lexsort((top, -scores[top]))]
