"""`tanaban anonymize`: JSONL in and out, the preview table, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

ENV = {"TANABAN_ANONYMIZE__USE_NER": "false"}  # the rule-based recognizers keep this test fast


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_in_jsonl_out(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    src = _write(tmp_path, [json.dumps({"id": 7, "text": "my husband dave, dave@example.com"})])
    out = tmp_path / "out.jsonl"
    result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", str(src), "--output", str(out)], env=ENV)
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == 7 and record["text"] == "my husband <PERSON_1>, <EMAIL_ADDRESS_1>"
    assert [(f["entity_type"], f["start"], f["end"]) for f in record["findings"]] == [
        ("PERSON", 11, 15), ("EMAIL_ADDRESS", 17, 33)]


def test_stdin_and_policy_option(cli_runner: CliRunner, config_file: Path) -> None:
    result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", "-", "--policy", "generalize"],
                               input='{"id": "a", "text": "postcode SW1A 1AA"}\n', env=ENV)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"] == "postcode SW1A"


def test_preview_shows_both_sides(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    src = _write(tmp_path, [json.dumps({"id": 1, "text": "ring 07700 900123"})])
    result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", str(src), "--preview"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "07700 900123" in result.stdout and "<PHONE_NUMBER_1>" in result.stdout


def test_bad_line_is_one_error_line_exit_2(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    src = _write(tmp_path, ['{"id": 1, "text": "fine"}', '{"id": 2}'])
    result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", str(src)], env=ENV)
    assert result.exit_code == 2
    assert f"error: {src}:2: text: expected" in result.output.replace("\n", "")


def test_unknown_policy_and_keyed_hash_without_keys(cli_runner: CliRunner, config_file: Path) -> None:
    for policy, message in (("shred", "unknown anonymization operator"), ("keyed_hash", "tanaban init")):
        result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", "-", "--policy", policy],
                                   input='{"text": "x"}\n', env=ENV)
        assert result.exit_code == 2 and message in result.output.replace("\n", " ")


def test_explain_names_the_layer_of_each_span(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> None:
    src = _write(tmp_path, [json.dumps({"id": 3, "text": "my husband dave, dave@example.com"})])
    result = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", str(src), "--explain"], env=ENV)
    assert result.exit_code == 0, result.output
    (person, email) = json.loads(result.stdout)["findings"]
    assert (person["entity_type"], person["start"], person["end"]) == ("PERSON", 11, 15)
    assert person["layer"] == "check"  # the name gazetteer runs only in the check layer (NER is off here)
    assert email["layer"] == "both" and {d["layer"] for d in email["detections"]} == {"primary", "check"}
    assert all({"entity_type", "start", "end", "score", "recognizer"} <= set(d) for d in email["detections"])
    assert "dave" not in json.dumps(json.loads(result.stdout)["findings"])
    table = cli_runner.invoke(app, ["-c", str(config_file), "anonymize", str(src), "--explain", "--preview"],
                              env={**ENV, "COLUMNS": "200"})
    assert table.exit_code == 0 and "Which layer caught what" in table.stdout
    assert "11-15 (check)" in table.stdout and "EMAIL_ADDRESS" in table.stdout
