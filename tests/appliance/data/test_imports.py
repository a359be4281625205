"""Importing the shop's own item vectors and top-K lists: formats, the checks that refuse a file with nothing
stored, pseudonymized customers, and the imported vectors fused by `tokenize build --cf imported`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from appliance.config import RQConfig
from appliance.data.artifacts import MANIFEST, load_artifact
from appliance.data.home import Home
from appliance.data.imports import (
    EMBEDDINGS_KIND,
    LISTS_KIND,
    ImportDataError,
    ingest_embeddings,
    ingest_lists,
    read_embeddings,
)
from appliance.data.store import Item, User
from appliance.generative.quantize import TokenizeError
from appliance.generative.semantic_ids import build_semantic_ids

VECTORS = np.arange(33, dtype=np.float32).reshape(11, 3) / 7  # (11 items, dim 3), S0..S10 of tiny_themes


@pytest.fixture
def shop(home: Home, tiny_themes) -> Home:
    """11 items S0..S10, customers cust-0..cust-6 with interactions, and a text-embeddings artifact."""
    tiny_themes.fill_home(home)
    return home


def _ids(home: Home) -> tuple[dict[str, int], dict[str, int]]:
    with home.engine.connect() as conn:
        items = {sku: id_ for sku, id_ in conn.execute(select(Item.sku, Item.id))}
        users = {p: id_ for p, id_ in conn.execute(select(User.pseudonym, User.id))}
    return items, users


def _npy(tmp_path: Path, vectors: np.ndarray, skus: list[str]) -> tuple[Path, Path]:
    np.save(tmp_path / "vec.npy", vectors)
    (tmp_path / "skus.txt").write_text("".join(f"{s}\n" for s in skus), encoding="utf-8")
    return tmp_path / "vec.npy", tmp_path / "skus.txt"


def _csv_columns(vectors: np.ndarray, skus: list[str]) -> str:
    head = "sku," + ",".join(f"d{j}" for j in range(vectors.shape[1]))
    return head + "\n" + "".join(f"{s}," + ",".join(repr(float(v)) for v in row) + "\n"
                                 for s, row in zip(skus, vectors, strict=True))


def _csv_spaces(vectors: np.ndarray, skus: list[str]) -> str:
    return "sku,vector\n" + "".join(f"{s},{' '.join(repr(float(v)) for v in row)}\n"
                                    for s, row in zip(skus, vectors, strict=True))


def _csv_json(vectors: np.ndarray, skus: list[str]) -> str:
    return "sku,vector\n" + "".join(f'{s},"{json.dumps([float(v) for v in row])}"\n'
                                    for s, row in zip(skus, vectors, strict=True))


def test_npy_import_saves_the_store_items_vectors_and_reports_coverage(shop: Home, tmp_path: Path) -> None:
    skus = [f"S{i}" for i in range(11)] + ["NOT-IN-STORE"]
    vectors = np.vstack([VECTORS, np.ones((1, 3), np.float32)])
    report = ingest_embeddings(shop, *_npy(tmp_path, vectors, skus)[:1], skus=tmp_path / "skus.txt",
                               metric="cosine")
    assert (report.rows, report.known, report.dim, report.metric) == (12, 11, 3, "cosine")
    assert report.coverage == pytest.approx(11 / 12)
    art = load_artifact(shop.config.artifacts_dir, EMBEDDINGS_KIND)
    items, _ = _ids(shop)
    assert art.arrays["item_ids"].tolist() == [items[f"S{i}"] for i in range(11)]
    np.testing.assert_array_equal(art.arrays["item"], VECTORS)
    assert art.meta["metric"] == "cosine" and art.meta["known"] == 11 and art.meta["rows"] == 12


@pytest.mark.parametrize("writer", [_csv_columns, _csv_spaces, _csv_json], ids=["columns", "spaces", "json"])
def test_csv_layouts_read_the_same_vectors(tmp_path: Path, writer) -> None:
    skus = [f"S{i}" for i in range(11)]
    path = tmp_path / "vec.csv"
    path.write_text(writer(VECTORS, skus), encoding="utf-8")
    names, matrix = read_embeddings(path)
    assert names == skus
    np.testing.assert_allclose(matrix, VECTORS, rtol=1e-6)


BAD_CSV = {
    "wrong dimension": ("sku,vector\nS0,1 2 3\nS1,1 2\n", "vec.csv:3: 2 dimensions where the first vector has 3"),
    "NaN": ("sku,d0,d1\nS0,1,2\nS1,nan,2\n", "vec.csv:3: NaN or infinite value (1 vectors in all)"),
    "infinite": ('sku,vector\nS0,"[1, 2]"\nS1,"[1e999, 2]"\n', "vec.csv:3: NaN or infinite value"),
    "duplicate sku": ("sku,vector\nS0,1 2\nS1,1 2\nS0,3 4\n", "vec.csv:4: sku: repeated (first at vec.csv:2)"),
    "low coverage": ("sku,vector\nS0,1 2\nX1,1 2\nX2,1 2\n", "only 1 of 3 SKUs (33%) are items in the store"),
    "not a number": ("sku,d0,d1\nS0,1,two\n", "vec.csv:2: a dimension column is empty or not a number"),
    "no sku column": ("item,d0\nS0,1\n", "vec.csv: no `sku` column"),
    "empty": ("sku,vector\n", "vec.csv: no vectors in the file"),
}


@pytest.mark.parametrize(("content", "message"), BAD_CSV.values(), ids=BAD_CSV.keys())
def test_bad_embedding_files_are_refused_and_nothing_is_stored(shop: Home, tmp_path: Path, content: str,
                                                                message: str) -> None:
    path = tmp_path / "vec.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportDataError) as exc:
        ingest_embeddings(shop, path)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert not (shop.config.artifacts_dir / EMBEDDINGS_KIND).exists()


def test_npy_needs_a_matching_sku_list(shop: Home, tmp_path: Path) -> None:
    npy, skus = _npy(tmp_path, VECTORS, [f"S{i}" for i in range(10)])
    with pytest.raises(ImportDataError, match="needs --skus FILE"):
        ingest_embeddings(shop, npy)
    with pytest.raises(ImportDataError, match=r"skus\.txt lists 10 SKUs but vec\.npy has 11 rows"):
        ingest_embeddings(shop, npy, skus=skus)
    np.save(tmp_path / "flat.npy", VECTORS.ravel())
    with pytest.raises(ImportDataError, match="expected a 2-D numeric"):
        ingest_embeddings(shop, tmp_path / "flat.npy", skus=skus)
    assert not (shop.config.artifacts_dir / EMBEDDINGS_KIND).exists()


def test_min_coverage_is_the_admins_choice(shop: Home, tmp_path: Path) -> None:
    path = tmp_path / "vec.csv"
    path.write_text("sku,vector\nS0,1 2\nX1,1 2\nX2,1 2\n", encoding="utf-8")
    assert ingest_embeddings(shop, path, min_coverage=0.3).known == 1
    with pytest.raises(ImportDataError, match="unknown metric 'l2'"):
        ingest_embeddings(shop, path, metric="l2")


def test_parquet_without_pyarrow_says_what_to_do(shop: Home, tmp_path: Path) -> None:
    if importlib.util.find_spec("pyarrow") is not None:
        pytest.skip("pyarrow is installed here (it is not a dependency): the missing-pyarrow message cannot show")
    (tmp_path / "vec.parquet").write_bytes(b"PAR1")
    with pytest.raises(ImportDataError, match=r"reading Parquet needs pyarrow.*export the vectors as \.npy"):
        ingest_embeddings(shop, tmp_path / "vec.parquet")


def test_tokenize_build_fuses_the_imported_vectors(shop: Home, tmp_path: Path) -> None:
    cfg = RQConfig(levels=(3, 2), last_level_size=64, kmeans_iters=5, min_utilisation=0.0, min_perplexity_ratio=0.0)
    with pytest.raises(TokenizeError, match="no cf-imported artifact to fuse: run tanaban ingest embeddings"):
        build_semantic_ids(shop, cfg, cf_source="imported")
    path = tmp_path / "vec.csv"
    path.write_text(_csv_spaces(VECTORS[:10], [f"S{i}" for i in range(10)]), encoding="utf-8")
    ingest_embeddings(shop, path)
    result = build_semantic_ids(shop, cfg, cf_source="imported")
    meta = json.loads((result.path / MANIFEST).read_text(encoding="utf-8"))
    assert result.fused and result.cf_missing == 1 and meta["cf_version"].startswith("cf-imported/")


def _lists_csv(rows: list[tuple[str, int, str]]) -> str:
    return "customer_id,rank,sku\n" + "".join(f"{c},{r},{s}\n" for c, r, s in rows)


def test_lists_are_stored_by_store_user_id_in_rank_order(shop: Home, tmp_path: Path) -> None:
    path = tmp_path / "top.csv"  # ranks out of order, one unknown SKU, one unknown customer, one repeated SKU
    path.write_text(_lists_csv([("cust-1", 2, "S4"), ("cust-1", 1, "S9"), ("cust-1", 3, "GONE"), ("cust-2", 1, "S0"),
                                ("cust-2", 2, "S0"), ("stranger-42", 1, "S1")]), encoding="utf-8")
    report = ingest_lists(shop, path)
    assert (report.customers, report.known_customers, report.unknown_customers) == (3, 2, 1)
    assert (report.items, report.unknown_skus, report.k) == (3, 1, 2)
    items, users = _ids(shop)
    art = load_artifact(shop.config.artifacts_dir, LISTS_KIND)
    stored = {int(u): row.tolist() for u, row in zip(art.arrays["user_ids"], art.arrays["items"], strict=True)}
    assert stored == {users[shop.store_pseudonym("cust-1")]: [items["S9"], items["S4"]],
                      users[shop.store_pseudonym("cust-2")]: [items["S0"], -1]}


def test_jsonl_lists_and_raw_ids_stay_out_of_every_file(shop: Home, tmp_path: Path) -> None:
    path = tmp_path / "top.jsonl"
    path.write_text("\n".join(json.dumps({"customer_id": f"cust-{u}", "items": ["S1", "S2"]}) for u in range(7))
                    + "\n", encoding="utf-8")
    assert ingest_lists(shop, path).known_customers == 7
    for file in shop.config.data_dir.rglob("*"):
        if file.is_file():
            assert b"cust-" not in file.read_bytes(), file  # raw ids: neither in the store nor in the artifact


BAD_LISTS = {
    "second list": ("top.jsonl", '{"customer_id": "cust-1", "items": ["S1"]}\n{"customer_id": "cust-1", "items": []}\n',
                    "top.jsonl:2: customer_id: a second list for this customer"),
    "repeated rank": ("top.csv", _lists_csv([("cust-1", 1, "S1"), ("cust-1", 1, "S2")]), "top.csv:3: rank: repeated"),
    "bad rank": ("top.csv", _lists_csv([("cust-1", 0, "S1")]), "top.csv:2: rank: expected a whole number from 1"),
    "not json": ("top.jsonl", "cust-1,S1\n", "top.jsonl:1: not a JSON object"),
    "no customer known": ("top.csv", _lists_csv([("who-1", 1, "S1")]), "none of its 1 customers is in the store"),
    "wrong columns": ("top.csv", "user,sku\nu,S1\n", "expected the columns customer_id,rank,sku"),
}


@pytest.mark.parametrize(("name", "content", "message"), BAD_LISTS.values(), ids=BAD_LISTS.keys())
def test_bad_list_files_are_refused_without_echoing_ids(shop: Home, tmp_path: Path, name: str, content: str,
                                                        message: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(ImportDataError) as exc:
        ingest_lists(shop, tmp_path / name)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert "cust-1" not in str(exc.value) and "who-1" not in str(exc.value)
    assert not (shop.config.artifacts_dir / LISTS_KIND).exists()
