"""Plain training loops (no Trainer framework): BPR training of graph CF models with early stopping on a validation
metric, restoring the best weights at the end (nanoGPT-style loop with `# ---` sections).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
import torch

from appliance.config import LightGCNConfig
from appliance.errors import UserError
from appliance.models.distributed import Step, current
from appliance.models.lightgcn import BPRBatch, iter_batches, sample_bpr_epoch


class TrainError(UserError, RuntimeError):
    """Training diverged (non-finite loss) or has nothing to train on."""


class BPRModel(Protocol):
    """What the loop needs: a torch module whose `loss(batch)` returns a NamedTuple with `.total` first."""

    def loss(self, batch: BPRBatch) -> Any: ...
    def parameters(self) -> Any: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


@dataclass
class FitReport:
    best_epoch: int = 0
    best_score: float = float("-inf")
    epochs_run: int = 0  # epochs started (the last one may have been cut short by the time budget)
    steps: int = 0  # optimiser steps in all
    seconds: float = 0.0
    stopped_by: str = "max_epochs"  # max_epochs | early_stopping | time_budget
    history: list[dict[str, float]] = field(default_factory=list)  # per validation: epoch, loss parts, score


def fit_bpr(model: BPRModel, train: sp.csr_matrix, cfg: LightGCNConfig, validate: Callable[[], float], *,
            progress: Callable[[int, dict[str, float]], None] | None = None,
            after_step: Callable[[], None] | None = None,
            clock: Callable[[], float] = time.perf_counter) -> FitReport:
    """Train `model` with Adam on BPR triples; validate every `cfg.eval_every` epochs; keep the best weights.

    `validate()` returns the score to maximise (e.g. Recall@20 on validation users); `after_step` runs after each
    optimiser step (IRLLRec uses it for its EMA teacher). `progress(epoch, row)` runs after every epoch with the
    mean loss parts, `seconds` elapsed and `score` (NaN on epochs without validation). The time budget
    `cfg.max_seconds` is checked after every batch: training stops as soon as it is spent and the best validated
    weights so far are kept (the current weights are validated once if no validation has run yet).
    """
    if train.nnz == 0:
        raise TrainError("no training interactions: ingest interactions before training")
    # --- setup
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    # under torchrun (appliance.models.distributed): every rank propagates the full graph, takes rows [rank::world]
    # of each global BPR batch, and DDP averages the gradients; rank 0 validates and decides the budget
    group = current()
    step = group.wrap(Step(lambda batch, scale: _scaled(model.loss(batch), scale), model=model),  # type: ignore
                      find_unused=bool(getattr(model, "icfg", None)))
    report, best_state, stale = FitReport(), copy.deepcopy(model.state_dict()), 0
    start = clock()
    deadline = start + cfg.max_seconds if cfg.max_seconds > 0 else float("inf")
    for epoch in range(1, cfg.max_epochs + 1):
        # --- one epoch of BPR steps, stopping mid-epoch when the budget is spent
        sums: dict[str, float] = {}
        steps = 0
        report.epochs_run = epoch
        for batch in iter_batches(sample_bpr_epoch(train, rng), cfg.batch_size):
            global_n = len(batch.users)
            shares = [group.share(t) for t in batch]  # this rank's rows (all of them in a single process)
            batch, weight = BPRBatch(*(rows for rows, _ in shares)), shares[0][1]
            out, total = step(batch, group.loss_scale(len(batch.users), global_n) * weight)
            if not torch.isfinite(out.total):
                raise TrainError(f"loss became {out.total.item()} at epoch {epoch}: lower the learning rate")
            optimiser.zero_grad(set_to_none=True)
            total.backward()
            optimiser.step()
            if after_step is not None:
                after_step()
            for name, value in out._asdict().items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            steps += 1
            if group.stop_now(clock() >= deadline):  # rank 0's clock: every rank stops on the same batch
                report.stopped_by = "time_budget"
                break
        report.steps += steps
        if group.enabled:  # the progress line shows the mean over ranks
            sums = dict(zip(sums, (v / group.world for v in group.sum(list(sums.values()))), strict=True))
        losses = {k: v / max(steps, 1) for k, v in sums.items()}
        # --- validation and early stopping (always validate before the budget ends a run that has none yet)
        out_of_time = report.stopped_by == "time_budget"
        due = epoch % cfg.eval_every == 0 or epoch == cfg.max_epochs or (out_of_time and not report.history)
        score = float(group.from_main(validate)) if due else float("nan")  # rank 0 validates, all ranks agree
        if progress is not None:
            progress(epoch, {"score": score, "seconds": clock() - start, **losses})
        if not due:
            if out_of_time:
                break
            continue
        report.history.append({"epoch": epoch, "score": score, **losses})
        if score > report.best_score:
            report.best_epoch, report.best_score, stale = epoch, score, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stale >= cfg.patience:
                report.stopped_by = "early_stopping"
                break
        if out_of_time:
            break
    # --- restore the best weights
    model.load_state_dict(best_state)
    report.seconds = clock() - start
    return report


def _scaled(out: Any, scale: float) -> tuple[Any, torch.Tensor]:
    """(the loss parts, the total to back-propagate: `scale` times the total, see Dist.loss_scale)."""
    return out, out.total * scale if scale != 1.0 else out.total
