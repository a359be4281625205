"""`tanaban backup DEST` and `tanaban restore SRC`: a signed, hash-listed snapshot of the home with the keys encrypted
under a passphrase, and its restore onto a fresh data directory (appliance.data.backup; docs/OPERATIONS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.data.backup import create_backup, restore_backup
from cli.common import console, err_console, get_config, read_passphrase

PassphraseOpt = Annotated[Path | None, typer.Option("--passphrase-file", help=(
    "File whose first line is the passphrase (keep it 0600); without it you are asked (never give it in argv)."))]


def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="New (or empty) directory to write the backup into.")],
    passphrase_file: PassphraseOpt = None,
) -> None:
    """Back up store, audit log, keys (encrypted), current bundle(s), API keys and config into DEST, with a signed
    manifest of SHA-256 hashes. Waits for a running `init` or key rotation; ingests may go on meanwhile.

    Example: tanaban backup /srv/backup/tanaban-2026-03-01 --passphrase-file /root/backup.pass
    """
    passphrase = read_passphrase(passphrase_file, confirm=True)
    err_console.print(f"backing up to {dest} ...", highlight=False, markup=False)
    report = create_backup(get_config(ctx), dest, passphrase)
    console.print(f"backup written to {report.dest}: {len(report.parts)} files, store schema "
                  f"v{report.schema_version}, bundles: {', '.join(report.bundles) or 'none'}. Keep the passphrase "
                  "apart from the backup: without it the keys (and every stored pseudonym) are lost.",
                  highlight=False, markup=False)


def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="A directory written by `tanaban backup`.")],
    passphrase_file: PassphraseOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Restore even though a home exists: what is in the way is "
                                                        "moved aside (*.before-restore-<time>), never deleted.")]
    = False,
) -> None:
    """Check every hash and the manifest signature, decrypt the keys, restore onto the configured (fresh) data
    directory, then verify the audit chain. Stop `tanaban serve` first.

    Example: tanaban restore /srv/backup/tanaban-2026-03-01 --passphrase-file /root/backup.pass
    """
    passphrase = read_passphrase(passphrase_file, confirm=False)
    err_console.print(f"restoring from {src} ...", highlight=False, markup=False)
    report = restore_backup(get_config(ctx), src, passphrase, force=force)
    for path in report.moved_aside:
        console.print(f"moved aside: {path}", highlight=False, markup=False)
    console.print(f"restored {report.parts} files into {report.data_dir}; audit log OK: {report.audit}",
                  highlight=False, markup=False)
    if report.config_copy is not None:
        console.print(f"the backed-up config file is at {report.config_copy}: compare it with your config",
                      highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("backup")(backup)
    app.command("restore")(restore)
