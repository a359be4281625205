"""The evaluation harness behind `tanaban evaluate`: split the store's interactions (leave-one-out or a given
split), get each model (the saved artifact of `tanaban train ...` when one exists for the store's current data,
else a fit now) and rank all items for every user with the metrics of appliance.models.metrics.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from appliance.config import ApplianceConfig
from appliance.data.artifacts import LATEST, Artifact, data_fingerprint, load_artifact
from appliance.data.pilot import (
    PilotScope,
    PilotScopeError,
    check_same_scope,
    find_scoped_version,
    load_scoped_split,
)
from appliance.data.splits import MIN_LOO_INTERACTIONS, DataError, Split
from appliance.errors import UserError
from appliance.models.metrics import evaluate
from appliance.models.registry import DEFAULT_MODELS, SAVED, SavedModel, check_model_names, create_model
from appliance.models.training import TrainingOverrides, epoch_progress

# config sections that shape each model when it is fitted now (saved models carry theirs in the manifest)
CONFIG_SECTIONS = {"item-knn": ("eval",), "lightgcn": ("lightgcn",), "irllrec": ("lightgcn", "irllrec"),
                   "sasrec": ("sasrec",), "hybrid": ("sasrec", "eval"), "generative": ("gen",)}
Notify = Callable[[str], None]
NO_PILOT = ("generative",)  # saved models whose training takes no --category yet (semantic IDs cover the catalog)


class StaleArtifactError(UserError, RuntimeError):
    """A saved model was trained on other data (or another split) than the store holds now."""


@dataclass(frozen=True)
class ModelResult:
    name: str
    metrics: dict[str, float]  # "recall@K" / "ndcg@K" means at the report's stage
    fit_seconds: float  # getting the model in this run: loading the artifact, or fitting it now
    eval_seconds: float
    source: str = "fitted"  # artifact (saved model scored) | trained (trained now, not saved) | fitted (closed form)
    artifact: str | None = None  # "<kind>/<version>" of the scored artifact
    epochs: int = 0  # epochs run by the training (recorded in the artifact, or of the fit now)
    best_epoch: int = 0  # epoch whose weights were kept
    train_seconds: float = 0.0  # wall time of that training
    stopped_by: str = ""  # max_epochs | early_stopping | time_budget ("" for closed-form models)
    config: dict[str, Any] = field(default_factory=dict)  # the resolved config sections that shape the model
    note: str = ""  # why it was trained now, or which options did not apply


@dataclass(frozen=True)
class EvaluationReport:
    """What `tanaban evaluate` prints and writes: metrics per model plus what they were measured on."""

    protocol: str
    stage: str
    ks: tuple[int, ...]
    fingerprint: str  # appliance.data.artifacts.data_fingerprint of the store at evaluation time
    counts: dict[str, int]  # users, items, train/valid/test interactions, users evaluated
    results: list[ModelResult]
    seconds: float  # whole run: split, fits and rankings
    pilot: dict[str, Any] | None = None  # the pilot scope (appliance.data.pilot), None for the whole catalog

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ks": list(self.ks)}

    def save(self, path: Path) -> None:
        """Write the report as JSON (parent directories are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


def evaluate_models(engine: Engine, cfg: ApplianceConfig, names: Sequence[str] = DEFAULT_MODELS, *,
                    protocol: str = "auto", stage: str = "test", progress: bool = False, retrain: bool = False,
                    overrides: TrainingOverrides | None = None, notify: Notify | None = None,
                    scope: PilotScope | None = None) -> EvaluationReport:
    """Split the store's interactions, get each model and rank all items for every user.

    A model that a `tanaban train` command saves is scored from its latest artifact when that artifact was
    trained on the store's current data (StaleArtifactError otherwise); it is trained now, and not saved, only
    with `retrain` or when no artifact exists. `overrides` (epochs, lr, time budget) apply to models trained now;
    `notify` receives one line per model saying which it did. `scope` restricts the split to a pilot's
    categories (appliance.data.pilot); a saved model trained for another scope is refused (ScopeMismatchError).
    """
    start = time.perf_counter()
    check_model_names(names)  # unknown names fail before any work
    if scope is not None and (unscoped := [n for n in names if n in NO_PILOT]):
        raise PilotScopeError(f"{', '.join(unscoped)} cannot be evaluated on a pilot scope yet (its training takes "
                              "no --category): evaluate it without --category")
    overrides = overrides or TrainingOverrides()
    overrides.check()
    cfg = overrides.apply(cfg)
    split = load_scoped_split(engine, scope, protocol, evaluation=cfg.eval)
    heldout = split.heldout(stage)
    counts = {"users": split.n_users, "items": split.n_items, "train": int(split.train.nnz),
              "valid": int(split.valid.nnz), "test": int(split.test.nnz),
              "evaluated_users": len(split.eval_users(stage))}
    if split.evaluated is not None:  # eval.max_customers drew a sample: say of how many
        counts["evaluation_sample_of"] = int((np.diff(heldout.indptr) > 0).sum())
    if counts["evaluated_users"] == 0:
        raise DataError(f"no user has a held-out {stage} item: leave-one-out needs users with at least "
                        f"{MIN_LOO_INTERACTIONS} distinct items")
    fingerprint = data_fingerprint(engine)
    say = notify or (lambda _line: None)
    results = []
    for name in names:
        fit_start = time.perf_counter()
        model, result = _obtain(name, cfg, split, fingerprint, retrain=retrain, overrides=overrides,
                                progress=progress, say=say, scope=scope)
        eval_start = time.perf_counter()
        metrics = evaluate(model, split, stage, cfg.eval.ks, progress=progress)
        results.append(dataclasses.replace(result, metrics=metrics, fit_seconds=eval_start - fit_start,
                                           eval_seconds=time.perf_counter() - eval_start))
    return EvaluationReport(split.protocol, stage, tuple(cfg.eval.ks), fingerprint, counts, results,
                            time.perf_counter() - start, None if scope is None else scope.record(split))


def latest_saved(artifacts_dir: Path, saved: SavedModel, scope: PilotScope | None = None) -> Artifact | None:
    """The latest artifact trained for `scope` (else LATEST, which `check_same_data` then refuses, saying why) of the
    first of `saved.kinds` that has one, or None."""
    for kind in saved.kinds:
        if (Path(artifacts_dir) / kind / LATEST).is_file():  # broken (a file changed): ArtifactError, never a retrain
            return load_artifact(artifacts_dir, kind, find_scoped_version(artifacts_dir, kind, scope))
    return None


def check_same_data(name: str, art: Artifact, saved: SavedModel, fingerprint: str, split: Split,
                    scope: PilotScope | None = None) -> None:
    """Raise StaleArtifactError unless `art` was trained on the store's current data and the same split, and
    ScopeMismatchError unless it was trained for the same pilot scope (`scope`; None: the whole catalog)."""
    ident = f"{art.meta['kind']}/{art.meta['version']}"
    fix = f"run `{saved.train_command}` again, or pass --retrain to evaluate a model trained now"
    if art.meta.get("data_fingerprint") != fingerprint:
        raise StaleArtifactError(f"the saved {name} model {ident} was trained on other data than the store holds "
                                 f"now (data fingerprint differs): {fix}")
    trained_on = art.meta.get("protocol")
    if trained_on is not None and trained_on != split.protocol:
        raise StaleArtifactError(f"the saved {name} model {ident} was trained on the {trained_on} split, this "
                                 f"evaluation uses {split.protocol}: pass --protocol {trained_on}, or {fix}")
    retrain = saved.train_command + (f" {scope.options()}" if scope is not None else "")
    check_same_scope(f"the saved {name} model {ident}", art.meta, scope,
                     f"run `{retrain}`, or pass --retrain to evaluate a model trained now")
    items = art.arrays.get("item_ids", art.meta.get("item_ids"))
    if items is not None and not np.array_equal(np.asarray(items, dtype=np.int64), split.item_ids):
        raise StaleArtifactError(f"the saved {name} model {ident} covers other items than the store: {fix}")


def _obtain(name: str, cfg: ApplianceConfig, split: Split, fingerprint: str, *, retrain: bool,
            overrides: TrainingOverrides, progress: bool, say: Notify,
            scope: PilotScope | None = None) -> tuple[Any, ModelResult]:
    """The model to score and its result row (metrics and timings filled in by the caller)."""
    if name == "hybrid":
        return _hybrid(cfg, split, fingerprint, retrain=retrain, overrides=overrides, progress=progress, say=say,
                       scope=scope)
    saved = SAVED.get(name)
    art = None if saved is None or retrain else latest_saved(cfg.artifacts_dir, saved, scope)
    if saved is not None and art is not None:
        check_same_data(name, art, saved, fingerprint, split, scope)
        return _from_artifact(name, art, saved, split, overrides, say)
    note = ""
    if saved is not None:
        command = saved.train_command + (f" {scope.options()}" if scope is not None else "")
        note = ("--retrain: trained now, not saved" if retrain else f"no saved {name} model ({saved.kinds[0]} "
                f"artifact): trained now, not saved; `{command}` saves one")
        say(f"{name}: {note}")
    model = create_model(name, cfg)
    info = _fit(model, name, split, cfg, progress)
    if getattr(model, "note", ""):  # e.g. the champion's customers without a list, who count as misses
        note = model.note
        say(f"{name}: {note}")
    config = {s: dataclasses.asdict(getattr(cfg, s)) for s in CONFIG_SECTIONS.get(name, ())}
    if info is None or info.epochs == 0:  # closed form (the baselines)
        return model, ModelResult(name, {}, 0.0, 0.0, source="fitted", config=config, note=note)
    stopped = str(getattr(model, "stopped_by", getattr(model, "stopped", "")))
    return model, ModelResult(name, {}, 0.0, 0.0, source="trained", epochs=info.epochs, best_epoch=info.best_epoch,
                              train_seconds=info.seconds, stopped_by=stopped, config=config, note=note)


def _hybrid(cfg: ApplianceConfig, split: Split, fingerprint: str, *, retrain: bool, overrides: TrainingOverrides,
            progress: bool, say: Notify, scope: PilotScope | None) -> tuple[Any, ModelResult]:
    """The hybrid of `tanaban export best` (appliance.models.hybrid): SASRec as `sasrec` would be obtained (the saved
    artifact, else trained now), item-kNN fitted here, fusion weights fitted on validation, never on `stage`."""
    from appliance.models.hybrid import HybridRecommender

    sasrec, result = _obtain("sasrec", cfg, split, fingerprint, retrain=retrain, overrides=overrides,
                             progress=progress, say=say, scope=scope)
    model = HybridRecommender(cfg, sasrec, k=max(cfg.eval.ks))
    model.fit(split)
    say(f"hybrid: {model.describe()}")
    config = {s: dataclasses.asdict(getattr(cfg, s)) for s in ("eval",)} | result.config
    return model, dataclasses.replace(result, name="hybrid", config=config,
                                      note="; ".join(filter(None, [result.note, model.describe()])))


def _from_artifact(name: str, art: Artifact, saved: SavedModel, split: Split, overrides: TrainingOverrides,
                   say: Notify) -> tuple[Any, ModelResult]:
    """The saved model and its result row from the artifact's manifest (epochs, best epoch, time, config)."""
    ident = f"{art.meta['kind']}/{art.meta['version']}"
    unused = f"{', '.join(overrides.as_dict())} apply only to training (--retrain)" if overrides.as_dict() else ""
    say(f"{name}: scoring the saved model {ident} (trained on the store's current data)"
        + (f"; {unused}" if unused else ""))
    fit = {**art.meta.get("fit", {}), **art.meta}  # the generative model keeps its figures under "fit"
    return saved.load(art, split), ModelResult(
        name, {}, 0.0, 0.0, source="artifact", artifact=ident,
        epochs=int(fit.get("epochs", fit.get("epochs_run", 0))), best_epoch=int(fit.get("best_epoch", 0)),
        train_seconds=float(fit.get("seconds", 0.0)), stopped_by=str(fit.get("stopped_by", fit.get("stopped", ""))),
        config={k: art.meta[k] for k in saved.config_keys if k in art.meta}, note=unused)


def _fit(model: Any, name: str, split: Split, cfg: ApplianceConfig, progress: bool) -> Any:
    """model.fit(split) with the per-epoch report of appliance.models.training when the model takes one."""
    if hasattr(model, "show_progress"):  # the generative loop reports by itself (a step bar, or a line per epoch)
        model.show_progress = progress
    if not progress or not hasattr(model, "progress"):
        return model.fit(split)
    section = CONFIG_SECTIONS.get(name, ("lightgcn",))[0]
    total = int(getattr(getattr(cfg, section), "max_epochs", 0))
    with epoch_progress(name, total) as report:
        model.progress = report
        return model.fit(split)
