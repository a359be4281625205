"""Dataset adapters: load the two benchmark datasets into the store through the same checks as the generic ingest.

- amazon-beauty-2014 (the S3Rec/P5/TIGER Beauty split): `raw/gram/user_sequence.txt` (`user item item ...`, oldest
  first, no timestamps: the sequence position is used as `ts`) and `derived/items.jsonl` (titles, brands,
  categories).
- amazon-book-cf (the RLMRec/IRLLRec split): `train.tsv`, `valid.tsv`, `test.tsv` with header `user<TAB>item`, ids
  only: items are synthesised (sku = id, title "item <id>"), `Interaction.split` is set, `ts` is the row order.
Each dataset is one transaction; user ids are pseudonymized on read like any customer id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from appliance.data.home import Home
from appliance.data.ingest import IngestReport, RejectSink, ingest_records, with_progress
from appliance.data.locks import store_writer
from appliance.data.readers import IngestError, RowError, Source, byte_progress
from appliance.data.rowjson import invalid_reason, loads_json

DATASETS = ("amazon-beauty-2014", "amazon-book-cf")
_BEAUTY_ITEMS = Path("derived/items.jsonl")
_BEAUTY_SEQUENCES = Path("raw/gram/user_sequence.txt")
_BOOK_SPLITS = ("train", "valid", "test")  # file stem = Interaction.split; also the order that defines `ts`
_NO_BRAND = ("", "Unknown")  # "Unknown" is a literal brand value in the Amazon metadata, not a brand
Records = Iterator[tuple[int, Any]]


@store_writer("ingest")
def ingest_dataset(home: Home, name: str, path: str | Path, *, progress: bool = True) -> list[IngestReport]:
    """Ingest dataset `name` from directory `path` in one transaction; one report per file read."""
    path = Path(path)
    if name not in DATASETS:
        raise IngestError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    layout = {"amazon-beauty-2014": [_BEAUTY_ITEMS, _BEAUTY_SEQUENCES],
              "amazon-book-cf": [Path(f"{split}.tsv") for split in _BOOK_SPLITS]}[name]
    missing = [str(rel) for rel in layout if not (path / rel).is_file()]
    if missing:
        raise IngestError(f"{path}: not a {name} directory: missing {', '.join(missing)}")
    if name == "amazon-beauty-2014":
        steps = [("items", [path / _BEAUTY_ITEMS], _beauty_items),
                 ("interactions", [path / _BEAUTY_SEQUENCES], _beauty_sequences)]
    else:
        counter = iter(range(1 << 62))  # one `ts` sequence over train, valid, test, in that order
        files = [path / f"{split}.tsv" for split in _BOOK_SPLITS]
        steps = [("items", files, _book_items)]
        steps += [("interactions", [file], _book_rows(file.stem, counter)) for file in files]
    with home.engine.begin() as conn:
        return [_run(conn, home, kind, files, records, progress) for kind, files, records in steps]


def _run(conn: Any, home: Home, kind: str, files: list[Path], records: Callable[..., Records],
         progress: bool) -> IngestReport:
    """Ingest the records made from `files` (book-cf items come from all three split files)."""
    label = str(files[0]) if len(files) == 1 else f"{files[0].parent} ({', '.join(f.name for f in files)})"
    total = sum(f.stat().st_size for f in files)
    with byte_progress(f"{kind}: {files[0].name if len(files) == 1 else files[0].parent.name}", total,
                       progress) as update:
        source = files[0] if len(files) == 1 else files
        return ingest_records(conn, home, kind, records(home, source, update), RejectSink(label, None))


def _lines(home: Home, file: Path, update: Callable[[int], None]) -> Iterator[tuple[int, str, bool]]:
    source = Source(file, home.config.ingest.max_line_bytes)
    try:
        yield from with_progress(source.lines(), source, update)
    finally:
        source.close()


def _beauty_items(home: Home, file: Path, update: Callable[[int], None]) -> Records:
    for number, text, _ in _lines(home, file, update):
        if not text.strip():
            continue
        try:
            raw = loads_json(text)  # bounded like any ingest row: nesting, number size, duplicate keys
            asin = raw["asin"]
        except (json.JSONDecodeError, KeyError, TypeError):
            yield number, RowError("line", "expected a JSON object with an 'asin' (derived/items.jsonl layout)")
            continue
        if invalid_reason(raw) is not None:
            yield number, RowError("line", invalid_reason(raw))
            continue
        brand = raw.get("brand_guess")
        yield number, {
            "sku": asin,
            "title": raw.get("title") or f"item {asin}",  # 7 items have no title; title is required
            "brand": None if brand in _NO_BRAND else brand,
            "categories": raw.get("categories") or [],
            "attributes": {"source_item_id": raw.get("item_id"), "s3rec_attributes": raw.get("attributes") or []},
        }


def _beauty_sequences(home: Home, file: Path, update: Callable[[int], None]) -> Records:
    for number, text, _ in _lines(home, file, update):
        parts = text.split()
        if not parts:
            continue
        if len(parts) < 2:
            yield number, RowError("line", "expected `user item item ...` (at least one item)")
            continue
        for position, sku in enumerate(parts[1:]):
            yield number, {"customer_id": parts[0], "sku": sku, "timestamp": position, "event": "purchase"}


def _tsv_pairs(home: Home, file: Path, update: Callable[[int], None]) -> Iterator[tuple[int, list[str]]]:
    for number, text, _ in _lines(home, file, update):
        fields = text.rstrip("\r\n").split("\t")
        if number == 1:
            if fields != ["user", "item"]:
                raise IngestError(f"{file}:1: header: expected `user<TAB>item`")
            continue
        if text.strip():
            yield number, fields


def _book_items(home: Home, files: list[Path], update: Callable[[int], None]) -> Records:
    """One synthesised item per distinct item id of the three files, in numeric id order."""
    seen: dict[str, int] = {}
    done = 0
    for file in files:
        for number, fields in _tsv_pairs(home, file, lambda pos, base=done: update(base + pos)):
            if len(fields) == 2 and fields[1]:
                seen.setdefault(fields[1], number)
        done += file.stat().st_size
    for sku in sorted(seen, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s)):
        yield seen[sku], {"sku": sku, "title": f"item {sku}"}


def _book_rows(split: str, counter: Iterator[int]) -> Callable[[Home, Path, Callable], Records]:
    def records(home: Home, file: Path, update: Callable[[int], None]) -> Records:
        for number, fields in _tsv_pairs(home, file, update):
            if len(fields) != 2:
                yield number, RowError("line", "expected 2 tab-separated columns: user, item")
                continue
            yield number, {"customer_id": fields[0], "sku": fields[1], "timestamp": next(counter),
                           "event": "purchase", "split": split}
    return records
