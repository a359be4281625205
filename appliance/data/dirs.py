"""Creating the appliance's directories (data dir, artifacts, locks) with private modes, and the one error when the
operating system refuses: it names the directory, the reason (errno text) and the fix, never a traceback; and
`fsync_dir`, which makes a rename or a new entry in a directory durable (POSIX fsync(2) on the directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from appliance.errors import UserError


class DataDirError(UserError, OSError):
    """A directory under the appliance's data dir cannot be created (permissions, read-only disk, a file in the
    way); the message names the directory and the config key that moves it."""


def make_dir(path: Path, mode: int = 0o700) -> None:
    """`mkdir -p -m mode path`, as one DataDirError naming `path` and the fix when it fails. 0700 by default: the
    data directory holds review text, pseudonyms and keys, and only the appliance's user reads it (as the installer
    makes /var/lib/tanaban)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise DataDirError(f"cannot create the directory {path} ({exc.strerror}); create it with write access for "
                           f"this user (e.g. `install -d -m {mode:o} {path}`) or set paths.data_dir in the config "
                           "to a writable directory") from None


def fsync_dir(path: Path) -> None:
    """fsync(2) the directory `path`, so that entries renamed into or created in it survive a power loss (ext4 and
    XFS may otherwise persist a rename before the directory's own update)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
