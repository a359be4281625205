"""`tanaban train cf` (LightGCN / IRLLRec); other training commands add themselves to `train_app`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress
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
) -> None:
    """Train a graph CF model with early stopping on validation Recall@20, save it, print valid/test metrics.

    Example: tanaban train cf --model irllrec --epochs 200 --seed 0
    """
    from appliance.models.graph_cf import train_cf  # torch is loaded only when training runs

    home = get_home(ctx)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"training {model}", total=epochs or home.config.lightgcn.max_epochs)
        path, metrics, info = train_cf(home, model, epochs=epochs, seed=seed, progress=lambda epoch, v: bar.update(
            task, completed=epoch, description=f"{model} epoch {epoch} valid R@20 {v['score']:.4f}"))
    ks = home.config.eval.ks
    table = Table("stage", *(f"{m}@{k}" for k in ks for m in ("Recall", "NDCG")))
    for stage in ("valid", "test"):
        table.add_row(stage, *(f"{metrics[f'{stage}/{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")))
    console.print(table)
    console.print(f"{info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch}; saved {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
