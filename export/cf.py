"""Export of a trained CF model (LightGCN / IRLLRec) into a signed serving bundle.

The scorer is the models' own: scores = user_emb @ item_emb^T (He et al. 2020), written as a one-node ONNX graph
with the item table as an initializer, then int8 with per-channel dynamic quantization. Quality gate (export
issue): the int8 scorer may lose at most 1% relative NDCG@10 on the validation users against fp32, else the
bundle ships fp32 and says so. The bundle also carries the tables serving needs without torch: user embeddings,
item map, intents and labels, the users' known items, and the precomputed top-K per user (the paper's pre-caching).
With `encoder=True` it also carries the text encoder (ONNX, gated by export/encoder.py) in `encoder/` and the
catalog's item text embeddings made with it, for text search (appliance/serve/search.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select

from appliance.config import config_to_dict
from appliance.data.artifacts import load_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.pilot import PilotScope, load_scoped_split, pilot_meta, scoped_version
from appliance.data.splits import Split
from appliance.data.store import Item, User
from appliance.errors import UserError
from appliance.models.metrics import rank_metrics, rows_per_batch
from appliance.privacy.audit.admin import open_audit_log
from export.bundle import make_staging, publish_audited, remove_staging, sign_bundle
from export.intent_tables import write_intent_tables
from export.quiet import quantize_int8

MAX_RELATIVE_NDCG_DROP = 0.01  # the gate: int8 may lose at most 1% NDCG@10 against fp32
PRECOMPUTE_K = 100  # cached answers cover k <= 100; larger k is answered live


class ExportError(UserError, RuntimeError):
    """There is nothing to export, or an exported model fails its parity gate."""


@dataclass(frozen=True)
class CFGate:
    ndcg10_fp32: float
    ndcg10_int8: float | None
    relative_drop: float | None
    chosen: str
    reason: str


def scorer_graph(item_emb: np.ndarray) -> Any:
    """ONNX model: user_vec (B, d) -> scores (B, n_items) = user_vec @ item_emb^T."""
    from onnx import TensorProto, helper, numpy_helper

    d, n = item_emb.shape[1], item_emb.shape[0]
    weight = numpy_helper.from_array(np.ascontiguousarray(item_emb.T, dtype=np.float32), "item_emb_t")
    node = helper.make_node("MatMul", ["user_vec", "item_emb_t"], ["scores"])
    graph = helper.make_graph([node], "tanaban_cf_scorer",
                              [helper.make_tensor_value_info("user_vec", TensorProto.FLOAT, ["batch", d])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", n])],
                              initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tanaban")
    model.ir_version = 8  # onnxruntime 1.28 reads IR <= 13; opset 17 needs IR 8
    return model


def onnx_scorer(model_path: Path, batch: int = 1024) -> Callable[[np.ndarray], np.ndarray]:
    """`scores(user_vecs) -> (n, items)` through one ONNX Runtime session of the scorer at `model_path`, `batch`
    rows per run (a session holds the item table: opened once per gate or export, not once per batch)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])

    def scores(user_vecs: np.ndarray) -> np.ndarray:
        return np.concatenate([session.run(["scores"], {"user_vec": user_vecs[i:i + batch]})[0]
                               for i in range(0, len(user_vecs), batch)])

    return scores


def onnx_scores(model_path: Path, user_vecs: np.ndarray, batch: int = 1024) -> np.ndarray:
    return onnx_scorer(model_path, batch)(user_vecs)


def valid_ndcg10(score: Callable[[np.ndarray], np.ndarray], split: Split, users: np.ndarray,
                 batch: int = 2048) -> float:
    """Validation NDCG@10 over `users` of `score(users) -> (len(users), items)` scores, a batch at a time (the int8
    gates of the CF and SASRec exports): the whole score matrix is users x items x 4 bytes (108 GB at 10x Beauty's
    224k customers and 121k items)."""
    total, step = 0.0, rows_per_batch(split.n_items, batch)
    for start in range(0, len(users), step):
        part = users[start:start + step]
        metrics = rank_metrics(score(part), split.history("valid")[part], split.valid[part], (10,))
        total += metrics["ndcg@10"] * len(part)
    return total / max(len(users), 1)


def _ndcg10(model_path: Path, user_emb: np.ndarray, split: Split, users: np.ndarray, batch: int = 2048) -> float:
    """Validation NDCG@10 of the CF scorer at `model_path` over `users` (`valid_ndcg10`)."""
    scores = onnx_scorer(model_path)
    return valid_ndcg10(lambda part: scores(user_emb[part]), split, users, batch)


def _write_scorer(item_emb: np.ndarray, user_emb: np.ndarray, split: Split, out: Path, quantize: bool) -> CFGate:
    import onnx

    fp32, int8 = out / "cf_scorer.fp32.onnx", out / "cf_scorer.int8.onnx"
    onnx.save(scorer_graph(item_emb), str(fp32))
    users = split.eval_users("valid")
    base = _ndcg10(fp32, user_emb, split, users)
    gate = CFGate(base, None, None, "fp32", "quantization not requested")
    if quantize:
        quantize_int8(fp32, int8)
        q = _ndcg10(int8, user_emb, split, users)
        drop = (base - q) / base if base > 0 else 0.0
        ok = drop <= MAX_RELATIVE_NDCG_DROP
        gate = CFGate(base, q, drop, "int8" if ok else "fp32",
                      f"int8 changes NDCG@10 by {-drop:+.2%} against fp32 (a loss of at most "
                      f"{MAX_RELATIVE_NDCG_DROP:.0%} is allowed)")
    chosen = int8 if gate.chosen == "int8" else fp32
    chosen.rename(out / "cf_scorer.onnx")
    for path in (fp32, int8):
        path.unlink(missing_ok=True)
    return gate


