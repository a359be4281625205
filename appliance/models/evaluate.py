"""The evaluation harness behind `tanaban evaluate`: split the store's interactions (leave-one-out or a given
split), fit each registered model and rank all items for every user with the metrics of appliance.models.metrics.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from appliance.config import ApplianceConfig
from appliance.data.artifacts import data_fingerprint
from appliance.data.splits import MIN_LOO_INTERACTIONS, DataError, load_split
from appliance.models.metrics import evaluate
from appliance.models.registry import DEFAULT_MODELS, create_model


@dataclass(frozen=True)
class ModelResult:
    name: str
    metrics: dict[str, float]  # "recall@K" / "ndcg@K" means at the report's stage
    fit_seconds: float
    eval_seconds: float


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

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ks": list(self.ks)}

    def save(self, path: Path) -> None:
        """Write the report as JSON (parent directories are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


def evaluate_models(engine: Engine, cfg: ApplianceConfig, names: Sequence[str] = DEFAULT_MODELS, *,
                    protocol: str = "auto", stage: str = "test", progress: bool = False) -> EvaluationReport:
    """Split the store's interactions, fit each registered model on it and rank all items for every user."""
    start = time.perf_counter()
    models = [create_model(name, cfg) for name in names]  # unknown names fail before any work
    split = load_split(engine, protocol)
    heldout = split.heldout(stage)
    counts = {"users": split.n_users, "items": split.n_items, "train": int(split.train.nnz),
              "valid": int(split.valid.nnz), "test": int(split.test.nnz),
              "evaluated_users": int((np.diff(heldout.indptr) > 0).sum())}
    if counts["evaluated_users"] == 0:
        raise DataError(f"no user has a held-out {stage} item: leave-one-out needs users with at least "
                        f"{MIN_LOO_INTERACTIONS} distinct items")
    results = []
    for model in models:
        fit_start = time.perf_counter()
        model.fit(split)
        eval_start = time.perf_counter()
        metrics = evaluate(model, split, stage, cfg.eval.ks, progress=progress)
        results.append(ModelResult(model.name, metrics, eval_start - fit_start, time.perf_counter() - eval_start))
    return EvaluationReport(split.protocol, stage, tuple(cfg.eval.ks), data_fingerprint(engine), counts, results,
                            time.perf_counter() - start)
