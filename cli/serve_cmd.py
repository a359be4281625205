"""`tanaban serve` and `tanaban recommend`: the torch-free service and its batch path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, get_config


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: serve.host in the config, 127.0.0.1); "
                                             "keep loopback unless a proxy or firewall fronts it.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default: serve.port in the config, 8080).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: serve.workers in the config); "
                                                "each polls bundles/CURRENT and reloads itself.")] = None,
) -> None:
    """Serve recommendations over HTTP(S) from the current signed bundle (no torch needed). Starts before the first
    bundle is published (/readyz 503 until one is loaded); HTTPS when serve.tls_certfile and serve.tls_keyfile are set.

    Example: tanaban serve --host 127.0.0.1 --port 8080 --workers 2
    """
    from appliance.serve.server import run_server

    run_server(get_config(ctx), host, port, workers)


def recommend(
    ctx: typer.Context,
    user: Annotated[list[str] | None, typer.Option("--user", help="Customer id (repeatable).")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", help=(
        "CSV with a customer_id column, or JSONL of {\"customer_id\": ...} (by extension or --input-format)."))]
    = None,
    input_format: Annotated[str | None, typer.Option("--input-format", help="csv or jsonl.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help=(
        "Write one row per input row (status ok / unknown_customer / invalid, error, skus, scores) to this CSV or "
        "JSONL file instead of printing the lists."))] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Format of --output: csv or jsonl (default: from its "
                                                             "extension).")] = None,
    max_reject: Annotated[int, typer.Option("--max-reject", min=0, help=(
        "Exit 0 while at most this many rows fail; above it exit 3 (the output is complete either way)."))] = 0,
    k: Annotated[int, typer.Option(help="Items per customer.")] = 10,
    explain: Annotated[bool, typer.Option(help="Add the intents behind each item.")] = False,
    model: Annotated[str | None, typer.Option(help="A model the current bundle holds (e.g. hybrid, sasrec, item-knn; "
                                              "listed in its manifest's meta.models); default: the bundle's default."
                                              )] = None,
) -> None:
    """Recommendations from the current bundle for customers given by id (batch path, no HTTP). Unknown or invalid
    rows never stop the batch: each gets its own status; exit status 3 when more than --max-reject rows failed.

    Example: tanaban recommend --input customers.csv --output recs.jsonl --k 5 --model sasrec
    """
    from appliance.serve.batch import OK, count_statuses, write_batch_output
    from appliance.serve.service import recommend_batch
    from cli.common import EXIT_PARTIAL, err_console

    rows = recommend_batch(get_config(ctx), [*(user or [])], input_file, k, explain, input_format=input_format,
                           model=model)
    if output is not None:
        write_batch_output(rows, output, fmt)
    for row in rows if output is None else ():
        where = f" (line {row.line})" if row.line else ""
        if row.status != OK:
            console.print(f"{row.customer_id}{where}: {row.status}: {row.error}", highlight=False, markup=False)
            continue
        console.print(f"[bold]{row.customer_id}[/] ({row.answer.source}, bundle {row.answer.bundle})", highlight=False)
        for rank, item in enumerate(row.answer.items, 1):
            why = "; ".join(f"{label} {w:.2f}" for label, w in item.because)
            console.print(f"  {rank:>3}. {item.title} [{item.sku}]" + (f"  because: {why}" if why else ""),
                          highlight=False, markup=False)
    counts = count_statuses(rows)
    failed = len(rows) - counts[OK]
    err_console.print(f"{len(rows)} rows: " + ", ".join(f"{n} {status}" for status, n in counts.items())
                      + (f"; written to {output}" if output is not None else ""), highlight=False, markup=False)
    if failed > max_reject:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("serve")(serve)
    app.command("recommend")(recommend)
