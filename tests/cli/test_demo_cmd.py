"""`tanaban demo` on a small sample: every step runs, the figures are real, raw customer ids stay out of the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.demo.run import DemoError, DemoSize, run_demo
from cli.main import app


class _Collect:
    def __init__(self) -> None:
        self.steps: list[str] = []
        self.lines: list[str] = []

    def step(self, title: str) -> None:
        self.steps.append(title.split(":")[0])

    def text(self, line: str) -> None:
        self.lines.append(line)

    def table(self, title: str, columns, rows) -> None:
        self.lines.extend(" ".join(str(c) for c in row) for row in rows)


SMALL = DemoSize(items=400, users=300, intents=8, cf_epochs=10, codes=8, gen_epochs=1)


def test_demo_runs_every_step_and_knn_beats_popularity(tmp_path: Path) -> None:
    out = _Collect()
    results = run_demo(tmp_path / "demo", out, size=SMALL)
    assert out.steps == ["init", "sample", "ingest", "evaluate", "recommend", "intents", "generative", "serve",
                         "privacy", "abtest"]
    assert results["abtest"]["customers"] == 300 and any(line.startswith("decision: ") for line in out.lines)
    assert results["served"]["status"] == 200 and results["served"]["items"] == 3
    assert results["egress"]["leaked"] == [] and results["egress"]["entries"] >= 2
    metrics = results["metrics"]
    assert metrics["item-knn"]["recall@10"] > metrics["popularity"]["recall@10"]
    raw_id = results["customer"]
    db = tmp_path / "demo" / "data" / "tanaban.db"
    if db.exists():  # a SQLite store; PostgreSQL (TANABAN_TEST_BACKEND) keeps it in the server, not under data_dir
        assert raw_id.encode() not in db.read_bytes()


def test_demo_refuses_a_directory_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not empty"):
        run_demo(tmp_path, _Collect(), size=SMALL)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.slow  # the whole demo through the CLI; .ci/run also runs `tanaban demo` itself
def test_demo_cli_keeps_dir_when_asked(tmp_path: Path, cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--items", "400", "--users", "300"])
    assert result.exit_code == 0, result.output
    assert "demo finished" in result.output and (tmp_path / "d" / "data" / "tanaban.db").is_file()
