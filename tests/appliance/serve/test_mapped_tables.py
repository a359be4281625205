"""serve.mmap_tables (appliance.serve.tables): bundles whose .npy tables are memory-mapped from private, hash-checked
copies answer exactly as bundles read into memory; a bundle file overwritten in place after load changes neither; a
table that no longer matches the signed manifest when it is copied is refused; no private copy stays on disk."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from appliance.data.home import Home
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.errors import ServeError
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from appliance.serve.service import CFBundle, Service, load_bundle
from appliance.serve.tables import MappedTables, remove_stale_tables, tables_dir
from export.cf import export_cf

CF_TABLES = ("user_emb", "item_emb", "precomputed", "user_intents", "item_intents")


def _keys(home: Home) -> list:
    return [load_public_key(home.config.keys_dir / PUBLIC_FILE)]


def _answers(bundle, users: list[str], skus: list[str]) -> list:
    out = []
    for pseudonym in users:
        out.append(bundle.for_user(pseudonym, 5, explain=True))
        out.append(bundle.for_user(pseudonym, 5, exclude=skus[:3]))
    out += [bundle.for_history(skus[i:i + 2], 4, explain=True) for i in range(0, 20, 2)]
    out += [bundle.similar(sku, 3) for sku in skus[:10]]
    return out


def _flip_in_place(path: Path, offset: int = -1) -> None:
    """Overwrite one byte of the file itself (same inode), as `cp` over it or a disk error would: a map of this file
    would see the change."""
    with path.open("r+b") as fh:
        fh.seek(offset, os.SEEK_END)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture
def cf_bundle(bundle_home: tuple[Home, Path]) -> tuple[Home, Path]:
    home, _ = bundle_home
    return home, export_cf(home, "lightgcn", version="v1")


def test_mapped_cf_tables_answer_exactly_as_tables_in_memory(cf_bundle, tmp_path: Path) -> None:
    home, path = cf_bundle
    plain = load_bundle(path, _keys(home))
    mapped = load_bundle(path, _keys(home), MappedTables(tmp_path / "tables", min_bytes=0))
    assert isinstance(mapped, CFBundle)
    for name in CF_TABLES:
        assert isinstance(getattr(mapped, name), np.memmap) and not isinstance(getattr(plain, name), np.memmap)
        assert not getattr(mapped, name).flags.writeable
        np.testing.assert_array_equal(getattr(mapped, name), getattr(plain, name))
    users, skus = list(plain.users)[:15], list(plain.sku_index)
    assert _answers(mapped, users, skus) == _answers(plain, users, skus)


def test_small_tables_stay_in_memory_unless_mapping_is_asked_for_them(cf_bundle, tmp_path: Path) -> None:
    home, path = cf_bundle
    bundle = load_bundle(path, _keys(home), MappedTables(tmp_path / "tables"))  # default: only tables >= 1 MiB
    assert not any(isinstance(getattr(bundle, name), np.memmap) for name in CF_TABLES)


def test_a_bundle_overwritten_in_place_after_load_does_not_change_mapped_answers(cf_bundle, tmp_path: Path) -> None:
    home, path = cf_bundle
    bundle = load_bundle(path, _keys(home), MappedTables(tmp_path / "tables", min_bytes=0))
    users, skus = list(bundle.users), list(bundle.sku_index)
    before = _answers(bundle, users, skus)
    precomputed = np.array(bundle.precomputed)
    naive = np.load(path / "precomputed.npy", mmap_mode="r")  # what mapping the bundle file itself would serve
    for name in ("precomputed.npy", "user_emb.npy", "item_emb.npy"):
        for offset in range(-1, -400, -7):
            _flip_in_place(path / name, offset)
    assert not np.array_equal(naive, precomputed)  # the damage reaches a map of the bundle's own file ...
    np.testing.assert_array_equal(bundle.precomputed, precomputed)  # ... but not the private copy
    assert _answers(bundle, users, skus) == before


def test_no_private_copy_stays_on_disk_across_loads_and_reloads(cf_bundle) -> None:
    home, _ = cf_bundle
    private = tables_dir(home.config.data_dir)
    service = Service(home.config.artifacts_dir / "bundles", _keys(home),
                      loader=lambda p, k: load_bundle(p, k, MappedTables(private, min_bytes=0)))
    assert service.reload() == "v1" and isinstance(service.current().precomputed, np.memmap)
    assert private.is_dir() and list(private.iterdir()) == []  # copied, checked, mapped, unlinked
    assert oct(private.stat().st_mode & 0o777) == "0o700"
    export_cf(home, "lightgcn", version="v2")
    assert service.reload() == "v2" and list(private.iterdir()) == []
    user = next(iter(service.current().users))
    assert service.current().for_user(user, 3).source == "cached"


def test_stale_copies_of_dead_processes_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale, live = tmp_path / f"{dead.stdout.strip()}-abc", tmp_path / f"{os.getpid()}-def"
    for directory in (stale, live):
        directory.mkdir()
        (directory / "precomputed.npy").write_bytes(b"x")
    assert remove_stale_tables(tmp_path) == 1
    assert not stale.exists() and live.exists()
    assert remove_stale_tables(tmp_path / "missing") == 0


def test_a_table_that_differs_from_the_signed_manifest_when_copied_is_refused(cf_bundle, tmp_path: Path) -> None:
    home, path = cf_bundle
    tables = MappedTables(tmp_path / "tables", min_bytes=0)
    files = load_bundle(path, _keys(home)).manifest.files
    _flip_in_place(path / "precomputed.npy")  # changed between the signature check and the copy
    with pytest.raises(ServeError, match=r"precomputed\.npy changed on disk after it was verified"):
        tables.array(path / "precomputed.npy", files)
    with pytest.raises(ServeError, match="not in its signed manifest"):
        tables.array(path / "precomputed.npy", {})
    assert list((tmp_path / "tables").iterdir()) == []


def test_a_node_with_mmap_tables_serves_the_same_answers_over_http(cf_bundle, serve_sample, bundle_home) -> None:
    home, _ = cf_bundle
    token = create_key(home.config.data_dir / KEYS_FILE, "tests")
    mapped_cfg = dataclasses.replace(home.config, serve=dataclasses.replace(home.config.serve, mmap_tables=True))
    plain_parts, mapped_parts = build_service(home.config), build_service(mapped_cfg)
    # the sample's tables are small: map them all, as a node with a million customers would map its large ones
    mapped_parts[0].loader = lambda p, k: load_bundle(p, k, MappedTables(tables_dir(home.config.data_dir), 0))
    mapped_parts[0].bundle = None
    mapped_parts[0].reload()
    assert isinstance(mapped_parts[0].current().precomputed, np.memmap)
    clients = [TestClient(create_app(*parts)) for parts in (plain_parts, mapped_parts)]
    auth = {"X-API-Key": token}
    for user in serve_sample.customers(bundle_home[1])[:10]:
        bodies = [c.post("/v1/recommendations", json={"user_id": user, "k": 4, "explain": True}, headers=auth)
                  for c in clients]
        assert bodies[0].status_code == 200 and bodies[0].json() == bodies[1].json()


def test_mapped_sequential_tables_answer_exactly_as_tables_in_memory(home: Home, tiny_themes, one_torch_thread,
                                                                     tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from appliance.config import SASRecConfig
    from appliance.models.sasrec import train_sasrec
    from appliance.serve.sequential import SequentialBundle
    from export.sasrec import export_sasrec

    tiny_themes.fill_home(home)
    train_sasrec(home, cfg=SASRecConfig(dim=8, blocks=1, heads=2, max_len=5, dropout=0.0, lr=2e-2, batch_size=4,
                                        max_epochs=2, eval_every=1, patience=100, seed=0))
    path = export_sasrec(home, quantize=False, version="s1")
    plain = load_bundle(path, _keys(home))
    mapped = load_bundle(path, _keys(home), MappedTables(tmp_path / "tables", min_bytes=0))
    assert isinstance(mapped, SequentialBundle) and isinstance(mapped.precomputed_scores, np.memmap)
    for name in ("indptr", "seq_items", "precomputed", "precomputed_scores", "item_emb"):
        np.testing.assert_array_equal(getattr(mapped, name), getattr(plain, name))
    users, skus = list(plain.users), list(plain.sku_index)
    for name in ("precomputed.npy", "precomputed_scores.npy"):
        for offset in range(-1, 128 - (path / name).stat().st_size, -5):  # .npy data after the 128-byte header
            _flip_in_place(path / name, offset)
    answers = [[b.for_user(u, 3, explain=True) for u in users] + [b.for_history(skus[:2], 3)] + [b.similar(skus[0], 3)]
               for b in (plain, mapped)]
    assert answers[0] == answers[1]
