"""`tanaban export`: trained models into signed, torch-free serving bundles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, get_home

CATEGORY_HELP = ("Pilot: the --category values the model was trained with (repeatable); the bundle's manifest records "
                 "the scope and serving falls back outside it.")
CategoryOption = Annotated[list[str] | None, typer.Option("--category", help=CATEGORY_HELP)]

export_app = typer.Typer(help="Export trained models into a signed, torch-free serving bundle.", no_args_is_help=True)

@export_app.command("cf")
def export_cf_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Trained CF model: lightgcn or irllrec.")] = "lightgcn",
    quantize: Annotated[bool, typer.Option(help="Try int8 for the scorer and the text encoder (each kept only if "
                                                "it passes its gate).")] = True,
    encoder: Annotated[bool, typer.Option(help="Package the text encoder and item text embeddings (text search).")]
    = True,
    category: CategoryOption = None,
) -> None:
    """Export the latest trained CF model: ONNX scorer (int8 if it passes), tables, precomputed top-K, text
    encoder with item text embeddings (unless --no-encoder), signed.

    Example: tanaban export cf --model irllrec

    Example (a pilot's model): tanaban export cf --category "Skin Care"
    """
    from appliance.data.pilot import PilotScope
    from export.cf import export_cf

    path = export_cf(get_home(ctx), model, quantize=quantize, encoder=encoder, scope=PilotScope.parse(category))
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    gate, enc = metrics["gate"], metrics.get("encoder_gate")
    console.print(f"bundle {path.name} signed and published in {path.parent}: scorer {gate['chosen']} "
                  f"({gate['reason']})", highlight=False)
    if enc:
        console.print(f"text encoder {enc['chosen']} ({enc['reason']}), {enc['n_items']} item text embeddings",
                      highlight=False)
    _say_pilot(path)


@export_app.command("sasrec")
def export_sasrec_cmd(
    ctx: typer.Context,
    quantize: Annotated[bool, typer.Option(help="Try int8 for the scorer (kept only if it passes the NDCG gate).")]
    = True,
    category: CategoryOption = None,
) -> None:
    """Export the latest trained SASRec: ONNX sequence scorer (int8 if it passes), parity-checked against torch,
    precomputed top-K per customer, signed.

    Example: tanaban export sasrec

    Example (a pilot's model): tanaban export sasrec --category Beauty
    """
    from appliance.data.pilot import PilotScope
    from export.sasrec import export_sasrec

    _report(export_sasrec(get_home(ctx), quantize=quantize, scope=PilotScope.parse(category)))


@export_app.command("best")
def export_best_cmd(
    ctx: typer.Context,
    quantize: Annotated[bool, typer.Option(help="Try int8 for the scorer (kept only if it passes its gate).")]
    = True,
    encoder: Annotated[bool, typer.Option(help="CF bundles: package the text encoder (text search).")] = True,
    hybrid: Annotated[bool, typer.Option(help="With SASRec trained: also fit the rank fusion of SASRec and item-kNN "
                                              "on validation and export it if it beats every single model.")] = True,
    category: CategoryOption = None,
) -> None:
    """Export the trained model (lightgcn, irllrec, sasrec, or the hybrid of SASRec and item-kNN) with the best
    validation NDCG@10; the comparison is recorded in the bundle's manifest.

    Example: tanaban export best --no-encoder

    Example (a pilot): tanaban export best --category Beauty (compares only models trained with --category Beauty)
    """
    from appliance.data.pilot import PilotScope
    from export.sasrec import export_best

    _report(export_best(get_home(ctx), quantize=quantize, encoder=encoder, hybrid=hybrid,
                        scope=PilotScope.parse(category)))


def _report(path: Path) -> None:
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    gate, comparison = metrics["gate"], metrics.get("comparison")
    if comparison:
        scores = ", ".join(f"{name} {value:.4f}" for name, value in sorted(comparison["scores"].items()))
        console.print(f"validation NDCG@10: {scores}; exporting {comparison['chosen']}", highlight=False)
        for name, why in comparison["skipped"].items():
            console.print(f"skipped {name}: {why}", highlight=False)
        if comparison.get("fusion"):
            fusion = comparison["fusion"]
            weights = ", ".join(f"{n} {w:g}" for n, w in zip(fusion["components"], fusion["weights"], strict=True))
            decay = fusion.get("params", {}).get("item-knn.recency")
            console.print(f"hybrid: {fusion['method']} fusion, weights {weights}"
                          + (f", item-knn recency decay {decay:g}" if decay is not None else "")
                          + " (fitted on validation)", highlight=False)
    console.print(f"bundle {path.name} signed and published in {path.parent}: scorer {gate['chosen']} "
                  f"({gate['reason']})", highlight=False)
    _say_pilot(path)


def _say_pilot(path: Path) -> None:
    """`pilot bundle for 'Beauty': 49 items, 84 customers; ...` when the bundle's manifest declares a pilot."""
    pilot = json.loads((path / "manifest.json").read_text(encoding="utf-8")).get("meta", {}).get("pilot")
    if pilot:
        shown = ", ".join(repr(c) for c in pilot["categories"])
        console.print(f"pilot bundle for {shown}: {pilot['items']} items, {pilot['users']} customers; other customers "
                      "and items get serving's fallback arm ([abtest] fallback, docs/ROLLOUT.md)", highlight=False,
                      markup=False)


@export_app.command("gen")
def export_gen_cmd(
    ctx: typer.Context,
    quantize: Annotated[bool, typer.Option(help="Try int8 (kept only if it passes the NDCG and valid-code gate).")]
    = True,
) -> None:
    """Export the latest generative model: ONNX decoder with KV cache, tokenizer, codes, gates, signed.

    Example: tanaban export gen
    """
    from export.gen_bundle import export_gen_bundle

    path = export_gen_bundle(get_home(ctx), quantize=quantize)
    gate = json.loads((path / "metrics.json").read_text(encoding="utf-8"))["gate"]
    console.print(f"generative bundle {path.name} signed and published in {path.parent}: decoder {gate['chosen']} "
                  f"({gate.get('reason', '')})")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(export_app, name="export")
