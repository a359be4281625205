"""`tanaban migrate --to postgresql://...`: move this home's SQLite store and audit log into an empty PostgreSQL
database (appliance.data.pgmigrate), printing the row counts per table before and after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from appliance.data.pgmigrate import migrate_home
from cli.common import console, err_console, get_config


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """One transient bar per table (rows done of rows counted) on a terminal; nothing when piped."""
    if not err_console.is_terminal:
        yield lambda _table, _done, _total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(f"copying {table}", total=total or None)
            bar.update(tasks[table], completed=done)

        yield update


def migrate(ctx: typer.Context,
            to: Annotated[str, typer.Option("--to", metavar="URL", help=(
                "The empty PostgreSQL database to move to: postgresql://USER@HOST:PORT/DATABASE "
                "(?sslmode=verify-full for TLS; the password in ~/.pgpass, not in the URL)."))],
            audit: Annotated[bool, typer.Option("--audit/--no-audit", help=(
                "Also move the audit log into the same database (default), verified before and after."))] = True,
            ) -> None:
    """Move this home's store (and audit log) from SQLite into an empty PostgreSQL database, without losing a row:
    one transaction, row counts per table compared before and after, the audit log verified before and after.
    Stop `tanaban serve` and scheduled jobs first; the SQLite files are left as they are.

    Example: tanaban migrate --to postgresql://tanaban@db.internal:5432/tanaban
    """
    cfg = get_config(ctx)
    with _progress() as progress:
        report = migrate_home(cfg, to, audit=audit, progress=progress)
    table = Table("table", "rows before (SQLite)", "rows after (PostgreSQL)", "", title=(
        f"{report.source_url} -> {report.target_url}"))
    for count in report.tables:
        table.add_row(count.table, str(count.before), str(count.after), "ok" if count.before == count.after else "!")
    console.print(table)
    console.print(report.audit, highlight=False, markup=False)
    where = "your config file" if cfg.source == "defaults" else cfg.source
    keys = "[store] url" + (" and [audit] url" if audit and report.audit.startswith("copied") else "")
    console.print(f'done. Now set {keys} = "{report.target_url}" in {where} (a password belongs in ~/.pgpass), '
                  "then restart the services; keep the SQLite files until the new home has run for a while.",
                  highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
