"""`tanaban evaluate`: score saved models (or fit them now) on a split of the store and report Recall/NDCG@K with
full ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from appliance.models.evaluate import EvaluationReport, ModelResult, evaluate_models
from appliance.models.registry import DEFAULT_MODELS
from appliance.models.training import TrainingOverrides
from cli.common import console, get_config, get_home


def evaluate(
    ctx: typer.Context,
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help=(
        "Model to evaluate (repeatable or comma-separated): popularity, item-knn, lightgcn, irllrec, sasrec, "
        "hybrid (SASRec + item-kNN fused with weights fitted on validation: what `export best` serves when it wins), "
        "generative, imported (your embeddings, `ingest embeddings`) or champion (your current lists, `ingest "
        "lists`). Default: both baselines."))] = None,
    protocol: Annotated[str, typer.Option(help=(
        "auto | leave-one-out | given (auto: the data's own split labels if present, else leave-one-out)."))] = "auto",
    stage: Annotated[str, typer.Option(help="test | valid: which held-out items to rank.")] = "test",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the report as JSON here.")] = None,
    retrain: Annotated[bool, typer.Option("--retrain", help=(
        "Train the models now (not saved) even where a saved artifact exists; default: score the saved one."))]
    = False,
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs of models trained now.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate of models trained now.")] = None,
    time_budget_min: Annotated[float | None, typer.Option(help=(
        "Wall-clock training budget per model trained now, in minutes (checked after every batch)."))] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help=(
        "Pilot: evaluate on this category only (repeatable; as for `tanaban train`); saved models must have been "
        "trained with the same --category."))] = None,
    max_customers: Annotated[int | None, typer.Option(min=0, help=(
        "Score at most this many customers, a sample drawn with eval.seed (0: every customer). Default: "
        "eval.max_customers (100,000)."))] = None,
) -> None:
    """Evaluate recommenders on the store's interactions: full ranking, history masked, Recall/NDCG@K.

    Trained models (lightgcn, irllrec, sasrec, generative) are scored from their saved artifact when it was trained
    on the store's current data; --retrain (or a missing artifact) trains them now instead. The hybrid uses the saved
    SASRec the same way and fits its fusion weights on the validation split.

    Example: tanaban evaluate --model item-knn,lightgcn --output var/eval.json

    Example (the served hybrid against item-kNN): tanaban evaluate --model item-knn,sasrec,hybrid

    Example (pilot): tanaban evaluate --model item-knn,sasrec --category "Skin Care"

    Example (a large store, every customer scored): tanaban evaluate --model lightgcn --max-customers 0
    """
    import dataclasses

    from appliance.data.pilot import PilotScope

    scope = PilotScope.parse(category)
    names = [n.strip() for value in (model or DEFAULT_MODELS) for n in value.split(",") if n.strip()]
    overrides = TrainingOverrides(epochs=epochs, lr=lr, time_budget_min=time_budget_min)
    cfg = get_config(ctx)
    if max_customers is not None:
        cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, max_customers=max_customers))
    report = evaluate_models(get_home(ctx).engine, cfg, names, protocol=protocol, stage=stage,
                             progress=True, retrain=retrain, overrides=overrides,
                             notify=lambda line: console.print(line, highlight=False, markup=False), scope=scope)
    console.print(_table(report))
    for result in report.results:
        if result.source != "fitted":
            console.print(_provenance(result), highlight=False)
    if output is not None:
        report.save(output)
        console.print(f"report written to {output}")


def _table(report: EvaluationReport) -> Table:
    counts = report.counts
    sample = (f" (a sample, eval.max_customers, of the {counts['evaluation_sample_of']} with a held-out item)"
              if "evaluation_sample_of" in counts else "")
    title = (f"{report.stage} stage, {report.protocol}: {counts['evaluated_users']} of {counts['users']} users"
             f"{sample}, {counts['items']} items, {report.seconds:.1f}s")
    if report.pilot:
        title += ", pilot " + escape(", ".join(repr(c) for c in report.pilot["categories"]))
    table = Table(title=title, caption="R = Recall, N = NDCG; fit (load, for saved models) and rank in seconds",
                  box=box.SIMPLE_HEAD, pad_edge=False)  # fits 80 columns with 3 cut-offs
    table.add_column("model", no_wrap=True)
    keys = [f"{m}@{k}" for k in report.ks for m in ("recall", "ndcg")]
    for key in keys:
        table.add_column(key.replace("recall", "R").replace("ndcg", "N"), justify="right", min_width=6, no_wrap=True)
    table.add_column("fit", justify="right", no_wrap=True)
    table.add_column("rank", justify="right", no_wrap=True)
    for result in report.results:
        table.add_row(result.name, *(f"{result.metrics[key]:.4f}" for key in keys),
                      f"{result.fit_seconds:.1f}", f"{result.eval_seconds:.1f}")
    return table


def _provenance(result: ModelResult) -> str:
    """`lightgcn: saved cf-lightgcn/<version>, 35 epochs (best 30, early_stopping), trained in 41 s`."""
    origin = f"saved {result.artifact}" if result.artifact else "trained now"
    stop = f", {result.stopped_by}" if result.stopped_by else ""
    return (f"{result.name}: {origin}, {result.epochs} epochs (best {result.best_epoch}{stop}), "
            f"trained in {result.train_seconds:.0f} s")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
