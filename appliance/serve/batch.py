"""Batch recommendation files for `tanaban recommend --input/--output`: customer ids read from CSV (RFC 4180, a
`customer_id` column) or JSON Lines ({"customer_id": ...} per line, https://jsonlines.org), and one output row per
input row with a per-row status (ok / unknown_customer / invalid) and error message, written as CSV or JSON Lines.

A bad row never stops the batch: it is reported in its own output row. Only a file that cannot be read at all (no
customer_id column, not UTF-8) fails as a whole. Error messages name the line and the problem, never the id.
Imports nothing from the service (serve.service imports this module), so there is no import cycle.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.serve.errors import RequestError

OK, UNKNOWN, INVALID = "ok", "unknown_customer", "invalid"
STATUSES = (OK, UNKNOWN, INVALID)
FORMATS = ("csv", "jsonl")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
CSV_COLUMNS = ("line", "customer_id", "status", "error", "source", "bundle", "skus", "scores")


@dataclass(frozen=True)
class BatchInput:
    line: int  # line of the input file (0: given with --user)
    customer_id: str
    problem: str = ""  # why the row is invalid (empty: it is not)


@dataclass(frozen=True)
class BatchRow:
    line: int
    customer_id: str
    status: str  # ok | unknown_customer | invalid
    error: str  # the reason when status is not ok
    answer: Any = None  # serve.service.Answer when ok

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record: line, customer_id, status, error, source, bundle and items (sku, title, score,
        because)."""
        answer = self.answer
        items = [{"sku": i.sku, "title": i.title, "score": round(i.score, 6), "because": [list(b) for b in i.because]}
                 for i in (answer.items if answer is not None else [])]
        return {"line": self.line, "customer_id": self.customer_id, "status": self.status, "error": self.error,
                "source": answer.source if answer is not None else None,
                "bundle": answer.bundle if answer is not None else None, "items": items}


def file_format(path: Path, fmt: str | None) -> str:
    """`fmt` if given, else from the file name's extension (.csv; .jsonl, .ndjson, .json)."""
    chosen = fmt or _SUFFIXES.get(Path(path).suffix.lower())
    if chosen not in FORMATS:
        raise RequestError(f"cannot tell the format of {path}: name it .csv or .jsonl, or pass --format csv|jsonl")
    return chosen


def read_batch_input(path: Path, fmt: str | None = None) -> list[BatchInput]:
    """The customers listed in a CSV or JSONL file, one BatchInput per data row (bad rows marked, not dropped)."""
    chosen = file_format(path, fmt)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            return _read_csv(fh, path) if chosen == "csv" else _read_jsonl(fh)
    except UnicodeDecodeError:
        raise RequestError(f"{path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise RequestError(f"cannot read {path} ({exc.strerror}): give a readable file") from None


def _read_csv(fh: Any, path: Path) -> list[BatchInput]:
    reader = csv.DictReader(fh)
    if "customer_id" not in (reader.fieldnames or []):
        raise RequestError(f"{path}: no customer_id column in the header line (columns: "
                           f"{', '.join(reader.fieldnames or []) or 'none'})")
    rows = []
    for row in reader:
        value = (row.get("customer_id") or "").strip()
        rows.append(BatchInput(reader.line_num, value, "" if value else "empty customer_id"))
    return rows


def _read_jsonl(fh: Iterable[str]) -> list[BatchInput]:
    rows = []
    for line_no, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(BatchInput(line_no, "", f"not valid JSON (column {exc.colno})"))
            continue
        value = doc.get("customer_id") if isinstance(doc, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            rows.append(BatchInput(line_no, "", "no customer_id (a non-empty string) in this JSON object"))
            continue
        rows.append(BatchInput(line_no, value.strip()))
    return rows


def write_batch_output(rows: Sequence[BatchRow], path: Path, fmt: str | None = None) -> None:
    """One output row per input row, CSV (skus and scores space-separated) or JSONL (BatchRow.to_dict)."""
    chosen = file_format(path, fmt)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        if chosen == "jsonl":
            for row in rows:
                fh.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            return
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            doc = row.to_dict()
            writer.writerow([row.line, row.customer_id, row.status, row.error, doc["source"] or "",
                             doc["bundle"] or "", " ".join(i["sku"] for i in doc["items"]),
                             " ".join(f"{i['score']:.6g}" for i in doc["items"])])


def count_statuses(rows: Iterable[BatchRow]) -> dict[str, int]:
    """Rows per status, every status present (0 when none)."""
    counts = Counter(row.status for row in rows)
    return {status: counts.get(status, 0) for status in STATUSES}
