"""Shared CLI plumbing: the resolved config and opened home per invocation, and user-facing error handling."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home, open_home

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
