"""Torch-free serving of a sequential (SASRec) bundle from export/sasrec.py: the ONNX sequence encoder + item scorer
of SASRec (Kang & McAuley, ICDM 2018) over the customer's most recent items.

A known customer with no new history is answered from the top-K precomputed at export over their whole known
sequence (the Semantic Convergence paper's pre-caching); a posted history (skus, oldest first) is scored live: the
last `max_len` items, shifted by one and left-padded with 0, through the scorer. Items of the history and
`exclude` never appear in an answer. Explanations reuse the bundle's intent tables when it has them (a known
customer's intent distribution, or the mean over a posted history's items; appliance.models.explain); without
them items carry no reasons and the HTTP answer's `explain_unavailable` says why (it reads `user_intents`,
`item_intents` and `labels`, as for CF bundles). Imports onnxruntime and numpy only (tests/test_imports.py).

A hybrid bundle (export/hybrid.py) also holds an item-kNN table and fitted fusion weights: it answers to the models
`hybrid` (its default: the cached lists are fused ones; a live answer fuses SASRec's and item-kNN's top lists by
appliance.models.fusion's rule, `fuse_one` doing for one row what `fuse` does for a batch), `sasrec` and `item-knn`
(always live). The live path is cut to one row's arithmetic (docs/SERVING.md, "Live answers, per request").
`for_model(name)` gives the bundle as that model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from appliance.models.explain import reasons_for
from appliance.models.fusion import CANDIDATES, FusionFit, TopLists, normalized, recency_weighted
from appliance.offline import apply_offline_env
from appliance.serve.answers import (
    Answer,
    ModelView,
    Recommendation,
    bundle_models,
    read_catalog,
    read_intents,
    read_json,
    sku_indices,
    verified_manifest,
)
from appliance.serve.errors import RequestError
from appliance.serve.tables import TableReader
from export.bundle import Manifest

SEQUENTIAL_KIND = "sequential"  # manifest meta "kind" of a SASRec bundle
SCORER_FILE = "seq_scorer.onnx"  # input "history" (B, max_len) int64 shifted item ids; output "scores" (B, n_items)
META_FILE = "sequential.json"  # {"model", "max_len", "n_items"}
FUSION_FILE = "fusion.json"  # hybrid bundles: appliance.models.fusion.FusionFit.to_json()
KNN_FILE = "knn_similarity.npz"  # hybrid bundles: (n_items, n_items) item-kNN similarity, column j: j's neighbours
KNN_RECENCY = "item-knn.recency"  # FusionFit.params key of item-kNN's history decay (export/hybrid.py)


def pad_history(items: Sequence[int] | np.ndarray, max_len: int) -> np.ndarray:
    """(1, max_len) int64 scorer input: the last `max_len` item indices shifted by one, left-padded with 0
    (appliance.models.sasrec.padded_inputs for one sequence, without importing torch)."""
    out = np.zeros((1, max_len), dtype=np.int64)
    tail = np.asarray(items, dtype=np.int64)[-max_len:] + 1
    if len(tail):
        out[0, max_len - len(tail):] = tail
    return out


def _scorer_session(path: Path, one_row: str | None = None) -> Any:
    """An ONNX Runtime session of the scorer, one intra-op thread (one request per thread; workers give
    parallelism). `one_row`: the name of the graph's symbolic batch dimension, fixed to 1 (ONNX Runtime's free
    dimension override): with every shape known, graph optimization folds the shape arithmetic the traced
    attention carries (on Beauty 97 optimized nodes instead of 211) and a live answer's scorer run costs about a
    quarter less. The kernels then chosen can round differently in the last bits: with Beauty's int8 scorer, 99.8%
    of the scores of 1,000 answers were identical to the batch session's and the rest at most 0.003 apart; every
    top-10 list was the same, one top-50 list differed at rank 50 (docs/BENCHMARKS.md, "Live scoring latency")."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    if one_row:
        options.add_free_dimension_override_by_name(one_row, 1)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class SequentialBundle:
    """The tables and the ONNX scorer of one verified SASRec bundle (see the module docstring)."""

    def __init__(self, path: Path, manifest: Manifest, tables: TableReader | None = None) -> None:
        self.path, self.manifest, self.version = path, manifest, manifest.version
        tables, files = tables or TableReader(), manifest.files
        self.meta: dict[str, Any] = read_json(path / META_FILE)
        self.max_len = int(self.meta["max_len"])
        self.items, self.sku_index, self.users, self.pseudonym_key_id = read_catalog(path)
        self.indptr = tables.array(path / "seq_indptr.npy", files)
        self.seq_items = tables.array(path / "seq_items.npy", files)
        self.precomputed = tables.array(path / "precomputed.npy", files)  # (n_users, K) int32, -1 padded
        self.precomputed_scores = tables.array(path / "precomputed_scores.npy", files)  # (n_users, K) float32
        self.item_emb = tables.array(path / "item_emb.npy", files)  # (n_items, dim): /similar
        self.item_intents, self.user_intents, self.labels = read_intents(path, tables, files)
        self.session = _scorer_session(path / SCORER_FILE)  # any batch size
        self._batch_dim = self.session.get_inputs()[0].shape[0]  # "batch" (symbolic) in export_scorer's graphs
        self._live_session = _scorer_session(path / SCORER_FILE, one_row=self._batch_dim) \
            if isinstance(self._batch_dim, str) else self.session
        fusion = path / FUSION_FILE
        self.fusion = FusionFit.from_json(read_json(fusion)) if fusion.is_file() else None
        self.knn = sp.load_npz(path / KNN_FILE).tocsr() if self.fusion is not None else None
        self._knn_canonical = self.knn is not None and self.knn.has_canonical_format  # see knn_scores
        self.models, self.default_model = bundle_models(manifest)

    @classmethod
    def load(cls, path: Path, public_keys: Sequence[Any], tables: TableReader | None = None) -> SequentialBundle:
        apply_offline_env()
        return cls(path, verified_manifest(path, public_keys, SEQUENTIAL_KIND, "sequential"), tables)

    def for_model(self, model: str) -> Any:
        """The bundle answering as `model` (one of `models`; the caller checked): itself for the default."""
        return self if model == self.default_model else ModelView(self, model)

    # --- answers
    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False,
                 model: str | None = None) -> Answer:
        """Cached top list of the default model when it still holds k items after `exclude`, else live scoring of
        the customer's known sequence; a model other than the default is always scored live."""
        model = model or self.default_model
        user = self.users.get(pseudonym)
        if user is None:
            raise RequestError("unknown user: no purchase history for this id in the current bundle; "
                               "send `history` instead")
        seq = self.seq_items[self.indptr[user]:self.indptr[user + 1]]
        excluded = sku_indices(self.sku_index, exclude, strict=False)
        cached = self.precomputed[user]
        keep = np.flatnonzero((cached >= 0) & ~np.isin(cached, excluded))[:k]
        if len(keep) == k and model == self.default_model:
            return self._answer(cached[keep], self.precomputed_scores[user, keep], "cached", user if explain else None)
        return self._live(seq, excluded, k, user if explain else None, model)

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (), explain: bool = False,
                    model: str | None = None) -> Answer:
        """Live scores for a posted history (oldest first); an unknown sku is rejected, as CFBundle does."""
        hist = sku_indices(self.sku_index, skus, strict=True)
        if len(hist) == 0:
            raise RequestError("empty history: give at least one purchased sku, or a user_id")
        return self._live(hist, sku_indices(self.sku_index, exclude, strict=False), k, hist if explain else None,
                          model or self.default_model)

    def similar(self, sku: str, k: int) -> Answer:
        """Items by cosine of SASRec's (shared input/output) item embeddings."""
        (item,) = sku_indices(self.sku_index, [sku], strict=True)
        emb = self.item_emb
        sims = emb @ emb[item] / np.maximum(np.linalg.norm(emb, axis=1) * np.linalg.norm(emb[item]), 1e-12)
        top = _top(sims.astype(np.float32), np.array([item]), k)
        return self._answer(top, sims[top], "live", None)

    def scores(self, histories: np.ndarray) -> np.ndarray:
        """(B, n_items) float32 scores for (B, max_len) padded inputs (see `pad_history`); one row (a live answer)
        runs through the session built for exactly one row."""
        histories = np.asarray(histories, dtype=np.int64)
        session = self._live_session if len(histories) == 1 else self.session
        return session.run(["scores"], {"history": histories})[0]

    def knn_scores(self, seq: np.ndarray) -> np.ndarray:
        """(n_items,) float32 item-kNN scores of a history (oldest first): its items' similarity rows summed, each
        weighted by the fitted recency decay (appliance.models.fusion.recency_weighted), as at export.

        One posted history is one sparse row, and scipy's sparse product (with the csr matrices it builds) cost
        more than the arithmetic: the weighted rows are added here into a dense vector instead, in the order the
        product adds them (ascending item index, float32), so the scores are the same to the bit."""
        if self.knn is None or self.fusion is None:
            raise RequestError("this bundle has no item-kNN table: ask model sasrec")
        decay = self.fusion.params.get(KNN_RECENCY, 1.0)
        knn = self.knn
        if not self._knn_canonical:  # duplicate entries: the product's own summation order, not ours
            row = recency_weighted([seq], knn.shape[0], decay)
            return np.asarray((row @ knn).toarray(), dtype=np.float32).ravel()
        items, back = np.unique(np.asarray(seq, dtype=np.int64)[::-1], return_index=True)  # as recency_weighted
        weights = np.power(float(decay), back).astype(np.float32).astype(knn.dtype)
        starts = knn.indptr[items]
        lengths = knn.indptr[items + 1] - starts
        offsets = np.cumsum(lengths) - lengths  # where each item's row begins among the gathered entries
        entries = np.arange(int(lengths.sum())) + np.repeat(starts - offsets, lengths)  # the rows, item by item
        out = np.zeros(knn.shape[1], dtype=knn.dtype)
        np.add.at(out, knn.indices[entries], np.repeat(weights, lengths) * knn.data[entries])  # in order, unbuffered
        return out.astype(np.float32, copy=False)

    # --- helpers
    def _live(self, seq: np.ndarray, excluded: np.ndarray, k: int, explain_for: Any, model: str = "sasrec") -> Answer:
        masked = np.concatenate([seq, excluded])
        if model == "item-knn":
            scores = self.knn_scores(seq)
        elif model == "hybrid" and self.fusion is not None:
            return self._fused(seq, masked, k, explain_for, self.fusion)
        else:
            scores = self.scores(pad_history(seq, self.max_len))[0]
        top = _top(scores, masked, k)
        return self._answer(top, scores[top], "live", explain_for)

    def _fused(self, seq: np.ndarray, masked: np.ndarray, k: int, explain_for: Any, fit: FusionFit) -> Answer:
        """Fusion of the components' top lists (at least CANDIDATES each, as at export), `masked` left out."""
        scores = {"sasrec": lambda: self.scores(pad_history(seq, self.max_len))[0],
                  "item-knn": lambda: self.knn_scores(seq)}
        width = max(k, CANDIDATES)
        lists = []
        for name, weight in zip(fit.components, fit.weights, strict=True):
            if weight <= 0 and lists:  # `fuse` leaves it out: not scored (the first one stands in if all are 0)
                lists.append(TopLists(np.zeros((1, 0), np.int64), np.zeros((1, 0), np.float32)))
                continue
            part = scores[name]()
            top = _top(part, masked, width)
            lists.append(TopLists(top[None, :], part[top][None, :]))
        items, values = fuse_one(lists, fit.weights, fit.method, k)
        return self._answer(items, values, "live", explain_for)

    def _answer(self, items: np.ndarray, scores: np.ndarray, source: str, explain_for: Any) -> Answer:
        """Rows for `items`; with `explain_for` (a user index or a history's item indices) and intent tables, each
        row's `because` holds the intents linking them (appliance.models.explain.intent_reasons)."""
        reasons = reasons_for(explain_for, items, self.user_intents, self.item_intents, self.labels)
        rows = [Recommendation(self.items[i]["sku"], self.items[i]["title"], float(s), because)
                for i, s, because in zip(np.asarray(items).tolist(), np.asarray(scores).tolist(), reasons, strict=True)]
        return Answer(rows, source, self.version)


