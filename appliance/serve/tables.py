"""How a serving node reads a verified bundle's `.npy` tables (NumPy's .npy format, NEP 1): into memory (the default),
or, with `serve.mmap_tables`, as read-only memory maps (mmap(2) via `numpy.load(mmap_mode="r")`) of a node-private
copy, so that the per-customer tables (cached top lists, user embeddings, sequences) are file-backed pages the kernel
can drop and re-read instead of private memory held per worker.

The node's guarantee that a bundle broken on disk after load does not change its answers (docs/SERVING.md, "Served
bundle broken on disk") needs the mapped bytes to be the verified ones. A map of the bundle file itself would not
give that: a file overwritten in place changes the mapped pages. So each large table is copied into a fresh directory
of the process's own under `<data_dir>/run/tables` (mode 0700), hashed (sha256) while it is copied and compared with
the hash in the bundle's signed manifest, mapped, and then unlinked at once: the mapping keeps the copy's inode alive
(its pages stay file-backed and reclaimable), nothing in the bundle directory is mapped, and no copy outlives the
process or piles up across reloads, even after a crash (`remove_stale_tables` also sweeps the directories of dead
processes that were killed half way through a copy). Tables smaller than `MIN_MAPPED_BYTES` are read into memory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from appliance.data.dirs import make_dir
from appliance.data.hashing import CHUNK_BYTES
from appliance.data.locks import pid_alive
from appliance.serve.errors import ServeError

MIN_MAPPED_BYTES = 1 << 20  # below 1 MiB a table is read into memory: a map saves nothing worth a copy there
TABLES_DIR = Path("run") / "tables"  # under the data dir


class TableReader:
    """Reads a verified bundle's tables into memory: what every node does unless `serve.mmap_tables` is on."""

    mapped = False

    def array(self, path: Path, files: Mapping[str, str]) -> np.ndarray:
        return np.load(path, allow_pickle=False)

    def optional(self, path: Path, files: Mapping[str, str]) -> np.ndarray | None:
        return self.array(path, files) if path.is_file() else None


class MappedTables(TableReader):
    """Maps large tables read-only from private, hash-checked copies under `directory` (see the module docstring).

    `files` is the signed manifest's {relative path: sha256} of the bundle the table belongs to."""

    mapped = True

    def __init__(self, directory: Path, min_bytes: int = MIN_MAPPED_BYTES) -> None:
        self.directory, self.min_bytes = Path(directory), min_bytes

    def array(self, path: Path, files: Mapping[str, str]) -> np.ndarray:
        path = Path(path)
        expected = files.get(path.name)
        if expected is None:
            raise ServeError(f"bundle {path.parent}: {path.name} is not in its signed manifest; re-export the bundle")
        if path.stat().st_size < self.min_bytes:
            return super().array(path, files)
        make_dir(self.directory)
        private = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.directory))  # mode 0700
        copy = private / path.name
        try:
            digest = hashlib.sha256()
            with path.open("rb") as src, copy.open("wb") as dst:
                while block := src.read(CHUNK_BYTES):
                    digest.update(block)
                    dst.write(block)
            if digest.hexdigest() != expected:
                raise ServeError(f"bundle {path.parent}: {path.name} changed on disk after it was verified (its "
                                 "sha256 no longer matches the signed manifest); restore or re-export the bundle, "
                                 "then reload")
            return np.load(copy, mmap_mode="r", allow_pickle=False)
        except OSError as exc:
            raise ServeError(f"cannot copy {path.name} of bundle {path.parent} into {self.directory} to map it "
                             f"({exc.strerror}); free disk space there or set serve.mmap_tables = false") from None
        finally:
            shutil.rmtree(private, ignore_errors=True)  # the map (if any) keeps the inode; nothing stays on disk


def tables_dir(data_dir: Path) -> Path:
    return Path(data_dir) / TABLES_DIR


def remove_stale_tables(directory: Path) -> int:
    """Remove the private copy directories (`<pid>-*`) of processes that no longer run; returns how many."""
    removed = 0
    for entry in Path(directory).glob("*-*") if Path(directory).is_dir() else ():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed
