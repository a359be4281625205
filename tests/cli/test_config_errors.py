"""A bad config value fails when the config loads: one `error:` line naming the key, exit 2, no traceback, before any
command touches data (it used to surface as a traceback when `evaluate --model sasrec` built the model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import init_home, open_home
from appliance.data.store import Interaction, Item, User
from cli.main import app

SEQUENCES = {1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 4, 3]}  # (user -> items in time order): a tiny home to evaluate on


@pytest.fixture
def tiny_home(config_file: Path) -> Path:
    cfg = load_config(config_file, env={})
    init_home(cfg)
    with open_home(cfg).engine.begin() as conn:
        conn.execute(insert(Item), [{"id": i, "sku": f"s{i}", "title": f"item {i}"} for i in range(1, 5)])
        conn.execute(insert(User), [{"id": u, "pseudonym": f"usr-k-{u}", "key_id": "k"} for u in SEQUENCES])
        conn.execute(insert(Interaction), [{"user_id": u, "item_id": i, "ts": 100 + t, "event": "purchase"}
                                           for u, seq in SEQUENCES.items() for t, i in enumerate(seq)])
    return config_file


@pytest.mark.parametrize("args", [["config", "show"], ["evaluate", "--model", "sasrec"]])
def test_sasrec_heads_not_dividing_dim_is_one_error_line(cli_runner: CliRunner, tiny_home: Path,
                                                         monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.setenv("TANABAN_SASREC__HEADS", "3")  # the default sasrec.dim is 64
    result = cli_runner.invoke(app, ["--config", str(tiny_home), *args])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and "sasrec.dim" in line and "sasrec.heads" in line
    assert "Traceback" not in result.output
