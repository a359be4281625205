"""`tanaban train gen`: the generative recommender over semantic IDs (its top-K lists per user are decoded into the
signed bundle by `tanaban export gen`)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from appliance.models.training import TrainingOverrides
from cli.common import console, get_config, get_home


def gen(
    ctx: typer.Context,
    preset: Annotated[str | None, typer.Option(help="Model size: tiny | small | medium | base (default from config).")]
    = None,
    tasks: Annotated[str | None, typer.Option(help=(
        "Comma list of alignment tasks: seq,text,intent,neg (default from config [gen] tasks: seq; the others did "
        "not help at equal compute on Beauty, docs/BENCHMARKS.md)."))] = None,
    history_layout: Annotated[str | None, typer.Option(help=(
        "How history items enter the model: items (one position each, the sum of its code embeddings; default) | "
        "tokens (one position per code token, 4x longer prompts)."))] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs (early stopping may end sooner).")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak AdamW learning rate (default from config [gen] lr).")] = None,
    time_budget_min: Annotated[float | None, typer.Option(help=(
        "Wall-clock training budget in minutes, checked after every batch; the best epoch so far is kept."))] = None,
    schedule: Annotated[str | None, typer.Option(help=(
        "Learning-rate decay: budget (the cosine decay ends when the time budget or the epochs run out, whichever "
        "comes first; default) | epochs (over --epochs only)."))] = None,
    patience: Annotated[int | None, typer.Option(help=(
        "Validations without an NDCG@10 gain before training stops (default from config [gen] patience). With a "
        "time budget, a large value lets the decay finish: the best epoch is kept either way."))] = None,
    hidden_dropout: Annotated[float | None, typer.Option(help=(
        "Dropout on input embeddings and attention/MLP outputs while training, in [0, 1) (default from config "
        "[gen] hidden_dropout)."))] = None,
    item_embeddings: Annotated[bool | None, typer.Option("--item-embeddings/--no-item-embeddings", help=(
        "A learned vector per item added to its history position beside its code embeddings (items layout only; "
        "default from config [gen] item_embeddings)."))] = None,
    pack: Annotated[bool | None, typer.Option("--pack/--no-pack", help=(
        "A user's prefixes in one training row that reads the history once: the same loss in fewer positions "
        "(default from config [gen] pack)."))] = None,
    nproc: Annotated[int, typer.Option(help=(
        "Train on N local processes with PyTorch DDP under torchrun (one GPU per process over NCCL, else gloo on "
        "CPU); rank 0 saves. See docs/EVALUATE.md, 'Distributed training'."))] = 1,
) -> None:
    """Train the generative recommender on the alignment tasks and save a versioned "gen" artifact.

    Needs semantic IDs (`tanaban tokenize build`); uses intents when `tanaban intents` has built them.

    Example: tanaban train gen --preset small --tasks seq,text --time-budget-min 30

    Example (the 4-token layout, to compare): tanaban train gen --history-layout tokens

    Example (a 20-minute run, the rate decayed over those 20 minutes): tanaban train gen --time-budget-min 20

    Example (the 50-minute Beauty recipe of docs/BENCHMARKS.md; `medium`, hidden dropout 0.1 and lr 0.002 are the
    defaults): tanaban train gen --time-budget-min 50 --epochs 100 --patience 100

    Example (a box with 4 GPUs, one process each): tanaban train gen --preset base --nproc 4
    """
    from appliance.config import GEN_LAYOUTS
    from appliance.generative.pipeline import train_gen

    if history_layout is not None and history_layout not in GEN_LAYOUTS:
        raise typer.BadParameter(f"expected one of {', '.join(GEN_LAYOUTS)}, got {history_layout!r}",
                                 param_hint="--history-layout")
    if schedule is not None and schedule not in ("budget", "epochs"):
        raise typer.BadParameter(f"expected budget or epochs, got {schedule!r}", param_hint="--schedule")
    if patience is not None and patience < 1:
        raise typer.BadParameter(f"must be at least 1, got {patience}", param_hint="--patience")
    if hidden_dropout is not None and not 0 <= hidden_dropout < 1:
        raise typer.BadParameter(f"must be in [0, 1), got {hidden_dropout}", param_hint="--hidden-dropout")
    cfg = TrainingOverrides(epochs=epochs, lr=lr, time_budget_min=time_budget_min).apply(get_config(ctx)).gen
    overrides = {"preset": preset, "tasks": tuple(t.strip() for t in tasks.split(",") if t.strip()) if tasks else None,
                 "history_layout": history_layout, "schedule": schedule, "patience": patience,
                 "hidden_dropout": hidden_dropout, "item_embeddings": item_embeddings, "pack": pack}
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    if cfg.item_embeddings and cfg.history_layout != "items":
        raise typer.BadParameter("needs the items history layout", param_hint="--item-embeddings")
    if nproc != 1:  # torchrun ranks, each running train_gen (appliance.models.distributed); rank 0 saves
        from types import SimpleNamespace

        from appliance.models.distributed_run import run_job
        from cli.common import state

        get_home(ctx)  # the home must exist before any rank starts
        out = run_job("gen", nproc, {"cfg": dataclasses.asdict(cfg)}, state(ctx).config_path)
        result = SimpleNamespace(path=out["path"], valid=out["valid"], test=out["test"],
                                 report=SimpleNamespace(**out["report"]))
    else:
        result = train_gen(get_home(ctx), cfg)
    table = Table("stage", *(f"{m}@{k}" for k in (5, 10) for m in ("Recall", "NDCG")))
    for stage, metrics in (("valid", result.valid), ("test", result.test)):
        table.add_row(stage, *(f"{metrics.get(f'{m}@{k}', float('nan')):.4f}" for k in (5, 10)
                               for m in ("recall", "ndcg")))
    console.print(table)
    r = result.report
    console.print(f"{r.epochs_run} epochs in {r.seconds:.0f} s ({r.stopped_by}), best epoch {r.best_epoch}, "
                  f"final learning rate {r.lr_mult:.2f} x peak ({r.schedule} schedule); saved {result.path}")


def register(app: typer.Typer) -> None:
    from cli.train_cmd import train_app

    train_app.command("gen")(gen)
