"""Knobs shared by every trained model: the few overrides an admin turns on the command line (epochs, learning
rate, wall-clock budget) and the per-epoch progress report (a rich bar on a terminal, one plain line per epoch
otherwise, as pip and cargo do when their output is piped to a log).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig


class TrainingOptionError(UserError, ValueError):
    """An override out of range (epochs < 1, learning rate or time budget <= 0)."""


@dataclass(frozen=True)
class TrainingOverrides:
    """CLI overrides of every trained model's section ([lightgcn] for lightgcn/irllrec, [sasrec], [gen]).

    None keeps the config's value. The budget is in minutes for every model ([lightgcn]/[sasrec] store seconds).
    """

    epochs: int | None = None  # max_epochs: an upper bound, early stopping may end sooner
    lr: float | None = None  # peak learning rate of the model's optimiser
    time_budget_min: float | None = None  # wall-clock training budget, checked after every batch

    def check(self) -> None:
        if self.epochs is not None and self.epochs < 1:
            raise TrainingOptionError(f"--epochs must be at least 1, got {self.epochs}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise TrainingOptionError(f"--lr must be a positive number, got {self.lr}")
        if self.time_budget_min is not None and not (math.isfinite(self.time_budget_min)
                                                     and self.time_budget_min > 0):
            raise TrainingOptionError(f"--time-budget-min must be a positive number of minutes, "
                                      f"got {self.time_budget_min}")

    def apply(self, cfg: ApplianceConfig) -> ApplianceConfig:
        """`cfg` with the overrides written into [lightgcn], [sasrec] and [gen] (the sections that train)."""
        self.check()
        seconds = None if self.time_budget_min is None else 60.0 * self.time_budget_min
        sections = {"lightgcn": {"max_epochs": self.epochs, "lr": self.lr, "max_seconds": seconds},
                    "sasrec": {"max_epochs": self.epochs, "lr": self.lr, "max_seconds": seconds},
                    "gen": {"max_epochs": self.epochs, "lr": self.lr, "max_minutes": self.time_budget_min}}
        changes = {}
        for name, values in sections.items():
            section = getattr(cfg, name)
            known = {f.name for f in dataclasses.fields(section)}
            given = {k: v for k, v in values.items() if v is not None and k in known}
            if given:
                changes[name] = dataclasses.replace(section, **given)
        return dataclasses.replace(cfg, **changes) if changes else cfg

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def format_epoch(label: str, epoch: int, row: dict[str, float], metric: str = "score") -> str:
    """One progress line: `lightgcn epoch 7 loss 0.4132 valid 0.0812 elapsed 41s` (valid '-' when not run)."""
    loss = row.get("total", row.get("loss", float("nan")))
    score = next((row[k] for k in (metric, "score", "ndcg@10", "valid_ndcg@10") if k in row), float("nan"))
    shown = "-" if score is None or math.isnan(score) else f"{score:.4f}"
    return f"{label} epoch {epoch} loss {loss:.4f} valid {shown} elapsed {row.get('seconds', 0.0):.0f}s"


class EpochReporter:
    """Callable `(epoch, row)` for the training loops: advances a bar on a terminal, prints one line otherwise."""

    def __init__(self, label: str, total: int, bar: Progress | None, stream: IO[str] | None,
                 metric: str = "score") -> None:
        self.label, self.total, self.bar, self.stream, self.metric = label, total, bar, stream, metric
        self.task = bar.add_task(label, total=total) if bar is not None else None

    def __call__(self, epoch: int, row: dict[str, float]) -> None:
        line = format_epoch(self.label, epoch, row, self.metric)
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=epoch, description=line)
        elif self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()


@contextmanager
def epoch_progress(label: str, total: int, *, console: Console | None = None, metric: str = "score",
                   enabled: bool = True) -> Iterator[EpochReporter]:
    """An EpochReporter: a transient rich bar when `console` is a terminal, else plain lines on its file."""
    console = console or Console(file=sys.stdout)
    if not enabled:
        yield EpochReporter(label, total, None, None, metric)
    elif console.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            yield EpochReporter(label, total, bar, None, metric)
    else:
        yield EpochReporter(label, total, None, console.file, metric)
