"""`tanaban train gen` end to end on a tiny store (codes saved as an artifact)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from appliance.data.artifacts import save_artifact
from appliance.data.home import Home
from appliance.data.store import Interaction, Item, User
from cli.main import app

N_ITEMS, N_USERS = 7, 10


def _fill(home: Home) -> None:
    """Users walk the items in order (u, u+1, ... mod 7); codes (i, i % 2, 0, 0) saved as semantic IDs."""
    with home.engine.begin() as conn:
        conn.execute(Item.__table__.insert(), [{"id": 10 + i, "sku": f"SKU-{i}", "title": f"shade {i}",
                                                "categories": ["lips"]} for i in range(N_ITEMS)])
        conn.execute(User.__table__.insert(), [{"id": 1 + u, "pseudonym": f"usr-{u}", "key_id": "k"}
                                               for u in range(N_USERS)])
        conn.execute(Interaction.__table__.insert(), [
            {"user_id": 1 + u, "item_id": 10 + (u + j) % N_ITEMS, "ts": 1000 + j, "event": "purchase"}
            for u in range(N_USERS) for j in range(5)])
    codes = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS), np.zeros(N_ITEMS)], 1)
    save_artifact(home.config.artifacts_dir, "semantic-ids",
                  {"codes": codes.astype(np.int32), "item_ids": 10 + np.arange(N_ITEMS)},
                  {"level_sizes": [N_ITEMS, 2, 1, 1]})


@pytest.mark.usefixtures("one_torch_thread")
def test_train_gen(cli_runner: CliRunner, config_file: Path, home: Home) -> None:
    _fill(home)
    trained = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--preset", "tiny",
                                      "--tasks", "seq,text,neg", "--epochs", "2"])
    assert trained.exit_code == 0, trained.output
    assert "NDCG@10" in trained.output and "saved" in trained.output
    from appliance.data.artifacts import load_artifact

    assert load_artifact(home.config.artifacts_dir, "gen").meta["gen_config"]["history_layout"] == "items"
    patient = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--preset", "tiny",
                                      "--tasks", "seq", "--epochs", "1", "--patience", "40", "--hidden-dropout", "0.3"])
    assert patient.exit_code == 0, patient.output
    saved = load_artifact(home.config.artifacts_dir, "gen").meta["gen_config"]
    assert saved["patience"] == 40 and saved["hidden_dropout"] == 0.3
    flags = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--preset", "tiny", "--tasks",
                                    "seq", "--epochs", "1", "--no-pack", "--item-embeddings"])
    assert flags.exit_code == 0, flags.output
    saved = load_artifact(home.config.artifacts_dir, "gen").meta["gen_config"]
    assert saved["pack"] is False and saved["item_embeddings"] is True
    tokens = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--preset", "tiny",
                                     "--tasks", "seq", "--epochs", "1", "--history-layout", "tokens"])
    assert tokens.exit_code == 0, tokens.output
    assert load_artifact(home.config.artifacts_dir, "gen").meta["gen_config"]["history_layout"] == "tokens"


def test_errors_are_one_line(cli_runner: CliRunner, config_file: Path, home: Home) -> None:
    _fill(home)
    bad = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--tasks", "seq,bogus"])
    assert bad.exit_code == 2 and "unknown generative tasks" in bad.output
    layout = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--history-layout", "codes"])
    assert layout.exit_code == 2 and "expected one of items, tokens" in " ".join(layout.output.split())
    schedule = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--schedule", "linear"])
    assert schedule.exit_code == 2 and "expected budget or epochs" in " ".join(schedule.output.split())
    patience = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--patience", "0"])
    assert patience.exit_code == 2 and "must be at least 1, got 0" in " ".join(patience.output.split())
    dropout = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--hidden-dropout", "1"])
    assert dropout.exit_code == 2 and "must be in [0, 1), got 1.0" in " ".join(dropout.output.split())
    table = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--history-layout", "tokens",
                                    "--item-embeddings"])
    assert table.exit_code == 2 and "needs the items history layout" in " ".join(table.output.split())


@pytest.mark.usefixtures("one_torch_thread")
def test_time_budget_stops_inside_the_first_epoch(cli_runner: CliRunner, config_file: Path, home: Home) -> None:
    _fill(home)
    result = cli_runner.invoke(app, ["--config", str(config_file), "train", "gen", "--preset", "tiny", "--tasks",
                                     "seq", "--epochs", "50", "--lr", "0.003", "--time-budget-min", "0.00001"])
    assert result.exit_code == 0, result.output
    assert "1 epochs in" in result.output and "(time_budget)" in result.output
    assert "gen epoch 1 loss" in result.output  # the one validation, as a plain line (output is not a terminal)
    from appliance.data.artifacts import load_artifact

    fit = load_artifact(home.config.artifacts_dir, "gen").meta["fit"]
    assert fit["stopped_by"] == "time_budget" and fit["steps"] == 1 and fit["epochs_run"] == 1
    assert fit["schedule"] == "budget" and fit["lr_mult"] > 0  # the schedule that ran, and the last step's rate
    assert "(budget schedule)" in result.output
    assert load_artifact(home.config.artifacts_dir, "gen").meta["gen_config"]["lr"] == 0.003
