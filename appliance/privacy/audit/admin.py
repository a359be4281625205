"""What the `tanaban audit` commands do, on an opened appliance home: list, show, checkpoint, verify and export
the audit log. Showing and exporting entries is logged (log.export) before anything is shown or written, and
verifying the live log is logged (log.verify) with its outcome.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.config import ApplianceConfig
from appliance.data.keys import SigningKey, public_key_pem
from appliance.errors import UserError
from appliance.privacy.audit.chain import AuditVerificationError, format_time
from appliance.privacy.audit.checkpoints import Checkpoint
from appliance.privacy.audit.export import FORMATS, checkpoints_sidecar, public_key_sidecar, write_csv, write_jsonl
from appliance.privacy.audit.log import AuditEvent, AuditLog, AuditWriteError
from appliance.privacy.audit.verify import Progress, VerifyReport


class AuditRequestError(UserError, ValueError):
    """An audit command cannot do what was asked: a bad time filter, an unknown seq, an output file that exists."""


class AuditHome(Protocol):
    """The part of appliance.data.home.Home these functions use."""

    config: ApplianceConfig

    @property
    def signing_key(self) -> SigningKey: ...


@dataclass(frozen=True)
class ExportSummary:
    entries: int
    checkpoints: int
    files: tuple[Path, ...]  # the export and, for CSV, its sidecars


def open_audit_log(home: AuditHome) -> AuditLog:
    return AuditLog.open(home.config.audit_path, home.signing_key, cfg=home.config.audit)


def parse_time(text: str) -> str:
    """An ISO 8601 date or time as entries hold it (UTC, microseconds); a time without offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuditRequestError(f"{text!r} is not an ISO 8601 date or time (e.g. 2026-01-31 or "
                                "2026-01-31T12:00:00Z)") from None
    return format_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def list_entries(home: AuditHome, *, since: str | None = None, until: str | None = None, action: str | None = None,
                 destination: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` entries matching the filters (since inclusive, until exclusive), oldest first."""
    if limit < 1:
        raise AuditRequestError(f"--limit must be at least 1, got {limit}")
    bounds = {"since": parse_time(since) if since else None, "until": parse_time(until) if until else None}
    with open_audit_log(home) as log:
        return log.query(**bounds, action=action, destination=destination, limit=limit)


def show_entry(home: AuditHome, seq: int, *, actor: str = "") -> dict[str, Any]:
    """One entry, payload included; the read is logged as log.export before the entry is returned."""
    with open_audit_log(home) as log:
        entry = log.entry(seq)
        if entry is None:
            raise AuditRequestError(f"no audit entry {seq} (the log has {log.size()} entries)")
        log.append(AuditEvent("log.export", "ok", reason=f"show entry {seq}", actor=actor, record_count=1))
        return entry


def checkpoint_log(home: AuditHome) -> Checkpoint:
    """Sign a checkpoint of the whole log now."""
    with open_audit_log(home) as log:
        return log.checkpoint()


def verify_home(home: AuditHome, *, public_keys: Sequence[Ed25519PublicKey] = (), actor: str = "",
                progress: Progress | None = None) -> VerifyReport:
    """Verify the live log (with the appliance's own public key unless keys are given); log it as log.verify."""
    with open_audit_log(home) as log:
        try:
            report = log.verify(public_keys, progress=progress)
        except AuditVerificationError as exc:
            with contextlib.suppress(AuditWriteError):  # the verification failure is what must reach the user
                log.append(AuditEvent("log.verify", "failed", reason=str(exc), actor=actor))
            raise
        log.append(AuditEvent("log.verify", "ok", actor=actor, record_count=report.entries))
        return report


def export_log(home: AuditHome, fmt: str, out: Path, *, actor: str = "",
               progress: Progress | None = None) -> ExportSummary:
    """Log the export, sign a fresh checkpoint (so the export is covered to its end), then write it."""
    if fmt not in FORMATS:
        raise AuditRequestError(f"unknown export format {fmt!r} (choose {' or '.join(FORMATS)})")
    out = Path(out)
    files = (out,) if fmt == "jsonl" else (out, checkpoints_sidecar(out), public_key_sidecar(out))
    existing = [str(f) for f in files if f.exists()]
    if existing:
        raise AuditRequestError(f"refusing to overwrite {', '.join(existing)}")
    key = home.signing_key
    pem = public_key_pem(key.public).decode("ascii")
    with open_audit_log(home) as log:
        log.append(AuditEvent("log.export", "ok", reason=f"export {fmt}", actor=actor,
                              destination={"file": str(out.resolve())}, record_count=log.size() + 1))
        log.checkpoint()
        checkpoints = log.checkpoints()  # read before the entries, so every checkpoint is covered by them
        entries = _counted(log.entries(), progress)
        if fmt == "jsonl":
            count = write_jsonl(out, entries, checkpoints, pem, key.key_id)
        else:
            count = write_csv(out, entries, checkpoints, pem)
    return ExportSummary(count, len(checkpoints), files)


def _counted(entries: Iterable[dict[str, Any]], progress: Callable[[int], None] | None) -> Iterator[dict[str, Any]]:
    for done, entry in enumerate(entries, start=1):
        if progress is not None and done % 1000 == 0:
            progress(done)
        yield entry
