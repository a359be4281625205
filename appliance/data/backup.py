"""`tanaban backup` / `tanaban restore`: a consistent, verifiable snapshot of an appliance home and its way back.

A backup is a directory: the store and the audit database copied with SQLite's online backup API
(https://www.sqlite.org/backup.html, a consistent snapshot while others keep writing), the audit witness file, the key
directory as a tar archive encrypted with AES-256-GCM (NIST SP 800-38D) under a key derived from a passphrase with
scrypt (RFC 7914), the published bundle(s), the API key file (hashes only) and the config file, all listed with their
SHA-256 in `manifest.json`, which is signed with the appliance's Ed25519 key (RFC 8032). `restore` checks every hash,
decrypts the keys (a wrong passphrase fails the GCM tag), checks the manifest signature with the restored public key,
writes the parts onto a fresh data directory (or, with `force`, after moving what is there aside, never deleting a
key) and verifies the audit chain. PostgreSQL stores are backed up with pg_dump, not here.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shlex
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from appliance.config import ApplianceConfig
from appliance.data.dirs import make_dir
from appliance.data.home import Home, open_home
from appliance.data.keys import PUBLIC_FILE, KeyMaterialError
from appliance.data.locks import writing
from appliance.data.store import engine_url, is_postgres, schema_version
from appliance.errors import UserError

FORMAT = "tanaban-backup/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
STORE, AUDIT, WITNESS = "store.db", "audit.db", "audit-witness.log"
KEYS, APIKEYS, CONFIG = "keys.tar.enc", "api_keys.json", "config.toml"
BUNDLES = "bundles"  # <backup>/bundles/<root>/{CURRENT,<version>/...}
BUNDLE_ROOTS = ("bundles", "bundles-gen")  # under artifacts_dir: the CF and the generative bundles
RESTORED_CONFIG = "config.restored.toml"  # under data_dir: the backed-up config file, for the admin to compare
MIN_PASSPHRASE = 12  # characters; scrypt slows guessing, it cannot save a short passphrase
# scrypt cost (RFC 7914): N = 2^15, r = 8, p = 3 is one of the OWASP Password Storage Cheat Sheet's equivalent
# minimum settings, the one that needs the least memory (128 * r * N = 32 MiB per guess); stored in the manifest, so
# a later release may raise it and still restore older backups
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 3
_MAGIC = b"TNBKEYS1"  # file header of keys.tar.enc; authenticated as GCM associated data with the salt and nonce
_SALT, _NONCE = 16, 12  # bytes; a 96-bit nonce is GCM's recommended size (SP 800-38D section 8.2)
_SIDECARS = ("-wal", "-shm", "-journal")  # SQLite files that belong to a database and must move with it


class BackupError(UserError, RuntimeError):
    """A backup cannot be written or read back (destination not empty, wrong passphrase, a part that does not match
    the manifest, a home in the way); the message names the part and the fix."""


@dataclass(frozen=True)
class BackupReport:
    dest: Path
    parts: dict[str, str]  # relative path -> sha256
    schema_version: int
    bundles: tuple[str, ...]  # "<root>/<version>" of each bundle copied


@dataclass(frozen=True)
class RestoreReport:
    data_dir: Path
    parts: int  # files restored
    moved_aside: tuple[Path, ...]  # what --force moved out of the way (never deleted)
    audit: str  # the audit verification summary
    config_copy: Path | None  # where the backed-up config file was put, if the backup had one


def _utcnow() -> datetime:
    return datetime.now(UTC)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sqlite_path(url: str) -> Path:
    """The file of a SQLite store URL; BackupError for other engines (their own tools back them up), which for
    PostgreSQL gives the pg_dump command to run instead."""
    if is_postgres(url):
        raise BackupError("the store is on PostgreSQL: `tanaban backup` copies SQLite homes only; back a PostgreSQL "
                          f"store up with pg_dump and the keys directory on its own: run `{pg_dump_command(url)}` "
                          "(docs/POSTGRES.md, Backups)")
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        raise BackupError("the store is not a SQLite file: `tanaban backup` copies SQLite homes only; back it up with "
                          "its engine's own tools and the keys directory on its own")
    return Path(url.removeprefix("sqlite:///"))


def pg_dump_command(url: str) -> str:
    """The pg_dump command (custom format, consistent while tanaban writes) for a PostgreSQL store URL; the password,
    if the URL has one, is left out (pg_dump reads ~/.pgpass or PGPASSWORD), options such as sslmode are kept."""
    from sqlalchemy import URL, make_url  # the URL parser only; no connection

    parsed = make_url(engine_url(url))
    target = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return f"pg_dump -Fc -f tanaban.dump {shlex.quote(target.render_as_string(hide_password=False))}"


def check_passphrase(passphrase: bytes) -> None:
    if len(passphrase.decode("utf-8", "replace")) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase is shorter than {MIN_PASSPHRASE} characters: choose a longer one (it is "
                          "all that protects the keys in the backup)")


# --- backup ------------------------------------------------------------------------------------------------------

def create_backup(cfg: ApplianceConfig, dest: Path, passphrase: bytes, *, now: datetime | None = None,
                  rng: Callable[[int], bytes] = os.urandom) -> BackupReport:
    """Write a backup of the home `cfg` names into the new (or empty) directory `dest`.

    Holds the shared store lock (and the exclusive "backup" lock) meanwhile, so no key rotation or `init` runs
    between the copies: the keys and the pseudonyms in the store stay consistent.
    """
    check_passphrase(passphrase)
    home = open_home(cfg)  # NotInitialisedError before anything is written
    store = sqlite_path(cfg.store.url)
    _new_dir(Path(dest))
    try:
        return _snapshot(cfg, home, store, Path(dest), passphrase, now=now, rng=rng)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)  # it was new or empty: never leave a half backup that looks whole
        raise


def _snapshot(cfg: ApplianceConfig, home: Home, store: Path, dest: Path, passphrase: bytes, *,
              now: datetime | None, rng: Callable[[int], bytes]) -> BackupReport:
    """Copy every part into `dest` under the locks, then write the signed manifest."""
    with writing(cfg, "backup"):
        home.forget_keys()  # a rotation may have finished while this waited
        _sqlite_copy(store, dest / STORE)
        witness = Path(cfg.audit.witness_path)
        if witness.is_file():  # the witness first: the database snapshot taken next holds all it witnessed
            _copy_private(witness, dest / WITNESS)
        if cfg.audit_path.is_file():
            _sqlite_copy(cfg.audit_path, dest / AUDIT)
        _write_private(dest / KEYS, encrypt_keys(_tar_dir(cfg.keys_dir), passphrase, rng=rng))
        apikeys = cfg.data_dir / APIKEYS
        if apikeys.is_file():
            _copy_private(apikeys, dest / APIKEYS)
        if cfg.source not in ("", "defaults") and Path(cfg.source).is_file():
            _copy_private(Path(cfg.source), dest / CONFIG)
        bundles = tuple(_copy_bundles(cfg.artifacts_dir, dest / BUNDLES))
        with home.engine.connect() as conn:
            version = schema_version(conn)
        home.engine.dispose()
        parts = {str(p.relative_to(dest)): sha256_file(p) for p in sorted(dest.rglob("*")) if p.is_file()}
        manifest = {"format": FORMAT, "created_at": (now or _utcnow()).isoformat(timespec="seconds"),
                    "tanaban_version": _version(), "schema_version": version, "source": str(cfg.data_dir),
                    "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "cipher": "AES-256-GCM"},
                    "bundles": list(bundles), "parts": parts}
        body = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
        _write_private(dest / MANIFEST, body)
        _write_private(dest / SIGNATURE, base64.b64encode(home.signing_key.sign(body)) + b"\n")
    return BackupReport(dest, parts, version, bundles)


def _new_dir(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory: give a new directory (a backup is never "
                          "written over another)")
    make_dir(dest)
    os.chmod(dest, 0o700)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database `source` (online backup API: one step, under a read lock) as a
    self-contained file (rollback journal mode: no -wal file to forget), mode 0600."""
    if not source.is_file():
        raise BackupError(f"the database {source} does not exist: run `tanaban init` first")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _copy_private(source: Path, target: Path) -> None:
    make_dir(target.parent)
    _write_private(target, source.read_bytes())


