"""`tanaban tokenize`: build semantic item IDs (fused text + CF codes) and inspect one item's code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from appliance.data.artifacts import MANIFEST
from appliance.generative.quantize import METHODS, CodeStats
from appliance.generative.semantic_ids import CF_SOURCES, build_semantic_ids, show_item
from cli.common import console, get_config, get_home, print_json

tokenize_app = typer.Typer(help="Semantic item IDs: residual-quantized codes of fused text + CF embeddings.",
                           no_args_is_help=True)


def stats_table(stats: CodeStats) -> Table:
    """Per-level utilisation and perplexity, then collisions and reconstruction."""
    table = Table("level", "codes", "used", "utilisation", "perplexity")
    for level, size in enumerate(stats.level_sizes[:-1]):
        table.add_row(str(level + 1), str(size), str(stats.used[level]), f"{stats.utilisation[level]:.3f}",
                      f"{stats.perplexity[level]:.1f}")
    table.caption = (f"{stats.n_items} items; collision rate before the last level {stats.collision_rate:.4f}; "
                     f"max items per prefix {stats.max_per_prefix}; unique {stats.unique}; reconstruction error "
                     f"{stats.reconstruction if stats.reconstruction is None else round(stats.reconstruction, 4)}")
    return table


def fused_source(path: Path) -> str:
    """'lightgcn (artifact cf-lightgcn/<version>)': the CF source recorded in a semantic-ids artifact's manifest."""
    meta = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    source = meta.get("cf_version")
    if not source:
        return "no CF model"
    kind = source.split("/", 1)[0]
    model = kind.removeprefix("cf-") if kind != "cf-embeddings" else "exported CF embeddings"
    return f"{model} (artifact {source})"


@tokenize_app.command("build")
def build(
    ctx: typer.Context,
    method: Annotated[str | None, typer.Option(help=f"Quantizer: {' | '.join(METHODS)} (default from config).")]
    = None,
    text_only: Annotated[bool, typer.Option("--text-only", help="Ignore CF embeddings (TIGER-style).")] = False,
    cf: Annotated[str, typer.Option("--cf", help=(
        f"CF embeddings to fuse: {' | '.join(CF_SOURCES)} (imported: `tanaban ingest embeddings`; auto: the first "
        "found of cf-embeddings, irllrec, lightgcn, imported)."))] = "auto",
) -> None:
    """Fuse item text and CF embeddings, quantize them into unique codes and save the "semantic-ids" artifact.

    Example: tanaban tokenize build --method kmeans --cf imported
    """
    cfg = get_config(ctx).tokenize
    cfg = dataclasses.replace(cfg, method=method) if method else cfg
    with console.status("building semantic IDs") as status:
        result = build_semantic_ids(get_home(ctx), cfg, text_only=text_only, progress=status.update, cf_source=cf)
    if not result.fused:
        console.print("no CF embeddings used (none built yet, or --text-only): codes come from item text only")
    else:
        console.print(f"fused CF embeddings of {fused_source(result.path)}", highlight=False)
    if result.fused and result.cf_missing:
        console.print(f"{result.cf_missing} items have no CF embedding: their codes use text only")
    console.print(stats_table(result.ids.stats))
    console.print(f"semantic IDs ({cfg.method}) written to {result.path}")


@tokenize_app.command("show")
def show(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The item's SKU.")],
    n: Annotated[int, typer.Option("-n", help="Neighbours shown per prefix depth.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document: the item's sku, title, tokens "
                                                         "and neighbours per prefix depth (docs/OPERATIONS.md).")]
    = False,
) -> None:
    """Print an item's code and its nearest items sharing 3-, 2- and 1-level prefixes.

    Example: tanaban tokenize show SKU-00042 --json
    """
    item = show_item(get_home(ctx), sku, n=n)
    if as_json:
        print_json({"sku": item.sku, "title": item.title, "tokens": item.tokens, "neighbours": {
            str(depth): [{"sku": nb.sku, "title": nb.title, "tokens": nb.tokens, "similarity": round(nb.similarity, 6)}
                         for nb in neighbours or []] for depth, neighbours in item.neighbours.items()}})
        return
    console.print(f"{item.sku}  {item.tokens}  {item.title}", highlight=False)
    for depth, neighbours in item.neighbours.items():
        console.print(f"\nsharing the first {depth} level(s):", highlight=False)
        for nb in neighbours or []:
            console.print(f"  {nb.tokens}  {nb.similarity:+.3f}  {nb.sku}  {nb.title}", highlight=False)
        if not neighbours:
            console.print("  (none)")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(tokenize_app, name="tokenize")
