"""`tanaban audit`: list, show, report, checkpoint, verify and export the signed egress audit log, rotate, revoke and
list its signing keys (`audit key`), and print the SQL that sets it up append-only on PostgreSQL (docs/POSTGRES.md,
"Audit log")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from appliance.data.keys import load_public_key
from appliance.privacy.audit.admin import (
    AuditRequestError,
    checkpoint_log,
    export_log,
    list_entries,
    readable_payload,
    report_log,
    show_entry,
    verify_home,
)
from appliance.privacy.audit.backends import postgres_setup_sql
from appliance.privacy.audit.export import read_checkpoints
from appliance.privacy.audit.report import describe_categories, describe_destination
from appliance.privacy.audit.rotation import list_audit_keys, revoke_audit_key, rotate_audit_key
from appliance.privacy.audit.verify import verify_export
from cli.common import console, get_home, print_json

audit_app = typer.Typer(help="Review, verify and export the signed, tamper-evident egress audit log.",
                        no_args_is_help=True)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done: bar.update(task, completed=done)


_TABLE_WIDTH = 160  # narrower terminals get long lines rather than twelve cells folded to a few characters


def _table(rows: list[dict[str, Any]]) -> Table:
    """One row per entry; cells fold onto more lines rather than being cut off."""
    cells = [_cells(entry) for entry in rows]
    table = Table(title=f"{len(rows)} audit entries", box=box.SIMPLE)
    for key in cells[0] if cells else ("seq",):
        table.add_column(key, overflow="fold")
    for cell in cells:
        table.add_row(*cell.values())
    return table


def _cells(entry: dict[str, Any]) -> dict[str, str]:
    return {
        "seq": str(entry["seq"]), "time (UTC)": entry["time"][:19].replace("T", " "), "actor": entry["actor"],
        "action": entry["action"], "outcome": entry["outcome"],
        "destination": describe_destination(entry["destination"]), "purpose": entry["purpose"],
        "policy": entry["policy_version"], "records": str(entry["record_count"]),
        "removed": describe_categories(entry["categories"]), "bytes": str(entry["payload_size"]),
        "reason": entry["reason"],
    }


@audit_app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="Only entries at or after this ISO 8601 time (UTC if no offset).")]
    = None,
    until: Annotated[str | None, typer.Option(help="Only entries before this ISO 8601 time.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. egress.request.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Only this outcome: ok, blocked, error or failed.")] = None,
    destination: Annotated[str | None, typer.Option(help="Only entries sent to this host.")] = None,
    limit: Annotated[int, typer.Option(help="Show the newest N matching entries.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of the entries (no payloads).")]
    = False,
) -> None:
    """List audit entries, oldest first (payloads are shown only by `audit show`).

    Example: tanaban audit list --action egress.request --since 2026-01-01 --limit 20
    """
    rows = list_entries(get_home(ctx), since=since, until=until, action=action, outcome=outcome,
                        destination=destination, limit=limit)
    if as_json:
        print_json(rows)
    else:
        Console(width=max(console.width, _TABLE_WIDTH)).print(_table(rows))


@audit_app.command("show")
def show(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(help="The entry's sequence number.")],
    raw: Annotated[bool, typer.Option("--raw", help="Print the payload as the stored string (the exact bytes "
                                                    "that were hashed and sent), not decoded.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print plain JSON (no colours), one document.")] = False,
) -> None:
    """Show one audit entry in full, payload included and, when it is JSON, decoded (the read is logged).

    Example: tanaban audit show 42 --json
    """
    entry = show_entry(get_home(ctx), seq)
    doc = entry if raw else readable_payload(entry)
    if as_json:
        print_json(doc)
    else:
        console.print_json(json.dumps(doc, ensure_ascii=False))


@audit_app.command("report")
def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Output file (never overwritten).")],
    fmt: Annotated[str, typer.Option("--format", help="html (one self-contained page with charts), csv (one row "
                                                      "per entry) or json (summary and rows).")] = "html",
    since: Annotated[str | None, typer.Option(help="First day or time covered, ISO 8601 (UTC if no offset).")]
    = None,
    until: Annotated[str | None, typer.Option(help="First day or time not covered (exclusive).")] = None,
    allow_unsigned_tail: Annotated[int, typer.Option(min=0, help="As for `audit verify`: accept at most N entries "
                                                                 "after the latest signed checkpoint.")] = 0,
) -> None:
    """Write an auditor's report: what left, when, where, why, under which policy; verification result first
    (exit status 1, report still written, when the log fails verification).

    Example: tanaban audit report --since 2026-03-01 --until 2026-04-01 --format html --out march.html
    """
    made = report_log(get_home(ctx), fmt, out, since=since, until=until, allow_unsigned_tail=allow_unsigned_tail)
    console.print(made.verification.line, highlight=False)
    console.print(f"report of {made.summary['entries']} entries written to {out}", highlight=False)
    if not made.verification.ok:
        raise typer.Exit(1)  # the report is written, but scripts must not take a failing log for a good one


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint (tree size + Merkle root) of the whole log now; save the printed line to pin it.

    Example: tanaban audit checkpoint
    """
    signed = checkpoint_log(get_home(ctx))
    console.print(f"checkpoint: tree size {signed.tree_size}, root {signed.root_hash}, key {signed.key_id}")
    console.print(json.dumps({"type": "checkpoint", **signed.to_dict()}, sort_keys=True), highlight=False)


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    export: Annotated[Path | None, typer.Option(help="Verify this export (JSONL, or CSV with sidecars) instead "
                                                     "of the live log; needs no appliance.")] = None,
    public_key: Annotated[list[Path] | None, typer.Option(help="Trusted public key PEM (required with --export; "
                                                               "repeat for rotated keys; default for the live "
                                                               "log: the appliance's own key).")] = None,
    checkpoint: Annotated[list[Path] | None, typer.Option(help="With --export: a file of checkpoint lines kept "
                                                               "from earlier (or an earlier export) that the "
                                                               "export must still match; repeatable.")] = None,
    allow_unsigned_tail: Annotated[int, typer.Option(min=0, help="Accept at most N entries after the latest signed "
                                                                 "checkpoint (default 0: any fails); entries with "
                                                                 "no checkpoint at all always fail.")] = 0,
) -> None:
    """Verify the hash chain, Merkle roots and checkpoint signatures, failing closed on entries no signed checkpoint
    covers; report counts or the first bad entry.

    Example: tanaban audit verify --export audit.jsonl --public-key signing.pub
    """
    if export is not None and not public_key:
        raise AuditRequestError("--export needs --public-key: the key inside an export proves nothing")
    if export is None and checkpoint:
        raise AuditRequestError("--checkpoint pins an export: use it with --export")
    keys = [load_public_key(p) for p in public_key or ()]
    pinned = [c for path in checkpoint or () for c in read_checkpoints(path)]
    with _progress("verifying") as progress:
        if export is not None:
            report = verify_export(export, keys, pinned=pinned, progress=progress,
                                   allow_unsigned_tail=allow_unsigned_tail)
        else:
            report = verify_home(get_home(ctx), public_keys=keys, progress=progress,
                                 allow_unsigned_tail=allow_unsigned_tail)
    console.print(f"OK: {report.summary()}", highlight=False)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Output file (never overwritten).")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl (one file) or csv (+ FILE.checkpoints.jsonl and "
                                                      "FILE.pub.pem).")] = "jsonl",
    since: Annotated[str | None, typer.Option(help="Range export (JSONL): entries at or after this ISO 8601 time "
                                                   "(UTC if no offset), after a prefix record that seeds "
                                                   "verification.")] = None,
    until: Annotated[str | None, typer.Option(help="Range export (JSONL): entries before this time; the range "
                                                   "runs on to the next signed checkpoint.")] = None,
) -> None:
    """Export entries, signed checkpoints and the public key for offline verification (the export is logged).

    Example: tanaban audit export --format jsonl --out audit.jsonl --since 2026-03-01 --until 2026-04-01
    """
    with _progress("exporting") as progress:
        summary = export_log(get_home(ctx), fmt, out, progress=progress, since=since, until=until)
    console.print(f"exported {summary.entries} entries and {summary.checkpoints} checkpoints to "
                  f"{', '.join(map(str, summary.files))}")


