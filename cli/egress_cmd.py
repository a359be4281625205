"""`tanaban egress`: show the gateway's state and send one anonymized test request (or preview it)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from appliance.privacy.egress import EgressResult, egress_status, send_test_message
from appliance.privacy.policy import PolicyReport, current_policy
from cli.common import console, get_config, get_home

egress_app = typer.Typer(help="The egress gateway: the only way data leaves the appliance.\n\n"
                              "Example: tanaban egress status", no_args_is_help=True)
DEFAULT_TEXT = "Hello from Tanaban: this is a connectivity test. Please answer with one short sentence."


@egress_app.command("test")
def test(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show exactly what would be sent; send nothing.")] = False,
    text: Annotated[str, typer.Option(help="The message to anonymize and send.")] = DEFAULT_TEXT,
    customer_id: Annotated[list[str] | None, typer.Option(
        "--customer-id", help="A customer id the text may mention (repeatable); replaced in any case.")] = None,
) -> None:
    """Send one anonymized chat request through the gateway; print what was sent, which layer caught what, and the
    answer. Stored customers' ids in the text are replaced even without --customer-id.

    Example: tanaban egress test --dry-run --customer-id C036007 --text "Customer C036007 asked about her order"
    """
    result = send_test_message(get_home(ctx), text, dry_run=dry_run, customer_ids=customer_id or ())
    request = result.request
    console.print(f"[bold]{'would send' if result.dry_run else 'sent'}[/] POST {request.url}", highlight=False)
    for name, value in request.headers.items():
        console.print(f"  {name}: {value}", highlight=False, markup=False)
    if request.sends_credential:
        console.print("  Authorization: Bearer *** (credential not shown)", highlight=False, markup=False)
    console.print(json.dumps(json.loads(request.body), indent=2, ensure_ascii=False), highlight=False, markup=False)
    _print_removed(result)
    if result.weakened:
        console.print(f"weakened policy (flagged in the audit log): {'; '.join(result.weakened)}",
                      highlight=False, markup=False)
    if result.dry_run:
        note = "" if result.enabled else " (egress.enabled is false: a real call would be blocked)"
        console.print(f"dry run: nothing was sent{note}", highlight=False)
    else:
        console.print(f"answer (HTTP {result.status}, {result.latency_ms} ms):", highlight=False)
        console.print(result.text, highlight=False, markup=False)


def _print_removed(result: EgressResult) -> None:
    """What was removed (counts only), which layer caught it, and where it is audited."""
    request = result.request
    removed = ", ".join(f"{k}: {v}" for k, v in sorted(request.categories.items())) or "nothing"
    console.print(f"removed {removed}; audit entries {', '.join(map(str, result.audit_seqs))}; "
                  f"policy {result.policy}", highlight=False, markup=False)
    for layer, counts in request.caught_by.items():
        console.print(f"  caught by {layer}: " + ", ".join(f"{k}: {v}" for k, v in counts.items()),
                      highlight=False, markup=False)
    if request.control_chars:
        console.print(f"  control characters removed: {request.control_chars}", highlight=False, markup=False)


@egress_app.command("status")
def status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help=(
        "Print one JSON document (the fields of EgressStatus; docs/OPERATIONS.md)."))] = False) -> None:
    """Show the kill switch, the destination and whether it passes the checks, the allow-list, the credential source,
    and the anonymization policy's fingerprint with whether it is weaker than the shipped default.

    Example: tanaban egress status --json
    """
    cfg = get_config(ctx)
    st = egress_status(cfg.egress, policy=current_policy(cfg))
    if as_json:
        import dataclasses

        from cli.common import print_json

        print_json(dataclasses.asdict(st))
        return
    rows = {
        "enabled": "yes" if st.enabled else "no (kill switch: nothing leaves)",
        "destination": st.base_url or "(not set)", "model": st.model or "(not set)",
        "allowed hosts": ", ".join(st.allowed_hosts) or "(none)",
        "destination check": st.destination_problem or "ok", "credential": st.credential_source,
        "max payload": f"{st.max_payload_bytes} bytes",
        "timeout": f"{st.timeout_s:g} s per read, {st.total_timeout_s:g} s per request",
        "trusted CAs": st.trust_store,
        "policy": st.policy.summary() if st.policy else "(unknown)",
        "weakened policy": _weakened_row(st.policy, st.allow_weakened_policy),
    }
    for name, value in rows.items():
        console.print(f"{name:<18} {value}", highlight=False, markup=False)


def _weakened_row(policy: PolicyReport | None, allowed: bool) -> str:
    if policy is None or not policy.weakened:
        return "no"
    if allowed:
        return "yes: allowed by egress.allow_weakened_policy; every request is flagged in the audit log"
    return "yes: egress is refused (to accept it: allow_weakened_policy = true in the egress table of the config file)"


def register(app: typer.Typer) -> None:
    app.add_typer(egress_app, name="egress")
