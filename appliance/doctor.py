"""`tanaban doctor`: a read-only self-check of an installed appliance, each finding with a one-line fix, and the build
information `tanaban --version` prints.

Checks, in order: the config loads; data directory and key directory are private (0700, as the installer makes
them; key files 0600); the keys are present and load; the store opens at the schema version this release expects
(it is not migrated here); the audit log's hash chain, Merkle roots and checkpoint signatures verify (read-only: no
log.verify entry is written); the published bundle(s) verify against the appliance's public key; the data
directory's file system has room; and the serving port (serve.port if the config has one, else 8080) is free. The
port is read from the kernel's socket table (/proc/net/tcp, tcp6; proc(5)), not probed: no socket is opened.
"""

from __future__ import annotations

import platform
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance.config import ApplianceConfig
from appliance.errors import UserError

OK, WARN, FAIL = "ok", "warn", "fail"
DEFAULT_PORT = 8080  # `tanaban serve`'s default --port
MIN_FREE_BYTES = 512 * 2**20  # below this an ingest, a training or an audit append can fail half-way: fail
LOW_FREE_BYTES = 2 * 2**30  # below this a model export (bundle + staging copy) may not fit: warn
# The libraries whose versions decide behaviour (DESIGN.md, "Dependencies and pins"), reported by --version.
PINNED = ("torch", "transformers", "optimum-onnx", "onnxruntime", "cryptography", "sqlalchemy", "numpy", "typer",
          "presidio-analyzer")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column (include/net/tcp_states.h)


@dataclass(frozen=True)
class Check:
    name: str  # stable id, e.g. "keys" (docs/OPERATIONS.md lists them)
    status: str  # ok | warn | fail
    detail: str  # what was found
    fix: str = ""  # one line: what to do (empty when ok)


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks], "build": build_info()}


def build_info() -> dict[str, Any]:
    """Package version, Python and the pinned libraries' installed versions (no git needed)."""
    packages = {}
    for name in PINNED:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    try:
        version = metadata.version("tanaban")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"tanaban": version, "python": platform.python_version(), "implementation": sys.implementation.name,
            "platform": f"{sys.platform}-{platform.machine()}", "packages": packages}


def run_doctor(load: Callable[[], ApplianceConfig], *, proc_net: Path = Path("/proc/net")) -> DoctorReport:
    """Every check; `load` reads the config (a failure there is the first finding and ends the run)."""
    try:
        cfg = load()
    except UserError as exc:
        return DoctorReport((Check("config", FAIL, str(exc), "fix the config file as the message says"),))
    checks = [Check("config", OK, f"loaded from {cfg.source}"), *_directories(cfg)]
    checks.append(_keys(cfg))
    checks.append(_store(cfg))
    checks.append(_audit(cfg, ready=all(c.status == OK for c in checks if c.name in ("keys", "store"))))
    checks += _bundles(cfg)
    checks.append(_disk(cfg.data_dir))
    checks.append(_port(int(getattr(cfg.serve, "port", DEFAULT_PORT)), proc_net))
    return DoctorReport(tuple(checks))


def _directories(cfg: ApplianceConfig) -> Iterator[Check]:
    for name, path in (("data_dir", cfg.data_dir), ("keys_dir", cfg.keys_dir)):
        if not path.is_dir():
            yield Check(name, FAIL, f"{path} does not exist", "run `tanaban init` (or `tanaban restore BACKUP`)")
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            yield Check(name, FAIL if mode & 0o007 or name == "keys_dir" else WARN,
                        f"{path} is mode {mode:04o}: others or the group can enter it", f"chmod 700 {path}")
        else:
            yield Check(name, OK, f"{path} (mode {mode:04o})")


def _keys(cfg: ApplianceConfig) -> Check:
    from appliance.data.keys import (
        PUBLIC_FILE,
        SIGNING_FILE,
        audit_signer,
        load_pseudonym_key,
        load_public_key,
        load_signing_key,
    )

    try:
        pseudo, signing = load_pseudonym_key(cfg.keys_dir), audit_signer(cfg.keys_dir)
        if not (cfg.keys_dir / SIGNING_FILE).exists():  # a replica: node.key signs its log, signing.pub verifies
            load_public_key(cfg.keys_dir / PUBLIC_FILE)
            return Check("keys", OK, f"serving replica: pseudonym key {pseudo.key_id}, node key {signing.key_id}, "
                                     "bundles verified with signing.pub")
    except UserError as exc:
        return Check("keys", FAIL, str(exc), "fix the key files as the message says, or restore them with "
                                             "`tanaban restore` (a lost pseudonym key cannot be re-created)")
    bundles = load_signing_key(cfg.keys_dir)  # after `tanaban audit key rotate` the audit log has a key of its own
    audit = "" if bundles.key_id == signing.key_id else f", audit log signed by rotated key {signing.key_id}"
    return Check("keys", OK, f"pseudonym key {pseudo.key_id}, signing key {bundles.key_id}{audit}")