@audit_app.command("postgres-sql")
def postgres_sql(
    role: Annotated[str, typer.Option(help="The PostgreSQL role the appliance connects as (audit.url's user); it "
                                           "gets SELECT and INSERT on the audit tables and nothing else.")],
) -> None:
    """Print the SQL an admin runs once (psql, as the audit schema's owner, not as ROLE) to create the append-only
    audit tables in PostgreSQL and grant ROLE only SELECT and INSERT on them. Connects to nothing.

    Example: tanaban audit postgres-sql --role tanaban_app | psql -h db.internal -U audit_owner tanaban
    """
    typer.echo(postgres_setup_sql(role), nl=False)


key_app = typer.Typer(help="Rotate, revoke and list the keys that sign the audit log's checkpoints.\n\n"
                           "Example: tanaban audit key list", no_args_is_help=True)
audit_app.add_typer(key_app, name="key")


@key_app.command("rotate")
def key_rotate(
    ctx: typer.Context,
    revoke: Annotated[bool, typer.Option("--revoke", help="Also revoke the current key (compromised or suspected): "
                                                          "it does not sign the hand-over.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Start a new audit signing key, recorded in the log (auditkey.rotate) and signed by the old key (unless
    --revoke) and the new one; the old key's later checkpoints fail verification. Give auditors the new .pub.

    Bundles stay signed by signing.key. A running `tanaban serve` needs no restart: at its next checkpoint it loads
    the new key from audit-keys/. Two rotations at once run one after the other, and the second refuses (naming the
    new key) since the key it was to replace is gone. Running it again finishes an interrupted rotation.

    Example: tanaban audit key rotate --revoke --yes
    """
    home = get_home(ctx)
    if not yes:
        typer.confirm("Start a new audit signing key" + (" and revoke the current one?" if revoke else "?"),
                      abort=True)
    done = rotate_audit_key(home, revoke=revoke)
    if done.finished_interrupted:
        console.print(f"finished an interrupted rotation: key {done.new_key_id} (entry {done.seq}) now signs the "
                      f"audit log; public key {done.public_key}", highlight=False)
        return
    console.print(f"rotated: audit signing key {done.old_key_id} -> {done.new_key_id} at entry {done.seq}"
                  + (f"; {done.old_key_id} revoked" if done.revoked else "") + f"; give auditors {done.public_key} "
                  "(verify with one --public-key per key)", highlight=False)


@key_app.command("revoke")
def key_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key id to revoke (`tanaban audit key list`).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Record an earlier audit signing key as revoked (auditkey.revoke): any checkpoint it signs from then on fails
    verification, naming the key. The current key is revoked with `audit key rotate --revoke` instead.

    Example: tanaban audit key revoke 3f2a9c0d1e4b5a67 --yes
    """
    home = get_home(ctx)
    if not yes:
        typer.confirm(f"Revoke audit signing key {key_id}?", abort=True)
    seq = revoke_audit_key(home, key_id)
    console.print(f"revoked: audit signing key {key_id} at entry {seq}", highlight=False)


@key_app.command("list")
def key_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List every key that signed the audit log, or that a rotation introduced, with its validity.

    Example: tanaban audit key list --json
    """
    import dataclasses

    states = list_audit_keys(get_home(ctx))
    if as_json:
        print_json([dataclasses.asdict(s) for s in states])
        return
    for state in states:
        since = f"from entry {state.introduced}" if state.introduced else "from the start"
        console.print(f"{state.key_id}  {since:<18} {state.checkpoints:>6} checkpoints  {state.status}",
                      highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(audit_app, name="audit")