def _copy_bundles(artifacts: Path, dest: Path) -> list[str]:
    """Copy the bundle each root's CURRENT names (and CURRENT); returns '<root>/<version>' of each."""
    copied = []
    for root in BUNDLE_ROOTS:
        current = artifacts / root / "CURRENT"
        if not current.is_file():
            continue
        version = current.read_text(encoding="utf-8").strip()
        for path in sorted((artifacts / root / version).rglob("*")):
            if path.is_file():
                _copy_private(path, dest / root / version / path.relative_to(artifacts / root / version))
        _copy_private(current, dest / root / "CURRENT")
        copied.append(f"{root}/{version}")
    return copied


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tanaban")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- the key archive ---------------------------------------------------------------------------------------------

def _tar_dir(directory: Path) -> bytes:
    """The regular files and directories under `directory` as an uncompressed tar (names relative to it)."""
    if not directory.is_dir():
        raise KeyMaterialError(f"no keys in {directory}: run `tanaban init` first")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file() or path.is_dir():
                tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)
    return buf.getvalue()


def _derive(passphrase: bytes, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def encrypt_keys(data: bytes, passphrase: bytes, *, rng: Callable[[int], bytes] = os.urandom) -> bytes:
    """MAGIC | salt | nonce | AES-256-GCM(data), the header authenticated as associated data."""
    salt, nonce = rng(_SALT), rng(_NONCE)
    header = _MAGIC + salt + nonce
    return header + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, header)


