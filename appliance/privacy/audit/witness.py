"""The witness file: every signed checkpoint is also appended (O_APPEND + fsync) to a file outside audit.db, one
canonical JSON checkpoint line each, so that deleting or rewriting database rows cannot remove what was signed.

It plays the role of a C2SP tlog-witness (https://c2sp.org/tlog-witness): an append-only record of the tree heads
(C2SP tlog-checkpoint: size, root, signature by a key id) the log has committed to. The lines are the export's
checkpoint lines, so an auditor can also pin them with `--checkpoint`. With audit.syslog each is also copied to the
system log (`syslog_checkpoint`). Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from appliance.privacy.audit.chain import AuditVerificationError, canonical_json
from appliance.privacy.audit.checkpoints import Checkpoint, checkpoint_from_dict

WITNESS_DIR, WITNESS_NAME = "audit-witness", "checkpoints.log"  # default: a directory next to audit.db


def default_witness_path(audit_path: Path) -> Path:
    return Path(audit_path).parent / WITNESS_DIR / WITNESS_NAME


def witness_line(checkpoint: Checkpoint) -> bytes:
    return canonical_json({"type": "checkpoint", **checkpoint.to_dict()}) + b"\n"


def syslog_checkpoint(checkpoint: Checkpoint) -> None:
    """Copy a committed checkpoint to the system log as its witness line (tree size, root, time, key id, signature),
    ident `tanaban-audit`, facility auth, priority notice. syslog(3) writes to the local /dev/log socket (journald or
    rsyslog), never to the network, and reports no failure: a best-effort copy beside the witness file, which stays
    the one verification relies on. `journalctl -t tanaban-audit -o cat` gives lines `--checkpoint` reads."""
    import syslog  # POSIX only, and only when audit.syslog is on

    syslog.openlog("tanaban-audit", syslog.LOG_PID, syslog.LOG_AUTH)
    syslog.syslog(syslog.LOG_NOTICE, witness_line(checkpoint).decode("utf-8").rstrip("\n"))


def missing_witness_error(path: Path) -> AuditVerificationError:
    return AuditVerificationError(
        f"the witness file {path} is missing but audit.db holds signed checkpoints: restore it from a backup (it "
        "may have been deleted to hide a rewrite); for a log written before witness files existed, create it "
        f"empty (install -m 600 /dev/null {path}) and checkpoints are witnessed from the next one on")


class WitnessFile:
    """Appends checkpoint lines and reads back the lines added since the last read (by any process)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0  # bytes already read and checked
        self._line = 0  # lines already read
        self._own: set[bytes] = set()  # lines this object appended and has not read back yet (known to be stored)

    def exists(self) -> bool:
        return self.path.exists()

    def rewind(self) -> None:
        self._offset, self._line, self._own = 0, 0, set()

    def append(self, checkpoint: Checkpoint) -> None:
        """One write of one whole line with O_APPEND, then fsync: a committed checkpoint is witnessed on disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = witness_line(checkpoint)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._own.add(line[:-1])

    def read_new(self) -> list[Checkpoint]:
        """Checkpoints appended since the last call ([] if the file does not exist), less those this object
        appended itself; a line still being written (no newline yet) is left for the next call. Raises
        AuditVerificationError if the file shrank or a line is not a checkpoint line."""
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            size, data = 0, b""
        except OSError as exc:
            raise AuditVerificationError(f"cannot read the witness file {self.path} ({exc.strerror}): the audit "
                                         "log's user must be able to read and append to it (audit.witness_path)"
                                         ) from None
        if size < self._offset:
            raise AuditVerificationError(f"the witness file {self.path} is shorter than when it was last read "
                                         "(truncated or replaced): witnessed checkpoints were removed")
        complete = data[:data.rfind(b"\n") + 1]
        found = []
        for raw in complete.split(b"\n")[:-1]:
            self._line += 1
            if raw in self._own:  # committed by this process just before it was witnessed: no need to parse it
                self._own.discard(raw)
                continue
            found.append(_checkpoint(raw, f"witness file {self.path} line {self._line}"))
        self._offset += len(complete)
        return found

    def read_all(self) -> list[Checkpoint]:
        self.rewind()
        return self.read_new()


def _checkpoint(raw: bytes, where: str) -> Checkpoint:
    """A witness line as a checkpoint. Plain JSON parsing, not the export's byte-exact canonical check: every field
    is compared with audit.db's row or checked against the entries, and the parse runs for every line whenever a
    process starts (strict parsing of a large file would cost seconds)."""
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise AuditVerificationError(f"{where}: not JSON ({exc})") from None
    if not isinstance(obj, dict) or obj.pop("type", None) != "checkpoint":
        raise AuditVerificationError(f"{where}: not a checkpoint line")
    return checkpoint_from_dict(obj)
