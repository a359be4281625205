"""Audit log export formats, written and read back strictly: JSONL (one canonical RFC 8785-subset JSON object per
line, typed "public_key" | "entry" | "checkpoint") and CSV (entries) with FILE.checkpoints.jsonl and FILE.pub.pem
sidecars. Reading needs only the standard library; verification is in `appliance.privacy.audit.verify`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.privacy.audit.chain import (
    ENTRY_FIELDS,
    HASH_FIELDS,
    AuditVerificationError,
    CanonicalJSONError,
    canonical_json,
)
from appliance.privacy.audit.checkpoints import Checkpoint, checkpoint_from_dict

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (*ENTRY_FIELDS, *HASH_FIELDS)
_INT = re.compile(r"-?(0|[1-9][0-9]*)")


PREFIX_FIELDS = ("compact_range", "end", "entry_hash", "tree_size")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RangePrefix:
    """The first line of a range export (`audit export --since/--until`): the state of the log just before the
    range, which seeds verification so the range is checked against signed checkpoints' roots."""

    tree_size: int  # entries before the range; the range is tree_size + 1 .. end
    compact_range: tuple[str, ...]  # hex roots of the perfect subtrees over entries 1..tree_size, largest first
    entry_hash: str  # entry tree_size's entry_hash (64 zeros when 0): what the first exported entry links to
    end: int  # the last seq exported: the export proves nothing about entries after it

    def to_dict(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "compact_range": list(self.compact_range), "entry_hash": self.entry_hash,
                "end": self.end}


@dataclass
class ExportedLog:
    """What an export holds, parsed but not yet verified."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    public_keys: list[tuple[str | None, str]] = field(default_factory=list)  # (key id if stated, PEM)
    prefixes: list[RangePrefix] = field(default_factory=list)  # one in a range export, none in a full one


def checkpoints_sidecar(out: Path) -> Path:
    return Path(f"{out}.checkpoints.jsonl")


def public_key_sidecar(out: Path) -> Path:
    return Path(f"{out}.pub.pem")


def _open_new(path: Path) -> io.TextIOWrapper:
    """A new file, mode 0600 (exports hold the anonymized payloads); refuses to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return open(fd, "w", encoding="utf-8", newline="")


def _line(kind: str, data: Mapping[str, Any]) -> str:
    return canonical_json({"type": kind, **data}).decode("utf-8") + "\n"


def write_jsonl(out: Path, entries: Iterable[Mapping[str, Any]], checkpoints: Iterable[Checkpoint],
                public_pem: str, key_id: str, prefix: RangePrefix | None = None) -> int:
    """The prefix line of a range export if any, the public key line, then every entry, then every checkpoint;
    returns the number of entries."""
    count = 0
    with _open_new(out) as f:
        if prefix is not None:
            f.write(_line("prefix", prefix.to_dict()))
        f.write(_line("public_key", {"key_id": key_id, "pem": public_pem}))
        for entry in entries:
            f.write(_line("entry", entry))
            count += 1
        for checkpoint in checkpoints:
            f.write(_line("checkpoint", checkpoint.to_dict()))
    return count


def write_csv(out: Path, entries: Iterable[Mapping[str, Any]], checkpoints: Iterable[Checkpoint],
              public_pem: str) -> int:
    """Entries as CSV (objects and the payload as canonical JSON cells), plus the two sidecar files."""
    count = 0
    with _open_new(out) as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            writer.writerow([_csv_cell(name, entry[name]) for name in CSV_COLUMNS])
            count += 1
    with _open_new(checkpoints_sidecar(out)) as f:
        f.writelines(_line("checkpoint", c.to_dict()) for c in checkpoints)
    with _open_new(public_key_sidecar(out)) as f:
        f.write(public_pem)
    return count


def _csv_cell(name: str, value: Any) -> str:
    if name == "payload" or isinstance(value, Mapping):
        return canonical_json(value).decode("utf-8")  # null vs "" must stay distinguishable
    return str(value)


def read_export(path: Path) -> ExportedLog:
    """Parse an export (CSV if the name ends in .csv, else JSONL); malformed input raises AuditVerificationError."""
    path = Path(path)
    try:
        return _read_csv(path) if path.suffix.lower() == ".csv" else _read_jsonl(path.read_bytes())
    except FileNotFoundError as exc:
        raise AuditVerificationError(f"export file {exc.filename} does not exist") from None


