"""Graph CF recommenders behind the Recommender contract: LightGCN (He et al., SIGIR 2020) and IRLLRec on its
backbone (Wang et al., SIGIR 2025), trained with BPR and early stopping on validation Recall@20, scored by the dot
product of the final user and item embeddings, with intent explanations from the "intents" artifact.

`train_cf` fits one on the store's split and saves it as a versioned artifact ("cf-lightgcn" / "cf-irllrec").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import ApplianceConfig, IRLLRecConfig, LightGCNConfig
from appliance.data.artifacts import data_fingerprint, load_artifact, save_artifact
from appliance.data.locks import store_writer
from appliance.data.pilot import PilotScope, load_scoped_split, pilot_meta
from appliance.data.splits import Split, build_norm_adj
from appliance.errors import UserError
from appliance.models.contract import FitInfo
from appliance.models.explain import intent_reasons
from appliance.models.training import TrainingOverrides
from appliance.text.intents import IntentsError, IntentSet, load_intents, user_distributions

VALID_K = 20  # early stopping metric: Recall@20 on validation, as in the LightGCN/IRLLRec papers
CONFIG_FILE = "config.json"
_LIGHTGCN, _IRLLREC = LightGCNConfig(), IRLLRecConfig()  # defaults (frozen, so sharing them is safe)
Progress = Callable[[int, dict[str, float]], None]


class CFError(UserError, RuntimeError):
    """A CF model cannot be trained, loaded or explained (untrained model, missing text inputs or intents)."""


def validation_recall(user_emb: np.ndarray, item_emb: np.ndarray, split: Split, k: int = VALID_K,
                      batch_users: int = 2048) -> float:
    """Recall@k on validation users (history = train masked; the split's evaluation sample when it has one), full
    ranking; embeddings (U, d) and (I, d)."""
    from appliance.models.metrics import rank_metrics, rows_per_batch

    users = split.eval_users("valid")
    history, heldout, total = split.history("valid"), split.heldout("valid"), 0.0
    step = rows_per_batch(split.n_items, batch_users)
    for start in range(0, len(users), step):
        batch = users[start:start + step]
        scores = user_emb[batch] @ item_emb.T  # (B, I)
        total += rank_metrics(scores, history[batch], heldout[batch], (k,))[f"recall@{k}"] * len(batch)
    return total / max(len(users), 1)


def _intent_arrays(intents: IntentSet | None, split: Split) -> dict[str, np.ndarray]:
    """Item (I, K) and user (U, K) intent distributions in the split's dense order (users: training items only)."""
    if intents is None:
        return {}
    row = {int(i): r for r, i in enumerate(intents.item_ids)}
    try:
        item_dist = intents.item_dist[[row[int(i)] for i in split.item_ids]]
    except KeyError:
        raise CFError("the intents artifact misses items of this split: run `tanaban embed` and "
                      "`tanaban intents build` again") from None
    user_dist = user_distributions(split.train_sequences, item_dist, intents.recency)
    return {"item_intents": item_dist, "user_intents": user_dist}


class LightGCNRecommender:
    """LightGCN with BPR; `fit` keeps the weights of the best validation Recall@20."""

    name = "lightgcn"

    def __init__(self, cfg: LightGCNConfig = _LIGHTGCN, *, intents: IntentSet | None = None,
                 progress: Progress | None = None) -> None:
        self.cfg, self.intents, self.progress = cfg, intents, progress
        self.arrays: dict[str, np.ndarray] = {}
        self.labels: list[str] = intents.labels if intents is not None else []
        self.history: list[dict[str, float]] = []
        self.stopped_by = ""  # why the last fit ended: max_epochs | early_stopping | time_budget

    # --- training
    def build_network(self, split: Split) -> Any:
        """The untrained torch module for `split` (its training graph only)."""
        from appliance.models.lightgcn import LightGCN

        return LightGCN(split.n_users, split.n_items, build_norm_adj(split.train), self.cfg)

    def fit(self, split: Split) -> FitInfo:
        import torch

        from appliance.models.bpr import fit_bpr  # torch: only when a CF model is actually trained

        torch.manual_seed(self.cfg.seed)  # the initial weights too, not only the sampling: a seed reproduces a run
        net = self.build_network(split)

        def validate() -> float:
            return validation_recall(*net.embeddings(), split)

        try:
            report = fit_bpr(net, split.train, self.cfg, validate, progress=self.progress,
                             after_step=getattr(net, "update_teacher", None))
        except RuntimeError as exc:  # TrainError (defined with torch) -> the CLI's user-facing error
            if type(exc).__name__ != "TrainError":
                raise
            raise CFError(str(exc)) from None
        user_emb, item_emb = net.embeddings()
        self.arrays = {"user_emb": user_emb, "item_emb": item_emb, **_intent_arrays(self.intents, split)}
        if split.valid.nnz:  # at test time the validation purchases are known history: fold them into the graph
            self.arrays["user_emb_test"], self.arrays["item_emb_test"] = _fold_in(net, split)
        self.history, self.stopped_by = report.history, report.stopped_by
        last = report.history[-1] if report.history else {}
        return FitInfo(seconds=report.seconds, epochs=report.epochs_run, best_epoch=report.best_epoch,
                       best_score=report.best_score,
                       extra={"steps": float(report.steps),
                              **{k: float(v) for k, v in last.items() if k not in ("epoch", "score")}})

    # --- inference
    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(len(users), n_items) float32 dot products. "valid": embeddings propagated over the training graph;
        "test": over training + validation interactions (the same weights, no retraining), so the graph models
        read the validation purchase as the sequential models and item-kNN do."""
        if "user_emb" not in self.arrays:
            raise CFError(f"{self.name} is not trained: call fit() or load a saved model")
        users = np.asarray(users, dtype=np.int64)
        suffix = "_test" if stage == "test" and "user_emb_test" in self.arrays else ""
        scores = self.arrays["user_emb" + suffix][users] @ self.arrays["item_emb" + suffix].T
        return scores.astype(np.float32, copy=False)  # float32 embeddings: no second copy of a (users, items) matrix

    def explain(self, user: int, items: np.ndarray, n: int = 2) -> list[list[tuple[str, float]]]:
        """Per item, up to `n` intents that link dense user `user` to it: (label, share of user x item weight),
        by the same rule as the HTTP API's `because` (appliance.models.explain.intent_reasons)."""
        if "user_intents" not in self.arrays or not self.labels:
            raise CFError("no intents in this model: run `tanaban intents build` before training to get explanations")
        return intent_reasons(self.arrays["user_intents"][int(user)],
                              self.arrays["item_intents"][np.asarray(items, dtype=np.int64)], self.labels, n)

    # --- persistence
    def config_dict(self) -> dict[str, Any]:
        return {"model": self.name, "lightgcn": dataclasses.asdict(self.cfg), "labels": self.labels}

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, array in self.arrays.items():
            np.save(directory / f"{name}.npy", array, allow_pickle=False)
        (directory / CONFIG_FILE).write_text(json.dumps(self.config_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LightGCNRecommender:
        directory = Path(directory)
        try:
            meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CFError(f"{directory} holds no saved CF model ({CONFIG_FILE} missing)") from None
        arrays = {p.stem: np.load(p, allow_pickle=False) for p in sorted(directory.glob("*.npy"))}
        return cls.from_arrays(arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> LightGCNRecommender:
        model = _MODELS[meta["model"]]._from_meta(meta)
        model.arrays, model.labels = dict(arrays), list(meta.get("labels", []))
        return model

    @classmethod
    def _from_meta(cls, meta: dict[str, Any]) -> LightGCNRecommender:
        return cls(LightGCNConfig(**_tuples(meta["lightgcn"])))


class IRLLRecRecommender(LightGCNRecommender):
    """IRLLRec: LightGCN plus intent alignment losses over text inputs (item embeddings + intent prototypes).

    `item_vectors` (rows in `intents.item_ids` order) and `intents` come from the "item-embeddings" and
    "intents" artifacts; when not given, `fit` loads the latest ones from `artifacts_dir`.
    """

    name = "irllrec"

    def __init__(self, cfg: LightGCNConfig = _LIGHTGCN, icfg: IRLLRecConfig = _IRLLREC, *,
                 intents: IntentSet | None = None, item_vectors: np.ndarray | None = None,
                 artifacts_dir: Path | None = None, progress: Progress | None = None) -> None:
        super().__init__(cfg, intents=intents, progress=progress)
        self.icfg, self.item_vectors, self.artifacts_dir = icfg, item_vectors, artifacts_dir

    def _load_text(self) -> None:
        if self.intents is not None and self.item_vectors is not None:
            return
        if self.artifacts_dir is None:
            raise CFError("IRLLRec needs item embeddings and intents: give them or an artifacts directory")
        try:
            self.intents = load_intents(self.artifacts_dir)
        except Exception as exc:  # ArtifactError: say which command fixes it
            raise CFError(f"IRLLRec needs the intents artifact ({exc}); run `tanaban embed` and "
                          "`tanaban intents build` first") from None
        emb = load_artifact(self.artifacts_dir, "item-embeddings")
        if not np.array_equal(emb.arrays["item_ids"], self.intents.item_ids):
            raise CFError("item embeddings and intents disagree: run `tanaban intents build` again")
        self.item_vectors, self.labels = emb.arrays["vectors"], self.intents.labels

    def build_network(self, split: Split) -> Any:
        from appliance.models.irllrec import IRLLRec, build_text_inputs

        self._load_text()
        assert self.intents is not None and self.item_vectors is not None
        row = {int(i): r for r, i in enumerate(self.intents.item_ids)}
        if any(int(i) not in row for i in split.item_ids):
            raise IntentsError("some items of the split have no text embedding: run `tanaban embed` again")
        rows = np.array([row[int(i)] for i in split.item_ids], dtype=np.int64)
        item_dist = self.intents.item_dist[rows]
        user_dist = user_distributions(split.train_sequences, item_dist, self.intents.recency)
        text = build_text_inputs(self.item_vectors[rows], split.train_sequences, item_dist, user_dist,
                                 self.intents.prototypes)
        return IRLLRec(split.n_users, split.n_items, build_norm_adj(split.train), self.cfg, self.icfg, text)

    def config_dict(self) -> dict[str, Any]:
        return {**super().config_dict(), "irllrec": dataclasses.asdict(self.icfg)}

    @classmethod
    def _from_meta(cls, meta: dict[str, Any]) -> IRLLRecRecommender:
        return cls(LightGCNConfig(**_tuples(meta["lightgcn"])), IRLLRecConfig(**_tuples(meta["irllrec"])))


_MODELS: dict[str, type[LightGCNRecommender]] = {"lightgcn": LightGCNRecommender, "irllrec": IRLLRecRecommender}


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def _optional_intents(cfg: ApplianceConfig) -> IntentSet | None:
    try:
        return load_intents(cfg.artifacts_dir)
    except Exception:  # no intents yet: LightGCN still trains, only explanations are unavailable
        return None


def make_lightgcn(cfg: ApplianceConfig) -> LightGCNRecommender:
    """Registry factory for `tanaban evaluate --model lightgcn`."""
    return LightGCNRecommender(cfg.lightgcn, intents=_optional_intents(cfg))


def make_irllrec(cfg: ApplianceConfig) -> IRLLRecRecommender:
    """Registry factory for `tanaban evaluate --model irllrec` (needs `tanaban embed` and `tanaban intents build`)."""
    return IRLLRecRecommender(cfg.lightgcn, cfg.irllrec, artifacts_dir=cfg.artifacts_dir)


@store_writer("train-cf")
def train_cf(home: Any, model: str = "lightgcn", *, epochs: int | None = None, seed: int | None = None,
             lr: float | None = None, time_budget_min: float | None = None,
             progress: Progress | None = None,
             scope: PilotScope | None = None) -> tuple[Path, dict[str, float], FitInfo]:
    """Fit `model` on the store's split, evaluate on validation and test, save a versioned artifact.

    `epochs`, `seed`, `lr` and `time_budget_min` override `[lightgcn]` max_epochs, seed, lr and max_seconds.
    `scope` restricts the data to a pilot's categories (appliance.data.pilot); the artifact records it.
    Returns (artifact directory, metrics with "valid/..." and "test/..." keys, fit info).
    """
    from appliance.models.metrics import evaluate

    if model not in _MODELS:
        raise CFError(f"unknown CF model {model!r}: use one of {', '.join(_MODELS)}")
    cfg = home.config
    cfg = TrainingOverrides(epochs=epochs, lr=lr, time_budget_min=time_budget_min).apply(cfg)
    if seed is not None:
        cfg = dataclasses.replace(cfg, lightgcn=dataclasses.replace(cfg.lightgcn, seed=seed))
    rec = make_lightgcn(cfg) if model == "lightgcn" else make_irllrec(cfg)
    rec.progress = progress
    split = load_scoped_split(home.engine, scope, evaluation=cfg.eval)
    info = rec.fit(split)
    from appliance.models.distributed import current

    if not current().is_main:  # a DDP rank other than 0 only trains: rank 0 evaluates and saves
        return Path(), {}, info
    metrics = {f"valid/{k}": v for k, v in evaluate(rec, split, stage="valid", ks=cfg.eval.ks).items()}
    metrics.update({f"test/{k}": v for k, v in evaluate(rec, split, stage="test", ks=cfg.eval.ks).items()})
    arrays = {**rec.arrays, "user_ids": split.user_ids, "item_ids": split.item_ids}
    meta = {**rec.config_dict(), "metrics": metrics, "evaluation": split.evaluation_record(),
            "best_epoch": info.best_epoch, "epochs": info.epochs, "seconds": info.seconds, "stopped_by": rec.stopped_by,
            "steps": int(info.extra.get("steps", 0)), "data_fingerprint": data_fingerprint(home.engine),
            "protocol": split.protocol, **pilot_meta(scope, split)}
    return save_artifact(cfg.artifacts_dir, f"cf-{model}", arrays, meta), metrics, info


def _fold_in(net: Any, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Final embeddings of the trained `net` propagated over the train + validation graph (LightGCN inference on
    the interactions known at test time; the layer-0 weights are unchanged)."""
    from appliance.models.lightgcn import to_torch_sparse

    known = ((split.train + split.valid) > 0).astype(np.float32).tocsr()
    train_adj, net.adj = net.adj, to_torch_sparse(build_norm_adj(known))
    try:
        return net.embeddings()
    finally:
        net.adj = train_adj


def load_cf(artifacts_dir: Path, model: str = "lightgcn", version: str | None = None) -> LightGCNRecommender:
    """A trained model from its versioned artifact (user_ids/item_ids stay in `.arrays`)."""
    art = load_artifact(artifacts_dir, f"cf-{model}", version)
    return LightGCNRecommender.from_arrays(art.arrays, art.meta)
