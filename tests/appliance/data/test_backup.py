"""Backup and restore (appliance.data.backup): a home with a signed bundle, API keys and audit entries is backed up,
restored onto a fresh data directory, and then passes `doctor`, verifies its audit log and answers `recommend`
exactly as before; a wrong passphrase, an altered part or manifest, and a home in the way are refused."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from appliance.config import ApplianceConfig, load_config
from appliance.data.artifacts import save_artifact
from appliance.data.backup import (
    KEYS,
    MANIFEST,
    STORE,
    BackupError,
    create_backup,
    pg_dump_command,
    read_manifest,
    restore_backup,
)
from appliance.data.home import NotInitialisedError, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.locks import LockError, writing
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from appliance.doctor import FAIL, run_doctor
from appliance.privacy.audit.admin import verify_home
from appliance.serve.events import create_api_key
from appliance.serve.service import recommend_batch
from export.cf import export_cf

PASS = b"correct horse battery staple"


def _config(root: Path, **env: str) -> ApplianceConfig:
    return load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(root / "data"), **env})


def _customers(sample: Path) -> list[str]:
    lines = (sample / "interactions.csv").read_text().splitlines()[1:]
    return sorted({line.split(",")[0] for line in lines})[:6]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[ApplianceConfig, Path, Path]:
    """A home with the retail sample (seed 3, 60 items, 30 customers), a fabricated CF artifact exported as a signed
    bundle, one audited API key, and its backup; returns (config, sample directory, backup directory)."""
    root = tmp_path_factory.mktemp("source")
    cfg = _config(root)
    init_home(cfg)
    home = open_home(cfg)
    sample = root / "sample"
    generate_sample(sample, seed=3, n_items=60, n_users=30)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, sample / name, kind, progress=False)
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    save_artifact(cfg.artifacts_dir, "cf-lightgcn", {
        "user_emb": rng.normal(size=(split.n_users, 8)).astype(np.float32),
        "item_emb": rng.normal(size=(split.n_items, 8)).astype(np.float32),
        "user_ids": split.user_ids, "item_ids": split.item_ids}, {"model": "lightgcn"})
    export_cf(home, "lightgcn", version="v1", progress=False)
    create_api_key(cfg, "ops", ("read",))
    home.engine.dispose()
    backup = root / "backup"
    create_backup(cfg, backup, PASS)
    return cfg, sample, backup


def _answers(cfg: ApplianceConfig, customers: list[str]) -> list[tuple]:
    return [(r.customer_id, r.status, [(i.sku, round(i.score, 5)) for i in r.answer.items] if r.answer else None)
            for r in recommend_batch(cfg, [*customers, "nobody-at-all"], None, 5, False)]


@pytest.mark.sqlite_only(reason="backs up and restores a SQLite home; a PostgreSQL one is refused (tested below)")
def test_restore_onto_a_fresh_home_is_the_same_appliance(source, tmp_path: Path) -> None:
    cfg, sample, backup = source
    manifest, _ = read_manifest(backup)
    assert manifest["bundles"] == ["bundles/v1"]
    assert {STORE, KEYS, "audit.db", "api_keys.json", "bundles/bundles/CURRENT"} <= set(manifest["parts"])
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in backup.rglob("*") if p.is_file())
    assert b"PRIVATE KEY" not in (backup / KEYS).read_bytes()  # the keys are encrypted
    target = _config(tmp_path)
    report = restore_backup(target, backup, PASS)
    assert report.moved_aside == () and "chain intact" in report.audit
    doctor = run_doctor(lambda: target)
    assert [c.name for c in doctor.checks if c.status == FAIL] == []
    assert {c.name: c.status for c in doctor.checks}["bundles"] == "ok"
    home = open_home(target)
    assert verify_home(home).entries >= 3  # apikey.create, bundle.publish, ... and the restore's own log.verify
    home.engine.dispose()
    assert _answers(target, _customers(sample)) == _answers(cfg, _customers(sample))
    assert _answers(target, [])[-1][1] == "unknown_customer"
    assert oct(target.keys_dir.stat().st_mode & 0o777) == "0o700"


def test_wrong_passphrase_and_altered_parts_are_refused(source, tmp_path: Path) -> None:
    _, _, backup = source
    with pytest.raises(BackupError, match="passphrase is wrong"):
        restore_backup(_config(tmp_path / "a"), backup, b"not the passphrase at all")
    copy = tmp_path / "copy"
    for path in backup.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(backup)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(backup)).write_bytes(path.read_bytes())
    store = copy / STORE
    data = bytearray(store.read_bytes())
    data[-1] ^= 1
    store.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"store\.db does not match its SHA-256"):
        restore_backup(_config(tmp_path / "b"), copy, PASS)
    store.write_bytes((backup / STORE).read_bytes())
    (copy / "bundles" / "extra.txt").write_text("planted")
    with pytest.raises(BackupError, match="not in the manifest"):
        restore_backup(_config(tmp_path / "b"), copy, PASS)
    (copy / "bundles" / "extra.txt").unlink()
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["source"] = "/elsewhere"  # hashes still match: only the signature catches it
    (copy / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    with pytest.raises(BackupError, match="does not verify the manifest"):
        restore_backup(_config(tmp_path / "c"), copy, PASS)
    assert not (tmp_path / "b" / "data").exists() and not (tmp_path / "c" / "data").exists()  # nothing written


@pytest.mark.sqlite_only(reason="backs up and restores a SQLite home; a PostgreSQL one is refused (tested below)")
def test_an_existing_home_is_kept_unless_forced_and_then_moved_aside(source, tmp_path: Path) -> None:
    _, _, backup = source
    target = _config(tmp_path)
    init_home(target)
    old_key = (target.keys_dir / "pseudonym.key").read_bytes()
    with pytest.raises(BackupError, match="--force"):
        restore_backup(target, backup, PASS)
    report = restore_backup(target, backup, PASS, force=True)
    aside = [p for p in report.moved_aside if p.name.startswith("keys.before-restore-")]
    assert aside and (aside[0] / "pseudonym.key").read_bytes() == old_key  # never deleted
    assert (target.keys_dir / "pseudonym.key").read_bytes() != old_key


def test_backup_refuses_before_init_a_used_destination_and_a_short_passphrase(source, tmp_path: Path) -> None:
    cfg, _, _ = source
    with pytest.raises(NotInitialisedError, match="tanaban init"):
        create_backup(_config(tmp_path / "fresh"), tmp_path / "b1", PASS)
    assert not (tmp_path / "fresh" / "data").exists()
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("keep me")
    with pytest.raises(BackupError, match="not an empty directory"):
        create_backup(cfg, used, PASS)
    assert (used / "x").read_text() == "keep me"
    with pytest.raises(BackupError, match="shorter than"):
        create_backup(cfg, tmp_path / "b2", b"short")


def test_backup_waits_for_the_store_lock_and_leaves_nothing_when_it_gives_up(source, tmp_path: Path) -> None:
    cfg, _, _ = source
    impatient = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(cfg.data_dir),
                                       "TANABAN_STORE__LOCK_TIMEOUT_S": "0.3"})
    held, release = threading.Event(), threading.Event()

    def rotate_like() -> None:  # holds the exclusive store lock, as `tanaban keys rotate` does
        with writing(cfg, None):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=rotate_like)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(LockError, match="blocked by"):
            create_backup(impatient, tmp_path / "b", PASS)
    finally:
        release.set()
        thread.join()
    assert not os.path.exists(tmp_path / "b")



def test_a_postgresql_home_is_refused_with_what_to_do_instead(tmp_path: Path, postgres_url: str) -> None:
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data"), "TANABAN_STORE__URL": postgres_url})
    init_home(cfg)
    with pytest.raises(BackupError, match=r"copies SQLite homes only; back a PostgreSQL store up with pg_dump and "
                                          r"the keys directory on its own: run `pg_dump -Fc -f tanaban.dump "
                                          r"postgresql://postgres@127\.0\.0\.1:\d+/\w+` \(docs/POSTGRES.md"):
        create_backup(cfg, tmp_path / "backup", b"a long enough passphrase")
    assert not (tmp_path / "backup").exists()


def test_the_pg_dump_command_keeps_options_and_never_the_password() -> None:
    command = pg_dump_command("postgresql://tanaban:s3cret@db.internal:5433/tanaban?sslmode=verify-full")
    assert command == "pg_dump -Fc -f tanaban.dump 'postgresql://tanaban@db.internal:5433/tanaban?sslmode=verify-full'"
    assert "s3cret" not in command
