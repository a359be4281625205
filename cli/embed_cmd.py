"""`tanaban embed`: local text embeddings of every item profile, stored as a versioned artifact."""

from __future__ import annotations

import typer
from rich.progress import Progress

from appliance.text.embed import embed_items
from cli.common import console, get_home


def embed(ctx: typer.Context) -> None:
    """Embed all item profiles with the local text encoder (nothing leaves the machine).

    Example: tanaban embed
    """
    home = get_home(ctx)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("embedding items", total=None)
        path = embed_items(home, progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"item embeddings written to {path}")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed)
