"""Torch-free serving runtime: a verified CF bundle (export/cf.py) answering recommendation requests.

Answers for a known user with no new history come from the bundle's precomputed top-K (the Semantic Convergence
paper's pre-caching); an explicit history is scored live with the ONNX scorer on the mean of the history's item
embeddings (LightGCN fold-in). `Service` holds the current bundle and swaps it atomically on reload, so requests
in flight finish on the bundle they started with. Imports onnxruntime and numpy only (tests/test_imports.py).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import scipy.sparse as sp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.models.explain import reasons_for
from appliance.offline import apply_offline_env
from appliance.serve.answers import (
    Answer,
    Recommendation,
    read_catalog,
    read_intents,
    read_json,
    select_model,
    sku_indices,
    verified_manifest,
)
from appliance.serve.errors import RequestError, ServeError
from appliance.serve.search import TextSearch
from appliance.serve.sequential import SEQUENTIAL_KIND, SequentialBundle
from appliance.serve.tables import TableReader
from export.bundle import BundleError, Manifest, current_bundle, verify_bundle

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig

MAX_K = 1000  # larger lists are not recommendations any more; the API rejects them with 422
GEN_PRECOMPUTED = "gen_precomputed.npy"  # generative bundles: top list per user decoded at export
GEN_PRECOMPUTED_SCORES = "gen_precomputed_scores.npy"  # and the beams' log-probabilities


class Bundle(Protocol):
    """What `Service`, the HTTP app and `recommend_batch` use of a verified bundle (CFBundle, SequentialBundle,
    GenBundle)."""

    path: Path  # the bundle directory; `Service.reload` compares it with the one `<root>/CURRENT` names
    version: str
    pseudonym_key_id: str | None  # the key the bundle's user pseudonyms are under (None: no users)

    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer: ...

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (),
                    explain: bool = False) -> Answer: ...


BundleLoader = Callable[[Path, Sequence[Ed25519PublicKey]], Bundle]  # verify, then load: load_bundle, GenBundle.load


def load_bundle(path: Path, public_keys: Sequence[Ed25519PublicKey], tables: TableReader | None = None) -> Bundle:
    """The bundle `tanaban export cf|sasrec|best` published at `path`, by its manifest's kind: a SASRec bundle
    (appliance.serve.sequential) or a CF bundle. Both loaders verify the signature before reading anything else;
    `tables` reads their .npy tables (appliance.serve.tables: into memory by default, or mapped)."""
    try:
        kind = read_json(Path(path) / "manifest.json").get("meta", {}).get("kind")
    except (OSError, ValueError, AttributeError):
        kind = None  # CFBundle.load's verification says what is wrong with it
    if kind == SEQUENTIAL_KIND:
        return SequentialBundle.load(path, public_keys, tables)
    return CFBundle.load(path, public_keys, tables)


class CFBundle:
    """The tables and the ONNX scorer of one verified bundle."""

    def __init__(self, path: Path, manifest: Manifest, tables: TableReader | None = None) -> None:
        import onnxruntime as ort

        self.path, self.manifest, self.version = path, manifest, manifest.version
        tables, files = tables or TableReader(), manifest.files
        self.items, self.sku_index, self.users, self.pseudonym_key_id = read_catalog(path)
        self.user_emb = tables.array(path / "user_emb.npy", files)
        self.item_emb = tables.array(path / "item_emb.npy", files)
        self.known = sp.load_npz(path / "known.npz").tocsr()
        self.precomputed = tables.array(path / "precomputed.npy", files)
        self.item_intents, self.user_intents, self.labels = read_intents(path, tables, files)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one request per thread; the server's worker pool gives parallelism
        self.session = ort.InferenceSession(str(path / "cf_scorer.onnx"), options, providers=["CPUExecutionProvider"])

        self.text_search = TextSearch.load(path, len(self.items))  # None if exported with --no-encoder

    @classmethod
    def load(cls, path: Path, public_keys: Sequence[Ed25519PublicKey], tables: TableReader | None = None) -> CFBundle:
        apply_offline_env()
        return cls(path, verified_manifest(path, public_keys, "cf", "CF"), tables)

    # --- answers
    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        user = self.users.get(pseudonym)
        if user is None:
            raise RequestError("unknown user: no purchase history for this id in the current bundle; "
                               "send `history` instead")
        excluded = sku_indices(self.sku_index, exclude, strict=False)
        cached = self.precomputed[user]
        keep = cached[~np.isin(cached, excluded) & (cached >= 0)]
        if len(keep) >= k:
            items = keep[:k]
            scores = self.user_emb[user] @ self.item_emb[items].T
            return Answer(self._rows(items, scores, user if explain else None), "cached", self.version)
        scores = self._scores(self.user_emb[user][None, :])[0]
        return self._answer(scores, {*self.known[user].indices.tolist(), *excluded}, k, user if explain else None)

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        hist = sku_indices(self.sku_index, skus, strict=True)
        if len(hist) == 0:
            raise RequestError("empty history: give at least one purchased sku, or a user_id")
        vec = self.item_emb[hist].mean(axis=0, keepdims=True)
        scores = self._scores(vec)[0]
        return self._answer(scores, {*hist.tolist(), *sku_indices(self.sku_index, exclude, strict=False)}, k,
                            hist if explain else None)

    def similar(self, sku: str, k: int) -> Answer:
        (item,) = sku_indices(self.sku_index, [sku], strict=True)
        emb = self.item_emb
        sims = emb @ emb[item] / np.maximum(np.linalg.norm(emb, axis=1) * np.linalg.norm(emb[item]), 1e-12)
        return self._answer(sims.astype(np.float32), {int(item)}, k, None)

    def search(self, query: str, k: int, exclude: Sequence[str] = ()) -> Answer:
        """Items ranked by cosine of their text embedding with the query's (appliance.serve.search)."""
        if self.text_search is None:
            raise RequestError("this bundle has no text encoder, so it cannot search: export it with "
                               "`tanaban export cf` (without --no-encoder), then reload")
        excluded = set(sku_indices(self.sku_index, exclude, strict=False).tolist())
        return self._answer(self.text_search.scores(query), excluded, k, None)

    # --- helpers
    def _scores(self, vecs: np.ndarray) -> np.ndarray:
        return self.session.run(["scores"], {"user_vec": vecs.astype(np.float32)})[0]

    def _answer(self, scores: np.ndarray, excluded: set[int], k: int, explain_for: Any) -> Answer:
        scores = scores.copy()
        if excluded:
            scores[list(excluded)] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
        top = top[np.lexsort((top, -scores[top]))]
        return Answer(self._rows(top, scores[top], explain_for), "live", self.version)

    def _rows(self, items: np.ndarray, scores: np.ndarray, explain_for: Any) -> list[Recommendation]:
        reasons = reasons_for(explain_for, items, self.user_intents, self.item_intents, self.labels)
        return [Recommendation(self.items[item]["sku"], self.items[item]["title"], float(score), because)
                for item, score, because in zip(items.tolist(), np.asarray(scores).tolist(), reasons, strict=True)]


