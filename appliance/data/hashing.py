"""`file_sha256`: the one file hash of the appliance (artifact manifests, signed bundle manifests, text-encoder
weights). Imports only the standard library, so the torch-free serving runtime (export.bundle) and the core
(appliance.data.artifacts, appliance.text.encoder) can all use it without pulling in each other's dependencies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20  # read in 1 MiB blocks: model weights and ONNX files can be hundreds of MB


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file's bytes; raises FileNotFoundError (OSError) like `open`."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()
