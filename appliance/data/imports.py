"""Import what the shop already has (docs/INGEST.md, "Importing your current recommender"): item vectors keyed by
SKU, saved as the "cf-imported" artifact (fused by `tokenize build --cf imported`, scored by the `imported` model),
and the current system's top-K list per customer, saved as "champion-lists" (scored by the `champion` model).

Each import is all-or-nothing like every ingest: the whole file is read and checked before one versioned artifact
(appliance.data.artifacts) is written. Customer ids go through `Home.store_pseudonym` as soon as a row is read and
are then mapped to store user ids: neither raw ids nor pseudonyms are written. Formats: CSV (RFC 4180), JSONL,
NumPy .npy (NEP 1) with a SKU list, and Parquet only where pyarrow is installed (it is not a dependency).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from sqlalchemy import select

from appliance.data.artifacts import data_fingerprint, save_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.store import Item, User
from appliance.errors import UserError

EMBEDDINGS_KIND = "cf-imported"  # semantic_ids.CF_KINDS knows it; `tokenize build --cf imported` selects it
LISTS_KIND = "champion-lists"
METRICS = ("dot", "cosine")  # how the `imported` model scores: raw dot product, or cosine of the vectors
EMBEDDING_FORMATS = ("npy", "csv", "parquet")
LIST_FORMATS = ("csv", "jsonl")
DEFAULT_MIN_COVERAGE = 0.5  # fewer than half the SKUs known: a file of another shop or another SKU scheme
_USER_BATCH = 500  # pseudonyms per lookup query (SQLite's bound-parameter limit is 999 on old builds)


class ImportDataError(UserError, ValueError):
    """An embeddings or lists file that cannot be imported; nothing was stored."""


@dataclass(frozen=True)
class EmbeddingImport:
    path: Path  # the version directory of the saved "cf-imported" artifact
    rows: int  # vectors read
    dim: int
    known: int  # vectors whose SKU is an item in the store (the ones saved)
    metric: str

    @property
    def coverage(self) -> float:
        return self.known / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ListImport:
    path: Path  # the version directory of the saved "champion-lists" artifact
    customers: int  # lists read
    known_customers: int  # lists of customers the store knows (the ones saved)
    unknown_customers: int
    items: int  # list entries kept
    unknown_skus: int  # list entries dropped: no item has the SKU
    k: int  # longest list kept


# --- reading ---------------------------------------------------------------------------------------------------

def _format(path: Path, fmt: str | None, allowed: tuple[str, ...]) -> str:
    name = path.name.lower().removesuffix(".gz")
    fmt = fmt or name.rsplit(".", 1)[-1]
    if fmt not in allowed:
        raise ImportDataError(f"{path.name}: unknown format {fmt!r}; name the file .{' or .'.join(allowed)} "
                              f"or pass --format")
    return fmt


def _open_text(path: Path) -> IO[str]:
    """UTF-8 text (a leading BOM is dropped), gunzipped when the name ends in .gz (RFC 1952)."""
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportDataError(f"{path}: cannot read the file ({exc.strerror})") from None


def _rows(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text file; decoding errors become one-line ImportDataErrors."""
    with _open_text(path) as handle:
        try:
            yield from enumerate(handle, 1)
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError):
            raise ImportDataError(f"{path.name}: not UTF-8 text (or a broken gzip file)") from None


def _clean_id(value: Any, where: str, field: str) -> str:
    """A sku or customer id, stripped and in Unicode NFC (UAX #15) as ingest stores them."""
    if not isinstance(value, str) or not value.strip():
        raise ImportDataError(f"{where}: {field}: missing or not a string")
    return unicodedata.normalize("NFC", value.strip())


def _csv_dicts(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    lines = (line for _, line in _rows(path))
    reader = csv.DictReader(lines)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportDataError(f"{path.name}:{reader.line_num}: malformed CSV ({exc})") from None


def _parse_vector(text: str, where: str) -> list[float]:
    """`1.0 2.0 3.0` (space-separated) or `[1.0, 2.0, 3.0]` (JSON)."""
    text = text.strip()
    try:
        values = json.loads(text) if text.startswith("[") else [float(v) for v in text.split()]
    except ValueError:
        raise ImportDataError(f"{where}: vector: expected space-separated numbers or a JSON array") from None
    if not isinstance(values, list) or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                               for v in values):
        raise ImportDataError(f"{where}: vector: expected a flat list of numbers")
    return [float(v) for v in values]


def _csv_vectors(path: Path) -> tuple[list[str], list[list[float]], list[str]]:
    skus, vectors, wheres = [], [], []
    for line, row in _csv_dicts(path):
        where = f"{path.name}:{line}"
        if "sku" not in row:
            raise ImportDataError(f"{path.name}: no `sku` column; expected sku,vector or sku,d0,d1,...")
        skus.append(_clean_id(row.pop("sku"), where, "sku"))
        if set(row) == {"vector"}:
            vectors.append(_parse_vector(row["vector"] or "", where))
        else:
            try:
                vectors.append([float(v) for v in row.values()])
            except (TypeError, ValueError):
                raise ImportDataError(f"{where}: a dimension column is empty or not a number") from None
        wheres.append(where)
    return skus, vectors, wheres