class Service:
    """The current bundle behind a lock-free reference; `reload()` verifies and swaps in the newest bundle."""

    def __init__(self, bundles_root: Path, public_keys: Sequence[Ed25519PublicKey],
                 loader: BundleLoader | None = None) -> None:
        self.root, self.public_keys = bundles_root, list(public_keys)
        self.loader: BundleLoader = loader or load_bundle  # GenBundle.load for the generative bundles
        self._lock = threading.Lock()  # serialises reloads only; requests never wait on it
        self.bundle: Bundle | None = None
        self.fault: str | None = None  # why the served bundle's files no longer verify on disk (None: they do)

    def reload(self) -> str:
        """Load the bundle `<root>/CURRENT` names if it is not loaded yet, and verify the served one again either
        way (signature and every file hash); returns the serving version. A served bundle that no longer verifies
        sets `fault` (/readyz answers 503 with it) and raises ServeError, but keeps answering: every bundle kind
        reads its files into memory at load, or (serve.mmap_tables) maps private copies hash-checked against the
        signed manifest (appliance.serve.tables), so the answers still come from the copy verified then."""
        with self._lock:
            path = current_bundle(self.root)
            if self.bundle is None or self.bundle.path != path:
                try:
                    self.bundle = self.loader(path, self.public_keys)  # raises before the old bundle is replaced
                except (BundleError, ServeError):
                    with contextlib.suppress(ServeError):  # the refusal is the error to report
                        self._verify_served()
                    raise
                self.fault = None
                return self.bundle.version
            self._verify_served()
            return self.bundle.version

    def _verify_served(self) -> None:
        """Verify the served bundle's files again; set `fault` and raise ServeError if they no longer match."""
        bundle = self.bundle
        if bundle is None:
            return
        try:
            manifest = verify_bundle(bundle.path, self.public_keys)
            if manifest.version != bundle.version:
                raise BundleError(f"bundle {bundle.path}: its manifest now names version {manifest.version}")
        except BundleError as exc:
            self.fault = (f"the served bundle {bundle.version} no longer verifies on disk ({exc}); still answering "
                          "from the copy verified at load: restore or re-export it, then reload")
            raise ServeError(self.fault) from None
        self.fault = None

    def current(self) -> Bundle:
        bundle = self.bundle
        if bundle is None:
            raise ServeError(f"no bundle loaded from {self.root} yet: run `tanaban export best` (or `export gen`), "
                             "then reload")
        return bundle


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class GenQuery:
    """One live generative decode: the history (item indices, oldest first), items to leave out, list length, and
    whom to explain the items to (a user index or history item indices, as `CFBundle._because`; None: no reasons)."""
    seq: np.ndarray
    exclude: np.ndarray
    k: int
    explain_for: Any = None


