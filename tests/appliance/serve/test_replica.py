"""Serving replicas (appliance/serve/replica.py): a node set up from the primary's keys without signing.key signs
its own audit log with node.key and serves; `replica sync` copies the primary's CURRENT bundle, verifies the copy
with signing.pub only, and makes it current; a tampered or foreign bundle never becomes current."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home
from appliance.data.keys import (
    NODE_KEY_FILE,
    NODE_PUBLIC_FILE,
    PUBLIC_FILE,
    SIGNING_FILE,
    KeyMaterialError,
    audit_signer,
    create_keys,
    load_public_key,
)
from appliance.privacy.audit.chain import AuditVerificationError
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.events import open_serve_audit, reload_event
from appliance.serve.replica import SYNC_LOCK, ReplicaError, init_replica, sync_bundles
from appliance.serve.server import loopback_json, serving_on_loopback
from cli.main import app
from export.bundle import STAGING_PREFIX, BundleError
from export.cf import export_cf


def _replica(primary: Home, root: Path) -> ApplianceConfig:
    """A node config whose keys are the primary's keys/ copied without signing.key (docs/SERVING.md, Replicas)."""
    node = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(root)})
    shutil.copytree(primary.config.keys_dir, node.keys_dir, ignore=shutil.ignore_patterns(SIGNING_FILE))
    return node


@pytest.fixture
def primary(bundle_home: tuple[Home, Path]) -> tuple[Home, Path]:
    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1", progress=False)
    return home, sample


def test_replica_init_makes_a_node_key_and_refuses_the_primarys_secret(home: Home, tmp_path: Path) -> None:
    node = _replica(home, tmp_path / "node")
    report = init_replica(node)
    assert report.created_node_key and report.trusted_signer == home.signing_key.key_id
    assert (node.keys_dir / NODE_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert (node.keys_dir / NODE_PUBLIC_FILE).is_file() and not (node.keys_dir / SIGNING_FILE).exists()
    signer = audit_signer(node.keys_dir)
    assert signer.key_id == report.node_key_id != home.signing_key.key_id  # the node cannot sign as the primary
    again = init_replica(node)
    assert not again.created_node_key and again.node_key_id == report.node_key_id
    shutil.copy2(home.config.keys_dir / SIGNING_FILE, node.keys_dir / SIGNING_FILE)
    with pytest.raises(ReplicaError, match="must not be on a serving node: delete it here"):
        init_replica(node)


def test_replica_init_needs_the_public_key_and_audit_needs_some_key(home: Home, tmp_path: Path) -> None:
    node = _replica(home, tmp_path / "node")
    (node.keys_dir / PUBLIC_FILE).unlink()
    with pytest.raises(ReplicaError, match=f"copy the primary's {PUBLIC_FILE}"):
        init_replica(node)
    with pytest.raises(KeyMaterialError, match="run `tanaban init` on the training machine, or `tanaban replica"):
        audit_signer(node.keys_dir)
    (node.keys_dir / NODE_KEY_FILE).write_bytes(b"x")
    (node.keys_dir / NODE_KEY_FILE).chmod(0o644)
    with pytest.raises(KeyMaterialError, match="accessible by group or others"):
        audit_signer(node.keys_dir)


def test_sync_copies_verifies_and_moves_current_then_prunes(primary: tuple[Home, Path], tmp_path: Path) -> None:
    home, _ = primary
    node = _replica(home, tmp_path / "node")
    init_replica(node)
    source, dest = home.config.artifacts_dir / "bundles", node.artifacts_dir / "bundles"
    lines: list[str] = []
    first = sync_bundles(source, dest, node.keys_dir, keep=1, progress=lines.append)
    assert (first.version, first.copied, first.pruned) == ("v1", True, ())
    assert (dest / "CURRENT").read_text().strip() == "v1" and first.files == len(list((dest / "v1").iterdir()))
    assert "verified with signing.pub; CURRENT -> v1" in lines[-1]
    assert not sync_bundles(source, dest, node.keys_dir).copied  # up to date: nothing copied
    export_cf(home, "lightgcn", version="v2", progress=False)
    second = sync_bundles(source, dest, node.keys_dir, keep=1)
    assert (second.version, second.copied, second.pruned) == ("v2", True, ("v1",))
    assert sorted(p.name for p in dest.iterdir() if not p.name.startswith(".")) == ["CURRENT", "v2"]


def test_sync_finishes_what_an_interrupted_sync_left(primary: tuple[Home, Path], tmp_path: Path) -> None:
    home, _ = primary
    node = _replica(home, tmp_path / "node")
    init_replica(node)
    source, dest = home.config.artifacts_dir / "bundles", node.artifacts_dir / "bundles"
    sync_bundles(source, dest, node.keys_dir)
    export_cf(home, "lightgcn", version="v2", progress=False)
    shutil.copytree(source / "v2", dest / "v2")  # renamed into place, then stopped before CURRENT
    report = sync_bundles(source, dest, node.keys_dir)
    assert (report.version, report.files) == ("v2", 0) and (dest / "CURRENT").read_text().strip() == "v2"
    export_cf(home, "lightgcn", version="v3", progress=False)
    shutil.copytree(source / "v3", dest / "v3")
    (dest / "v3" / "items.json").write_text("[]")  # and damaged since: copied afresh
    report = sync_bundles(source, dest, node.keys_dir)
    assert (report.version, report.files > 0) == ("v3", True) and (dest / "CURRENT").read_text().strip() == "v3"


@pytest.mark.parametrize(("attack", "reason"), [("tampered_file", "items.json does not match its sha256"),
                                               ("foreign_signer", "which is not a trusted key here"),
                                               ("symlink", "contains a symbolic link")])
def test_a_bad_bundle_never_becomes_current(primary: tuple[Home, Path], tmp_path: Path, attack: str,
                                            reason: str) -> None:
    home, _ = primary
    node = _replica(home, tmp_path / "node")
    init_replica(node)
    source, dest = home.config.artifacts_dir / "bundles", node.artifacts_dir / "bundles"
    sync_bundles(source, dest, node.keys_dir)
    bad = export_cf(home, "lightgcn", version="v2", progress=False)
    if attack == "tampered_file":
        with (bad / "items.json").open("a") as fh:
            fh.write(" ")
    elif attack == "foreign_signer":  # another machine's key in place of the primary's public key on the node
        create_keys(tmp_path / "other")
        shutil.copy2(tmp_path / "other" / PUBLIC_FILE, node.keys_dir / PUBLIC_FILE)
    else:
        (bad / "extra.json").symlink_to(bad / "items.json")
    with pytest.raises(BundleError, match=reason):
        sync_bundles(source, dest, node.keys_dir)
    assert (dest / "CURRENT").read_text().strip() == "v1" and not (dest / "v2").exists()
    assert not list(dest.glob(f"{STAGING_PREFIX}*"))  # the refused copy is gone


def test_one_sync_at_a_time_and_not_onto_itself(primary: tuple[Home, Path], tmp_path: Path) -> None:
    home, _ = primary
    node = _replica(home, tmp_path / "node")
    init_replica(node)
    dest = node.artifacts_dir / "bundles"
    dest.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest / SYNC_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ReplicaError, match="another `tanaban replica sync` is running"):
            sync_bundles(home.config.artifacts_dir / "bundles", dest, node.keys_dir)
    finally:
        os.close(fd)
    with pytest.raises(ReplicaError, match="is this node's own bundle root"):
        sync_bundles(dest, dest, node.keys_dir)


