"""`tanaban train cf` (LightGCN / IRLLRec) and `tanaban train sasrec`; other training commands add themselves to
`train_app`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, get_home

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
) -> None:
    """Train a graph CF model with early stopping on validation Recall@20, save it, print valid/test metrics.

    Example: tanaban train cf --model irllrec --epochs 200 --seed 0 --time-budget-min 10
    """
    from appliance.models.graph_cf import train_cf  # torch is loaded only when training runs
    from appliance.models.training import epoch_progress

    home = get_home(ctx)
    with epoch_progress(model, epochs or home.config.lightgcn.max_epochs, console=console) as report:
        path, metrics, info = train_cf(home, model, epochs=epochs, seed=seed, lr=lr, time_budget_min=time_budget_min,
                                       progress=report)
    ks = home.config.eval.ks
    table = Table("stage", *(f"{m}@{k}" for k in ks for m in ("Recall", "NDCG")))
    for stage in ("valid", "test"):
        table.add_row(stage, *(f"{metrics[f'{stage}/{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")))
    console.print(table)
    console.print(f"{info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch}; saved {path}")


@train_app.command("sasrec")
def sasrec(
    ctx: typer.Context,
    time_budget_min: Annotated[float | None, typer.Option(help="Wall-clock training budget in minutes, checked "
                                                               "after every batch (stops mid-epoch).")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (default: sasrec.lr in the config).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed for initialisation, dropout and batch order.")]
    = None,
) -> None:
    """Train SASRec with early stopping on validation NDCG@10, save a versioned artifact, print valid/test metrics.

    Example: tanaban train sasrec --time-budget-min 20 --lr 0.003
    """
    from appliance.models.sasrec import train_sasrec  # torch is loaded only when training runs
    from appliance.models.training import TrainingOverrides, epoch_progress

    home = get_home(ctx)
    cfg = TrainingOverrides(epochs=epochs, lr=lr, time_budget_min=time_budget_min).apply(home.config)
    with epoch_progress("sasrec", cfg.sasrec.max_epochs, console=console, metric="ndcg@10") as report:
        path, metrics, info = train_sasrec(home, seed=seed, progress=report, cfg=cfg.sasrec)
    ks = tuple(sorted({*home.config.eval.ks, 10}))
    table = Table("stage", *(f"{m}@{k}" for k in ks for m in ("Recall", "NDCG")))
    for stage in ("valid", "test"):
        table.add_row(stage, *(f"{metrics[f'{stage}/{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")))
    console.print(table)
    console.print(f"{info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch} (valid NDCG@10 "
                  f"{info.best_score:.4f}); saved {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