class GenBundle:
    """A verified generative bundle: answers from the top lists decoded at export (`gen_precomputed.npy`, the
    paper's pre-caching) when they suffice, else a live constrained beam search over the ONNX decoder
    (appliance.serve.decoder). `plan_*` say which; `decode_many` runs the live ones, several requests in one search."""

    def __init__(self, path: Path, decoder: Any, tables: TableReader | None = None) -> None:
        """`tables` reads the .npy tables (appliance.serve.tables: into memory by default, or mapped from copies
        hash-checked against the manifest the decoder verified; a decoder made without keys has none to check)."""
        self.path, self.decoder = path, decoder
        manifest = getattr(decoder, "manifest", None)
        tables, files = tables or TableReader(), manifest.files if manifest is not None else {}
        self.version = manifest.version if manifest is not None else read_json(path / "manifest.json")["version"]
        self.items, self.sku_index, self.users, self.pseudonym_key_id = read_catalog(path)
        self.indptr = tables.array(path / "seq_indptr.npy", files)
        self.seq_items = tables.array(path / "seq_items.npy", files)
        # (n_users, beam) int32, -1 padded, and the beams' float32 log-probs; absent: every answer is decoded live
        self.precomputed = tables.optional(path / GEN_PRECOMPUTED, files)
        self.precomputed_scores = tables.optional(path / GEN_PRECOMPUTED_SCORES, files)
        self.item_intents, self.user_intents, self.labels = read_intents(path, tables, files)

    @classmethod
    def load(cls, path: Path, public_keys: Sequence[Ed25519PublicKey], tables: TableReader | None = None) -> GenBundle:
        from appliance.serve.decoder import GenerativeDecoder

        return cls(path, GenerativeDecoder(path, public_keys=public_keys), tables)

    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        plan = self.plan_user(pseudonym, k, exclude, explain)
        return plan if isinstance(plan, Answer) else self.decode_many([plan])[0]

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        return self.decode_many([self.plan_history(skus, k, exclude, explain)])[0]

    def plan_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (),
                  explain: bool = False) -> Answer | GenQuery:
        """The cached answer when the user's precomputed list still holds k items after `exclude`, else a query."""
        user = self.users.get(pseudonym)
        if user is None:
            raise RequestError("unknown user: no purchase history for this id in the current bundle; "
                               "send `history` instead")
        excluded = sku_indices(self.sku_index, exclude, strict=False)
        if self.precomputed is not None and self.precomputed_scores is not None:
            cached = self.precomputed[user]
            keep = np.flatnonzero((cached >= 0) & ~np.isin(cached, excluded))[:k]
            if len(keep) == k:
                return Answer(self._rows(cached[keep], self.precomputed_scores[user, keep], user if explain else None),
                              "cached", self.version)
        return GenQuery(self.seq_items[self.indptr[user]:self.indptr[user + 1]], excluded, k, user if explain else None)

    def plan_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (),
                     explain: bool = False) -> GenQuery:
        """An explicit history is always decoded live."""
        if not skus:
            raise RequestError("empty history: give at least one purchased sku, or a user_id")
        seq = sku_indices(self.sku_index, skus, strict=True)
        return GenQuery(seq, sku_indices(self.sku_index, exclude, strict=False), k, seq if explain else None)

    def decode_many(self, queries: Sequence[GenQuery]) -> list[Answer]:
        """Live answers, one beam search per beam width: every k up to the bundle's beam shares one search (decoded
        to the beam's length, then cut per query), so each answer equals that query decoded alone."""
        answers: list[Answer | None] = [None] * len(queries)
        widths = [max(q.k, self.decoder.beam) for q in queries]
        for width in sorted(set(widths)):
            group = [i for i, w in enumerate(widths) if w == width]
            items, scores = self.decoder.recommend_scored([queries[i].seq for i in group], width,
                                                          [queries[i].exclude for i in group])
            for row, i in enumerate(group):
                k, got = queries[i].k, items[row] >= 0
                answers[i] = Answer(self._rows(items[row][got][:k], scores[row][got][:k], queries[i].explain_for),
                                    "live", self.version)
        return answers  # type: ignore[return-value]

    def _rows(self, items: np.ndarray, scores: np.ndarray, explain_for: Any = None) -> list[Recommendation]:
        reasons = reasons_for(explain_for, items, self.user_intents, self.item_intents, self.labels)
        return [Recommendation(self.items[i]["sku"], self.items[i]["title"], float(s), because)
                for i, s, because in zip(items.tolist(), scores.tolist(), reasons, strict=True)]


