"""`tanaban anonymize`: anonymize JSONL text records (stdin or a file); `--preview` shows admins a side-by-side diff."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table
from rich.text import Text

from anonymize.engine import AnonymizeResult
from appliance.config import ApplianceConfig
from appliance.data.home import Home, NotInitialisedError, open_home
from appliance.privacy.anonymizer import (
    InputRecord,
    anonymize_records,
    explain_finding,
    home_anonymizer,
    output_record,
    read_records,
)
from cli.common import console, err_console, get_config

POLICIES = ("placeholder", "keyed_hash", "redact", "generalize")


def anonymize(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help='JSONL file of {"id": ..., "text": ...} records, or - for stdin.')] = "-",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write JSONL here (default: stdout).")] = None,
    policy: Annotated[str | None, typer.Option(help=f"Operator: {' | '.join(POLICIES)} (default: config).")] = None,
    preview: Annotated[bool, typer.Option("--preview", help="Show original and anonymized text side by side.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Say which detection layer found each span (primary, "
                                          "check or both) and what each layer saw.")] = False,
) -> None:
    """Anonymize JSONL text records: each line {"id", "text"} becomes {"id", "text", "findings"}.

    Findings carry entity_type, start, end (offsets into the original text), score and recognizer; with --explain
    also layer and detections (each layer's own spans), and --preview adds a table of them.

    Example: tanaban anonymize reviews.jsonl --explain --preview
    """
    cfg = get_config(ctx)
    anonymizer = home_anonymizer(cfg.anonymize, _open_home_if_present(cfg), policy=policy)
    source = "<stdin>" if file == "-" else file
    lines = sys.stdin if file == "-" else _read_lines(Path(file))
    records = read_records(lines, source)
    results = list(track(anonymize_records(anonymizer, records), total=len(records), description="anonymizing",
                         console=err_console, transient=True, disable=output is None))
    if preview:
        console.print(_preview_table(results))
        if explain:
            console.print(_explain_table(results))
        return
    text = "".join(json.dumps(output_record(r, res, explain=explain), ensure_ascii=False) + "\n" for r, res in results)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"anonymized {len(results)} records -> {output}", highlight=False)


def _open_home_if_present(cfg: ApplianceConfig) -> Home | None:
    try:
        return open_home(cfg)
    except NotInitialisedError:
        return None  # no catalog allow-list and no keyed_hash key; everything else works


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None


def _preview_table(results: list[tuple[InputRecord, AnonymizeResult]]) -> Table:
    table = Table("id", "original (findings highlighted)", "anonymized", show_lines=True)
    for record, result in results:
        original = Text(record.text)
        for f in result.findings:
            original.stylize("bold red underline", f.start, f.end)
        table.add_row(str(record.id), original, Text(result.text, style="green"))
    return table


def _explain_table(results: list[tuple[InputRecord, AnonymizeResult]]) -> Table:
    """One row per detection behind each kept span: the layer, its recognizer, type, offsets and score."""
    table = Table("id", "kept span", "layer", "detected by", "type", "offsets", "score",
                  title="Which layer caught what")
    for record, result in results:
        for finding in result.findings:
            shown = explain_finding(finding)
            for d in shown["detections"] or [shown]:
                table.add_row(str(record.id), f"{finding.start}-{finding.end} ({shown['layer'] or '-'})",
                              d["layer"] or "-", d["recognizer"], d["entity_type"], f"{d['start']}-{d['end']}",
                              f"{d['score']:.2f}")
    return table


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("anonymize")(anonymize)
