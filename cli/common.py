"""Shared CLI plumbing: the resolved config and opened home per invocation, the "initialised?" guard of writers, one
JSON document for `--json`, and reading a passphrase without putting it in argv."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home, NotInitialisedError, open_home
from appliance.errors import UserError

EXIT_PARTIAL = 3  # some rows of a batch failed (recommend --input, ingest --skip-invalid); docs/OPERATIONS.md
console = Console(soft_wrap=True)  # long paths and ids must not be split mid-word
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    config_path: Path | None = None
    _config: ApplianceConfig | None = None

    def config(self) -> ApplianceConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def get_config(ctx: typer.Context) -> ApplianceConfig:
    return state(ctx).config()


def get_home(ctx: typer.Context) -> Home:
    return open_home(get_config(ctx))


def get_initialised_config(ctx: typer.Context) -> ApplianceConfig:
    """The config, once its home exists: writers that need no store connection (API keys) refuse to create anything
    before `tanaban init` (NotInitialisedError, the message says to run it)."""
    cfg = get_config(ctx)
    if not cfg.data_dir.is_dir():
        raise NotInitialisedError(f"no data directory at {cfg.data_dir}: run `tanaban init` first "
                                  f"(config: {cfg.source})")
    open_home(cfg).engine.dispose()  # the store and the keys exist too
    return cfg


def print_json(doc: Any) -> None:
    """`--json` output: one JSON document on stdout and nothing else (notes and progress go to stderr)."""
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True, default=str))


class PassphraseError(UserError, ValueError):
    """The passphrase file cannot be read or is empty."""


def read_passphrase(path: Path | None, *, confirm: bool) -> bytes:
    """The passphrase: the first line of `path` (keep it 0600), else a hidden prompt (asked twice when `confirm`).
    Never an argument: argv is visible to every user in ps(1) and lands in shell history."""
    if path is None:
        return typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm).encode("utf-8")
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        raise PassphraseError(f"cannot read the passphrase file {path} ({exc.strerror}): give a readable file") \
            from None
    if not lines or not lines[0].strip():
        raise PassphraseError(f"the passphrase file {path} is empty: write the passphrase on its first line")
    if os.stat(path).st_mode & 0o077:
        err_console.print(f"note: {path} is readable by others; chmod 600 it", highlight=False, markup=False)
    return lines[0].rstrip(b"\r")
