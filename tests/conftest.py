"""Shared fixtures: an isolated config and home per test, a CLI runner, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home, init_home, open_home


@pytest.fixture
def tmp_config(tmp_path: Path) -> ApplianceConfig:
    """Defaults with every path under tmp_path (no file, no environment read)."""
    return load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def home(tmp_config: ApplianceConfig) -> Home:
    """An initialised appliance (store migrated, keys created) in tmp_path."""
    init_home(tmp_config)
    return open_home(tmp_config)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A TOML config file pointing the data dir into tmp_path, for CLI tests."""
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fixed_clock() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Two shared CPU cores: one torch thread is many times faster than two fighting other processes."""
    import torch  # not at module level: the core tests must run without importing torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