def _aligned(art_ids: np.ndarray, split_ids: np.ndarray, what: str) -> None:
    if len(art_ids) != len(split_ids) or not np.array_equal(art_ids, split_ids):
        raise ExportError(f"the trained model's {what} differ from the store's now (data was ingested after "
                          "training): run `tanaban train cf` again, then export")


def _tables(home: Home, split: Split) -> tuple[list[dict[str, Any]], dict[str, int]]:
    with home.engine.connect() as conn:
        items = {r.id: r for r in conn.execute(select(Item.id, Item.sku, Item.title))}
        users = {uid: pseudonym for uid, pseudonym in conn.execute(select(User.id, User.pseudonym))}
    item_rows = [{"sku": items[int(i)].sku, "title": items[int(i)].title} for i in split.item_ids]
    return item_rows, {users[int(u)]: dense for dense, u in enumerate(split.user_ids)}


def _precompute(model: Path, user_emb: np.ndarray, known: sp.csr_matrix, k: int) -> np.ndarray:
    from appliance.models.contract import mask_history, top_k

    out = np.zeros((len(user_emb), min(k, known.shape[1])), dtype=np.int32)
    scores, step = onnx_scorer(model), rows_per_batch(known.shape[1], 1024)
    for start in range(0, len(user_emb), step):
        users = np.arange(start, min(start + step, len(user_emb)))
        out[users] = top_k(mask_history(scores(user_emb[users]), known, users), out.shape[1])
    return out


@store_writer("export-cf")
def export_cf(home: Home, model: str = "lightgcn", *, quantize: bool = True, version: str | None = None,
              encoder: bool = False, progress: bool = True, comparison: dict[str, Any] | None = None,
              scope: PilotScope | None = None) -> Path:
    """Build, gate, sign and publish a CF bundle under `<artifacts>/bundles`; returns its directory.

    `comparison` (from export.sasrec.export_best: every trained model's validation NDCG@10) goes into the manifest.

    `encoder` adds the text encoder and item text embeddings (export/encoder.py `package_encoder`); the CLI turns
    it on by default, the library leaves it off because it needs the model package and ~10 s more on 2 cores.

    `scope` (appliance.data.pilot) must be the pilot scope the model was trained for (ScopeMismatchError
    otherwise); the manifest's `meta.pilot` records it, and serving falls back outside it.
    """
    trained = scoped_version(home.config.artifacts_dir, f"cf-{model}", scope,  # the model of this scope
                             f"run `tanaban train cf --model {model}" + (f" {scope.options()}`" if scope else "`"))
    art = load_artifact(home.config.artifacts_dir, f"cf-{model}", trained)
    scope = PilotScope.from_record(art.meta.get("pilot"))  # the same scope, spelt as at training
    split = load_scoped_split(home.engine, scope, evaluation=home.config.eval)
    _aligned(art.arrays["user_ids"], split.user_ids, "users")
    _aligned(art.arrays["item_ids"], split.item_ids, "items")
    root = home.config.artifacts_dir / "bundles"
    staging = make_staging(root)  # pid in the name: `tanaban serve` removes it if this export dies
    try:
        user_emb = art.arrays["user_emb"].astype(np.float32)
        gate = _write_scorer(art.arrays["item_emb"].astype(np.float32), user_emb, split, staging, quantize)
        encoder_gate = _package_encoder(home, staging, split, quantize, progress) if encoder else None
        known = split.history("test") + split.test
        known.data[:] = 1.0
        items, users = _tables(home, split)
        np.save(staging / "user_emb.npy", user_emb)
        np.save(staging / "item_emb.npy", art.arrays["item_emb"].astype(np.float32))
        sp.save_npz(staging / "known.npz", sp.csr_matrix(known, dtype=np.float32))
        np.save(staging / "precomputed.npy", _precompute(staging / "cf_scorer.onnx", user_emb, known, PRECOMPUTE_K))
        if "item_intents" in art.arrays:  # IRLLRec: its own learned intents
            for name in ("user_intents", "item_intents"):
                if name in art.arrays:
                    np.save(staging / f"{name}.npy", art.arrays[name].astype(np.float32))
            _json(staging / "intent_labels.json", art.meta.get("labels", []))
        elif not write_intent_tables(home, split, staging,  # any other model: the text intents, if built
                                     np.split(known.indices, known.indptr[1:-1])):
            _json(staging / "intent_labels.json", [])
        _json(staging / "items.json", items)
        _json(staging / "users.json", users)
        _json(staging / "config.json", config_to_dict(home.config))
        _json(staging / "metrics.json", {"training": art.meta.get("metrics", {}), "gate": gate.__dict__,
                                         "encoder_gate": encoder_gate, "comparison": comparison})
        sign_bundle(staging, home.signing_key, {"kind": "cf", "model": model, "models": [model],
                                                "artifact": art.path.name, "scorer": gate.chosen,
                                                "gate": gate.__dict__, "comparison": comparison,
                                                "encoder": encoder_gate and encoder_gate["chosen"],
                                                **pilot_meta(scope, split)}, version=version)
        with open_audit_log(home) as log:  # bundle.publish is written before CURRENT changes
            return publish_audited(staging, root, log.append)
    except BaseException:
        remove_staging(staging)
        raise


def _package_encoder(home: Home, staging: Path, split: Split, quantize: bool, progress: bool) -> dict[str, Any]:
    from export.encoder import package_encoder  # imports torch when called: keep `import export.cf` light

    return package_encoder(home, staging, split.item_ids, quantize=quantize, progress=progress)


def _json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
