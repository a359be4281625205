"""`tanaban keys`: show key ids and fingerprints (never secrets) and rotate the pseudonym key."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from appliance.data.rotation import describe_keys, rotate_pseudonym_key
from cli.common import console, get_home, print_json

keys_app = typer.Typer(help="Key ids, fingerprints and pseudonym-key rotation.\n\nExample: tanaban keys show",
                       no_args_is_help=True)


@keys_app.command("show")
def show(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help=(
        "Print one JSON document (the fields of KeysReport; docs/OPERATIONS.md)."))] = False) -> None:
    """Show key ids, fingerprints and stored users per pseudonym key id (never key material).

    Example: tanaban keys show --json
    """
    report = describe_keys(get_home(ctx))
    if as_json:
        print_json(dataclasses.asdict(report))
        return
    lines = [f"pseudonym key   {report.pseudonym_key_id} (created {report.pseudonym_created or 'unknown'})",
             f"retired keys    {', '.join(report.retired_key_ids) or '(none)'}",
             f"signing key     {report.signing_key_id}",
             f"public key      sha256 {report.public_key_sha256}",
             "users per key   " + (", ".join(f"{k}: {n}" for k, n in sorted(report.users_per_key.items())) or "0")]
    if report.pending:
        lines.append("WARNING: an interrupted rotation is pending; finish it with `tanaban keys rotate --yes`")
    if len(report.users_per_key) > 1:
        lines.append("WARNING: stored users carry more than one key id; the store does not match the keys")
    console.print("\n".join(lines), highlight=False, markup=False)


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """New pseudonym key; re-key every stored pseudonym in one transaction; archive the old key; audit it.

    Waits for running ingests, trainings and exports (the exclusive store lock, docs/OPERATIONS.md); stop
    serving first.

    Example: tanaban keys rotate --yes
    """
    home = get_home(ctx)
    if not yes:
        typer.confirm("Rotate the pseudonym key and re-key every stored customer pseudonym?", abort=True)
    report = rotate_pseudonym_key(home)
    verb = "finished an interrupted rotation" if report.completed_interrupted else "rotated"
    console.print(f"{verb}: pseudonym key {report.old_key_id} -> {report.new_key_id}; {report.users} stored "
                  f"pseudonyms re-keyed; old key archived at {report.archived} (0600)", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
