"""`tanaban ingest`: load item, interaction and review files (docs/INGEST.md) and the benchmark datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.data.adapters import ingest_dataset
from appliance.data.ingest import IngestReport, ingest_file
from cli.common import console, get_home

ingest_app = typer.Typer(help="Load catalog and behaviour data into the store; each file is all-or-nothing.\n\n"
                              "Example: tanaban ingest items items.jsonl", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help=(
    "JSONL or CSV file (optionally gzip), a FIFO, or - for standard input (then pass --format)."))]
FormatOpt = Annotated[str | None, typer.Option("--format", help=(
    "jsonl or csv (default: from the file name; required for -)."))]
SkipOpt = Annotated[bool, typer.Option("--skip-invalid", help=(
    "Skip bad rows, list them in a reject report (line, field, reason) and ingest the rest."))]
RejectOpt = Annotated[Path | None, typer.Option("--reject-report", help=(
    "Where --skip-invalid writes its report (default: <data_dir>/rejects/<file name>.rejects.jsonl)."))]


def _print(report: IngestReport) -> None:
    updated = f", {report.updated:,} updated" if report.kind == "items" else ""
    console.print(f"{report.source}: {report.kind}: {report.read:,} rows read, {report.added:,} added{updated}, "
                  f"{report.present:,} already present, {report.rejected:,} rejected", highlight=False)
    if report.reject_path is not None:
        console.print(f"reject report: {report.reject_path}", highlight=False)


def _ingest(ctx: typer.Context, kind: str, file: Path, fmt: str | None, skip: bool, reject: Path | None) -> None:
    _print(ingest_file(get_home(ctx), file, kind, fmt=fmt, skip_invalid=skip, reject_path=reject))


@ingest_app.command("items")
def items(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
          reject_report: RejectOpt = None) -> None:
    """Upsert catalog items by sku (sku, title, brand, categories, description, price, attributes).

    Example: zcat catalog.jsonl.gz | tanaban ingest items - --format jsonl
    """
    _ingest(ctx, "items", file, fmt, skip_invalid, reject_report)


@ingest_app.command("interactions")
def interactions(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
                 reject_report: RejectOpt = None) -> None:
    """Add interactions (customer_id, sku, timestamp, event, rating); customer ids are pseudonymized on read.

    Example: tanaban ingest interactions orders.csv.gz --skip-invalid
    """
    _ingest(ctx, "interactions", file, fmt, skip_invalid, reject_report)


@ingest_app.command("reviews")
def reviews(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
            reject_report: RejectOpt = None) -> None:
    """Add reviews (customer_id, sku, timestamp, rating, text); the same review twice is stored once.

    Example: tanaban ingest reviews reviews.jsonl
    """
    _ingest(ctx, "reviews", file, fmt, skip_invalid, reject_report)


@ingest_app.command("dataset")
def dataset(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="amazon-beauty-2014 or amazon-book-cf.")],
            path: Annotated[Path, typer.Argument(help="The dataset directory.")]) -> None:
    """Ingest a benchmark dataset directory in one transaction (layouts in docs/INGEST.md).

    Example: tanaban ingest dataset amazon-beauty-2014 /data/amazon-beauty-2014
    """
    for report in ingest_dataset(get_home(ctx), name, path):
        _print(report)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