def _npy_vectors(path: Path, skus_path: Path | None) -> tuple[list[str], list[list[float]] | np.ndarray,
                                                                 list[str]]:
    if skus_path is None:
        raise ImportDataError(f"{path.name}: a .npy matrix needs --skus FILE (one SKU per line, in row order)")
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        raise ImportDataError(f"{path.name}: not a NumPy .npy array of numbers (saved without pickle)") from None
    if matrix.ndim != 2 or not np.issubdtype(matrix.dtype, np.number):
        raise ImportDataError(f"{path.name}: expected a 2-D numeric (items, dim) matrix, got shape {matrix.shape}")
    skus = [_clean_id(line.rstrip("\r\n"), f"{skus_path.name}:{n}", "sku") for n, line in _rows(skus_path)]
    if len(skus) != len(matrix):
        raise ImportDataError(f"{skus_path.name} lists {len(skus)} SKUs but {path.name} has {len(matrix)} rows: "
                              "give one SKU per matrix row")
    return skus, matrix, [f"{path.name}: row {r + 1}" for r in range(len(matrix))]


def _parquet_vectors(path: Path) -> tuple[list[str], list[list[float]], list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportDataError(f"{path.name}: reading Parquet needs pyarrow, which this installation does not "
                              "include; export the vectors as .npy (with --skus) or CSV") from None
    columns = pq.read_table(path).to_pydict()
    if "sku" not in columns:
        raise ImportDataError(f"{path.name}: no `sku` column; expected sku,vector or sku,d0,d1,...")
    skus = [_clean_id(s, f"{path.name}: row {r + 1}", "sku") for r, s in enumerate(columns.pop("sku"))]
    if set(columns) == {"vector"}:
        vectors = [[float(v) for v in vec or []] for vec in columns["vector"]]
    else:
        vectors = [[math.nan if v is None else float(v) for v in values] for values in zip(*columns.values(),
                                                                                        strict=True)]
    return skus, vectors, [f"{path.name}: row {r + 1}" for r in range(len(skus))]


def read_embeddings(path: str | Path, *, skus: str | Path | None = None,
                    fmt: str | None = None) -> tuple[list[str], np.ndarray]:
    """SKUs (n,) and their vectors (n, dim) float32, checked: one dimension, finite values, no SKU twice."""
    path = Path(path)
    fmt = _format(path, fmt, EMBEDDING_FORMATS)
    if fmt == "npy":
        names, vectors, wheres = _npy_vectors(path, Path(skus) if skus else None)
    else:
        names, vectors, wheres = _csv_vectors(path) if fmt == "csv" else _parquet_vectors(path)
    if not names:
        raise ImportDataError(f"{path.name}: no vectors in the file")
    dim = len(vectors[0])
    for where, vec in zip(wheres, vectors, strict=True):
        if len(vec) != dim or dim == 0:
            raise ImportDataError(f"{where}: {len(vec)} dimensions where the first vector has {dim}: every "
                                  "vector needs the same dimension")
    matrix = np.asarray(vectors, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if len(bad):
        raise ImportDataError(f"{wheres[bad[0]]}: NaN or infinite value ({len(bad)} vectors in all): export "
                              "finite numbers only")
    first: dict[str, int] = {}
    for row, sku in enumerate(names):
        if first.setdefault(sku, row) != row:
            raise ImportDataError(f"{wheres[row]}: sku: repeated (first at {wheres[first[sku]]}); give each SKU "
                                  "one vector")
    return names, matrix.astype(np.float32)


def _list_csv(path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(where, raw customer id, skus by rank) from `customer_id,rank,sku` rows in any order."""
    lists: dict[str, dict[int, str]] = {}
    wheres: dict[str, str] = {}
    for line, row in _csv_dicts(path):
        where = f"{path.name}:{line}"
        if not {"customer_id", "rank", "sku"} <= set(row):
            raise ImportDataError(f"{path.name}: expected the columns customer_id,rank,sku")
        raw = _clean_id(row["customer_id"], where, "customer_id")
        try:
            rank = int(row["rank"] or "")
        except ValueError:
            rank = 0
        if rank < 1:
            raise ImportDataError(f"{where}: rank: expected a whole number from 1 (the top of the list)")
        ranks = lists.setdefault(raw, {})
        if rank in ranks:
            raise ImportDataError(f"{where}: rank: repeated for this customer; give each rank once")
        ranks[rank] = _clean_id(row["sku"], where, "sku")
        wheres.setdefault(raw, where)
    for raw, ranks in lists.items():
        yield wheres[raw], raw, [ranks[r] for r in sorted(ranks)]


def _list_jsonl(path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(where, raw customer id, skus) from `{"customer_id": ..., "items": [sku, ...]}` lines."""
    for line, text in _rows(path):
        if not text.strip():
            continue
        where = f"{path.name}:{line}"
        try:
            rec = json.loads(text)
        except ValueError:
            raise ImportDataError(f"{where}: not a JSON object") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("items"), list):
            raise ImportDataError(f"{where}: expected {{\"customer_id\": ..., \"items\": [sku, ...]}}")
        yield where, _clean_id(rec.get("customer_id"), where, "customer_id"), [
            _clean_id(sku, where, "items") for sku in rec["items"]]


# --- importing -------------------------------------------------------------------------------------------------

def _sku_ids(home: Home) -> dict[str, int]:
    with home.engine.connect() as conn:
        return {sku: id_ for sku, id_ in conn.execute(select(Item.sku, Item.id))}


@store_writer("ingest")
def ingest_embeddings(home: Home, path: str | Path, *, skus: str | Path | None = None, fmt: str | None = None,
                      min_coverage: float = DEFAULT_MIN_COVERAGE, metric: str = "dot") -> EmbeddingImport:
    """Check an item-vector file and save the vectors of the store's items as the "cf-imported" artifact.

    Refuses (nothing stored) a file with mixed dimensions, NaN/inf, a repeated SKU, or fewer than `min_coverage`
    of its SKUs in the store. `metric` (dot | cosine) is how the `imported` model will score.
    """
    if metric not in METRICS:
        raise ImportDataError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    if not 0.0 <= min_coverage <= 1.0:
        raise ImportDataError(f"--min-coverage must lie between 0 and 1, got {min_coverage}")
    names, matrix = read_embeddings(path, skus=skus, fmt=fmt)
    ids = _sku_ids(home)
    rows = [r for r, sku in enumerate(names) if sku in ids]
    coverage = len(rows) / len(names)
    if not rows or coverage < min_coverage:
        raise ImportDataError(f"{Path(path).name}: only {len(rows):,} of {len(names):,} SKUs ({coverage:.0%}) are "
                              f"items in the store, below --min-coverage {min_coverage:.0%}: ingest the catalog "
                              "first, or check that the file uses the same SKUs")
    arrays = {"item_ids": np.array([ids[names[r]] for r in rows], dtype=np.int64), "item": matrix[rows]}
    meta = {"source": Path(path).name, "rows": len(names), "known": len(rows), "dim": int(matrix.shape[1]),
            "metric": metric, "data_fingerprint": data_fingerprint(home.engine)}
    saved = save_artifact(home.config.artifacts_dir, EMBEDDINGS_KIND, arrays, meta)
    return EmbeddingImport(saved, len(names), int(matrix.shape[1]), len(rows), metric)


def _user_ids(home: Home, pseudonyms: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    with home.engine.connect() as conn:
        for start in range(0, len(pseudonyms), _USER_BATCH):
            batch = pseudonyms[start:start + _USER_BATCH]
            query = select(User.pseudonym, User.id).where(User.pseudonym.in_(batch))
            found.update((p, id_) for p, id_ in conn.execute(query))
    return found


@store_writer("ingest")
def ingest_lists(home: Home, path: str | Path, *, fmt: str | None = None) -> ListImport:
    """Save the current system's top-K list per customer as the "champion-lists" artifact.

    Customer ids are pseudonymized on read and saved as store user ids; SKUs that are no item are dropped and
    counted, customers the store does not know are counted and left out. A customer listed twice is refused.
    """
    path = Path(path)
    reader = _list_csv if _format(path, fmt, LIST_FORMATS) == "csv" else _list_jsonl
    sku_ids = _sku_ids(home)
    lists: dict[str, list[int]] = {}
    unknown_skus = 0
    for where, raw, skus in reader(path):
        pseudonym = home.store_pseudonym(raw)  # the raw id goes no further than this line
        if pseudonym in lists:
            raise ImportDataError(f"{where}: customer_id: a second list for this customer; give one per customer")
        kept = list(dict.fromkeys(sku_ids[s] for s in skus if s in sku_ids))  # a repeated SKU counts once
        unknown_skus += sum(s not in sku_ids for s in skus)
        lists[pseudonym] = kept
    if not lists:
        raise ImportDataError(f"{path.name}: no lists in the file")
    users = _user_ids(home, list(lists))
    known = [(users[p], items) for p, items in lists.items() if p in users]
    if not known:
        raise ImportDataError(f"{path.name}: none of its {len(lists):,} customers is in the store: ingest their "
                              "interactions first, with the same customer ids")
    k = max(1, max(len(items) for _, items in known))
    matrix = np.full((len(known), k), -1, dtype=np.int64)  # store item ids by rank, -1 after the list's end
    for row, (_, items) in enumerate(known):
        matrix[row, :len(items)] = items
    n_items = sum(len(items) for _, items in known)
    meta = {"source": path.name, "customers": len(lists), "known_customers": len(known),
            "unknown_customers": len(lists) - len(known), "items": n_items, "unknown_skus": unknown_skus, "k": k,
            "data_fingerprint": data_fingerprint(home.engine)}
    arrays = {"user_ids": np.array([uid for uid, _ in known], dtype=np.int64), "items": matrix}
    saved = save_artifact(home.config.artifacts_dir, LISTS_KIND, arrays, meta)
    return ListImport(saved, len(lists), len(known), len(lists) - len(known), n_items, unknown_skus, k)