def fuse_one(components: Sequence[TopLists], weights: Sequence[float], method: str, k: int) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """(items, scores) of appliance.models.fusion.fuse for ONE row of lists, without its sparse matrices: each
    listed item's weighted contributions summed (float32, component order: with two components the same sum as
    fuse's), the top `k` by value, ties to the lower item index; `fuse`'s rule when every weight is 0 (the first
    component alone). A live hybrid answer spent more on fuse's batch machinery than on its arithmetic."""
    used = [(c, w) for c, w in zip(components, weights, strict=True) if w > 0] or [(components[0], 1.0)]
    listed = [(c.items[0], w * normalized(c, method)[0]) for c, w in used]  # float32 contributions, as fuse's
    listed = [(items[items >= 0], contrib[items >= 0]) for items, contrib in listed]
    candidates = np.unique(np.concatenate([items for items, _ in listed]))  # ascending, as fuse's sorted csr row
    sums = np.zeros(len(candidates), dtype=np.float32)
    for items, contrib in listed:  # a top list holds each item once: one fancy-indexed add per component
        sums[np.searchsorted(candidates, items)] += contrib
    order = np.lexsort((candidates, -sums))[:k]  # value descending, then item index ascending
    return candidates[order], sums[order]


def _top(scores: np.ndarray, excluded: np.ndarray, k: int) -> np.ndarray:
    """The k best item indices, best first, with `excluded` left out and only finite scores; ties go to the lower
    item index, at the k-th value too (appliance.models.contract.top_k's rule, which the cached lists follow).

    A full argpartition of ~12k scores cost more than the rest of a live answer but the model: the scores are cut
    first to those reaching the k-th largest of many block maxima (at least k scores reach it, so every score of
    the top k and every tie of its k-th value is kept), usually a few times k of them."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if len(excluded):
        scores[np.asarray(excluded, dtype=np.int64)] = -np.inf
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    block = n // (4 * k)
    threshold = -np.inf
    if block > 1:
        blocks = n // block
        maxima = scores[:blocks * block].reshape(blocks, block).max(axis=1)
        threshold = np.partition(maxima, blocks - k)[blocks - k]  # the k-th largest block maximum
    candidates = np.flatnonzero(scores >= threshold) if np.isfinite(threshold) else np.arange(n)
    values = scores[candidates]
    finite = np.isfinite(values)
    if not finite.all():  # excluded items (and NaN) never answer
        candidates, values = candidates[finite], values[finite]
    k = min(k, len(candidates))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if len(candidates) > 8 * k:  # many ties at the threshold (e.g. zero scores): the k-th value first
        kth = np.partition(values, len(values) - k)[len(values) - k]
        above = values > kth
        tied = np.flatnonzero(values == kth)[:k - int(above.sum())]  # candidates ascend: the lowest indices
        keep = np.concatenate([np.flatnonzero(above), tied])
        candidates, values = candidates[keep], values[keep]
    return candidates[np.lexsort((candidates, -values))[:k]]  # value descending, then item index ascending
