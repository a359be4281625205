"""`tanaban intents build|show`: intent prototypes with readable labels, and a user's top intents."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from appliance.text.intents import BACKENDS, build_intents, show_user
from cli.common import console, get_home, print_json

intents_app = typer.Typer(help="Shopping intents of users and items (IRLLRec).\n\nExample: tanaban intents build",
                          no_args_is_help=True)


@intents_app.command("build")
def build(
    ctx: typer.Context,
    backend: Annotated[str | None, typer.Option(help=f"Label writer: {' | '.join(BACKENDS)} (default from config).")]
    = None,
    k: Annotated[int | None, typer.Option("--k", help="Number of intents (default from config, 128).")] = None,
) -> None:
    """Cluster the item embeddings into K intents, label them, and give every user and item an intent mix.

    Needs `tanaban embed`. Users' intents come from their training history only. With the slow backends
    (local-llm, external) every finished label is kept: an interrupted run continues where it stopped. local-llm
    runs the bundled SmolLM2-135M-Instruct (or intents.llm_dir); labels failing the output checks fall back to the
    keyword label, and the reasons are kept in the artifact's manifest.

    Example: tanaban intents build --backend local --k 64
    """
    home = get_home(ctx)
    overrides = {key: v for key, v in (("backend", backend), ("k", k)) if v is not None}
    cfg = dataclasses.replace(home.config.intents, **overrides)
    console.print(f"building {cfg.k} intents ({cfg.backend} backend)")
    path = build_intents(home, cfg=cfg, progress=True)
    console.print(f"{cfg.k} intents written to {path}")


@intents_app.command("profiles")
def profiles(
    ctx: typer.Context,
    items: Annotated[int | None, typer.Option(help="Write profiles for the first N items (default: all).")] = None,
    users: Annotated[int | None, typer.Option(help="Write profiles for the first N users (default: all).")] = None,
) -> None:
    """Write item and user profiles with the local LLM (RLMRec/IRLLRec style), on this machine.

    Uses intents.llm_dir ("" = the bundled SmolLM2-135M-Instruct). Users are described from their training
    history only. Answers that fail the output checks (copied titles, too short or long) fall back to the
    template profile, with the reason recorded. Resumable: an interrupted run continues where it stopped. Slow on
    CPU (seconds per profile): try a subset first.

    Example: tanaban intents profiles --items 50 --users 50
    """
    from appliance.text.llm_profiles import build_llm_profiles
    from appliance.text.local_llm import LocalLLM

    home = get_home(ctx)
    console.print("loading the local LLM (30 s on an idle machine, minutes on a busy one)")
    llm = LocalLLM(home.config.intents.llm_dir, max_new_tokens=home.config.intents.llm_profile_tokens)
    path = build_llm_profiles(home, items=items, users=users, llm=llm, progress=True, log=console.print)
    console.print(f"profiles written to {path} ({llm.stats.tokens_per_s:.1f} tokens/s)")


@intents_app.command("show")
def show(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Customer id as ingested, or its stored pseudonym.")],
    n: Annotated[int, typer.Option("-n", help="How many intents to show.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document: {\"intents\": [{\"label\", "
                                                         "\"weight\"}]} (docs/OPERATIONS.md).")] = False,
) -> None:
    """Print a user's top intents with their weights and labels.

    Example: tanaban intents show --user CUST-0042 --json
    """
    intents = show_user(get_home(ctx), user, n)
    if as_json:
        print_json({"intents": [{"label": label, "weight": round(float(weight), 6)} for label, weight in intents]})
        return
    table = Table("weight", "intent")
    for label, weight in intents:
        table.add_row(f"{weight:.3f}", label)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(intents_app, name="intents")
