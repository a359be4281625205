"""What the `tanaban audit` commands do, on an opened appliance home: list, show, report, checkpoint, verify and
export the audit log. Showing an entry and making a report are logged as reads (log.read) and exports as log.export,
before anything is shown or written; verifying the live log is logged (log.verify) with its outcome.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.config import ApplianceConfig
from appliance.data.keys import AUDIT_KEYS_DIR, SigningKey, audit_public_keys, audit_signer, public_key_pem
from appliance.errors import UserError
from appliance.privacy.audit.chain import (
    ACTIONS,
    GENESIS_PREV_HASH,
    AuditVerificationError,
    canonical_json,
    entry_body,
    format_time,
)
from appliance.privacy.audit.checkpoints import Checkpoint
from appliance.privacy.audit.export import (
    FORMATS,
    RangePrefix,
    checkpoints_sidecar,
    public_key_sidecar,
    write_csv,
    write_jsonl,
)
from appliance.privacy.audit.log import AuditEvent, AuditLog, AuditWriteError
from appliance.privacy.audit.merkle import MerkleFrontier, hash_leaf
from appliance.privacy.audit.report import REPORT_FORMATS, AuditReport, Verification, build_report, render, write_report
from appliance.privacy.audit.verify import Progress, VerifyReport

OUTCOMES = ("ok", "blocked", "error", "failed")  # what writers record (AuditEvent.outcome); filters accept only these


class AuditRequestError(UserError, ValueError):
    """An audit command cannot do what was asked: a bad time or filter, an unknown seq, an output file that exists."""


class AuditHome(Protocol):
    """The part of appliance.data.home.Home these functions use."""

    config: ApplianceConfig

    @property
    def audit_key(self) -> SigningKey: ...


@dataclass(frozen=True)
class ExportSummary:
    entries: int
    checkpoints: int
    files: tuple[Path, ...]  # the export and, for CSV, its sidecars


def open_audit_log(home: AuditHome) -> AuditLog:
    """The machine's log, signed by its current audit key and verified by default with every key that signed it;
    it picks up a key rotated by another process (`rotated_key_loader`)."""
    return AuditLog.open(home.config.audit_path, home.audit_key, cfg=home.config.audit,
                         public_keys=audit_public_keys(home.config.keys_dir),
                         key_loader=rotated_key_loader(home.config.keys_dir))


INSTALL_WAIT_S = 2.0  # how long an appending process waits for a rotation's new key to be renamed into place


def rotated_key_loader(keys_dir: Path, *, wait_s: float = INSTALL_WAIT_S) -> Callable[[str], SigningKey | None]:
    """For an appending process (`serve`) whose key a rotation retired: the signer of audit key `key_id` if it is
    this machine's installed audit key (audit-keys/<n>-<key id>.key), else None. A rotation renames the new key into
    place just after its COMMIT, so while a `<n>-<key id>.key.pending` exists this waits up to `wait_s` for it."""

    def load(key_id: str) -> SigningKey | None:
        deadline = time.monotonic() + wait_s
        while True:
            signer = audit_signer(keys_dir)
            if signer.key_id == key_id:
                return signer
            pending = list((Path(keys_dir) / AUDIT_KEYS_DIR).glob(f"*-{key_id}.key.pending"))
            if not pending or time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    return load


def parse_time(text: str) -> str:
    """An ISO 8601 date or time as entries hold it (UTC, microseconds); a time without offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuditRequestError(f"{text!r} is not an ISO 8601 date or time (e.g. 2026-01-31 or "
                                "2026-01-31T12:00:00Z)") from None
    return format_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _check_known(option: str, value: str | None, known: Sequence[str]) -> None:
    """A misspelt filter is an error naming the valid values, never a silently empty answer."""
    if value is not None and value not in known:
        raise AuditRequestError(f"{option} {value!r} is unknown; valid values: {', '.join(known)}")


def _bounds(since: str | None, until: str | None) -> dict[str, str | None]:
    return {"since": parse_time(since) if since else None, "until": parse_time(until) if until else None}


