"""The `tanaban` typer app: global options, command groups (one file each) and error reporting.

Errors a user can fix (the `UserError` and `AnonymizeUserError` families: bad config, missing keys, bad input
files...) print one `error:` line and exit with status 2, under `tanaban` and under typer's CliRunner alike; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from anonymize.errors import AnonymizeUserError
from appliance.errors import UserError
from cli import (
    anonymize_cmd,
    audit_cmd,
    config_cmd,
    demo_cmd,
    egress_cmd,
    embed_cmd,
    evaluate_cmd,
    ingest_cmd,
    intents_cmd,
    keys_cmd,
    sample_cmd,
    serve_cmd,
    tokenize_cmd,
    train_cmd,
    train_gen_cmd,
)
from cli.common import err_console, state

# Every error a user can fix derives from one of these two (anonymize/ imports nothing from appliance/, so it
# has its own base); tests/test_errors.py checks that no domain error is left out.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, AnonymizeUserError)
EXIT_USER_ERROR = 2


class _Group(TyperGroup):
    """Root group that turns the library's user-facing errors into one readable line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None


app = typer.Typer(
    name="tanaban",
    cls=_Group,
    help="Tanaban: a privacy-preserving, on-premise recommender appliance.\n\nExample: tanaban demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=(
        "TOML config file (else $TANABAN_CONFIG, else /etc/tanaban/config.toml, else built-in defaults)."))] = None,
) -> None:
    state(ctx).config_path = config


_GROUPS = (config_cmd, ingest_cmd, evaluate_cmd, embed_cmd, demo_cmd, anonymize_cmd, audit_cmd, keys_cmd, egress_cmd,
           sample_cmd, tokenize_cmd, intents_cmd, train_cmd, train_gen_cmd, serve_cmd)
for _group in _GROUPS:
    _group.register(app)


def main() -> None:
    app()
