"""`tanaban export`, `tanaban serve`, `tanaban apikey` and `tanaban recommend`: bundles and the torch-free service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, get_config, get_home

export_app = typer.Typer(help="Export trained models into a signed, torch-free serving bundle.", no_args_is_help=True)
apikey_app = typer.Typer(help="Create, list and revoke API keys of the HTTP service (stored hashed).",
                         no_args_is_help=True)


@export_app.command("cf")
def export_cf_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Trained CF model: lightgcn or irllrec.")] = "lightgcn",
    quantize: Annotated[bool, typer.Option(help="Try int8 for the scorer and the text encoder (each kept only if "
                                                "it passes its gate).")] = True,
    encoder: Annotated[bool, typer.Option(help="Package the text encoder and item text embeddings (text search).")]
    = True,
) -> None:
    """Export the latest trained CF model: ONNX scorer (int8 if it passes), tables, precomputed top-K, text
    encoder with item text embeddings (unless --no-encoder), signed.

    Example: tanaban export cf --model irllrec
    """
    from export.cf import export_cf

    path = export_cf(get_home(ctx), model, quantize=quantize, encoder=encoder)
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    gate, enc = metrics["gate"], metrics.get("encoder_gate")
    console.print(f"bundle {path.name} signed and published in {path.parent}: scorer {gate['chosen']} "
                  f"({gate['reason']})", highlight=False)
    if enc:
        console.print(f"text encoder {enc['chosen']} ({enc['reason']}), {enc['n_items']} item text embeddings",
                      highlight=False)


@export_app.command("gen")
def export_gen_cmd(
    ctx: typer.Context,
    quantize: Annotated[bool, typer.Option(help="Try int8 (kept only if it passes the NDCG and valid-code gate).")]
    = True,
) -> None:
    """Export the latest generative model: ONNX decoder with KV cache, tokenizer, codes, gates, signed.

    Example: tanaban export gen
    """
    from export.gen_bundle import export_gen_bundle

    path = export_gen_bundle(get_home(ctx), quantize=quantize)
    gate = json.loads((path / "metrics.json").read_text(encoding="utf-8"))["gate"]
    console.print(f"generative bundle {path.name} signed and published in {path.parent}: decoder {gate['chosen']} "
                  f"({gate.get('reason', '')})")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind; keep loopback unless a proxy or firewall fronts it.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: serve.workers in the config); "
                                                "each polls bundles/CURRENT and reloads itself.")] = None,
) -> None:
    """Serve recommendations over HTTP from the current signed bundle (no torch needed).

    Example: tanaban serve --host 127.0.0.1 --port 8080 --workers 2
    """
    from appliance.serve.server import run_server

    run_server(get_config(ctx), host, port, workers)


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    name_arg: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Who uses the key (or --name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who uses the key.")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="read (the /v1 routes) or admin (/v1/admin/*); "
                                                         "repeatable.")] = None,
) -> None:
    """Create an API key (scope read unless told); it is printed once and stored only as a hash. Audited
    (apikey.create, actor: your OS user).

    Example: tanaban apikey create --name ops-reload --scope admin
    """
    from appliance.serve.apikeys import ApiKeyError
    from appliance.serve.events import create_api_key

    if (name is None) == (name_arg is None):
        raise ApiKeyError("give the key's name once: `tanaban apikey create --name NAME` (or as the argument)")
    token = create_api_key(get_config(ctx), name or name_arg or "", tuple(scope or ("read",)))
    console.print(token, highlight=False, markup=False)


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context,
                  key_id: Annotated[str, typer.Argument(help="Key id from `apikey list`.")]) -> None:
    """Revoke a key; the running service refuses it from the next request on. Audited (apikey.revoke).

    Example: tanaban apikey revoke 3fa2c1d0
    """
    from appliance.serve.events import revoke_api_key

    key = revoke_api_key(get_config(ctx), key_id)
    console.print(f"revoked {key.key_id} at {key.revoked_at}", highlight=False, markup=False)


@apikey_app.command("list")
def apikey_list(ctx: typer.Context) -> None:
    """List API keys (ids, names, scopes, dates; never the keys).

    Example: tanaban apikey list
    """
    from appliance.serve.apikeys import KEYS_FILE, list_keys

    table = Table("id", "name", "scopes", "created", "revoked")
    for key in list_keys(get_config(ctx).data_dir / KEYS_FILE):
        table.add_row(key.key_id, key.name, ",".join(key.scopes), key.created_at, key.revoked_at or "")
    console.print(table)


def recommend(
    ctx: typer.Context,
    user: Annotated[list[str] | None, typer.Option("--user", help="Customer id (repeatable).")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", help="CSV with a customer_id column.")] = None,
    k: Annotated[int, typer.Option(help="Items per customer.")] = 10,
    explain: Annotated[bool, typer.Option(help="Add the intents behind each item.")] = False,
) -> None:
    """Recommendations from the current bundle for customers given by id (batch path, no HTTP).

    Example: tanaban recommend --user C000123 --k 5 --explain
    """
    from appliance.serve.service import recommend_batch

    for raw, answer in recommend_batch(get_config(ctx), [*(user or [])], input_file, k, explain):
        console.print(f"[bold]{raw}[/] ({answer.source}, bundle {answer.bundle})", highlight=False)
        for rank, item in enumerate(answer.items, 1):
            why = "; ".join(f"{label} {w:.2f}" for label, w in item.because)
            console.print(f"  {rank:>3}. {item.title} [{item.sku}]" + (f"  because: {why}" if why else ""),
                          highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(export_app, name="export")
    app.add_typer(apikey_app, name="apikey")
    app.command("serve")(serve)
    app.command("recommend")(recommend)
