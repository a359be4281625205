"""Export of a trained SASRec (Kang & McAuley, ICDM 2018; appliance/models/sasrec.py) into a signed serving bundle,
and `export_best`, which exports whichever trained model scored best on validation NDCG@10.

The ONNX graph is the model's own forward pass: padded item-index history (B, max_len) -> transformer encoder ->
last position -> scores over all items against the shared item embeddings (B, n_items), exported with the
TorchScript exporter. Parity gate: the ONNX fp32 scores must match torch's (allclose, rtol = atol = 1e-3) on
validation inputs. Quality gate, the same as export/cf.py's: int8 (per-channel dynamic quantization, as
export/encoder.py) may lose at most 1% relative NDCG@10 on the validation users against fp32, else fp32 ships and
the bundle says why. The bundle carries what torch-free serving (appliance/serve/sequential.py) needs: the scorer,
item map, customers' known sequences, the precomputed top-K per customer over their whole known sequence (the
Semantic Convergence paper's pre-caching), item embeddings, and intent tables when an intents artifact exists.
With a fitted fusion (export/hybrid.py) the bundle is a hybrid one: it also carries the item-kNN table and the fusion
weights, its precomputed lists are the fused ones, and it answers to the models hybrid (its default), sasrec and
item-knn. `export_best` fits that fusion whenever SASRec is trained and exports the hybrid when its validation
NDCG@10 beats every single model's.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from appliance.config import config_to_dict
from appliance.data.artifacts import LATEST, MANIFEST, data_fingerprint
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.pilot import (
    PilotScope,
    describe_scope,
    find_scoped_version,
    load_scoped_split,
    pilot_meta,
    same_scope,
    scoped_version,
)
from appliance.data.splits import Split
from appliance.models.contract import mask_history, top_k
from appliance.models.fusion import FusionFit, TopLists
from appliance.models.hybrid import HYBRID, KNN, SASREC, fit_hybrid
from appliance.models.metrics import rows_per_batch
from appliance.privacy.audit.admin import open_audit_log
from appliance.serve.sequential import META_FILE, SCORER_FILE, SEQUENTIAL_KIND
from export.bundle import make_staging, publish_audited, remove_staging, sign_bundle
from export.cf import (
    MAX_RELATIVE_NDCG_DROP,
    PRECOMPUTE_K,
    CFGate,
    ExportError,
    _aligned,
    _json,
    _tables,
    valid_ndcg10,
)
from export.hybrid import write_hybrid
from export.intent_tables import write_intent_tables
from export.quiet import quantize_int8

PARITY_TOL = 1e-3  # rtol and atol of torch vs ONNX fp32 scores (float32 reassociation stays far below it)
PARITY_USERS = 256  # validation inputs the parity check runs
VALID_METRIC = "valid/ndcg@10"  # what `export_best` compares, as recorded by the `tanaban train` commands
CANDIDATES = {"lightgcn": "cf-lightgcn", "irllrec": "cf-irllrec", "sasrec": "sasrec"}  # model -> artifact kind
Quantizer = Callable[[Path, Path], None]  # (fp32 model, int8 destination)


def export_scorer(net: Any, path: Path) -> None:
    """Write `net` (appliance.models.sasrec.SASRecNet, eval mode) as ONNX: history (B, max_len) -> scores."""
    import torch

    class _Scorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, history: torch.Tensor) -> torch.Tensor:
            return self.net.item_logits(self.net(history)[:, -1])  # (B, n_items)

    example = torch.zeros((2, net.cfg.max_len), dtype=torch.int64)
    example[:, -3:] = torch.tensor([[1, 2, 3], [3, 2, 1]])
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about nn.MultiheadAttention's shape checks, which hold for every batch size.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(_Scorer().eval(), (example,), str(path), input_names=["history"], output_names=["scores"],
                          dynamic_axes={"history": {0: "batch"}, "scores": {0: "batch"}}, opset_version=17,
                          dynamo=False)  # the TorchScript exporter, as export/encoder.py


def onnx_seq_scorer(model_path: Path, batch: int = 512) -> Callable[[np.ndarray], np.ndarray]:
    """`scores(inputs) -> (n, n_items)` of padded inputs (n, max_len) through one ONNX Runtime session of the
    scorer at `model_path` (opened once per gate or export, not once per batch), `batch` rows per run."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])

    def scores(inputs: np.ndarray) -> np.ndarray:
        return np.concatenate([session.run(["scores"], {"history": inputs[i:i + batch].astype(np.int64)})[0]
                               for i in range(0, len(inputs), batch)])

    return scores


