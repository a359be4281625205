"""`tanaban train cf` (LightGCN / IRLLRec) and `tanaban train sasrec`; other training commands add themselves to
`train_app`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import console, get_home

CATEGORY_HELP = ("Pilot: train on this category only (a name, or a path 'Baby > Feeding'; case-insensitive; "
                 "repeatable): items in or under it, customers with an item there (docs/EVALUATE.md, 'Pilot on one "
                 "category').")

NPROC_HELP = ("Train on N local processes with PyTorch DDP under torchrun (gloo on CPU, NCCL with one GPU per "
              "process); rank 0 saves. See docs/EVALUATE.md, 'Distributed training'.")

train_app = typer.Typer(help="Train recommenders on the store's interactions.\n\nExample: tanaban train cf",
                        no_args_is_help=True)


@train_app.command("cf")
def cf(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="lightgcn | irllrec (irllrec needs `tanaban intents build`).")]
    = "lightgcn",
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed for initialisation and sampling.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: lightgcn.lr in the config).")]
    = None,
    time_budget_min: Annotated[float | None, typer.Option(help="Wall-clock training budget in minutes, checked "
                                                               "after every batch (stops mid-epoch).")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help=CATEGORY_HELP)] = None,
    nproc: Annotated[int, typer.Option(help=NPROC_HELP)] = 1,
) -> None:
    """Train a graph CF model with early stopping on validation Recall@20, save it, print valid/test metrics.

    Example: tanaban train cf --model irllrec --epochs 200 --seed 0 --time-budget-min 10

    Example (pilot on one category): tanaban train cf --category "Skin Care"

    Example (2 processes, DDP): tanaban train cf --nproc 2 --epochs 50
    """
    from appliance.data.pilot import PilotScope
    from appliance.models.graph_cf import train_cf  # torch is loaded only when training runs
    from appliance.models.training import epoch_progress

    scope = PilotScope.parse(category)
    home = get_home(ctx)
    if nproc != 1:  # torchrun ranks, each running train_cf (appliance.models.distributed)
        path, metrics, info = _on_ranks(ctx, "cf", nproc, {
            "model": model, "epochs": epochs, "seed": seed, "lr": lr, "time_budget_min": time_budget_min,
            "categories": category, "total_epochs": epochs or home.config.lightgcn.max_epochs})
    else:
        with epoch_progress(model, epochs or home.config.lightgcn.max_epochs, console=console) as report:
            path, metrics, info = train_cf(home, model, epochs=epochs, seed=seed, lr=lr,
                                           time_budget_min=time_budget_min, progress=report, scope=scope)
    ks = home.config.eval.ks
    table = Table("stage", *(f"{m}@{k}" for k in ks for m in ("Recall", "NDCG")))
    for stage in ("valid", "test"):
        table.add_row(stage, *(f"{metrics[f'{stage}/{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")))
    console.print(table)
    console.print(f"{info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch}; saved {path}")
    _say_scope(path)


@train_app.command("sasrec")
def sasrec(
    ctx: typer.Context,
    time_budget_min: Annotated[float | None, typer.Option(help="Wall-clock training budget in minutes, checked "
                                                               "after every batch (stops mid-epoch).")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: sasrec.lr in the config).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed for initialisation, dropout and batch order.")]
    = None,
    intents: Annotated[bool, typer.Option(help="Add IRLLRec's intent alignment to SASRec's sequence representation "
                                               "(needs `tanaban intents build`; default: sasrec.intents).")] = False,
    category: Annotated[list[str] | None, typer.Option("--category", help=CATEGORY_HELP)] = None,
    nproc: Annotated[int, typer.Option(help=NPROC_HELP)] = 1,
) -> None:
    """Train SASRec with early stopping on validation NDCG@10, save a versioned artifact, print valid/test metrics.

    Example: tanaban train sasrec --time-budget-min 20 --lr 0.003 --intents

    Example (pilot on two categories): tanaban train sasrec --category Beauty --category "Kitchen > Tools"

    Example (2 processes, DDP; batch_size is the global batch): tanaban train sasrec --nproc 2
    """
    import dataclasses

    from appliance.data.pilot import PilotScope
    from appliance.models.sasrec import train_sasrec  # torch is loaded only when training runs
    from appliance.models.training import TrainingOverrides, epoch_progress

    scope = PilotScope.parse(category)
    home = get_home(ctx)
    cfg = TrainingOverrides(epochs=epochs, lr=lr, time_budget_min=time_budget_min).apply(home.config)
    scfg = dataclasses.replace(cfg.sasrec, intents=True) if intents else cfg.sasrec
    if nproc != 1:  # torchrun ranks, each running train_sasrec (appliance.models.distributed)
        path, metrics, info = _on_ranks(ctx, "sasrec", nproc, {"seed": seed, "cfg": dataclasses.asdict(scfg),
                                                               "categories": category})
    else:
        with epoch_progress("sasrec", cfg.sasrec.max_epochs, console=console, metric="ndcg@10") as report:
            path, metrics, info = train_sasrec(home, seed=seed, progress=report, cfg=scfg, scope=scope)
    ks = tuple(sorted({*home.config.eval.ks, 10}))
    table = Table("stage", *(f"{m}@{k}" for k in ks for m in ("Recall", "NDCG")))
    for stage in ("valid", "test"):
        table.add_row(stage, *(f"{metrics[f'{stage}/{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")))
    console.print(table)
    console.print(f"{info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch} (valid NDCG@10 "
                  f"{info.best_score:.4f}); saved {path}", highlight=False)
    _say_scope(path)


def _on_ranks(ctx: typer.Context, kind: str, nproc: int, params: dict) -> tuple[Path, dict[str, float], Any]:
    """Run training `kind` on `nproc` torchrun ranks; rank 0's (artifact path, metrics, fit info)."""
    from appliance.models.contract import FitInfo
    from appliance.models.distributed_run import run_job
    from cli.common import state

    out = run_job(kind, nproc, params, state(ctx).config_path)
    info = FitInfo(seconds=out["seconds"], epochs=out["epochs"], best_epoch=out["best_epoch"],
                   best_score=out["best_score"])
    return Path(out["path"]), out["metrics"], info


def _say_scope(path: Path) -> None:
    """`pilot scope 'Beauty': 49 items, 84 customers` when the saved artifact is a pilot's, and how many customers
    the metrics above were computed on when they were a sample (eval.max_customers)."""
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    pilot = manifest.get("pilot")
    if pilot:
        shown = ", ".join(repr(c) for c in pilot["categories"])
        console.print(f"pilot scope {shown}: {pilot['items']} items, {pilot['users']} customers (the model knows only "
                      "these; serving falls back for the rest)", highlight=False, markup=False)
    evaluation = manifest.get("evaluation") or {}
    if evaluation.get("sampled"):
        console.print(f"metrics on a seeded sample of {evaluation['test_customers']} customers (eval.max_customers; "
                      "`tanaban evaluate --max-customers 0` scores every customer)", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
