"""`tanaban ingest ...` through the CLI runner: summaries, one-line errors with exit 2, --format, --skip-invalid
and the dataset command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture
def tanaban(cli_runner: CliRunner, config_file: Path):
    assert cli_runner.invoke(app, ["--config", str(config_file), "init"]).exit_code == 0

    def run(*args: str):
        return cli_runner.invoke(app, ["--config", str(config_file), "ingest", *args])
    return run


def test_items_then_interactions_print_summaries(tanaban, tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("sku,title,price\nA1,Lipstick,9.5\nB2,Shampoo,\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"customer_id": "c-77", "sku": "A1", "timestamp": 1714564800}) + "\n")
    first = tanaban("items", str(items))
    assert first.exit_code == 0, first.output
    assert "items: 2 rows read, 2 added, 0 updated, 0 already present, 0 rejected" in first.output
    assert "1 rows read, 1 added, 0 already present" in tanaban("interactions", str(events)).output
    assert "2 rows read, 0 added, 0 updated, 2 already present" in tanaban("items", str(items)).output


def test_bad_file_is_one_error_line_without_the_customer_id(tanaban, tmp_path: Path) -> None:
    tanaban("items", str(_items(tmp_path)))
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,sku,timestamp\nsecret-customer-9,A1,2024-05-01T10:00:00\n", encoding="utf-8")
    result = tanaban("interactions", str(bad))
    assert result.exit_code == 2
    assert f"error: {bad}:2: timestamp: expected ISO-8601 with a UTC offset" in result.output
    assert "secret-customer-9" not in result.output and "Traceback" not in result.output


def test_format_option_and_skip_invalid(tanaban, tmp_path: Path) -> None:
    data = tmp_path / "export.txt"
    data.write_text('{"sku": "A1", "title": "T"}\n{"sku": "B2"}\n', encoding="utf-8")
    assert "cannot tell the format" in tanaban("items", str(data)).output
    report = tmp_path / "rejects.jsonl"
    result = tanaban("items", str(data), "--format", "jsonl", "--skip-invalid", "--reject-report", str(report))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "1 rejected" in result.output and str(report) in result.output
    assert json.loads(report.read_text(encoding="utf-8"))["field"] == "title"


def test_dataset_command(tanaban, tmp_path: Path) -> None:
    root = tmp_path / "book"
    root.mkdir()
    for split in ("train", "valid", "test"):
        (root / f"{split}.tsv").write_text("user\titem\n0\t1\n", encoding="utf-8")
    result = tanaban("dataset", "amazon-book-cf", str(root))
    assert result.exit_code == 0, result.output
    assert "items: 1 rows read, 1 added" in result.output
    assert result.output.count("interactions: 1 rows read, 1 added") == 3
    assert "unknown dataset 'movielens'" in tanaban("dataset", "movielens", str(root)).output


def _items(tmp_path: Path) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text('{"sku": "A1", "title": "Lipstick"}\n', encoding="utf-8")
    return path
