"""`tanaban serve` and `tanaban recommend`: the torch-free service and its batch path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, get_config


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind; keep loopback unless a proxy or firewall fronts it.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: serve.workers in the config); "
                                                "each polls bundles/CURRENT and reloads itself.")] = None,
) -> None:
    """Serve recommendations over HTTP from the current signed bundle (no torch needed).

    Example: tanaban serve --host 127.0.0.1 --port 8080 --workers 2
    """
    from appliance.serve.server import run_server

    run_server(get_config(ctx), host, port, workers)


def recommend(
    ctx: typer.Context,
    user: Annotated[list[str] | None, typer.Option("--user", help="Customer id (repeatable).")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", help="CSV with a customer_id column.")] = None,
    k: Annotated[int, typer.Option(help="Items per customer.")] = 10,
    explain: Annotated[bool, typer.Option(help="Add the intents behind each item.")] = False,
) -> None:
    """Recommendations from the current bundle for customers given by id (batch path, no HTTP).

    Example: tanaban recommend --user C000123 --k 5 --explain
    """
    from appliance.serve.service import recommend_batch

    for raw, answer in recommend_batch(get_config(ctx), [*(user or [])], input_file, k, explain):
        console.print(f"[bold]{raw}[/] ({answer.source}, bundle {answer.bundle})", highlight=False)
        for rank, item in enumerate(answer.items, 1):
            why = "; ".join(f"{label} {w:.2f}" for label, w in item.because)
            console.print(f"  {rank:>3}. {item.title} [{item.sku}]" + (f"  because: {why}" if why else ""),
                          highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("serve")(serve)
    app.command("recommend")(recommend)
