"""Reading the generic ingest files (docs/INGEST.md): JSONL and CSV (RFC 4180, the csv module), optionally gzip
(RFC 1952), UTF-8 (RFC 3629, a leading BOM accepted), streamed line by line with numbered, bounded lines.

Yields (line, record) or (line, RowError) per row; errors that make the whole file unreadable (encoding, truncation,
a bad header, gzip damage) raise IngestError. Messages read `file:line: field: what was expected` and never echo a
value that could be a customer id. appliance.data.ingest checks the fields and writes the rows.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from appliance.errors import UserError

KINDS = ("items", "interactions", "reviews")
FORMATS = ("jsonl", "csv")
_FIELDS = {
    "items": ("sku", "title", "brand", "categories", "description", "price", "attributes"),
    "interactions": ("customer_id", "sku", "timestamp", "event", "rating"),
    "reviews": ("customer_id", "sku", "timestamp", "rating", "text"),
}
_REQUIRED = {"items": ("sku", "title"), "interactions": ("customer_id", "sku", "timestamp"),
             "reviews": ("sku", "timestamp", "text")}


class IngestError(UserError, ValueError):
    """A file cannot be ingested; the message reads `file:line: field: what was expected` and never holds a
    customer id."""


class RowError(Exception):
    """One bad row: the field and what was expected (never the value)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Source:
    """A file opened for streaming: numbered, decoded lines, and how many (compressed) bytes were read so far."""

    def __init__(self, path: Path, max_line_bytes: int) -> None:
        self.path, self.label, self.max_line_bytes = path, str(path), max_line_bytes
        try:
            self._raw: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise IngestError(f"{path}: cannot open: {exc.strerror}") from None
        self.is_gzip = path.suffix == ".gz"
        self._stream: Any = gzip.GzipFile(fileobj=self._raw) if self.is_gzip else self._raw
        self.size = path.stat().st_size

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()

    def lines(self) -> Iterator[tuple[int, str, bool]]:
        """(line number, text with its line break as read, whether a line break ended it)."""
        offset = 0
        for number in itertools.count(1):
            data = self._readline(number)
            if not data:
                return
            if len(data) > self.max_line_bytes:
                raise IngestError(f"{self.label}:{number}: line: longer than {self.max_line_bytes} bytes "
                                  "(limit ingest.max_line_bytes); is this really a JSONL/CSV file?")
            if number == 1:
                offset = len(data)
                data = self._strip_bom(data)
                offset -= len(data)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and not data.endswith(b"\n"):
                    raise _truncated(self.label, number) from None  # cut inside a multi-byte character
                raise IngestError(
                    f"{self.label}:{number}: encoding: not valid UTF-8 at byte offset {offset + exc.start} "
                    f"(byte 0x{data[exc.start]:02x}); convert the file first, e.g. "
                    f"`iconv -f latin1 -t utf-8 {self.path.name} > utf8-{self.path.name}`") from None
            offset += len(data)
            yield number, text, text.endswith("\n")  # CR LF inside quoted CSV fields must survive

    def _readline(self, number: int) -> bytes:
        try:
            return self._stream.readline(self.max_line_bytes + 1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if not self.is_gzip:
                raise
            # BadGzipFile's text quotes the file's first bytes, which could be data: not repeated here
            what = "ends early (truncated copy?)" if isinstance(exc, EOFError) else "is not gzip or is corrupt"
            raise IngestError(f"{self.label}:{number}: gzip: the compressed stream {what}; "
                              f"check it with `gzip -t {self.path.name}`") from None

    def _strip_bom(self, data: bytes) -> bytes:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:]
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise IngestError(f"{self.label}:1: encoding: the file is UTF-16 (byte-order mark), expected UTF-8; "
                              f"convert it first, e.g. `iconv -f utf-16 -t utf-8 {self.path.name} > "
                              f"utf8-{self.path.name}`")
        return data


def _truncated(label: str, number: int) -> IngestError:
    return IngestError(f"{label}:{number}: line: the file ends in the middle of a record (the last line has no "
                       "line break and does not parse): the file looks truncated; copy it again")


def jsonl_records(source: Source, kind: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line, object) per non-blank line; a bad line yields a RowError instead."""
    for number, text, newline in source.lines():
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            if not newline:
                raise _truncated(source.label, number) from None
            yield number, RowError("line", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            yield number, RowError("line", "expected a JSON object {...} on each line")
            continue
        unknown = sorted(set(obj) - set(_FIELDS[kind]))
        if unknown:
            # item files hold no customer data; elsewhere a stray key could be a customer id, so it is not echoed
            field = unknown[0] if kind == "items" else "line"
            yield number, RowError(field, f"unknown field (known: {', '.join(_FIELDS[kind])})")
            continue
        yield number, obj


def csv_records(source: Source, kind: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(first line of the record, column -> value) per CSV record; empty values are treated as missing."""
    state = {"line": 0, "newline": True}

    def texts() -> Iterator[str]:
        for number, text, newline in source.lines():
            state["line"], state["newline"] = number, newline
            yield text

    reader = csv.reader(texts(), strict=True)
    header = _read_header(source.label, reader, kind)
    if header is None:
        return
    end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not state["newline"]:
                raise _truncated(source.label, state["line"]) from None
            raise IngestError(f"{source.label}:{end + 1}: line: malformed CSV ({exc}); "
                              "quote fields that contain commas, quotes or line breaks") from None
        start, end = end + 1, reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            if not state["newline"] and end == state["line"]:
                raise _truncated(source.label, end)
            yield start, RowError("line", f"expected {len(header)} columns as in the header, got {len(row)}")
            continue
        yield start, {name: value for name, value in zip(header, row, strict=True) if value != ""}


def _read_header(label: str, reader: Any, kind: str) -> list[str] | None:
    try:
        header = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise IngestError(f"{label}:1: header: malformed CSV ({exc})") from None
    header = [name.strip() for name in header]
    known, required = _FIELDS[kind], _REQUIRED[kind]
    for number, name in enumerate(header, 1):
        # a file without a header row would put a customer id here: echo header cells only for item files
        shown = repr(name) if kind == "items" else str(number)
        if name not in known:
            raise IngestError(f"{label}:1: header: unknown column {shown} (known: {', '.join(known)}); the first "
                              "line must be a header row naming the columns")
        if header.count(name) > 1:
            raise IngestError(f"{label}:1: header: column {shown} appears twice")
    for name in required:
        if name not in header:
            raise IngestError(f"{label}:1: header: required column {name!r} is missing")
    return header


@contextmanager
def byte_progress(label: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A transient rich progress bar by bytes on stderr (a terminal only); yields `update(bytes_done)`."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda _done: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def detect_format(path: Path) -> str:
    """jsonl or csv from the file name (`.jsonl`, `.ndjson`, `.csv`, each optionally `.gz`)."""
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    raise IngestError(f"{path}: cannot tell the format from the name; use a .jsonl or .csv name "
                      "(optionally .gz) or pass --format jsonl|csv")
