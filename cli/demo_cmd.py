"""`tanaban demo`: every capability of the appliance on a generated sample, in a throwaway directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from appliance.demo.run import DemoSize, run_demo
from cli.common import console


class _RichOutput:
    def __init__(self) -> None:
        self.n = 0

    def step(self, title: str) -> None:
        self.n += 1
        console.print(f"\n[bold cyan]{self.n}. {title}[/]", highlight=False)

    def text(self, line: str) -> None:
        console.print(line, highlight=False)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = Table(*columns, title=title, box=box.SIMPLE, title_justify="left")
        for row in rows:
            table.add_row(*(str(c) for c in row))
        console.print(table)


def demo(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Option("--dir", help=(
        "Keep everything in DIR (created if missing) instead of a temporary directory that is removed."))] = None,
    items: Annotated[int, typer.Option(help="Items in the generated catalog.")] = DemoSize.items,
    users: Annotated[int, typer.Option(help="Customers in the generated sample.")] = DemoSize.users,
    seed: Annotated[int, typer.Option(help="Seed of the generated sample.")] = DemoSize.seed,
) -> None:
    """Run the appliance end to end on a generated retail sample: init, ingest, evaluate, recommend, privacy.

    Example: tanaban demo --dir var/demo
    """
    work = directory or Path(tempfile.mkdtemp(prefix="tanaban-demo-"))
    try:
        run_demo(work, _RichOutput(), size=DemoSize(items=items, users=users, seed=seed))
    finally:
        if directory is None:
            shutil.rmtree(work, ignore_errors=True)
    console.print("\n[bold green]demo finished[/]" + (f"; everything is in {directory}" if directory else ""))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("demo")(demo)
