"""Serving replicas: several `tanaban serve` nodes answering from the bundles one primary (the training machine)
exports and signs (export.bundle: Ed25519, RFC 8032).

A replica holds the primary's pseudonym keys and its PUBLIC key `signing.pub`, never `signing.key`: it verifies
bundles and cannot sign one. Its own audit log (service.start/stop, bundle.reload) is signed by a node key that
`init_replica` creates (`node.key`, 0600; `node.pub` for auditors). `sync_bundles` pulls the bundle the primary's
`CURRENT` names from a directory the node can read (a read-only NFS export of the primary's bundle root, or what
rsync copied there) into the node's own bundle root: copied into a staging directory, verified there with the
public key, renamed into place, then `CURRENT` replaced by rename (POSIX rename(2) is atomic), so a worker's
watcher only ever sees a complete, verified bundle and swaps it in between requests (appliance.serve.service).
The node never opens a network connection for this (DESIGN.md: only the egress gateway does); moving bytes
between machines is the transport the admin already runs (NFS, rsync over ssh).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.data.dirs import fsync_dir, make_dir
from appliance.data.keys import (
    NODE_KEY_FILE,
    NODE_PUBLIC_FILE,
    PUBLIC_FILE,
    SIGNING_FILE,
    KeyMaterialError,
    load_node_key,
    load_pseudonym_key,
    load_public_key,
    public_key_id,
    public_key_pem,
)
from appliance.errors import UserError
from export.bundle import (
    STAGING_PREFIX,
    BundleError,
    current_bundle,
    make_staging,
    remove_staging,
    verify_bundle,
)

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig

SYNC_LOCK = ".sync.lock"  # in the node's bundle root: one sync at a time (a timer firing while one still copies)
KEEP_DEFAULT = 3  # bundle versions kept on the node, CURRENT included: a worker may still serve the previous one


class ReplicaError(UserError, RuntimeError):
    """A replica cannot be set up or synced as asked: the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class ReplicaReport:
    """What `init_replica` found and made: the trusted bundle signer, the node's audit key, the pseudonym key."""

    keys_dir: Path
    trusted_signer: str  # key id of the primary's signing.pub
    node_key_id: str
    pseudonym_key_id: str
    created_node_key: bool


@dataclass(frozen=True)
class SyncReport:
    """One `sync_bundles`: the version now CURRENT on the node, whether it was copied, what was pruned."""

    version: str
    copied: bool
    files: int
    size_bytes: int
    pruned: tuple[str, ...]


def init_replica(cfg: ApplianceConfig) -> ReplicaReport:
    """Set up a serving node from the primary's copied keys: refuse `signing.key` (a node must not be able to sign
    bundles), check the pseudonym key and `signing.pub` load, create the node's audit key once, the data directory
    and an empty store (API keys and doctor expect one). Safe to run again."""
    keys = cfg.keys_dir
    if (keys / SIGNING_FILE).exists():
        raise ReplicaError(f"{keys / SIGNING_FILE} is the primary's bundle-signing secret and must not be on a serving "
                           f"node: delete it here (keep {PUBLIC_FILE}), then run `tanaban replica init` again")
    pseudo = load_pseudonym_key(keys)  # KeyMaterialError says it is missing: copy the primary's keys/ first
    try:
        signer = public_key_id(load_public_key(keys / PUBLIC_FILE))
    except KeyMaterialError as exc:
        raise ReplicaError(f"{exc}: copy the primary's {PUBLIC_FILE} into {keys} (it is what bundles are verified "
                           "with)") from None
    make_dir(cfg.data_dir)
    make_dir(cfg.artifacts_dir)
    created = not (keys / NODE_KEY_FILE).exists()
    if created:
        _create_node_key(keys)
    node = load_node_key(keys)
    _create_store(cfg)
    return ReplicaReport(keys, signer, node.key_id, pseudo.key_id, created)


def sync_bundles(source: Path, dest: Path, keys_dir: Path, *, keep: int = KEEP_DEFAULT,
                 progress: Callable[[str], None] = lambda _: None) -> SyncReport:
    """Make the bundle `<source>/CURRENT` names the node's CURRENT in `dest`: copy it (unless already there),
    verify the copy with `<keys_dir>/signing.pub` only, rename it into place and replace `dest/CURRENT`; then keep
    the newest `keep` versions. A bundle that fails to verify is deleted and never becomes CURRENT."""
    if keep < 1:
        raise ReplicaError(f"--keep {keep}: keep at least 1 bundle version (the current one)")
    source, dest = Path(source), Path(dest)
    if source.resolve() == dest.resolve():
        raise ReplicaError(f"the source {source} is this node's own bundle root: give the primary's bundle directory "
                           "(its read-only mount, or where rsync copies it)")
    trusted = [load_public_key(Path(keys_dir) / PUBLIC_FILE)]
    wanted = _wanted_bundle(source)
    make_dir(dest)
    with _sync_lock(dest):
        previous = _current_name(dest)
        if previous == wanted.name and (dest / wanted.name).is_dir():
            try:
                verify_bundle(dest / wanted.name, trusted)  # still intact on this node
            except BundleError:  # damaged on this node since (disk, hand edit): set aside, copied afresh below
                progress(f"bundle {wanted.name} no longer verifies on this node; copying it again")
                _set_aside(dest / wanted.name)
            else:
                return SyncReport(wanted.name, False, 0, 0, _prune(dest, keep, previous))
        copied, files, size = _fetch(wanted, dest, trusted, progress)
        return SyncReport(copied.name, True, files, size, _prune(dest, keep, previous))