def decrypt_keys(blob: bytes, passphrase: bytes, kdf: dict[str, Any]) -> bytes:
    head = len(_MAGIC) + _SALT + _NONCE
    if not blob.startswith(_MAGIC) or len(blob) <= head:
        raise BackupError(f"{KEYS} is not a Tanaban key archive: restore from an intact copy of the backup")
    salt, nonce = blob[len(_MAGIC):len(_MAGIC) + _SALT], blob[len(_MAGIC) + _SALT:head]
    try:
        return AESGCM(_derive(passphrase, salt, kdf["n"], kdf["r"], kdf["p"])).decrypt(nonce, blob[head:], blob[:head])
    except InvalidTag:
        raise BackupError(f"cannot decrypt {KEYS}: the passphrase is wrong (or the file is damaged); give the "
                          "passphrase the backup was made with") from None


def _untar(data: bytes) -> dict[str, tarfile.TarInfo | bytes]:
    """name -> bytes (files) or TarInfo (directories); refuses links, devices and names leaving the directory."""
    out: dict[str, tarfile.TarInfo | bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                raise BackupError(f"{KEYS} holds an unexpected entry: restore from an intact copy of the backup")
            extracted = tar.extractfile(member) if member.isfile() else None
            out[member.name] = extracted.read() if extracted is not None else member
    return out


# --- restore -----------------------------------------------------------------------------------------------------

def read_manifest(src: Path) -> tuple[dict[str, Any], bytes]:
    """The manifest (and its bytes) once every part listed matches its SHA-256 and nothing is missing or added."""
    try:
        body = (src / MANIFEST).read_bytes()
        manifest = json.loads(body)
    except FileNotFoundError:
        raise BackupError(f"{src} has no {MANIFEST}: give the directory `tanaban backup` wrote") from None
    except (ValueError, OSError) as exc:
        raise BackupError(f"{src / MANIFEST} cannot be read ({type(exc).__name__}): restore from an intact "
                          "copy") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src / MANIFEST} is not a {FORMAT} manifest: restore it with the release that wrote it")
    found = {str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()} - {MANIFEST, SIGNATURE}
    listed = manifest["parts"]
    for name in sorted(set(listed) | found):
        if name not in found:
            raise BackupError(f"backup part {name} is missing from {src}: restore from an intact copy")
        if name not in listed:
            raise BackupError(f"{src / name} is not in the manifest: the backup was altered; remove it or use an "
                              "intact copy")
        if sha256_file(src / name) != listed[name]:
            raise BackupError(f"backup part {name} does not match its SHA-256 in the manifest (damaged or altered): "
                              "restore from an intact copy")
    return manifest, body