def test_replica_without_signing_key_serves_and_audits_with_its_node_key(
        primary: tuple[Home, Path], tmp_path: Path, serve_sample, cli_runner: CliRunner) -> None:
    home, sample = primary
    node = _replica(home, tmp_path / "node")
    config = tmp_path / "node.toml"
    config.write_text(f'[paths]\ndata_dir = "{node.data_dir}"\n', encoding="utf-8")
    result = cli_runner.invoke(app, ["--config", str(config), "replica", "init"])
    assert result.exit_code == 0 and "bundles verified with the primary's key" in result.output, result.output
    result = cli_runner.invoke(app, ["--config", str(config), "replica", "sync",
                                     str(home.config.artifacts_dir / "bundles")])
    assert result.exit_code == 0 and "bundle v1 now current" in result.output, result.output
    token = create_key(node.data_dir / KEYS_FILE, "shop")
    with serving_on_loopback(node) as port:
        status, body = loopback_json(port, "POST", "/v1/recommendations",
                                     {"user_id": serve_sample.customers(sample)[0], "k": 3}, token)
    assert status == 200 and body["bundle"] == "v1" and len(body["items"]) == 3
    with open_serve_audit(node) as log:  # what `tanaban serve` writes service.start and bundle.reload with
        log.append(reload_event("watcher", "ok", "bundles v1"))
        report = log.verify([load_public_key(node.keys_dir / NODE_PUBLIC_FILE)])
        assert report.key_ids == (audit_signer(node.keys_dir).key_id,) and report.signed_size == report.entries >= 1
        with pytest.raises(AuditVerificationError):  # the primary's key did not sign this node's log
            log.verify([load_public_key(node.keys_dir / PUBLIC_FILE)])
    # the admin commands a node's operator runs work without signing.key: its log verifies, doctor's keys check passes
    result = cli_runner.invoke(app, ["--config", str(config), "audit", "verify"])
    assert result.exit_code == 0, result.output
    result = cli_runner.invoke(app, ["--config", str(config), "doctor", "--json"])
    checks = {c["name"]: c for c in __import__("json").loads(result.output)["checks"]}
    assert checks["keys"]["status"] == "ok" and "serving replica" in checks["keys"]["detail"], checks["keys"]
    assert checks["audit"]["status"] == "ok", checks["audit"]


