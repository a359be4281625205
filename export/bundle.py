"""Signed model bundles: one directory per export whose `manifest.json` lists the sha256 of every file and is
signed with the appliance's Ed25519 key (RFC 8032) in `manifest.sig`.

Serving calls `verify_bundle` before loading anything and refuses a bundle whose signature, signer, file list or
any file hash does not match. The manifest is canonical JSON (sorted keys, no spaces), so the signed bytes are
reproducible by an auditor with any JSON library. Imports neither torch nor onnxruntime: serving nodes use it.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.data.hashing import file_sha256
from appliance.data.keys import SigningKey, public_key_id
from appliance.data.locks import pid_alive  # a pid reused since errs on the side of keeping the directory
from appliance.errors import UserError
from appliance.privacy.audit.log import AuditEvent

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = "tanaban-bundle/1"
STAGING_PREFIX = ".staging-"  # an export's work directory under the bundle root, renamed into place when signed
_STAGING_PID = re.compile(r"\.staging-(\d+)-")  # `make_staging` names: the exporting process's pid first
# Libraries whose versions decide whether a bundle's numbers can be reproduced; recorded in every manifest.
RECORDED_LIBRARIES = ("tanaban", "numpy", "onnxruntime", "onnx", "torch", "transformers", "optimum-onnx", "tokenizers")


class BundleError(UserError, RuntimeError):
    """A bundle is missing, unsigned, signed by an unknown key, or a file does not match its manifest."""


@dataclass(frozen=True)
class Manifest:
    path: Path
    data: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def files(self) -> dict[str, str]:
        return dict(self.data["files"])


def sign_bundle(directory: Path, key: SigningKey, meta: Mapping[str, Any], *, version: str | None = None) -> Manifest:
    """Hash every file under `directory`, write the manifest and its signature; returns the manifest."""
    directory = Path(directory)
    files = {rel: file_sha256(directory / rel) for rel in _listed_files(directory)}
    data = {
        "format": FORMAT,
        "version": version or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "signer_key_id": key.key_id,
        "files": files,
        "libraries": library_versions(),
        "platform": {"python": platform.python_version(), "machine": platform.machine()},
        "meta": dict(meta),
    }
    body = canonical(data)
    (directory / MANIFEST).write_bytes(body)
    (directory / SIGNATURE).write_text(base64.b64encode(key.sign(body)).decode("ascii") + "\n", encoding="ascii")
    return Manifest(directory, data)


def verify_bundle(directory: Path, public_keys: Iterable[Ed25519PublicKey]) -> Manifest:
    """Check signature, signer and every file hash; raise BundleError saying exactly what is wrong."""
    directory = Path(directory)
    body, signature = _read_signed(directory)
    trusted = {public_key_id(k): k for k in public_keys}
    data = json.loads(body)
    signer = data.get("signer_key_id")
    if signer not in trusted:
        raise BundleError(f"bundle {directory} is signed by key {signer}, which is not a trusted key here "
                          f"(trusted: {', '.join(sorted(trusted)) or 'none'}); copy the exporting appliance's "
                          "signing.pub into this node's keys directory")
    try:
        trusted[signer].verify(signature, body)
    except InvalidSignature:
        raise BundleError(f"bundle {directory}: the manifest signature does not verify: the manifest was "
                          "modified after export; re-export or restore the original bundle") from None
    _check_files(directory, data.get("files", {}))
    return Manifest(directory, data)


def publish_bundle(staging: Path, root: Path) -> Path:
    """Move a signed staging directory to `<root>/<version>` atomically and point `<root>/CURRENT` at it."""
    manifest = json.loads((Path(staging) / MANIFEST).read_text(encoding="utf-8"))
    root.mkdir(parents=True, exist_ok=True)
    final = root / manifest["version"]
    if final.exists():
        raise BundleError(f"bundle version {final.name} already exists in {root}")
    os.replace(staging, final)
    tmp = root / ".CURRENT.tmp"
    tmp.write_text(final.name + "\n", encoding="utf-8")
    os.replace(tmp, root / "CURRENT")
    return final


def publish_audited(staging: Path, root: Path, audit: Callable[[AuditEvent], object]) -> Path:
    """`publish_bundle`, with its bundle.publish audit entry written first (a bundle never becomes CURRENT
    unaudited: if the entry cannot be written, nothing is published); a publish that then fails is recorded as a
    second entry, outcome failed with the error's class."""
    manifest = json.loads((Path(staging) / MANIFEST).read_text(encoding="utf-8"))
    audit(publish_event(manifest, Path(root)))
    try:
        return publish_bundle(staging, root)
    except Exception as exc:
        audit(publish_event(manifest, Path(root), "failed", type(exc).__name__))
        raise