def _store(cfg: ApplianceConfig) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from appliance.data.store import SCHEMA_VERSION, open_store, safe_url, schema_version

    url = cfg.store.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return Check("store", FAIL, f"no store at {url}", "run `tanaban init` (or `tanaban restore BACKUP`)")
    try:
        engine = open_store(cfg.store, migrate_schema=False)
        try:
            with engine.connect() as conn:
                version = schema_version(conn)
        finally:
            engine.dispose()
    except (SQLAlchemyError, UserError) as exc:
        return Check("store", FAIL, f"the store does not open ({type(exc).__name__})",
                     "check the store file's permissions and store.url; restore it with `tanaban restore` if damaged")
    if version < SCHEMA_VERSION:
        return Check("store", FAIL, f"schema v{version}, this release needs v{SCHEMA_VERSION}",
                     "run `tanaban init` to migrate it")
    if version > SCHEMA_VERSION:
        return Check("store", FAIL, f"schema v{version} is newer than this release (v{SCHEMA_VERSION})",
                     "upgrade tanaban")
    return Check("store", OK, f"{safe_url(url)} at schema v{version}")  # a PostgreSQL password stays hidden


def _audit(cfg: ApplianceConfig, *, ready: bool) -> Check:
    from appliance.data.home import Home
    from appliance.data.store import open_store
    from appliance.privacy.audit.admin import open_audit_log

    if not cfg.audit.url and not cfg.audit_path.is_file():  # audit.url: the log is in PostgreSQL
        return Check("audit", OK, f"no audit log yet at {cfg.audit_path} (nothing has been audited)")
    if not ready:
        return Check("audit", FAIL, "not checked: the keys or the store are not usable", "fix those first")
    home = Home(cfg, open_store(cfg.store, migrate_schema=False))
    try:
        with open_audit_log(home) as log:
            report = log.verify()
    except UserError as exc:
        return Check("audit", FAIL, str(exc), "run `tanaban audit verify` for details; keep the damaged log for "
                                              "investigation and restore audit.db from a backup")
    finally:
        home.engine.dispose()
    return Check("audit", OK, report.summary())


def _bundles(cfg: ApplianceConfig) -> Iterator[Check]:
    from appliance.data.keys import PUBLIC_FILE, load_public_key
    from export.bundle import current_bundle, verify_bundle

    for root, command in (("bundles", "export cf"), ("bundles-gen", "export gen")):
        path = cfg.artifacts_dir / root
        if not (path / "CURRENT").is_file():
            yield Check(root, WARN if root == "bundles" else OK, f"no bundle published in {path}",
                        f"run `tanaban {command}` before serving" if root == "bundles" else "")
            continue
        try:
            manifest = verify_bundle(current_bundle(path), [load_public_key(cfg.keys_dir / PUBLIC_FILE)])
        except UserError as exc:
            yield Check(root, FAIL, str(exc), f"re-export it (`tanaban {command}`) or restore it from a backup")
            continue
        yield Check(root, OK, f"bundle {manifest.version} verifies")


def _disk(data_dir: Path) -> Check:
    path = data_dir
    while not path.exists() and path != path.parent:
        path = path.parent
    free = shutil.disk_usage(path).free
    text = f"{free / 2**30:.1f} GiB free on the file system of {data_dir}"
    if free < MIN_FREE_BYTES:
        return Check("disk", FAIL, text, "free space there or move paths.data_dir to a larger file system")
    if free < LOW_FREE_BYTES:
        return Check("disk", WARN, text, "free space before the next export or training")
    return Check("disk", OK, text)


def listening_ports(proc_net: Path = Path("/proc/net")) -> set[int]:
    """Local TCP ports in LISTEN state, from /proc/net/tcp and tcp6 (empty where they do not exist)."""
    ports = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc_net / name).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _LISTEN:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _port(port: int, proc_net: Path) -> Check:
    if not (proc_net / "tcp").exists():
        return Check("port", WARN, f"cannot tell whether port {port} is free (no {proc_net / 'tcp'})",
                     f"check with `ss -ltn sport = :{port}`")
    if port in listening_ports(proc_net):
        return Check("port", WARN, f"port {port} is in use (a running `tanaban serve`, or another program)",
                     "if it is not tanaban, stop that program or serve on another port (--port)")
    return Check("port", OK, f"port {port} is free")
