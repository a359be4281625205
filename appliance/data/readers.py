"""Reading the generic ingest files (docs/INGEST.md): JSONL (RFC 8259 objects, one per line) and CSV (RFC 4180, the
csv module), optionally gzip (RFC 1952, recognised by its magic bytes), UTF-8 (RFC 3629, a leading BOM accepted),
from a file, a FIFO or `-` (stdin), streamed line by line with numbered, bounded lines.

Yields (line, record) or (line, RowError) per row; errors that make the whole file unreadable (encoding, truncation,
a bad header, gzip damage) raise IngestError. Messages read `file:line: field: what was expected` and never echo a
value that could be a customer id. appliance.data.ingest checks the fields and writes the rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from appliance.data.rowjson import CHECKED, Invalid, has_surrogate, invalid_reason, loads_json
from appliance.errors import UserError

KINDS = ("items", "interactions", "reviews")
FORMATS = ("jsonl", "csv")
_FIELDS = {
    "items": ("sku", "title", "brand", "categories", "description", "price", "attributes", "text"),
    "interactions": ("customer_id", "sku", "timestamp", "event", "rating"),
    "reviews": ("customer_id", "sku", "timestamp", "rating", "text"),
}
_REQUIRED = {"items": ("sku",), "interactions": ("customer_id", "sku", "timestamp"),
             "reviews": ("sku", "timestamp", "text")}
_ONE_OF = {"items": ("title", "text")}  # at least one of these columns: separate fields, or one free-text field
STDIN = "-"  # the input name that means standard input (as for cat, gzip and tar)
_STDIN_LABEL = "<stdin>"  # how messages and reject reports name standard input
_GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952 ID1 ID2; no UTF-8 text starts with these two bytes (0x8b is a continuation byte)


class IngestError(UserError, ValueError):
    """A file cannot be ingested; the message reads `file:line: field: what was expected` and never holds a
    customer id."""


class RowError(Exception):
    """One bad row: the field and what was expected (never the value)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class _Replayed(io.RawIOBase):
    """A byte stream that first hands back `head` (bytes already read to sniff gzip), then the rest of `raw`;
    `consumed` counts the bytes taken from `raw`, which is the progress position (pipes cannot tell())."""

    def __init__(self, raw: BinaryIO, head: bytes) -> None:
        self._raw, self._head, self.consumed = raw, head, len(head)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        n = self._raw.readinto(buffer) or 0
        self.consumed += n
        return n


class Source:
    """A file, FIFO or stdin opened for streaming: numbered, decoded lines, and how many (compressed) bytes were
    read so far. Gzip is read when the name ends in .gz or the first two bytes are gzip's magic (stdin, pipes)."""

    def __init__(self, path: Path, max_line_bytes: int) -> None:
        self.path, self.max_line_bytes = path, max_line_bytes
        self.is_stdin = str(path) == STDIN
        self.label = _STDIN_LABEL if self.is_stdin else str(path)
        self.name = "FILE" if self.is_stdin else path.name  # for the shell commands suggested in messages
        self._raw: BinaryIO = sys.stdin.buffer if self.is_stdin else _open(path)
        self.size = _regular_size(self._raw)  # None for pipes and FIFOs: the progress bar shows bytes only
        head = self._raw.read(2)
        self.is_gzip = path.suffix == ".gz" or head == _GZIP_MAGIC
        self._counter = _Replayed(self._raw, head)
        buffered = io.BufferedReader(self._counter)
        self._stream: Any = gzip.GzipFile(fileobj=buffered) if self.is_gzip else buffered

    def position(self) -> int:
        return self._counter.consumed

    def close(self) -> None:
        if not self.is_stdin:  # stdin belongs to the process
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
            text = self._decode(data, number, offset)
            offset += len(data)
            yield number, text, text.endswith("\n")  # CR LF inside quoted CSV fields must survive

    def _decode(self, data: bytes, number: int, offset: int) -> str:
        """UTF-8 text; surrogate code points written as bytes pass here and are rejected per field (SURROGATE)."""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = exc
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            pass
        if error.reason == "unexpected end of data" and not data.endswith(b"\n"):
            raise _truncated(self.label, number)  # cut inside a multi-byte character
        raise IngestError(
            f"{self.label}:{number}: encoding: not valid UTF-8 at byte offset {offset + error.start} "
            f"(byte 0x{data[error.start]:02x}); convert the file first, e.g. "
            f"`iconv -f latin1 -t utf-8 {self.name} > utf8-{self.name}`")

    def _readline(self, number: int) -> bytes:
        try:
            return self._stream.readline(self.max_line_bytes + 1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if not self.is_gzip:
                raise
            # BadGzipFile's text quotes the file's first bytes, which could be data: not repeated here
            what = "ends early (truncated copy?)" if isinstance(exc, EOFError) else "is not gzip or is corrupt"
            raise IngestError(f"{self.label}:{number}: gzip: the compressed stream {what}; "
                              f"check it with `gzip -t {self.name}`") from None

    def _strip_bom(self, data: bytes) -> bytes:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:]
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise IngestError(f"{self.label}:1: encoding: the file is UTF-16 (byte-order mark), expected UTF-8; "
                              f"convert it first, e.g. `iconv -f utf-16 -t utf-8 {self.name} > "
                              f"utf8-{self.name}`")
        return data


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")  # closed by Source.close()
    except OSError as exc:
        raise IngestError(f"{path}: cannot open: {exc.strerror}") from None