def publish_event(manifest: Mapping[str, Any], root: Path, outcome: str = "ok", cause: str = "") -> AuditEvent:
    """bundle.publish: version, kind, whether any component ships int8 (and which run in what), the signing key id;
    the bundle directory in destination.file. No catalog or customer data: the manifest's metadata only."""
    meta = manifest.get("meta", {})
    parts = {name: meta[name] for name in ("scorer", "encoder", "decoder") if isinstance(meta.get(name), str)}
    int8 = "yes" if "int8" in parts.values() else "no"
    detail = ", ".join(f"{name} {precision}" for name, precision in parts.items())
    reason = (f"bundle {manifest['version']} kind {meta.get('kind', 'unknown')}; int8 {int8}"
              + (f" ({detail})" if detail else "") + f"; signed by key {manifest.get('signer_key_id', 'unknown')}"
              + (f"; not published: {cause}" if cause else ""))
    return AuditEvent("bundle.publish", outcome, reason=reason,
                      destination={"file": str(root / str(manifest["version"]))})


def current_bundle(root: Path) -> Path:
    """The directory `<root>/CURRENT` names."""
    try:
        name = (Path(root) / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise BundleError(f"no bundle has been exported to {root} yet: run `tanaban export`") from None
    return Path(root) / name


def make_staging(root: Path) -> Path:
    """A new staging directory under `root`, named after this process's pid so that `remove_stale_staging` can tell
    a running export's directory from one an interrupted export (kill -9, power loss) left behind."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=root))


def remove_staging(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def remove_stale_staging(root: Path) -> int:
    """Remove the staging directories under `root` whose export is no longer running (its pid is gone, or the name
    carries no pid: made before pids were recorded); returns how many. A running export's directory is kept."""
    removed = 0
    for path in Path(root).glob(f"{STAGING_PREFIX}*"):
        match = _STAGING_PID.match(path.name)
        if path.is_dir() and not path.is_symlink() and not (match and pid_alive(int(match.group(1)))):
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
    return removed


def library_versions() -> dict[str, str]:
    out = {}
    for name in RECORDED_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _listed_files(directory: Path) -> list[str]:
    out = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise BundleError(f"bundle {directory} contains a symbolic link ({rel}); bundles hold plain files only")
        if path.is_file() and rel not in (MANIFEST, SIGNATURE):
            out.append(rel)
    return out


def _read_signed(directory: Path) -> tuple[bytes, bytes]:
    if not directory.is_dir():
        raise BundleError(f"bundle directory {directory} does not exist")
    try:
        body = (directory / MANIFEST).read_bytes()
        signature = base64.b64decode((directory / SIGNATURE).read_text(encoding="ascii").strip(), validate=True)
    except FileNotFoundError as exc:
        raise BundleError(f"bundle {directory} has no {Path(exc.filename).name}: it is not a signed bundle") from None
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"bundle {directory}: {SIGNATURE} is not base64") from None
    return body, signature


def _check_files(directory: Path, files: Mapping[str, str]) -> None:
    present = set(_listed_files(directory))
    missing = sorted(set(files) - present)
    extra = sorted(present - set(files))
    if missing:
        raise BundleError(f"bundle {directory}: file {missing[0]} is listed in the manifest but missing")
    if extra:
        raise BundleError(f"bundle {directory}: file {extra[0]} is not listed in the signed manifest")
    for rel, expected in files.items():
        if file_sha256(directory / rel) != expected:
            raise BundleError(f"bundle {directory}: {rel} does not match its sha256 in the signed manifest "
                              "(modified or corrupted); re-export the bundle")