def onnx_seq_scores(model_path: Path, inputs: np.ndarray, batch: int = 512) -> np.ndarray:
    """(n, n_items) scores of padded inputs (n, max_len) through an ONNX scorer."""
    return onnx_seq_scorer(model_path, batch)(inputs)


def gate_int8(ndcg_fp32: float, ndcg_int8: float, max_drop: float = MAX_RELATIVE_NDCG_DROP) -> CFGate:
    """Keep int8 only if it loses at most `max_drop` relative NDCG@10 against fp32."""
    drop = (ndcg_fp32 - ndcg_int8) / ndcg_fp32 if ndcg_fp32 > 0 else 0.0
    ok = drop <= max_drop
    return CFGate(ndcg_fp32, ndcg_int8, drop, "int8" if ok else "fp32",
                  f"int8 changes NDCG@10 by {-drop:+.2%} against fp32 (a loss of at most {max_drop:.0%} is allowed)")


def full_sequences(split: Split) -> list[np.ndarray]:
    """Per user, every known item in order: the test-stage input (train + validation) then the test items."""
    tests = np.split(split.test.indices, split.test.indptr[1:-1])
    return [np.concatenate([s, t]).astype(np.int64) for s, t in zip(split.sequences("test"), tests, strict=True)]


def _parity(model: Any, fp32: Path, users: np.ndarray) -> dict[str, float]:
    """torch vs ONNX fp32 on validation inputs; raises ExportError beyond PARITY_TOL."""
    sample = users[:PARITY_USERS]
    ref = model.score(sample, "valid")
    got = onnx_seq_scores(fp32, model.inputs["valid"][sample])
    diff = float(np.abs(ref - got).max()) if len(sample) else 0.0
    if not np.allclose(ref, got, rtol=PARITY_TOL, atol=PARITY_TOL):
        raise ExportError(f"the ONNX scorer differs from torch by up to {diff:.2e} (tolerance {PARITY_TOL:g}): "
                          "the export is wrong; report it with the bundle's library versions")
    return {"users": float(len(sample)), "max_abs_diff": diff}


def _write_scorer(model: Any, split: Split, out: Path, quantize: bool, max_drop: float,
                  quantizer: Quantizer) -> tuple[CFGate, dict[str, float]]:
    fp32, int8 = out / "seq_scorer.fp32.onnx", out / "seq_scorer.int8.onnx"
    export_scorer(model.net, fp32)
    users = split.eval_users("valid")
    parity = _parity(model, fp32, users)

    def ndcg(path: Path) -> float:
        scores = onnx_seq_scorer(path)
        return valid_ndcg10(lambda part: scores(model.inputs["valid"][part]), split, users)

    base = ndcg(fp32)
    gate = CFGate(base, None, None, "fp32", "quantization not requested")
    if quantize:
        quantizer(fp32, int8)
        gate = gate_int8(base, ndcg(int8), max_drop)
    (int8 if gate.chosen == "int8" else fp32).rename(out / SCORER_FILE)
    for path in (fp32, int8):
        path.unlink(missing_ok=True)
    return gate, parity