def _regular_size(raw: BinaryIO) -> int | None:
    try:
        info = os.fstat(raw.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # an in-memory stdin (tests) has no descriptor
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def check_input(path: Path) -> None:
    """`-` (stdin), a regular file or a FIFO; anything else is one error saying what the path is instead."""
    if str(path) == STDIN:
        return
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot open: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise IngestError(f"{path}: is a directory; give one file (ingest the files in it one by one)")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise IngestError(f"{path}: not a regular file or a pipe; give a file, a FIFO or - for standard input")


def _truncated(label: str, number: int) -> IngestError:
    return IngestError(f"{label}:{number}: line: the file ends in the middle of a record (the last line has no "
                       "line break and does not parse): the file looks truncated; copy it again")


def jsonl_records(source: Source, kind: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line, object) per non-blank line; a bad line yields a RowError instead."""
    known = _FIELDS[kind]
    for number, text, newline in source.lines():
        if not text.strip():
            continue
        try:
            obj = loads_json(text)
        except json.JSONDecodeError as exc:
            if not newline:
                raise _truncated(source.label, number) from None
            yield number, RowError("line", f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield number, _check_object(obj, kind) if isinstance(obj, dict) else _not_an_object(obj, known)


def _not_an_object(obj: Any, known: tuple[str, ...]) -> RowError:
    if isinstance(obj, Invalid):  # too deep, or a key repeated in the row object itself
        return RowError(obj.key if obj.key in known else "line", obj.reason)
    return RowError("line", "expected a JSON object {...} on each line")


def _check_object(obj: dict[str, Any], kind: str) -> dict[str, Any] | RowError:
    known = _FIELDS[kind]
    unknown = sorted(set(obj) - set(known))
    if unknown:
        # item files hold no customer data; elsewhere a stray key could be a customer id, so it is not echoed
        field = unknown[0] if kind == "items" and not has_surrogate(unknown[0]) else "line"
        return RowError(field, f"unknown field (known: {', '.join(known)})")
    for field, value in obj.items():
        reason = invalid_reason(value, 2) if type(value) in CHECKED else None
        if reason is not None:
            return RowError(field, reason)
    return obj


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
    one_of = _ONE_OF.get(kind, ())
    if one_of and not set(one_of) & set(header):
        raise IngestError(f"{label}:1: header: a {' or '.join(repr(n) for n in one_of)} column is required")
    return header


@contextmanager
def byte_progress(label: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A transient rich progress bar by bytes on stderr (a terminal only; total None for a pipe: no percentage);
    yields `update(bytes_done)`."""
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
    if str(path) == STDIN:
        raise IngestError(f"{_STDIN_LABEL}: standard input has no name to tell the format from; "
                          "pass --format jsonl|csv")
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    raise IngestError(f"{path}: cannot tell the format from the name; use a .jsonl or .csv name "
                      "(optionally .gz) or pass --format jsonl|csv")