def _synced(primary: tuple[Home, Path], tmp_path: Path) -> tuple[ApplianceConfig, Path, Path]:
    """A node that has synced the primary's v1: (node config, primary bundle root, node bundle root)."""
    home, _ = primary
    node = _replica(home, tmp_path / "node")
    init_replica(node)
    source, dest = home.config.artifacts_dir / "bundles", node.artifacts_dir / "bundles"
    sync_bundles(source, dest, node.keys_dir)
    return node, source, dest


@pytest.mark.parametrize("name", ["..", "/", "../bundles", ".", ".staging-1-x", "v1/../..", "a\\b"])
def test_a_current_naming_something_outside_the_primarys_root_is_refused(
        primary: tuple[Home, Path], tmp_path: Path, name: str) -> None:
    # CURRENT is not signed: `..` once made the node verify its artifacts directory, fail, and delete all of it
    node, source, dest = _synced(primary, tmp_path)
    (source / "CURRENT").write_text(name + "\n")
    with pytest.raises(ReplicaError, match="does not name a bundle directory"):
        sync_bundles(source, dest, node.keys_dir)
    assert (dest / "CURRENT").read_text().strip() == "v1" and (dest / "v1" / "manifest.json").is_file()
    assert node.artifacts_dir.is_dir() and (source / "v1" / "manifest.json").is_file()


def test_a_current_bundle_damaged_on_the_node_is_copied_again(primary: tuple[Home, Path], tmp_path: Path) -> None:
    node, source, dest = _synced(primary, tmp_path)
    (dest / "v1" / "items.json").write_text("[]")  # bit rot or a hand edit on the node
    lines: list[str] = []
    report = sync_bundles(source, dest, node.keys_dir, progress=lines.append)
    assert (report.version, report.copied) == ("v1", True) and "no longer verifies on this node" in lines[0]
    assert (dest / "v1" / "items.json").read_bytes() == (source / "v1" / "items.json").read_bytes()
    assert not list(dest.glob(f"{STAGING_PREFIX}*"))


def test_after_a_rollback_the_previous_current_is_pruned_last(primary: tuple[Home, Path], tmp_path: Path) -> None:
    home, _ = primary
    node, source, dest = _synced(primary, tmp_path)
    export_cf(home, "lightgcn", version="v2", progress=False)
    sync_bundles(source, dest, node.keys_dir, keep=2)
    (source / "CURRENT").write_text("v1\n")  # the primary rolls back
    assert sync_bundles(source, dest, node.keys_dir, keep=2).version == "v1"
    export_cf(home, "lightgcn", version="v3", progress=False)
    report = sync_bundles(source, dest, node.keys_dir, keep=2)
    # v1 was CURRENT until this sync (workers may still serve it): v2, though synced later, goes first
    assert report.pruned == ("v2",) and (dest / "v1").is_dir()


def test_a_copy_that_fails_half_way_leaves_nothing_and_says_to_retry(
        primary: tuple[Home, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = primary
    node, source, dest = _synced(primary, tmp_path)
    export_cf(home, "lightgcn", version="v2", progress=False)

    def vanishing(src: Path, dst: Path, **kwargs: object) -> None:  # the primary pruned v2 during the copy
        (Path(dst) / "manifest.json").write_text("{}")
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr("appliance.serve.replica.shutil.copytree", vanishing)
    with pytest.raises(ReplicaError, match="run `tanaban replica sync` again"):
        sync_bundles(source, dest, node.keys_dir)
    assert (dest / "CURRENT").read_text().strip() == "v1" and not list(dest.glob(f"{STAGING_PREFIX}*"))


def test_every_copied_file_is_on_disk_before_current_names_it(
        primary: tuple[Home, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = primary
    node, source, dest = _synced(primary, tmp_path)
    export_cf(home, "lightgcn", version="v2", progress=False)
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)).name == "CURRENT":
            synced.append("<CURRENT replaced>")
        real_replace(src, dst)

    monkeypatch.setattr("appliance.serve.replica.os.fsync", fsync)
    monkeypatch.setattr("appliance.serve.replica.os.replace", replace)
    sync_bundles(source, dest, node.keys_dir)
    before = synced[:synced.index("<CURRENT replaced>")]
    assert {p.name for p in (dest / "v2").iterdir()} | {".CURRENT.tmp"} <= set(before)
