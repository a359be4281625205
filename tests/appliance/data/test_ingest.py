"""appliance.data.ingest: the bad-input table of docs/INGEST.md, all-or-nothing files, idempotent re-ingest, the reject
report, and raw customer ids never reaching the store, the report or an error message. The tests of what is written
(values, all-or-nothing, re-ingest, upsert, the reject report, NFC) run on SQLite and on PostgreSQL, where batches go
in with COPY (`backend_catalog`); the row checks, which write nothing, run on SQLite alone."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from appliance.config import IngestConfig
from appliance.data.home import Home
from appliance.data.ingest import IngestError, ingest_file
from appliance.data.store import Interaction, Item, Review, User

SECRET = "alice.secret@example.com"  # a raw customer id that must never be found anywhere
ITEMS = ('{"sku": "A1", "title": "Red lipstick", "brand": "Acme", "categories": ["Makeup", "Lips"], "price": 9.5, '
         '"attributes": {"colour": "red"}}\n{"sku": "B2", "title": "Shampoo"}\n')
INTERACTIONS = (f"customer_id,sku,timestamp,event,rating\n{SECRET},A1,2024-05-01T12:00:00+00:00,purchase,5\n"
                f"{SECRET},B2,1714564800,view,\nbob,A1,2024-05-01T12:00:00Z,,\n")
REVIEWS = (json.dumps({"customer_id": SECRET, "sku": "A1", "timestamp": 1714564800, "rating": 4, "text": "Nice"})
           + "\n" + json.dumps({"sku": "B2", "timestamp": "2024-05-02T00:00:00+02:00", "text": "ok"}) + "\n")


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _counts(home: Home) -> tuple[int, ...]:
    with home.engine.connect() as conn:
        return tuple(conn.scalar(select(func.count()).select_from(t)) for t in (Item, User, Interaction, Review))


def _small(home: Home, **limits: int) -> Home:
    return Home(dataclasses.replace(home.config, ingest=IngestConfig(**limits)), home.engine)


@pytest.fixture
def catalog(home: Home, tmp_path: Path) -> Home:
    ingest_file(home, _write(tmp_path, "catalog.jsonl", ITEMS), "items", progress=False)
    return home


@pytest.fixture
def backend_catalog(backend_home: Home, tmp_path: Path) -> Home:
    """`catalog` on SQLite, then on PostgreSQL."""
    ingest_file(backend_home, _write(tmp_path, "catalog.jsonl", ITEMS), "items", progress=False)
    return backend_home


def test_good_files_load_with_the_expected_values(backend_catalog: Home, tmp_path: Path) -> None:
    catalog = backend_catalog
    inter = ingest_file(catalog, _write(tmp_path, "i.csv", INTERACTIONS), "interactions", progress=False)
    rev = ingest_file(catalog, _write(tmp_path, "r.jsonl", REVIEWS), "reviews", progress=False)
    assert (inter.read, inter.added, inter.present, inter.rejected) == (3, 3, 0, 0)
    assert (rev.read, rev.added) == (2, 2)
    assert _counts(catalog) == (2, 2, 3, 2)
    with catalog.engine.connect() as conn:
        item = conn.execute(select(Item).where(Item.sku == "A1")).one()
        rows = conn.execute(select(Interaction.ts, Interaction.event, Interaction.rating).order_by(Interaction.id))
        assert rows.all() == [(1714564800, "purchase", 5.0), (1714564800, "view", None), (1714564800, "purchase", None)]
        assert conn.scalar(select(Review.ts).where(Review.text == "ok")) == 1714600800  # +02:00 applied
    assert (item.brand, item.categories, item.price, item.attributes) == ("Acme", ["Makeup", "Lips"], 9.5,
                                                                          {"colour": "red"})


BAD = [  # (name, kind, content, expected message after "file:")
    ("no-title.jsonl", "items", '{"sku": "X"}\n', "1: title: required, but missing or empty"),
    ("price.csv", "items", "sku,title,price\nX,T,abc\n", "2: price: expected a number >= 0"),
    ("neg.jsonl", "items", '{"sku": "X", "title": "T", "price": -1}\n', "1: price: expected a number >= 0"),
    ("field.jsonl", "items", '{"sku": "X", "title": "T", "colour": "red"}\n', "1: colour: unknown field (known:"),
    ("col.csv", "items", "sku,title,colour\nX,T,red\n", "1: header: unknown column 'colour'"),
    ("req.csv", "items", "sku,brand\nX,B\n", "1: header: a 'title' or 'text' column is required"),
    ("dupcol.csv", "items", "sku,title,sku\nX,T,X\n", "1: header: column 'sku' appears twice"),
    ("nohead.csv", "interactions", f"{SECRET},A1,1\n", "1: header: unknown column 1 (known: customer_id"),
    ("key.jsonl", "interactions", json.dumps({"customer_id": "c", "sku": "A1", "timestamp": 1, SECRET: 1}) + "\n",
     "1: line: unknown field (known: customer_id, sku, timestamp, event, rating)"),
    ("json.jsonl", "items", '{"sku": "X", "title": "T"}\n{"sku": \n', "2: line: not valid JSON"),
    ("list.jsonl", "items", '["X", "T"]\n', "1: line: expected a JSON object"),
    ("cols.csv", "items", "sku,title\nX,T,extra\n", "2: line: expected 2 columns as in the header, got 3"),
    ("long.jsonl", "items", json.dumps({"sku": "X", "title": "t" * 1001}) + "\n",
     "1: title: longer than 1000 characters (limit ingest.max_short_chars)"),
    ("dup.csv", "items", "sku,title\nX,T\nY,U\nX,V\n", "4: sku: repeated (first at line 2)"),
    ("cats.jsonl", "items", '{"sku": "X", "title": "T", "categories": [1]}\n', "1: categories: expected a list"),
    ("attrs.csv", "items", 'sku,title,attributes\nX,T,"[1]"\n', "2: attributes: expected a JSON object"),
    ("naive.csv", "interactions", "customer_id,sku,timestamp\nc,A1,2024-05-01T12:00:00\n",
     "2: timestamp: expected ISO-8601 with a UTC offset"),
    ("ts.csv", "interactions", "customer_id,sku,timestamp\nc,A1,yesterday\n", "2: timestamp: expected ISO-8601"),
    ("ms.csv", "interactions", "customer_id,sku,timestamp\nc,A1,1714564800000\n", "2: timestamp: expected ISO"),
    ("event.csv", "interactions", "customer_id,sku,timestamp,event\nc,A1,1,click\n",
     "2: event: expected one of purchase, view, cart, rating, review"),
    ("rating.csv", "interactions", "customer_id,sku,timestamp,rating\nc,A1,1,7\n",
     "2: rating: expected a number from 1 to 5"),
    ("sku.csv", "interactions", "customer_id,sku,timestamp\nc,A1,1\nc,NOPE,1\n",
     "3: sku: no item has this sku; ingest the items file first"),
    ("cid.csv", "interactions", "customer_id,sku,timestamp\n,A1,1\n", "2: customer_id: required"),
    ("cidlong.jsonl", "interactions", json.dumps({"customer_id": SECRET * 50, "sku": "A1", "timestamp": 1}) + "\n",
     "1: customer_id: longer than 1000 characters"),
    ("text.jsonl", "reviews", '{"sku": "A1", "timestamp": 1}\n', "1: text: required"),
    ("latin1.csv", "items", "sku,title\nX,Caf\xe9\n".encode("latin-1"),
     "2: encoding: not valid UTF-8 at byte offset 15 (byte 0xe9); convert the file first, e.g. `iconv -f latin1"),
    ("utf16.csv", "items", "sku,title\nX,T\n".encode("utf-16"), "1: encoding: the file is UTF-16"),
    ("cut.jsonl", "items", '{"sku": "X", "title": "T"}\n{"sku": "Y", "ti', "2: line: the file ends in the middle"),
    ("cututf8.csv", "items", "sku,title\nX,Caf\u00e9".encode()[:-1], "2: line: the file ends in the middle"),
    ("bomlatin1.csv", "items", b"\xef\xbb\xbfsku,title\nX,Caf\xe9\n", "2: encoding: not valid UTF-8 at byte offset 18"),
    ("cut.csv", "items", 'sku,title\nX,T\nY,"Sham', "3: line: the file ends in the middle of a record"),
    ("cutcols.csv", "items", "sku,title,brand\nX,T,B\nY,U", "3: line: the file ends in the middle of a record"),
    ("cut.jsonl.gz", "items", gzip.compress(ITEMS.encode())[:-12], "gzip: the compressed stream ends early"),
    ("fake.csv.gz", "items", b"sku,title\nX,T\n", "1: gzip: the compressed stream is not gzip or is corrupt"),
    ("surrogate.jsonl", "items", '{"sku": "X", "title": "T\\ud800"}\n', "1: title: contains a lone UTF-16 surrogate"),
    ("surrogate.csv", "items", b"sku,title\nX,T\xed\xa0\x80\n", "2: title: contains a lone UTF-16 surrogate"),
    ("surrcid.jsonl", "interactions", '{"customer_id": "c\\udc00", "sku": "A1", "timestamp": 1}\n',
     "1: customer_id: contains a lone UTF-16 surrogate"),
    ("bigint.jsonl", "items", '{"sku": "X", "title": "T", "price": ' + "9" * 5000 + "}\n",
     "1: price: a JSON integer with more than 20 digits; write long ids as strings"),
    ("bigts.csv", "interactions", "customer_id,sku,timestamp\nc,A1," + "9" * 5000 + "\n",
     "2: timestamp: expected ISO-8601 with a UTC offset (e.g. 2024-05-01T12:00:00+00:00) or integer unix seconds "
     "(from 1970 to 9999)"),
    ("nul.jsonl", "items", '{"sku": "X", "title": "T\\u0000"}\n',
     "1: title: contains a NUL character (U+0000, \\u0000 in JSON); remove it from the file"),
    ("nulcid.csv", "interactions", "customer_id,sku,timestamp\nc\x00,A1,1\n", "2: customer_id: contains a NUL"),
    ("inf.jsonl", "items", '{"sku": "X", "title": "T", "price": 1e999}\n', "1: price: a JSON number too large"),
    ("nan.jsonl", "items", '{"sku": "X", "title": "T", "price": NaN}\n',
     "1: price: NaN and Infinity are not JSON numbers; write null for a missing value"),
    ("deep.jsonl", "items", '{"sku": "X", "title": "T", "attributes": ' + "[" * 200_000 + "]" * 200_000 + "}\n",
     "1: line: JSON nested deeper than 4 levels (the row object counts as one); rows are flat records"),
    ("nested.jsonl", "items", '{"sku": "X", "title": "T", "attributes": {"a": [[{"b": 1}]]}}\n',
     "1: attributes: JSON nested deeper than 4 levels"),
    ("deepcell.csv", "items", 'sku,title,attributes\nX,T,"' + '{""a"": ' * 300 + "1" + "}" * 300 + '"\n',
     "2: attributes: JSON nested deeper than 4 levels"),
    ("dupkey.jsonl", "items", '{"sku": "X", "title": "T", "title": "U"}\n',
     "1: title: the same key appears twice in one object (duplicate JSON key)"),
    ("dupattr.jsonl", "items", '{"sku": "X", "title": "T", "attributes": {"k": 1, "k": 2}}\n',
     "1: attributes: the same key appears twice"),
    ("dupother.jsonl", "interactions", f'{{"customer_id": "c", "sku": "A1", "timestamp": 1, "{SECRET}": 1, '
     f'"{SECRET}": 2}}\n', "1: line: the same key appears twice"),
]


@pytest.mark.parametrize(("name", "kind", "content", "expected"), BAD, ids=[row[0] for row in BAD])
def test_bad_input_aborts_with_file_line_field(catalog: Home, tmp_path: Path, name: str, kind: str,
                                               content: str | bytes, expected: str) -> None:
    path = _write(tmp_path, name, content)
    before = _counts(catalog)
    with pytest.raises(IngestError) as err:
        ingest_file(catalog, path, kind, progress=False)
    assert str(err.value).startswith(f"{path}:")
    assert expected in str(err.value)
    assert SECRET not in str(err.value)
    assert _counts(catalog) == before


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("items.txt", "x", "cannot tell the format from the name"),
    ("missing.csv", None, "no such file"),
    ("folder.jsonl", "dir", "is a directory; give one file (ingest the files in it one by one)"),
    ("-", None, "<stdin>: standard input has no name to tell the format from; pass --format jsonl|csv"),
    ("huge.jsonl", '{"sku": "' + "x" * 300 + '"}\n', "1: line: longer than 200 bytes (limit ingest.max_line_bytes)"),
])
def test_file_level_errors(home: Home, tmp_path: Path, name: str, content: str | None, expected: str) -> None:
    path = _write(tmp_path, name, content) if content not in (None, "dir") else tmp_path / name
    if content == "dir":
        path.mkdir()
    with pytest.raises(IngestError) as err:
        ingest_file(_small(home, max_line_bytes=200), path if name != "-" else "-", "items", progress=False)
    assert expected in str(err.value)


@pytest.mark.parametrize(("name", "content"), [
    ("bom.csv", "\ufeffsku,title\r\nX,T\r\nY,U"),  # BOM, CRLF, last line complete but without a line break
    ("plain.csv", 'sku,title,categories,attributes\nX,"T, with ""quotes""\nand a break",a|b,"{""k"": 1}"\nY,U,,\n'),
    ("ok.jsonl.gz", gzip.compress(b'{"sku": "X", "title": "T"}\n\n{"sku": "Y", "title": "U"}')),
    ("gzip-without-gz-name.csv", gzip.compress(b"sku,title\nX,T\nY,U\n")),  # recognised by its magic bytes
    # an escaped surrogate *pair* is one valid character; 20 digits are the most an integer may have
    ("pairs.jsonl", '{"sku": "X", "title": "\\ud83d\\ude00"}\n{"sku": "Y", "title": "U", "price": ' + "9" * 20 + "}\n"),
    ("brackets.jsonl", '{"sku": "X", "title": "\\"' + "[{" * 300 + '"}\n{"sku": "Y", "title": "U"}\n'),  # in a string
])
def test_accepted_variants(home: Home, tmp_path: Path, name: str, content: str | bytes) -> None:
    report = ingest_file(home, _write(tmp_path, name, content), "items", progress=False)
    assert (report.read, report.added) == (2, 2)
    with home.engine.connect() as conn:
        assert sorted(conn.scalars(select(Item.sku))) == ["X", "Y"]


def test_csv_categories_and_attributes_are_parsed(home: Home, tmp_path: Path) -> None:
    ingest_file(home, _write(tmp_path, "c.csv", 'sku,title,categories,attributes\nX,T,a|b,"{""k"": 1}"\n'), "items",
                progress=False)
    with home.engine.connect() as conn:
        assert conn.execute(select(Item.categories, Item.attributes)).one() == (["a", "b"], {"k": 1})


def test_a_bad_row_after_flushed_batches_leaves_the_store_unchanged(backend_catalog: Home, tmp_path: Path) -> None:
    catalog = backend_catalog
    rows = "".join(f"c{i},A1,{i}\n" for i in range(7)) + "c9,A1,not-a-time\n"
    path = _write(tmp_path, "late.csv", "customer_id,sku,timestamp\n" + rows)
    before = _counts(catalog)
    with pytest.raises(IngestError, match=":9: timestamp:"):
        ingest_file(_small(catalog, batch_rows=2), path, "interactions", progress=False)
    assert _counts(catalog) == before


def test_re_ingest_adds_nothing(backend_catalog: Home, tmp_path: Path) -> None:
    catalog = backend_catalog
    files = [(_write(tmp_path, "i.csv", INTERACTIONS), "interactions"),
             (_write(tmp_path, "r.jsonl", REVIEWS), "reviews")]
    for path, kind in files:
        ingest_file(catalog, path, kind, progress=False)
    before = _counts(catalog)
    for path, kind in [(tmp_path / "catalog.jsonl", "items"), *files]:
        again = ingest_file(_small(catalog, batch_rows=1), path, kind, progress=False)
        assert (again.added, again.updated, again.present) == (0, 0, again.read)
    assert _counts(catalog) == before


def test_items_upsert_by_sku(backend_catalog: Home, tmp_path: Path) -> None:
    catalog = backend_catalog
    path = _write(tmp_path, "v2.jsonl", ITEMS.replace("Shampoo", "Shampoo 250 ml"))
    report = ingest_file(catalog, path, "items", progress=False)
    assert (report.added, report.updated, report.present) == (0, 1, 1)
    with catalog.engine.connect() as conn:
        assert conn.scalar(select(Item.title).where(Item.sku == "B2")) == "Shampoo 250 ml"


def test_skip_invalid_writes_the_reject_report(backend_catalog: Home, tmp_path: Path) -> None:
    catalog = backend_catalog
    content = (f"customer_id,sku,timestamp,rating\n{SECRET},A1,1,\n{SECRET},NOPE,2,\n{SECRET},A1,3,9\n,B2,4,\n"
               f"{SECRET},B2,5,1\n")
    path, report_path = _write(tmp_path, "mixed.csv", content), tmp_path / "rejects.jsonl"
    report = ingest_file(catalog, path, "interactions", skip_invalid=True, reject_path=report_path, progress=False)
    assert (report.read, report.added, report.rejected, report.reject_path) == (5, 2, 3, report_path)
    rejects = [json.loads(line) for line in report_path.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [(4, "rating"), (5, "customer_id"), (3, "sku")]
    assert rejects[2]["reason"] == "no item has this sku; ingest the items file first"
    assert SECRET not in report_path.read_text(encoding="utf-8")


def test_skip_invalid_default_report_path(catalog: Home, tmp_path: Path) -> None:
    path = _write(tmp_path, "one.jsonl", '{"sku": "Z"}\n{"sku": "Y", "title": "U"}\n')
    report = ingest_file(catalog, path, "items", skip_invalid=True, progress=False)
    assert report.reject_path == catalog.config.data_dir / "rejects" / "one.jsonl.rejects.jsonl"
    assert (report.added, report.rejected) == (1, 1)


def test_skip_invalid_rejects_malformed_json_values_instead_of_aborting(catalog: Home, tmp_path: Path) -> None:
    lines = [b'{"sku": "G1", "title": "good"}', b'{"sku": "S1", "title": "T\\ud800"}',
             b'{"sku": "S2", "title": "T\xed\xa0\x80"}', b'{"sku": "N1", "title": "T", "price": ' + b"9" * 5000 + b"}",
             b'{"sku": "D1", "title": "T", "attributes": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
             b'{"sku": "K1", "title": "T", "sku": "K2"}', b'{"sku": "G2", "title": "good"}']
    path, report_path = _write(tmp_path, "mixed.jsonl", b"\n".join(lines) + b"\n"), tmp_path / "rejects.jsonl"
    report = ingest_file(catalog, path, "items", skip_invalid=True, reject_path=report_path, progress=False)
    assert (report.read, report.added, report.rejected) == (7, 2, 5)
    rejects = [json.loads(line) for line in report_path.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [(2, "title"), (3, "title"), (4, "price"), (5, "line"),
                                                          (6, "sku")]


def test_stdin_is_read_as_a_stream_and_gzip_is_recognised(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gzip.compress(b"sku,title\nX,T\nY,U\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    report = ingest_file(home, "-", "items", fmt="csv", skip_invalid=True, progress=False)
    assert (report.source, report.read, report.added) == ("<stdin>", 2, 2)
    assert report.reject_path == home.config.data_dir / "rejects" / "stdin.rejects.jsonl"


def test_a_fifo_is_read_as_a_stream(home: Home, tmp_path: Path) -> None:
    fifo = tmp_path / "items.jsonl"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(b'{"sku": "X", "title": "T"}\n',))
    writer.start()
    report = ingest_file(home, fifo, "items", progress=False)
    writer.join(timeout=10)
    assert (report.source, report.read, report.added) == (str(fifo), 1, 1)


def test_skus_and_customer_ids_are_nfc_normalised(backend_home: Home, tmp_path: Path) -> None:
    home = backend_home
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    ingest_file(home, _write(tmp_path, "i.jsonl", json.dumps({"sku": composed, "title": "T"}) + "\n"), "items",
                progress=False)
    events = (f"customer_id,sku,timestamp\nJos\u00e9,{decomposed},1\nJose\u0301,{composed},2\n"
              f"{decomposed},{decomposed},3\n")
    report = ingest_file(home, _write(tmp_path, "e.csv", events), "interactions", progress=False)
    assert (report.added, report.rejected) == (3, 0)
    with home.engine.connect() as conn:
        assert list(conn.scalars(select(Item.sku))) == [composed]
        assert set(conn.scalars(select(User.pseudonym))) == {home.store_pseudonym("Jos\u00e9"),
                                                             home.store_pseudonym(composed)}


def test_raw_customer_ids_are_nowhere_in_the_store_files(catalog: Home, tmp_path: Path) -> None:
    ingest_file(catalog, _write(tmp_path, "i.csv", INTERACTIONS), "interactions", progress=False)
    ingest_file(catalog, _write(tmp_path, "r.jsonl", REVIEWS), "reviews", progress=False)
    catalog.engine.dispose()
    files = [p for p in catalog.config.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "tanaban.db" for p in files) or not catalog.config.store.url.startswith("sqlite:")
    for file in files:
        data = file.read_bytes()
        assert SECRET.encode() not in data and b"bob" not in data, file
    with catalog.engine.connect() as conn:
        assert all(p.startswith("usr-") for p in conn.scalars(select(User.pseudonym)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(st.text(st.sampled_from(list('a ,"|\r\n\t\u00e9\u2028\U0001f600')) | st.characters(
    blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40).filter(lambda t: t.strip()),
    min_size=1, max_size=4))
def test_any_title_round_trips_through_csv(home: Home, tmp_path: Path, titles: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sku", "title"])
    writer.writerows([f"p{i}", title] for i, title in enumerate(titles))
    ingest_file(home, _write(tmp_path, "t.csv", buffer.getvalue()), "items", progress=False)
    with home.engine.connect() as conn:
        stored = {sku: title for sku, title in conn.execute(select(Item.sku, Item.title))}
    assert [stored[f"p{i}"] for i in range(len(titles))] == titles


# --- dataset adapters on tiny directories with the real layouts ---------------------------------------------------

def _fake_beauty(root: Path) -> Path:
    (root / "derived").mkdir(parents=True)
    (root / "raw" / "gram").mkdir(parents=True)
    items = [{"item_id": 1, "asin": "B001", "title": "OPI Nail Lacquer", "brand_guess": "OPI",
              "categories": ["Makeup", "Nails"], "attributes": ["OPI", "Makeup", "Nails"]},
             {"item_id": 2, "asin": "B002", "title": "", "brand_guess": "Unknown", "categories": ["Skin Care"],
              "attributes": ["Unknown", "Skin Care"]},
             {"item_id": 3, "asin": "B003", "title": "Comb", "brand_guess": None, "categories": [], "attributes": []}]
    (root / "derived" / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    (root / "raw" / "gram" / "user_sequence.txt").write_text("AUSER1 B002 B001 B003\nAUSER2 B003 B001\n")
    return root


def _fake_book(root: Path) -> Path:
    root.mkdir()
    for split, rows in {"train": "0\t0\n0\t1\n1\t2\n", "valid": "0\t2\n", "test": "1\t10\n"}.items():
        (root / f"{split}.tsv").write_text("user\titem\n" + rows, encoding="utf-8")
    return root


def _events(home: Home) -> list[tuple[str, str, int, str | None]]:
    query = (select(User.pseudonym, Item.sku, Interaction.ts, Interaction.split).join(User).join(Item)
             .order_by(Interaction.id))
    with home.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_beauty_adapter(home: Home, tmp_path: Path) -> None:
    from appliance.data.adapters import ingest_dataset

    reports = ingest_dataset(home, "amazon-beauty-2014", _fake_beauty(tmp_path / "beauty"), progress=False)
    assert [(r.kind, r.read, r.added) for r in reports] == [("items", 3, 3), ("interactions", 5, 5)]
    with home.engine.connect() as conn:
        items = {r.sku: r for r in conn.execute(select(Item))}
    assert (items["B001"].brand, items["B001"].categories) == ("OPI", ["Makeup", "Nails"])
    assert (items["B002"].title, items["B002"].brand) == ("item B002", None)
    u1 = home.store_pseudonym("AUSER1")
    assert [(sku, ts) for user, sku, ts, _ in _events(home) if user == u1] == [("B002", 0), ("B001", 1), ("B003", 2)]
    again = ingest_dataset(home, "amazon-beauty-2014", tmp_path / "beauty", progress=False)
    assert [r.added for r in again] == [0, 0]


def test_book_adapter_sets_splits_and_row_order(home: Home, tmp_path: Path) -> None:
    from appliance.data.adapters import ingest_dataset

    reports = ingest_dataset(home, "amazon-book-cf", _fake_book(tmp_path / "book"), progress=False)
    assert [(r.kind, r.added) for r in reports] == [("items", 4), ("interactions", 3), ("interactions", 1),
                                                    ("interactions", 1)]
    with home.engine.connect() as conn:
        assert dict(conn.execute(select(Item.sku, Item.title)).all()) == {
            "0": "item 0", "1": "item 1", "2": "item 2", "10": "item 10"}
    u0, u1 = home.store_pseudonym("0"), home.store_pseudonym("1")
    assert _events(home) == [(u0, "0", 0, "train"), (u0, "1", 1, "train"), (u1, "2", 2, "train"),
                             (u0, "2", 3, "valid"), (u1, "10", 4, "test")]


@pytest.mark.parametrize(("name", "break_it", "expected"), [
    ("amazon-book-cf", lambda d: (d / "valid.tsv").unlink(), "not a amazon-book-cf directory: missing valid.tsv"),
    ("amazon-book-cf", lambda d: (d / "test.tsv").write_text("u\ti\n1\t2\n"), "test.tsv:1: header: expected"),
    ("amazon-book-cf", lambda d: (d / "test.tsv").write_text("user\titem\n1\t2\t3\n"),
     "test.tsv:2: line: expected 2 tab-separated columns"),
    ("amazon-beauty-2014", lambda d: (d / "raw/gram/user_sequence.txt").write_text("AUSER1 B009\n"),
     "user_sequence.txt:1: sku: no item has this sku"),
    ("amazon-beauty-2014", lambda d: (d / "raw/gram/user_sequence.txt").write_bytes(b"AUSER1 B\xe9\n"),
     "user_sequence.txt:1: encoding: not valid UTF-8"),
    ("nope", lambda d: None, "unknown dataset 'nope'"),
])
def test_adapter_errors_leave_the_store_unchanged(home: Home, tmp_path: Path, name: str, break_it,
                                                  expected: str) -> None:
    from appliance.data.adapters import ingest_dataset

    root = _fake_book(tmp_path / "d") if name == "amazon-book-cf" else _fake_beauty(tmp_path / "d")
    break_it(root)
    with pytest.raises(IngestError, match=expected.replace("(", r"\(")):
        ingest_dataset(home, name, root, progress=False)
    assert _counts(home) == (0, 0, 0, 0)


FREE_TEXT = ("Two-person dome tent, 2.1 kg, aluminium poles, for backpacking and festivals, with a vestibule for two "
             "rucksacks and a footprint\nPacked size 45 x 15 cm.")


def test_one_free_text_field_replaces_title_brand_and_categories(home: Home, tmp_path: Path) -> None:
    from appliance.data.artifacts import load_artifact
    from appliance.text.embed import embed_items
    from appliance.text.profiles import load_item_profiles

    path = tmp_path / "catalog.csv"
    path.write_text('sku,text\nSB-7,Down sleeping bag -5 C\nT-100,"' + FREE_TEXT + '"\n', encoding="utf-8")
    ingest_file(home, path, "items")
    with home.engine.connect() as conn:
        rows = {r.sku: r for r in conn.execute(select(Item.sku, Item.title, Item.description, Item.brand))}
    assert (rows["SB-7"].title, rows["SB-7"].description) == ("Down sleeping bag -5 C", None)
    tent = rows["T-100"]
    assert FREE_TEXT.startswith(tent.title) and len(tent.title) <= 120 and not tent.title.endswith(" ")
    assert tent.description == FREE_TEXT and tent.brand is None
    profiles = {p.sku: p.text for p in load_item_profiles(home.engine)}
    assert "Packed size 45 x 15 cm." in profiles["T-100"] and profiles["SB-7"] == "Down sleeping bag -5 C."
    embed_items(home, encoder=_LengthEncoder(), progress=lambda _done, _total: None)
    vectors = load_artifact(home.config.artifacts_dir, "item-embeddings").arrays["vectors"]
    lengths = dict(zip([p.sku for p in load_item_profiles(home.engine)], vectors[:, 0], strict=True))
    assert lengths == {"SB-7": len(profiles["SB-7"]), "T-100": len(profiles["T-100"])}  # the whole text is encoded


class _LengthEncoder:
    """Stand-in text encoder: one dimension, the text's length (the real one is tested in tests/appliance/text)."""

    model_dir, sha256 = Path("/fake"), "f" * 64

    def __init__(self) -> None:
        from appliance.config import TextEncoderConfig

        self.cfg = TextEncoderConfig(batch_size=4)

    def encode(self, texts, *, progress=None):
        if progress is not None:
            progress(len(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_free_text_with_a_title_goes_before_the_description(home: Home, tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    path.write_text(json.dumps({"sku": "M1", "title": "Mug", "description": "350 ml", "text": "Stoneware, blue"})
                    + "\n", encoding="utf-8")
    ingest_file(home, path, "items")
    with home.engine.connect() as conn:
        assert conn.execute(select(Item.title, Item.description)).one() == ("Mug", "Stoneware, blue\n350 ml")


def test_copy_batches_keep_file_order_skip_repeats_and_roll_back_as_one(backend_catalog: Home, tmp_path: Path) -> None:
    """Across many small batches (COPY into staging on PostgreSQL): ids follow file order, rows repeated within the
    file or already stored are skipped, and a bad row in the last batch undoes every batch before it."""
    small = _small(backend_catalog, batch_rows=3)
    rows = [f"u{i % 4},{'A1' if i % 3 else 'B2'},{1000 - i}" for i in range(10)]
    rows.insert(5, rows[2])  # repeated within the file
    content = "customer_id,sku,timestamp\n" + "\n".join(rows) + "\n"
    report = ingest_file(small, _write(tmp_path, "e.csv", content), "interactions", progress=False)
    assert (report.read, report.added, report.present) == (11, 10, 1)
    with backend_catalog.engine.connect() as conn:
        assert list(conn.scalars(select(Interaction.ts).order_by(Interaction.id))) == [1000 - i for i in range(10)]
    again = ingest_file(small, _write(tmp_path, "e2.csv", content + "u9,A1,5\n"), "interactions", progress=False)
    assert (again.added, again.present) == (1, 11)
    before = _counts(backend_catalog)
    bad = content.replace("u0,B2,1000", "u7,B2,999") + "u8,A1,2\nu8,NOPE,3\n"
    with pytest.raises(IngestError, match=":14: sku: no item has this sku"):
        ingest_file(small, _write(tmp_path, "e3.csv", bad), "interactions", progress=False)
    assert _counts(backend_catalog) == before
    reviews = "".join(json.dumps({"customer_id": f"u{i}", "sku": "A1", "timestamp": i, "text": f"t{i % 2}"}) + "\n"
                      for i in range(5))
    assert ingest_file(small, _write(tmp_path, "r.jsonl", reviews * 2), "reviews", progress=False).added == 5


def test_a_bounded_id_cache_still_maps_every_row_to_its_customer_and_item(
        backend_catalog: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for two ids per kind and batches of three rows, customers and items keep falling out of the cache
    and come back in later batches: each row must still land on its own customer and item, with no customer
    created twice, and a re-ingest adds nothing."""
    from appliance.data import ingest

    monkeypatch.setattr(ingest, "ID_CACHE_ENTRIES", 2)
    catalog = _small(backend_catalog, batch_rows=3)
    more = '{"sku": "C3", "title": "Comb"}\n{"sku": "D4", "title": "Dye"}\n'
    ingest_file(catalog, _write(tmp_path, "more.jsonl", more), "items", progress=False)
    skus = ("A1", "B2", "C3", "D4")
    rows = [(f"cust{(i * 5) % 7}", skus[(i * 3) % 4], 100 + i) for i in range(40)]
    path = _write(tmp_path, "e.csv", "customer_id,sku,timestamp\n" + "".join(f"{c},{s},{t}\n" for c, s, t in rows))
    report = ingest_file(catalog, path, "interactions", progress=False)
    assert (report.added, report.present) == (40, 0)
    with catalog.engine.connect() as conn:
        stored = conn.execute(select(User.pseudonym, Item.sku, Interaction.ts)
                              .join(User, Interaction.user_id == User.id)
                              .join(Item, Interaction.item_id == Item.id)).all()
        assert conn.scalar(select(func.count()).select_from(User)) == 7
    assert sorted(stored) == sorted((catalog.store_pseudonym(c), s, t) for c, s, t in rows)
    assert ingest_file(catalog, path, "interactions", progress=False).added == 0


def test_the_id_cache_keeps_the_most_recently_used_entries_up_to_its_size() -> None:
    from appliance.data.ingest import _IdCache

    cache = _IdCache(2)
    cache.remember([("a", 1), ("b", 2)])
    assert cache.split(["a", "x"]) == ({"a": 1}, ["x"])  # "a" is now the most recent
    cache.remember([("c", 3)])
    assert list(cache.ids.items()) == [("a", 1), ("c", 3)]
    assert cache.split(["b", "c"]) == ({"c": 3}, ["b"])


def test_an_item_repeated_in_a_later_batch_is_rejected_naming_its_first_line(backend_home: Home,
                                                                             tmp_path: Path) -> None:
    """The repeat check is kept by the database (a temporary table of sku -> first line), so it must see repeats
    across batches, within one, and not carry over to the next file."""
    small = _small(backend_home, batch_rows=2)
    skus = ["X", "Y", "Z", "X", "W", "Y", "Y", "V"]  # line 4 repeats line 1 (an earlier batch), 6 and 7 repeat 2
    content = "sku,title\n" + "".join(f"{sku},title {n}\n" for n, sku in enumerate(skus, start=2))
    path, rejects = _write(tmp_path, "items.csv", content), tmp_path / "rejects.jsonl"
    with pytest.raises(IngestError, match=r"items\.csv:5: sku: repeated \(first at line 2\); each item appears once"):
        ingest_file(small, path, "items", progress=False)
    assert _counts(backend_home)[0] == 0  # all or nothing
    report = ingest_file(small, path, "items", skip_invalid=True, reject_path=rejects, progress=False)
    assert (report.read, report.added, report.rejected) == (8, 5, 3)
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["reason"].split(";")[0]) for r in found] == [
        (5, "repeated (first at line 2)"), (7, "repeated (first at line 3)"), (8, "repeated (first at line 3)")]
    with backend_home.engine.connect() as conn:
        assert conn.scalar(select(Item.title).where(Item.sku == "X")) == "title 2"  # the first one is kept
    again = ingest_file(small, _write(tmp_path, "again.csv", "sku,title\nX,title 2\nQ,new\n"), "items",
                        progress=False)  # the previous file's skus are not repeats in this one
    assert (again.added, again.present, again.rejected) == (1, 1, 0)


def test_items_ingest_memory_does_not_grow_with_the_catalogue(home: Home, tmp_path: Path) -> None:
    """Python-heap peak (tracemalloc) while ingesting 2,000 vs 10,000 items in batches of 500: the old per-file dict
    of every sku grew by about 100 bytes an item (0.8 MB here); what is left must not depend on the item count."""
    import tracemalloc

    small = _small(home, batch_rows=500)
    peaks = []
    for n, start in ((2_000, 0), (10_000, 2_000)):
        path = _write(tmp_path, f"items{n}.csv", "sku,title\n" + "".join(f"SKU{start + i:07d},t\n" for i in range(n)))
        tracemalloc.start()
        try:
            assert ingest_file(small, path, "items", progress=False).added == n
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] - peaks[0] < 300_000, peaks