def list_entries(home: AuditHome, *, since: str | None = None, until: str | None = None, action: str | None = None,
                 outcome: str | None = None, destination: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` entries matching the filters (since inclusive, until exclusive), oldest first, without
    their payloads (`show_entry` shows one, and logs it)."""
    if limit < 1:
        raise AuditRequestError(f"--limit must be at least 1, got {limit}")
    _check_known("--action", action, ACTIONS)
    _check_known("--outcome", outcome, OUTCOMES)
    with open_audit_log(home) as log:
        found = log.query(**_bounds(since, until), action=action, destination=destination,
                          limit=None if outcome else limit)
    if outcome:  # the log's query has no outcome filter: filter here, then keep the newest `limit`
        found = [e for e in found if e["outcome"] == outcome][-limit:]
    return [{k: v for k, v in entry.items() if k != "payload"} for entry in found]


def show_entry(home: AuditHome, seq: int, *, actor: str = "") -> dict[str, Any]:
    """One entry, payload included; the read is logged as log.read before the entry is returned."""
    with open_audit_log(home) as log:
        entry = log.entry(seq)
        if entry is None:
            raise AuditRequestError(f"no audit entry {seq} (the log has {log.size()} entries)")
        log.append(AuditEvent("log.read", "ok", reason=f"show entry {seq}", actor=actor, record_count=1))
        return entry


def readable_payload(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with a JSON payload (a request body as sent) decoded into its object, so that it reads as indented
    JSON rather than an escaped string; only when re-encoding gives back the stored text byte for byte, so nothing
    is shown that the entry does not hold. Other payloads (plain text, null) are left as they are."""
    payload = entry.get("payload")
    if not isinstance(payload, str):
        return dict(entry)
    try:
        decoded = json.loads(payload)
    except ValueError:
        return dict(entry)
    same = [json.dumps(decoded, ensure_ascii=False, separators=seps) for seps in ((",", ":"), (", ", ": "))]
    if not isinstance(decoded, dict | list) or payload not in same:
        return dict(entry)
    return {**entry, "payload": decoded}


def checkpoint_log(home: AuditHome) -> Checkpoint:
    """Sign a checkpoint of the whole log now."""
    with open_audit_log(home) as log:
        return log.checkpoint()


def verify_home(home: AuditHome, *, public_keys: Sequence[Ed25519PublicKey] = (), actor: str = "",
                progress: Progress | None = None, allow_unsigned_tail: int = 0) -> VerifyReport:
    """Verify the live log (with the appliance's own public key unless keys are given), failing closed on entries
    no signed checkpoint covers beyond `allow_unsigned_tail`; log it as log.verify."""
    with open_audit_log(home) as log:
        try:
            report = log.verify(public_keys, progress=progress, allow_unsigned_tail=allow_unsigned_tail)
        except AuditVerificationError as exc:
            with contextlib.suppress(AuditWriteError):  # the verification failure is what must reach the user
                log.append(AuditEvent("log.verify", "failed", reason=str(exc), actor=actor))
            raise
        log.append(AuditEvent("log.verify", "ok", actor=actor, record_count=report.entries))
        return report


def report_log(home: AuditHome, fmt: str, out: Path, *, since: str | None = None, until: str | None = None,
               actor: str = "", now: datetime | None = None, allow_unsigned_tail: int = 0) -> AuditReport:
    """Verify the live log as `verify_home` does, log the read (log.read), then write the report of the entries in
    [since, until).

    A log that fails verification still gets its report, with FAILED at the top: that is what the auditor must see.
    """
    if fmt not in REPORT_FORMATS:
        raise AuditRequestError(f"unknown report format {fmt!r} (choose {', '.join(REPORT_FORMATS)})")
    out = Path(out)
    if out.exists():
        raise AuditRequestError(f"refusing to overwrite {out}")
    bounds = _bounds(since, until)
    with open_audit_log(home) as log:
        try:
            verification = Verification(True, f"OK: {log.verify(allow_unsigned_tail=allow_unsigned_tail).summary()}")
        except AuditVerificationError as exc:
            verification = Verification(False, f"FAILED: {exc}")
        entries = log.query(**bounds)
        read = AuditEvent("log.read", "ok", reason=f"report {fmt}" + ("" if verification.ok else
                          " of a log that fails verification"), actor=actor,
                          destination={"file": str(out.resolve())}, record_count=len(entries))
        try:
            log.append(read)
        except AuditWriteError:
            if verification.ok:
                raise  # a readable log is never reported without the read on record
            # a failing log may refuse writes: its FAILED report is what must reach the auditor (as in verify_home)
    generated = format_time(now or datetime.now(UTC))
    report = build_report(entries, verification, since=bounds["since"] or "", until=bounds["until"] or "",
                          generated=generated)
    write_report(render(report, fmt), out)
    return report


def export_log(home: AuditHome, fmt: str, out: Path, *, actor: str = "", progress: Progress | None = None,
               since: str | None = None, until: str | None = None) -> ExportSummary:
    """Verify the log (refusing to export one that fails), log the export, make sure a checkpoint covers it to its
    end (signed only after the log since the previous checkpoint verifies), then write it.

    With `since` / `until` (JSONL only) only the entries in that range are written, after a prefix record that
    seeds offline verification (`_plan_range`); the range ends on a signed tree, so it may run past `until`."""
    if fmt not in FORMATS:
        raise AuditRequestError(f"unknown export format {fmt!r} (choose {' or '.join(FORMATS)})")
    bounds = _bounds(since, until)
    ranged = any(bounds.values())
    if ranged and fmt != "jsonl":
        raise AuditRequestError("a range export (--since/--until) is JSONL only: its first line, the prefix record "
                                "that verification starts from, has no place in CSV")
    out = Path(out)
    files = (out,) if fmt == "jsonl" else (out, checkpoints_sidecar(out), public_key_sidecar(out))
    existing = [str(f) for f in files if f.exists()]
    if existing:
        raise AuditRequestError(f"refusing to overwrite {', '.join(existing)}")
    key = home.audit_key
    pem = public_key_pem(key.public).decode("ascii")
    with open_audit_log(home) as log:
        log.ensure_checkpoint()  # refuses (SigningRefusedError) if the log since the last checkpoint does not verify
        log.verify()  # the whole log, failing closed: nothing is exported from a log that fails verification
        scope = f", entries from {bounds['since'] or 'the first'} until {bounds['until'] or 'the last'}" if ranged \
            else ""
        log.append(AuditEvent("log.export", "ok", reason=f"export {fmt}{scope}", actor=actor,
                              destination={"file": str(out.resolve())}, record_count=log.size() + 1))
        log.ensure_checkpoint()
        checkpoints = log.checkpoints()  # read before the entries, so every checkpoint is covered by them
        # and the entries end at the latest of them: what other writers append meanwhile (other processes, other
        # hosts on PostgreSQL) would be an unsigned tail that makes the export fail verification
        signed = checkpoints[-1].tree_size
        entries: Iterable[dict[str, Any]] = log.entries(upto=signed)
        prefix = None
        if ranged:
            prefix = _plan_range(log.entries(upto=signed), bounds, [c.tree_size for c in checkpoints])
            entries = (e for e in entries if prefix.tree_size < e["seq"] <= prefix.end)
            checkpoints = [c for c in checkpoints if prefix.tree_size <= c.tree_size <= prefix.end]
        if fmt == "jsonl":
            count = write_jsonl(out, _counted(entries, progress), checkpoints, pem, key.key_id, prefix)
        else:
            count = write_csv(out, _counted(entries, progress), checkpoints, pem)
    return ExportSummary(count, len(checkpoints), files)


def _plan_range(entries: Iterable[dict[str, Any]], bounds: Mapping[str, str | None],
                signed_sizes: Sequence[int]) -> RangePrefix:
    """The prefix record of the entries from the first at or after `since` to the last before `until`, the end
    moved to the first signed tree size at or after it (so the range ends on a signed root): the compact range of
    the Merkle tree before the range and the entry_hash the range's first entry links to."""
    frontier, link, start, end = MerkleFrontier(), GENESIS_PREV_HASH.hex(), None, 0
    compact: list[bytes] = []
    for entry in entries:
        if start is None and (bounds["since"] is None or entry["time"] >= bounds["since"]):
            start, compact, before = entry["seq"] - 1, frontier.compact_range(), link
        if bounds["until"] is None or entry["time"] < bounds["until"]:
            end = entry["seq"]
        frontier.append(hash_leaf(canonical_json(entry_body(entry))))
        link = entry["entry_hash"]
    if start is None or end <= start:
        raise AuditRequestError("no audit entries in that range: nothing to export")
    end = min((size for size in signed_sizes if size >= end), default=end)
    return RangePrefix(start, tuple(h.hex() for h in compact), before, end)


def _counted(entries: Iterable[dict[str, Any]], progress: Callable[[int], None] | None) -> Iterator[dict[str, Any]]:
    for done, entry in enumerate(entries, start=1):
        if progress is not None and done % 1000 == 0:
            progress(done)
        yield entry