def recommend_batch(cfg: ApplianceConfig, users: Sequence[str], input_file: Path | None, k: int,
                    explain: bool, *, input_format: str | None = None, model: str | None = None) -> list[Any]:
    """One appliance.serve.batch.BatchRow per customer (the --user ids, then the rows of the CSV or JSONL
    `input_file`) from the current bundle, in input order: status ok with the answer, unknown_customer or invalid with
    the reason. A bad row never stops the batch; no customers, a bad k or an unreadable file raise RequestError, as
    does a `model` the bundle does not hold (None: its default; appliance.serve.answers.select_model)."""
    from appliance.data.keys import PUBLIC_FILE, load_pseudonym_key, load_public_key
    from appliance.data.rotation import chained_pseudonym, load_key_chain
    from appliance.serve.batch import INVALID, OK, UNKNOWN, BatchInput, BatchRow, read_batch_input

    if not 1 <= k <= MAX_K:
        raise RequestError(f"--k must be between 1 and {MAX_K}")
    rows = [BatchInput(0, raw) for raw in users]
    if input_file is not None:
        rows += read_batch_input(input_file, input_format)
    if not rows:
        raise RequestError("no customers given: use --user ID or --input FILE (.csv with a customer_id column, or "
                           ".jsonl)")
    chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))  # same mapping as ingest
    service = Service(cfg.artifacts_dir / "bundles", [load_public_key(cfg.keys_dir / PUBLIC_FILE)])
    service.reload()
    bundle = select_model(service.current(), model)
    out = []
    for row in rows:
        if row.problem:
            out.append(BatchRow(row.line, row.customer_id, INVALID, row.problem))
            continue
        try:
            answer = bundle.for_user(chained_pseudonym(row.customer_id, chain, upto=bundle.pseudonym_key_id), k,
                                     explain=explain)
        except RequestError as exc:
            out.append(BatchRow(row.line, row.customer_id, UNKNOWN if "unknown user" in str(exc) else INVALID,
                                str(exc)))
            continue
        out.append(BatchRow(row.line, row.customer_id, OK, "", answer))
    return out
