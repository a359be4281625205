"""`tanaban abtest status` and `tanaban abtest resume` through the CLI runner: the configured arms and their shares,
a stop made by the guard, its lifting, and the one-line error without an experiment."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from appliance.abtest.guard import ArmGuard, GuardLimits, state_path
from cli.main import app

ABTEST = """
[abtest]
experiment = "pilot-1"
fallback = "champion"
[[abtest.arms]]
name = "champion"
source = "champion"
weight = 3
[[abtest.arms]]
name = "tanaban"
source = "bundle"
weight = 1
"""


def test_status_and_resume(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    plain = cli_runner.invoke(app, ["--config", str(config_file), "init"])
    assert plain.exit_code == 0, plain.output
    none = cli_runner.invoke(app, ["--config", str(config_file), "abtest", "status"])
    assert none.exit_code != 0 and "no A/B experiment is configured" in none.output
    config_file.write_text(config_file.read_text() + ABTEST, encoding="utf-8")
    ArmGuard("pilot-1", GuardLimits(10, 1, 0.1, 100), state_path(tmp_path / "data")).trip("tanaban", "p99 500 ms")
    shown = cli_runner.invoke(app, ["--config", str(config_file), "abtest", "status", "--json"])
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert [(a["name"], a["share"], a["stopped"]) for a in status["arms"]] == [("champion", 0.75, None),
                                                                             ("tanaban", 0.25, "p99 500 ms")]
    assert status["fallback"] == "champion" and len(status["assignment_key_id"]) == 16
    table = cli_runner.invoke(app, ["--config", str(config_file), "abtest", "status"])
    assert "STOPPED: p99 500 ms" in table.output and "75.0%" in table.output
    resumed = cli_runner.invoke(app, ["--config", str(config_file), "abtest", "resume", "tanaban"])
    assert resumed.exit_code == 0 and "arm tanaban resumed" in resumed.output
    again = cli_runner.invoke(app, ["--config", str(config_file), "abtest", "resume", "tanaban"])
    assert "was not stopped" in again.output
