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

    def run(*args: str, input: str | None = None):  # `input`: what CliRunner feeds to stdin
        return cli_runner.invoke(app, ["--config", str(config_file), "ingest", *args], input=input)
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


def test_stdin_with_format_and_skip_invalid_rejects_bad_values(tanaban, tmp_path: Path) -> None:
    lines = ['{"sku": "A1", "title": "T"}', '{"sku": "B2", "title": "T\\ud800"}',
             '{"sku": "C3", "title": "T", "attributes": ' + "[" * 200_000 + "]" * 200_000 + "}"]
    report = tmp_path / "rejects.jsonl"
    result = tanaban("items", "-", "--format", "jsonl", "--skip-invalid", "--reject-report", str(report),
                     "--max-reject-share", "0.7", input="\n".join(lines) + "\n")  # 2 of 3 rejected: under 70%
    assert result.exit_code == 0, result.output
    assert "<stdin>: items: 3 rows read, 1 added, 0 updated, 0 already present, 2 rejected" in result.output
    assert [json.loads(line)["field"] for line in report.read_text(encoding="utf-8").splitlines()] == ["title", "line"]


@pytest.mark.parametrize(("args", "expected"), [
    (["items", "-"], "error: <stdin>: standard input has no name to tell the format from; pass --format jsonl|csv"),
    (["items", "{tmp}"], "error: {tmp}: is a directory; give one file"),
])
def test_input_that_is_not_a_file_is_one_error_line(tanaban, tmp_path: Path, args: list[str], expected: str) -> None:
    result = tanaban(*[arg.format(tmp=tmp_path) for arg in args], input="")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(expected.format(tmp=tmp_path)) and "Traceback" not in result.output


@pytest.mark.parametrize(("config", "command", "expected"), [
    ("{tmp}", "ingest", "config file {tmp} is a directory; give the TOML file itself, e.g. --config {tmp}/config.toml"),
    ("{tmp}/config.toml/nested.toml", "ingest", "config file {tmp}/config.toml/nested.toml cannot be read (Not a "
     "directory)"),
    ("{tmp}/blocked.toml", "init", "cannot create the directory {tmp}/config.toml/data"),
])
def test_config_and_data_dir_problems_are_one_error_line(cli_runner: CliRunner, config_file: Path, tmp_path: Path,
                                                         config: str, command: str, expected: str) -> None:
    (tmp_path / "blocked.toml").write_text(f'[paths]\ndata_dir = "{config_file}/data"\n', encoding="utf-8")
    args = ["init"] if command == "init" else ["ingest", "items", str(_items(tmp_path))]
    result = cli_runner.invoke(app, ["--config", config.format(tmp=tmp_path), *args])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and expected.format(tmp=tmp_path) in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("rows", "share", "code"), [
    (['{"sku": "A1", "title": "T"}', '{"sku": "B2"}', '{"sku": "C3"}'], None, 3),  # 2 of 3 > the default 50%
    (['{"sku": "A1", "title": "T"}', '{"sku": "B2"}', '{"sku": "C3"}'], "0.7", 0),
    (['{"sku": "A1", "title": "T"}', '{"sku": "B2"}'], None, 0),  # 1 of 2: not more than half
    (['{"sku": "B2"}', '{"sku": "C3"}'], "1", 3),  # every row rejected fails whatever the threshold
])
def test_skip_invalid_fails_past_the_reject_share(tanaban, tmp_path: Path, rows: list[str], share: str | None,
                                                  code: int) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = tanaban("items", str(data), "--skip-invalid", *(["--max-reject-share", share] if share else []))
    assert result.exit_code == code, result.output
    if code:
        rejected = len(rows) - 1 if "A1" in rows[0] else len(rows)
        assert f"{rejected} of {len(rows)} rows rejected" in result.output and "rejects.jsonl" in result.output
