"""Versioned artifacts (embeddings, models, codes) saved with their config, data fingerprint and file hashes.

Layout: `<artifacts_dir>/<kind>/<version>/{manifest.json, *.npy, ...}` plus `<kind>/LATEST` naming the newest.
A version directory is written under a temporary name and renamed into place, so a crash never leaves a
half-written artifact that looks complete; loading re-checks every file's sha256 against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from appliance import __version__
from appliance.data.hashing import file_sha256
from appliance.data.store import Interaction, Item, Review, User
from appliance.errors import UserError

MANIFEST = "manifest.json"
LATEST = "LATEST"


class ArtifactError(UserError, RuntimeError):
    """An artifact is missing or its files do not match its manifest."""


@dataclass(frozen=True)
class Artifact:
    path: Path
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]


def data_fingerprint(engine: Engine) -> str:
    """sha256 over row counts, max ids and item text: changes whenever the training data changes."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in (Item, User, Interaction, Review):
            row = conn.execute(select(func.count(), func.max(table.id))).one()
            digest.update(f"{table.__tablename__}:{row[0]}:{row[1]}\n".encode())
        for sku, title, brand in conn.execute(select(Item.sku, Item.title, Item.brand).order_by(Item.id)):
            digest.update(f"{sku}\x1f{title}\x1f{brand}\n".encode())
    return digest.hexdigest()


def save_artifact(root: Path, kind: str, arrays: dict[str, np.ndarray], meta: dict[str, Any], *,
                  now: datetime | None = None) -> Path:
    """Write arrays (.npy each) and a manifest atomically; returns the version directory."""
    now = now or datetime.now(UTC)
    kind_dir = Path(root) / kind
    kind_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=kind_dir))
    try:
        files = {}
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
            files[f"{name}.npy"] = file_sha256(staging / f"{name}.npy")
        # The version names the second and the content: the arrays' hashes AND the metadata (metrics, evaluation,
        # config), so two runs saved in one second with equal weights but different metadata stay two versions.
        content = "".join(sorted(files.values())) + json.dumps(meta, sort_keys=True, default=str)
        version = now.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.sha256(content.encode()).hexdigest()[:8]
        manifest = {"kind": kind, "version": version, "created": now.isoformat(timespec="seconds"),
                    "tanaban": __version__, "files": files, **meta}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        final = kind_dir / version
        if final.exists():  # identical arrays and metadata saved in the same second: keep the existing one
            shutil.rmtree(staging)
        else:
            os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_atomic(kind_dir / LATEST, version + "\n")
    return final


def load_artifact(root: Path, kind: str, version: str | None = None) -> Artifact:
    """Load `version` (default: LATEST) of `kind`, verifying every file against the manifest."""
    kind_dir = Path(root) / kind
    if version is None:
        try:
            version = (kind_dir / LATEST).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ArtifactError(f"no {kind} artifact in {root}: build it first") from None
    path = kind_dir / version
    try:
        meta = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"artifact {kind}/{version} not found in {root}") from None
    arrays = {}
    for name, expected in meta["files"].items():
        try:
            actual = file_sha256(path / name)
        except FileNotFoundError:
            raise ArtifactError(f"artifact file {path / name} is missing") from None
        if actual != expected:
            raise ArtifactError(f"{path / name} does not match its manifest hash: the artifact was modified")
        arrays[name.removesuffix(".npy")] = np.load(path / name, allow_pickle=False)
    return Artifact(path, arrays, meta)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