def _precompute(scorer: Path, inputs: np.ndarray, known: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_users, k) int32 top items (-1 padded) and their float32 scores, known items masked."""
    n, width = len(inputs), min(k, known.shape[1])
    items, scores = np.full((n, width), -1, dtype=np.int32), np.zeros((n, width), dtype=np.float32)
    score, step = onnx_seq_scorer(scorer), rows_per_batch(known.shape[1], 512)
    for start in range(0, n, step):
        users = np.arange(start, min(start + step, n))
        masked = mask_history(score(inputs[users]), known, users)
        top = top_k(masked, width)
        items[users] = top
        scores[users] = np.where(top >= 0, np.take_along_axis(masked, np.maximum(top, 0), axis=1), 0.0)
    return items, scores


@store_writer("export-sasrec")
def export_sasrec(home: Home, *, quantize: bool = True, version: str | None = None,
                  max_drop: float = MAX_RELATIVE_NDCG_DROP, quantizer: Quantizer = quantize_int8,
                  comparison: dict[str, Any] | None = None, fusion: FusionFit | None = None,
                  scope: PilotScope | None = None) -> Path:
    """Build, gate, sign and publish a SASRec bundle under `<artifacts>/bundles`; returns its directory.

    `comparison` (from `export_best`) is recorded in the manifest and metrics.json; `quantizer` and `max_drop`
    exist so tests can feed the gate a bad int8 model. With `fusion`
    (appliance.models.hybrid.fit_hybrid) the bundle is a hybrid one (see the module docstring).
    """
    from appliance.models.sasrec import ARTIFACT_KIND, load_sasrec  # torch: only when exporting

    trained = scoped_version(home.config.artifacts_dir, ARTIFACT_KIND, scope,  # the model of this scope
                             "run `tanaban train sasrec" + (f" {scope.options()}`" if scope else "`"))
    split = load_scoped_split(home.engine, scope, evaluation=home.config.eval)
    model, art = load_sasrec(home.config.artifacts_dir, trained, split=split)
    scope = PilotScope.from_record(art.get("pilot"))  # checked above: the same scope, spelt as at training
    _aligned(art["user_ids"], split.user_ids, "users")
    _aligned(art["item_ids"], split.item_ids, "items")
    root = home.config.artifacts_dir / "bundles"
    staging = make_staging(root)  # pid in the name: `tanaban serve` removes it if this export dies
    try:
        gate, parity = _write_scorer(model, split, staging, quantize, max_drop, quantizer)
        sequences = full_sequences(split)
        known = sp.csr_matrix((np.ones(sum(map(len, sequences)), np.float32), np.concatenate(sequences),
                               np.cumsum([0, *map(len, sequences)])), shape=(split.n_users, split.n_items))
        known.sum_duplicates()
        inputs = np.stack([_padded(s, model.cfg.max_len) for s in sequences])
        precomputed, pre_scores = _precompute(staging / SCORER_FILE, inputs, known, PRECOMPUTE_K)
        models = ["sasrec"]
        if fusion is not None:  # the fused lists replace SASRec's as the cached answers
            cfg = home.config.eval
            fused = write_hybrid(staging, fusion, sequences, known, TopLists(precomputed.astype(np.int64), pre_scores),
                                 cfg.knn_shrink, cfg.knn_neighbours)
            precomputed, pre_scores, models = fused.items.astype(np.int32), fused.scores, [HYBRID, SASREC, KNN]
        np.save(staging / "precomputed.npy", precomputed)
        np.save(staging / "precomputed_scores.npy", pre_scores)
        np.save(staging / "seq_indptr.npy", np.cumsum([0, *map(len, sequences)]).astype(np.int64))
        np.save(staging / "seq_items.npy", np.concatenate(sequences).astype(np.int32))
        np.save(staging / "item_emb.npy", model.net.item_emb.weight[1:].detach().numpy().astype(np.float32))
        intents = write_intent_tables(home, split, staging, sequences)  # a customer's: the mean over their items
        items, users = _tables(home, split)
        _json(staging / "items.json", items)
        _json(staging / "users.json", users)
        _json(staging / META_FILE, {"model": models[0], "max_len": model.cfg.max_len, "n_items": split.n_items})
        _json(staging / "config.json", config_to_dict(home.config))
        _json(staging / "metrics.json", {"training": art.get("metrics", {}), "gate": gate.__dict__,
                                         "parity": parity, "comparison": comparison,
                                         "fusion": fusion and fusion.to_json()})
        sign_bundle(staging, home.signing_key, {
            "kind": SEQUENTIAL_KIND, "model": models[0], "models": models, "artifact": Path(art["path"]).name,
            "fusion": fusion and fusion.to_json(),
            "scorer": gate.chosen, "gate": gate.__dict__, "parity": parity, "comparison": comparison,
            "intents": intents, **pilot_meta(scope, split)}, version=version)
        with open_audit_log(home) as log:  # bundle.publish is written before CURRENT changes
            return publish_audited(staging, root, log.append)
    except BaseException:
        remove_staging(staging)
        raise


def _padded(seq: np.ndarray, max_len: int) -> np.ndarray:
    out = np.zeros(max_len, dtype=np.int64)
    tail = seq[-max_len:] + 1
    out[max_len - len(tail):] = tail
    return out


def compare_trained(home: Home, scope: PilotScope | None = None) -> dict[str, Any]:
    """Validation NDCG@10 of every trained model's latest artifact that was trained on the store's current data;
    {"metric", "scores": {model: value}, "skipped": {model: why}, "chosen"}."""
    root, fingerprint = home.config.artifacts_dir, data_fingerprint(home.engine)
    scores, skipped = {}, {}
    for name, kind in CANDIDATES.items():
        try:  # the version trained for `scope` when there is one, else LATEST (skipped below, saying why)
            version = find_scoped_version(root, kind, scope) or (root / kind / LATEST).read_text(
                encoding="utf-8").strip()
            meta = json.loads((root / kind / version / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # never trained: not a candidate
        value = meta.get("metrics", {}).get(VALID_METRIC)
        trained_for = PilotScope.from_record(meta.get("pilot"))
        if not same_scope(trained_for, scope):  # a pilot's model and the whole catalog's are not comparable
            skipped[name] = (f"trained for {describe_scope(trained_for)}, not {describe_scope(scope)}: pass the "
                             "same --category, or train it again")
        elif meta.get("data_fingerprint") != fingerprint:
            skipped[name] = "trained on other data than the store holds now: train it again"
        elif not isinstance(value, int | float) or not np.isfinite(value):
            skipped[name] = f"its artifact records no {VALID_METRIC}: train it again"
        else:
            scores[name] = float(value)
    if not scores:
        why = "; ".join(f"{n}: {w}" for n, w in skipped.items()) or "none is trained"
        raise ExportError(f"no trained model to export ({why}): run `tanaban train sasrec` or `tanaban train cf`")
    chosen = max(scores, key=lambda n: (scores[n], n == "sasrec"))  # a tie goes to SASRec, which scores live
    return {"metric": VALID_METRIC, "scores": scores, "skipped": skipped, "chosen": chosen}


def compare_hybrid(home: Home, comparison: dict[str, Any], scope: PilotScope | None = None) -> FusionFit | None:
    """When SASRec is a candidate: fit the fusion of SASRec and item-kNN on validation
    (appliance.models.hybrid.fit_hybrid), add its and item-kNN's validation NDCG@10 to `comparison` (in place) and
    choose the hybrid if it beats every single model. Returns the fit (None without SASRec)."""
    from appliance.models.sasrec import load_sasrec  # torch: only when exporting

    if SASREC not in comparison["scores"]:
        return None
    split = load_scoped_split(home.engine, scope, evaluation=home.config.eval)
    root = home.config.artifacts_dir
    model, _ = load_sasrec(root, find_scoped_version(root, CANDIDATES[SASREC], scope), split=split)
    fit = fit_hybrid(home, split, model)
    best_single = max(comparison["scores"].values())
    comparison["scores"][KNN] = fit.scores[KNN]  # item-kNN is scored here: it has no trained artifact
    comparison["scores"][HYBRID] = fit.scores[HYBRID]
    comparison["fusion"] = fit.to_json()
    # The fit is never below its strongest component (the others may get weight 0), so it is chosen when it beats
    # the trained models by more than float noise; when item-kNN alone is best, the hybrid is item-kNN alone.
    if fit.scores[HYBRID] > best_single + 1e-9:
        comparison["chosen"] = HYBRID
    return fit


def export_best(home: Home, *, quantize: bool = True, version: str | None = None, encoder: bool = False,
                hybrid: bool = True, scope: PilotScope | None = None) -> Path:
    """Export the trained model with the best validation NDCG@10 (`compare_trained`; with `hybrid`, also the
    fusion of SASRec and item-kNN, `compare_hybrid`), recording the comparison in the bundle's manifest; `encoder`
    applies to CF bundles only (text search). Item-kNN alone is compared but not exported on its own: when it is
    best, the fitted hybrid (which can give SASRec weight 0) matches it on validation and is exported instead."""
    from export.cf import export_cf

    comparison = compare_trained(home, scope)
    fit = compare_hybrid(home, comparison, scope) if hybrid else None
    if comparison["chosen"] in (SASREC, HYBRID):
        return export_sasrec(home, quantize=quantize, version=version, comparison=comparison,
                             fusion=fit if comparison["chosen"] == HYBRID else None, scope=scope)
    return export_cf(home, comparison["chosen"], quantize=quantize, version=version, encoder=encoder,
                     comparison=comparison, scope=scope)
