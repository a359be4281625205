"""The `tanaban` typer app: global options, command groups (one file each) and error reporting.

Errors a user can fix (the `UserError` and `AnonymizeUserError` families: bad config, missing keys, bad input
files...) print one `error:` line and exit with the error's `exit_code` (2 unless its domain sets another), under
`tanaban` and under typer's CliRunner alike. Anticipated OS and database failures (disk full, permission denied) are
one line too; anything else is a bug: one "internal error" line plus a crash report without data (cli/failures.py).
Exit codes: docs/OPERATIONS.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from anonymize.errors import AnonymizeUserError
from appliance.errors import UserError
from cli import (
    abtest_cmd,
    anonymize_cmd,
    apikey_cmd,
    audit_cmd,
    backup_cmd,
    config_cmd,
    demo_cmd,
    doctor_cmd,
    egress_cmd,
    embed_cmd,
    evaluate_cmd,
    export_cmd,
    ingest_cmd,
    intents_cmd,
    keys_cmd,
    migrate_cmd,
    replica_cmd,
    sample_cmd,
    serve_cmd,
    tokenize_cmd,
    train_cmd,
    train_gen_cmd,
)
from cli.common import err_console, state
from cli.failures import EXIT_INTERNAL, EXIT_INTERRUPTED, describe_failure, report_internal_error
from cli.install_mode import TRAINING_COMMANDS, TRAINING_MODULES, has_training_stack, needs_training_stack

# Every error a user can fix derives from one of these two (anonymize/ imports nothing from appliance/, so it
# has its own base); tests/test_errors.py checks that no domain error is left out.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, AnonymizeUserError)
EXIT_USER_ERROR = 2  # UserError.exit_code's default
# click's and typer's own ways of ending a command (help, usage errors, typer.Exit, Ctrl-C at a prompt). typer 0.29
# ships its own copy of click, whose ClickException (typer.BadParameter...) derives from TyperException.
_CLI_EXITS = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, typer.Exit, typer.Abort,
              TyperException)
_COMMAND = "tanaban.command"  # ctx.meta key: the command words, for crash reports


class _Group(TyperGroup):
    """Root group that turns every failure into one readable line and an exit code, never a traceback."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        sub = [rest[0]] if rest and rest[0] in getattr(cmd, "commands", {}) else []
        ctx.meta[_COMMAND] = " ".join(["tanaban", str(name), *sub])  # command words only, never arguments
        if name in TRAINING_COMMANDS and not has_training_stack():  # serve-only install (cli/install_mode.py)
            _fail(needs_training_stack(str(name)), EXIT_USER_ERROR)
        return name, cmd, rest

    def list_commands(self, ctx: Any) -> list[str]:
        """--help lists only what this install can run."""
        names = super().list_commands(ctx)
        return names if has_training_stack() else [n for n in names if n not in TRAINING_COMMANDS]

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            _fail(str(exc), getattr(exc, "exit_code", EXIT_USER_ERROR))
        except _CLI_EXITS:
            raise
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED, prefix="")
        except Exception as exc:
            if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in TRAINING_MODULES:
                # another command's option that reaches for the training stack (e.g. a torch model) on serve-only
                _fail(needs_training_stack(ctx.meta.get(_COMMAND, "tanaban").removeprefix("tanaban ")),
                      EXIT_USER_ERROR)
            data_dir = _data_dir(ctx)
            known = describe_failure(exc, data_dir, _database_servers(ctx))
            if known is not None:
                _fail(*known)
            _fail(report_internal_error(exc, ctx.meta.get(_COMMAND, "tanaban"), data_dir), EXIT_INTERNAL, prefix="")


def _fail(message: str, code: int, prefix: str = "error:") -> NoReturn:
    """Print one line (the message as plain text: paths and messages may contain [brackets]) and exit."""
    line = Text.assemble((prefix, "bold red"), " ", message) if prefix else Text(message)
    err_console.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(code) from None


def _database_servers(ctx: Any) -> tuple[str, ...]:
    """The PostgreSQL URLs of the store and the audit log (issue 17), to name the server a lost connection was to."""
    try:
        cfg = state(ctx).config()
    except Exception:
        return ()
    return tuple(url for url in (cfg.store.url, cfg.audit.url) if url.startswith(("postgres", "postgresql")))


def _data_dir(ctx: Any) -> Path | None:
    """The configured data directory, or None when the config itself cannot be loaded."""
    try:
        return state(ctx).config().data_dir
    except Exception:
        return None


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
    _version: Annotated[bool, typer.Option("--version", is_eager=True, callback=lambda shown: _print_version(shown),
                                           help="Print the version, Python and the pinned libraries, and exit.")]
    = False,
) -> None:
    state(ctx).config_path = config


def _print_version(shown: bool) -> None:
    """`tanaban --version`: package version and build information (no git needed: appliance.doctor.build_info)."""
    if not shown:
        return
    from appliance.doctor import build_info

    info = build_info()
    pins = ", ".join(f"{name} {version}" for name, version in info["packages"].items() if version)
    typer.echo(f"tanaban {info['tanaban']}\npython {info['python']} ({info['implementation']}, {info['platform']})"
               f"\n{pins}")
    raise typer.Exit()


_GROUPS = (config_cmd, ingest_cmd, evaluate_cmd, embed_cmd, demo_cmd, anonymize_cmd, audit_cmd, keys_cmd, egress_cmd,
           sample_cmd, tokenize_cmd, intents_cmd, train_cmd, train_gen_cmd, export_cmd, apikey_cmd, serve_cmd,
           backup_cmd, doctor_cmd, replica_cmd, abtest_cmd, migrate_cmd)
for _group in _GROUPS:
    _group.register(app)


def main() -> None:
    app()
