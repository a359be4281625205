"""`tanaban abtest report` and `tanaban abtest simulate` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.abtest.simulate import SimSpec, run_simulation, seed_store
from appliance.config import load_config
from appliance.data.home import init_home, open_home
from cli.main import app


@pytest.fixture
def initialised(config_file: Path) -> Path:
    init_home(load_config(config_file, env={}))
    return config_file


def test_report_without_exposures_is_one_clear_line(cli_runner: CliRunner, initialised: Path) -> None:
    result = cli_runner.invoke(app, ["--config", str(initialised), "abtest", "report"])
    assert result.exit_code == 2
    assert "error: no exposures recorded yet" in result.output and "Traceback" not in result.output


def test_report_json_and_html(cli_runner: CliRunner, initialised: Path, tmp_path: Path) -> None:
    engine = open_home(load_config(initialised, env={})).engine
    seed_store(engine, customers=400, items=50)
    run_simulation(engine, SimSpec(experiment="pilot"), bytes(32), seed=1)
    page = tmp_path / "ab.html"
    result = cli_runner.invoke(app, ["--config", str(initialised), "abtest", "report", "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["experiment"] == "pilot" and sum(s["customers"] for s in doc["summaries"]) == 400
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    text = cli_runner.invoke(app, ["--config", str(initialised), "abtest", "report", "--window-days", "7"])
    assert text.exit_code == 0 and "decision:" in text.output and "7-day window" in text.output


def test_simulate_prints_the_planted_truth_and_the_decision(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, ["abtest", "simulate", "--customers", "1500", "--lift", "2.5", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "planted: control 10.0%" in result.output and "treatment beats control" in result.output


def test_the_rollout_guide_config_example_loads(tmp_path: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "ROLLOUT.md").read_text(encoding="utf-8")
    example = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n{example}', encoding="utf-8")
    ab = load_config(path, env={}).abtest
    assert [(a.name, a.source, a.weight) for a in ab.arms] == [("control", "champion", 90), ("tanaban", "bundle", 10)]


def test_a_tiny_experiment_prints_suppressed_cells_not_numbers(cli_runner: CliRunner, initialised: Path) -> None:
    engine = open_home(load_config(initialised, env={})).engine
    seed_store(engine, customers=12, items=20)
    run_simulation(engine, SimSpec(experiment="tiny"), bytes(32), seed=1)
    result = cli_runner.invoke(app, ["--config", str(initialised), "abtest", "report"])
    assert result.exit_code == 0, result.output
    assert result.output.count("suppressed") == 2 and "nan" not in result.output.lower()