def restore_backup(cfg: ApplianceConfig, src: Path, passphrase: bytes, *, force: bool = False,
                   now: datetime | None = None) -> RestoreReport:
    """Restore the backup `src` onto the home `cfg` names, then verify the audit chain (logged as log.verify)."""
    from appliance.privacy.audit.admin import verify_home

    manifest, body = read_manifest(src)
    keys = _untar(decrypt_keys((src / KEYS).read_bytes(), passphrase, manifest["kdf"]))
    _check_signature(keys, body, src)
    if STORE not in manifest["parts"]:
        raise BackupError(f"{src} holds no store: restore from a complete backup")
    targets = _targets(cfg)
    in_the_way = [p for p in targets if os.path.lexists(p)]
    if in_the_way and not force:
        raise BackupError(f"{in_the_way[0]} exists: restore onto a fresh data directory (paths.data_dir), or pass "
                          "--force to move the existing home aside (nothing is deleted)")
    make_dir(cfg.data_dir)
    stamp = (now or _utcnow()).strftime("%Y%m%dT%H%M%SZ")
    with writing(cfg, None):
        moved = tuple(_move_aside(p, stamp) for p in in_the_way)
        restored = _write_keys(cfg.keys_dir, keys) + _restore_files(cfg, src, manifest)
    config_copy = cfg.data_dir / RESTORED_CONFIG if CONFIG in manifest["parts"] else None
    home = open_home(cfg)
    try:
        report = verify_home(home)
    finally:
        home.engine.dispose()
    return RestoreReport(cfg.data_dir, restored, moved, report.summary(), config_copy)


def _check_signature(keys: dict[str, Any], body: bytes, src: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = keys.get(PUBLIC_FILE)
    try:
        key = serialization.load_pem_public_key(public) if isinstance(public, bytes) else None
        if not isinstance(key, Ed25519PublicKey):
            raise BackupError(f"{KEYS} holds no {PUBLIC_FILE}: restore from an intact copy of the backup")
        key.verify(base64.b64decode((src / SIGNATURE).read_bytes().strip(), validate=True), body)
    except (InvalidSignature, ValueError, FileNotFoundError):
        raise BackupError(f"{src / SIGNATURE} does not verify the manifest with the backed-up signing key: the "
                          "manifest was altered; restore from an intact copy") from None


def _targets(cfg: ApplianceConfig) -> list[Path]:
    """Everything a restore writes (and its SQLite sidecars): existing ones mean a home is in the way."""
    dbs = [sqlite_path(cfg.store.url), cfg.audit_path]
    files = [*dbs, *(Path(f"{db}{s}") for db in dbs for s in _SIDECARS), Path(cfg.audit.witness_path),
             cfg.data_dir / APIKEYS, cfg.data_dir / RESTORED_CONFIG]
    return [cfg.keys_dir, *files, *(cfg.artifacts_dir / root for root in BUNDLE_ROOTS)]


def _move_aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    os.rename(path, aside)
    return aside


def _write_keys(keys_dir: Path, members: dict[str, Any]) -> int:
    make_dir(keys_dir)
    os.chmod(keys_dir, 0o700)
    count = 0
    for name in sorted(members):
        path, content = keys_dir / name, members[name]
        if isinstance(content, bytes):
            make_dir(path.parent)
            _write_private(path, content)
            count += 1
        else:
            make_dir(path)
    return count


def _restore_files(cfg: ApplianceConfig, src: Path, manifest: dict[str, Any]) -> int:
    fixed = {STORE: sqlite_path(cfg.store.url), AUDIT: cfg.audit_path, WITNESS: Path(cfg.audit.witness_path),
             APIKEYS: cfg.data_dir / APIKEYS, CONFIG: cfg.data_dir / RESTORED_CONFIG}
    count = 0
    for name in manifest["parts"]:
        if name in fixed:
            target = fixed[name]
        elif name.startswith(f"{BUNDLES}/"):
            target = cfg.artifacts_dir / Path(name).relative_to(BUNDLES)
        else:
            continue  # keys.tar.enc: written by _write_keys
        _copy_private(src / name, target)
        count += 1
    return count