def _read_jsonl(data: bytes, kinds: tuple[str, ...] = ("public_key", "entry", "checkpoint", "prefix")) -> ExportedLog:
    if data and not data.endswith(b"\n"):
        raise AuditVerificationError("export does not end with a newline (truncated or altered file)")
    log = ExportedLog()
    for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
        obj = parse_canonical(raw, f"line {number}")
        kind = obj.pop("type", None)
        if kind not in kinds:
            raise AuditVerificationError(f"line {number}: unknown record type {kind!r} (expected one of {kinds})")
        if kind == "entry":
            log.entries.append(obj)
        elif kind == "checkpoint":
            log.checkpoints.append(checkpoint_from_dict(obj))
        elif kind == "prefix":
            if number != 1 or log.prefixes:
                raise AuditVerificationError(f"line {number}: a prefix record may only be the first line")
            log.prefixes.append(prefix_from_dict(obj))
        else:
            log.public_keys.append(_public_key(obj, number))
    return log


def prefix_from_dict(data: Mapping[str, Any]) -> RangePrefix:
    """A range export's prefix record, every field's type and hex form checked."""
    if sorted(data) != list(PREFIX_FIELDS):
        raise AuditVerificationError(f"line 1: prefix fields {sorted(data)} differ from {list(PREFIX_FIELDS)}")
    size, end, hashes = data["tree_size"], data["end"], data["compact_range"]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (size, end)) or end <= size:
        raise AuditVerificationError("line 1: prefix tree_size and end must be integers with 0 <= tree_size < end")
    if not isinstance(hashes, list) or not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes) or \
            not isinstance(data["entry_hash"], str) or not _HEX64.fullmatch(data["entry_hash"]):
        raise AuditVerificationError("line 1: prefix hashes must be 64 lower-case hex digits")
    return RangePrefix(size, tuple(hashes), data["entry_hash"], end)


def _public_key(obj: Mapping[str, Any], number: int) -> tuple[str, str]:
    if sorted(obj) != ["key_id", "pem"] or not all(isinstance(v, str) for v in obj.values()):
        raise AuditVerificationError(f"line {number}: a public_key record has exactly the string fields key_id, pem")
    return obj["key_id"], obj["pem"]


def parse_canonical(raw: bytes, where: str) -> dict[str, Any]:
    """One JSON object that must be byte-for-byte in canonical form, so no byte of an export is free to change."""
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise AuditVerificationError(f"{where}: not valid UTF-8 JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise AuditVerificationError(f"{where}: expected a JSON object")
    try:
        canonical = canonical_json(obj)
    except CanonicalJSONError as exc:
        raise AuditVerificationError(f"{where}: {exc}") from None
    if canonical != raw:
        raise AuditVerificationError(f"{where}: not in canonical form (altered after export)")
    return obj


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Checkpoints an auditor kept (lines printed by `tanaban audit checkpoint`, or an earlier export's lines)."""
    found = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditVerificationError(f"cannot read checkpoints from {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        try:
            obj = json.loads(line) if line.lstrip().startswith("{") else {}  # other lines: notes, headings
        except ValueError as exc:
            raise AuditVerificationError(f"{path} line {number}: not JSON ({exc})") from None
        if isinstance(obj, dict) and obj.pop("type", None) == "checkpoint":
            found.append(checkpoint_from_dict(obj))
    if not found:
        raise AuditVerificationError(f"{path} holds no checkpoint lines")
    return found


def _read_csv(path: Path) -> ExportedLog:
    log = ExportedLog()
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = csv.reader(f, strict=True)
            if tuple(next(rows, ())) != CSV_COLUMNS:
                raise AuditVerificationError(f"{path.name}: header differs from {', '.join(CSV_COLUMNS)}")
            for number, row in enumerate(rows, start=2):
                log.entries.append(_csv_entry(row, number))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AuditVerificationError(f"{path.name}: not valid UTF-8 CSV ({exc})") from None
    log.checkpoints = _read_jsonl(checkpoints_sidecar(path).read_bytes(), ("checkpoint",)).checkpoints
    log.public_keys = [(None, public_key_sidecar(path).read_text(encoding="utf-8"))]
    return log


def _csv_entry(row: list[str], number: int) -> dict[str, Any]:
    if len(row) != len(CSV_COLUMNS):
        raise AuditVerificationError(f"CSV row {number}: {len(row)} cells, expected {len(CSV_COLUMNS)}")
    entry: dict[str, Any] = {}
    for name, cell in zip(CSV_COLUMNS, row, strict=True):
        kind = ENTRY_FIELDS.get(name, str)
        if kind is int:
            if not _INT.fullmatch(cell):
                raise AuditVerificationError(f"CSV row {number}: {name} {cell!r} is not an integer")
            entry[name] = int(cell)
        elif kind is str:
            entry[name] = cell
        else:
            entry[name] = _csv_json(cell, f"CSV row {number}, {name}")
    return entry


def _csv_json(cell: str, where: str) -> Any:
    wrapped = parse_canonical(b'{"v":' + cell.encode("utf-8") + b"}", where)  # scalars too, via a wrapper object
    return wrapped["v"]