def _wanted_bundle(source: Path) -> Path:
    """The directory `<source>/CURRENT` names, which must be a plain entry of `source`. CURRENT is not signed: a
    name such as `..`, `/` or `a/../..` would otherwise make the node copy, and on a failed check delete, a
    directory outside its bundle root."""
    wanted = current_bundle(source)  # BundleError: the primary has published nothing yet
    name = wanted.name
    if wanted.parent != source or not name or name.startswith(".") or any(c in name for c in "/\\\x00"):
        raise ReplicaError(f"{source / 'CURRENT'} does not name a bundle directory of {source} (it must hold one "
                           "version name, such as 20270105T101500000000Z): check or re-export the primary's bundles")
    return wanted


def _set_aside(path: Path) -> None:
    """Rename a bundle directory out of the way (atomic), then delete it: its name is free at once for a fresh copy."""
    aside = path.with_name(f"{STAGING_PREFIX}{os.getpid()}-damaged-{path.name}")
    os.replace(path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _fetch(wanted: Path, dest: Path, trusted: Sequence[Ed25519PublicKey],
           progress: Callable[[str], None]) -> tuple[Path, int, int]:
    """Copy, verify and publish one bundle into `dest`; returns (final directory, files, bytes)."""
    if (dest / wanted.name).is_dir():  # renamed into place by an earlier sync that stopped before CURRENT
        try:
            verify_bundle(dest / wanted.name, trusted)
        except BundleError:  # damaged since: copy it afresh below
            _set_aside(dest / wanted.name)
        else:
            _point_current(dest, wanted.name)
            return dest / wanted.name, 0, 0
    if not wanted.is_dir():
        raise BundleError(f"{wanted.parent / 'CURRENT'} names {wanted.name}, which is not a directory there: the "
                          "copy from the primary is incomplete (copy the bundle directory first, CURRENT last)")
    staging = make_staging(dest)
    try:
        # symlinks=True: a link is copied as a link, and verification refuses it (bundles hold plain files only)
        shutil.copytree(wanted, staging, symlinks=True, dirs_exist_ok=True)
        files = [p for p in staging.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        progress(f"copied bundle {wanted.name}: {len(files)} files, {size / 1e6:.1f} MB; verifying")
        manifest = verify_bundle(staging, trusted)  # the copy itself: what is verified is what will be served
        if manifest.version != wanted.name:
            raise BundleError(f"bundle directory {wanted.name} holds version {manifest.version}: the primary's bundle "
                              "root was renamed by hand; re-export it there")
        _fsync_tree(staging)  # the bytes are on disk before CURRENT can name them (power loss mid-sync)
        os.utime(staging)  # mtime = sync time on this node (copytree copied the primary's): _prune's order
        final = dest / manifest.version
        os.replace(staging, final)  # not export's publish_bundle: CURRENT here is written and fsynced before rename
        _point_current(dest, final.name)
    except OSError as exc:
        remove_staging(staging)
        raise ReplicaError(f"copying bundle {wanted.name} from {wanted.parent} failed ({type(exc).__name__}): the "
                           "primary may have pruned it meanwhile; run `tanaban replica sync` again") from None
    except BaseException:
        remove_staging(staging)
        raise
    progress(f"bundle {final.name} verified with {PUBLIC_FILE}; CURRENT -> {final.name}")
    return final, len(files), size


def _prune(dest: Path, keep: int, previous: str | None = None) -> tuple[str, ...]:
    """Remove the oldest bundle versions beyond `keep` (oldest: the earliest synced, by the directory's mtime, which
    `_fetch` sets to the sync time; CURRENT is always kept, and the CURRENT before this sync, which workers may still
    serve until their next reload, goes last whatever its mtime says)."""
    current = _current_name(dest)
    versions = [p.name for p in sorted((p for p in dest.iterdir() if p.is_dir() and not p.name.startswith(
        STAGING_PREFIX) and (p / "manifest.json").is_file()),
        key=lambda p: (p.name == previous, p.stat().st_mtime, p.name))]
    old = [v for v in versions if v != current][: max(0, len(versions) - keep)]
    for name in old:
        shutil.rmtree(dest / name, ignore_errors=True)
    return tuple(old)


def _point_current(root: Path, name: str) -> None:
    tmp = root / ".CURRENT.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")
    fsync_dir(root)


def _fsync_tree(root: Path) -> None:
    """fsync every file and directory under `root` (a staging copy), so that a rename of it survives a power loss
    with its contents (ext4/XFS may otherwise persist the rename before the data)."""
    for path in sorted(root.rglob("*"), reverse=True):  # files before the directories that hold them
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif path.is_dir() and not path.is_symlink():
            fsync_dir(path)
    fsync_dir(root)


def _current_name(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@contextlib.contextmanager
def _sync_lock(dest: Path) -> Iterator[None]:
    fd = os.open(dest / SYNC_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplicaError(f"another `tanaban replica sync` is running on {dest}: let it finish (a timer "
                               "should not start the next sync before the previous one ends)") from None
        yield
    finally:
        os.close(fd)


def _create_node_key(keys_dir: Path) -> None:
    make_dir(keys_dir)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_new(keys_dir / NODE_KEY_FILE, pem, 0o600)
    _write_new(keys_dir / NODE_PUBLIC_FILE, public_key_pem(private.public_key()), 0o644)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def _create_store(cfg: ApplianceConfig) -> None:
    """An empty, migrated store (0600 SQLite file, as `tanaban init` makes it); a replica never writes rows to it."""
    from appliance.data.store import open_store  # lazy: `tanaban serve` imports this module for audit_signer

    url = cfg.store.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            make_dir(path.parent)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    open_store(cfg.store).dispose()
