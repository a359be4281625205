"""`tanaban train sasrec|cf --nproc 2` end to end: torchrun starts 2 gloo ranks on loopback, rank 0 saves one
artifact whose test metrics match the same command with 1 process within TOLERANCE (global batch size and seed
equal, dropout 0). Slow: torchrun and two torch imports take 20-40 s on two shared cores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import open_home
from cli.main import app

TOLERANCE = 1e-4  # |test metric, 2 processes - 1 process|; see tests/appliance/models/test_distributed.py
TINY = """
[sasrec]
dim = 8
blocks = 1
heads = 2
max_len = 6
dropout = 0.0
lr = 0.01
batch_size = 4
eval_every = 2
patience = 100

[lightgcn]
dim = 8
layers = 2
batch_size = 16
lr = 0.02
eval_every = 2
patience = 100
"""


def _metrics(output: str) -> dict[str, float]:
    path = Path(output.rsplit("saved ", 1)[1].split()[0])
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))["metrics"]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["train", "sasrec"], ["train", "cf"]])
def test_nproc_2_matches_one_process(command: list[str], cli_runner: CliRunner, config_file: Path,
                                     tiny_themes) -> None:
    config_file.write_text(config_file.read_text(encoding="utf-8") + TINY, encoding="utf-8")
    base = ["--config", str(config_file)]
    assert cli_runner.invoke(app, [*base, "init"]).exit_code == 0
    tiny_themes.fill_home(open_home(load_config(config_file)))
    args = [*base, *command, "--epochs", "4", "--seed", "1"]
    one = cli_runner.invoke(app, args)
    assert one.exit_code == 0, one.output
    two = cli_runner.invoke(app, [*args, "--nproc", "2"])
    assert two.exit_code == 0, two.output
    first, second = _metrics(one.output), _metrics(two.output)
    assert first.keys() == second.keys() and any(k.startswith("test/") for k in first)
    for key, value in first.items():
        assert second[key] == pytest.approx(value, abs=TOLERANCE), key
