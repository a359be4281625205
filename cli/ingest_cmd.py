"""`tanaban ingest`: load item, interaction and review files (docs/INGEST.md) and the benchmark datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.data.adapters import ingest_dataset
from appliance.data.imports import DEFAULT_MIN_COVERAGE, METRICS, ingest_embeddings, ingest_lists
from appliance.data.ingest import IngestReport, ingest_file
from appliance.errors import UserError
from cli.common import EXIT_PARTIAL, console, get_home

DEFAULT_MAX_REJECT_SHARE = 0.5  # more than half the rows bad is a wrong file or a wrong mapping, not a few bad rows


class RejectThresholdError(UserError, RuntimeError):
    """--skip-invalid rejected more rows than --max-reject-share allows (or every row); the good rows are stored."""

    exit_code = EXIT_PARTIAL  # some rows failed: the same status as a partly failed `recommend --input`

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
ShareOpt = Annotated[float, typer.Option("--max-reject-share", min=0.0, max=1.0, help=(
    "With --skip-invalid: exit with status 3 when more than this share of the rows was rejected (always when every "
    "row was)."))]


def _print(report: IngestReport) -> None:
    updated = f", {report.updated:,} updated" if report.kind == "items" else ""
    console.print(f"{report.source}: {report.kind}: {report.read:,} rows read, {report.added:,} added{updated}, "
                  f"{report.present:,} already present, {report.rejected:,} rejected", highlight=False)
    if report.reject_path is not None:
        console.print(f"reject report: {report.reject_path}", highlight=False)


def check_rejects(report: IngestReport, max_share: float) -> None:
    """RejectThresholdError when more than `max_share` of the rows read were rejected, or every one was."""
    if not report.rejected:
        return
    share = report.rejected / max(report.read, 1)
    if share > max_share or report.rejected >= report.read:
        every = "every row" if report.rejected >= report.read else f"more than {max_share:.0%} of the rows"
        raise RejectThresholdError(
            f"{report.source}: {report.rejected:,} of {report.read:,} rows rejected ({every}); the reasons are in "
            f"{report.reject_path}: fix the file (or its column names) and ingest it again; the "
            f"{report.read - report.rejected:,} valid rows are stored (--max-reject-share sets the threshold)")


def _ingest(ctx: typer.Context, kind: str, file: Path, fmt: str | None, skip: bool, reject: Path | None,
            max_share: float) -> None:
    report = ingest_file(get_home(ctx), file, kind, fmt=fmt, skip_invalid=skip, reject_path=reject)
    _print(report)
    check_rejects(report, max_share)


@ingest_app.command("items")
def items(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
          reject_report: RejectOpt = None, max_reject_share: ShareOpt = DEFAULT_MAX_REJECT_SHARE) -> None:
    """Upsert catalog items by sku (sku, title, brand, categories, description, price, attributes).

    Example: zcat catalog.jsonl.gz | tanaban ingest items - --format jsonl
    """
    _ingest(ctx, "items", file, fmt, skip_invalid, reject_report, max_reject_share)


@ingest_app.command("interactions")
def interactions(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
                 reject_report: RejectOpt = None, max_reject_share: ShareOpt = DEFAULT_MAX_REJECT_SHARE) -> None:
    """Add interactions (customer_id, sku, timestamp, event, rating); customer ids are pseudonymized on read.

    Example: tanaban ingest interactions orders.csv.gz --skip-invalid
    """
    _ingest(ctx, "interactions", file, fmt, skip_invalid, reject_report, max_reject_share)


@ingest_app.command("reviews")
def reviews(ctx: typer.Context, file: FileArg, fmt: FormatOpt = None, skip_invalid: SkipOpt = False,
            reject_report: RejectOpt = None, max_reject_share: ShareOpt = DEFAULT_MAX_REJECT_SHARE) -> None:
    """Add reviews (customer_id, sku, timestamp, rating, text); the same review twice is stored once.

    Example: tanaban ingest reviews reviews.jsonl
    """
    _ingest(ctx, "reviews", file, fmt, skip_invalid, reject_report, max_reject_share)


@ingest_app.command("dataset")
def dataset(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="amazon-beauty-2014 or amazon-book-cf.")],
            path: Annotated[Path, typer.Argument(help="The dataset directory.")]) -> None:
    """Ingest a benchmark dataset directory in one transaction (layouts in docs/INGEST.md).

    Example: tanaban ingest dataset amazon-beauty-2014 /data/amazon-beauty-2014
    """
    for report in ingest_dataset(get_home(ctx), name, path):
        _print(report)


@ingest_app.command("embeddings")
def embeddings(ctx: typer.Context,
               file: Annotated[Path, typer.Argument(help="Item vectors: .npy (with --skus), CSV or Parquet.")],
               skus: Annotated[Path | None, typer.Option("--skus", help=(
                   "For a .npy matrix: a text file with one SKU per line, in row order."))] = None,
               fmt: Annotated[str | None, typer.Option("--format", help=(
                   "npy, csv or parquet (default: from the file name)."))] = None,
               min_coverage: Annotated[float, typer.Option("--min-coverage", min=0.0, max=1.0, help=(
                   "Refuse the file when a smaller share of its SKUs are items in the store."))]
               = DEFAULT_MIN_COVERAGE,
               metric: Annotated[str, typer.Option("--metric", help=(
                   f"How the `imported` model scores: {' or '.join(METRICS)}."))] = "dot") -> None:
    """Import your current recommender's item vectors (keyed by SKU) as the "cf-imported" artifact.

    CSV: a sku column and one column per dimension, or sku,vector (space-separated or a JSON array). Score them with
    `tanaban evaluate --model imported`; fuse them with `tanaban tokenize build --cf imported`.

    Example: tanaban ingest embeddings item_vectors.npy --skus item_skus.txt --metric cosine
    """
    report = ingest_embeddings(get_home(ctx), file, skus=skus, fmt=fmt, min_coverage=min_coverage, metric=metric)
    console.print(f"{file.name}: {report.rows:,} vectors of dimension {report.dim} read, {report.known:,} of the "
                  f"store's items ({report.coverage:.1%} coverage), scored by {report.metric}; saved to "
                  f"{report.path}", highlight=False)


@ingest_app.command("lists")
def lists(ctx: typer.Context,
          file: Annotated[Path, typer.Argument(help="Top-K lists: CSV customer_id,rank,sku or JSONL.")],
          fmt: Annotated[str | None, typer.Option("--format", help=(
              "csv or jsonl (default: from the file name)."))] = None) -> None:
    """Import your current system's top-K list per customer as the "champion-lists" artifact.

    JSONL lines are {"customer_id": ..., "items": [sku, ...]}; customer ids are pseudonymized on read. Score them
    next to ours with `tanaban evaluate --model champion,item-knn`.

    Example: tanaban ingest lists current_top10.csv
    """
    report = ingest_lists(get_home(ctx), file, fmt=fmt)
    console.print(f"{file.name}: {report.customers:,} lists read; {report.known_customers:,} customers known to the "
                  f"store, {report.unknown_customers:,} unknown (left out); {report.items:,} items kept (top "
                  f"{report.k}), {report.unknown_skus:,} unknown SKUs dropped; saved to {report.path}",
                  highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
