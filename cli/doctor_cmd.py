"""`tanaban doctor`: check the installation (permissions, keys, store, audit chain, bundles, disk, port) and print
one fix per problem (appliance.doctor)."""

from __future__ import annotations

from typing import Annotated

import typer

from appliance.doctor import FAIL, OK, run_doctor
from cli.common import console, print_json, state

_MARK = {OK: "ok  ", "warn": "WARN", FAIL: "FAIL"}


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (ok, checks, build).")] = False,
) -> None:
    """Check the appliance and print one line per check with the fix for each problem; exit status 1 when any check
    fails (warnings do not fail).

    Example: tanaban doctor --json
    """
    report = run_doctor(state(ctx).config)
    if as_json:
        print_json(report.to_dict())
    else:
        for check in report.checks:
            fix = f"  -> {check.fix}" if check.fix and check.status != OK else ""
            console.print(f"{_MARK[check.status]} {check.name:<11} {check.detail}{fix}", highlight=False,
                          markup=False)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this command to the root app."""
    app.command("doctor")(doctor)
