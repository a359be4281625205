"""`tanaban apikey`: create, list and revoke the HTTP service's API keys (stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, get_config, get_initialised_config, print_json

apikey_app = typer.Typer(help="Create, list and revoke API keys of the HTTP service (stored hashed).",
                         no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    name_arg: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Who uses the key (or --name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who uses the key.")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="read (the /v1 routes) or admin (/v1/admin/*); "
                                                         "repeatable.")] = None,
) -> None:
    """Create an API key (scope read unless told); it is printed once and stored only as a hash. Audited
    (apikey.create, actor: your OS user). Needs an initialised home (`tanaban init`).

    Example: tanaban apikey create --name ops-reload --scope admin
    """
    from appliance.serve.apikeys import ApiKeyError
    from appliance.serve.events import create_api_key

    if (name is None) == (name_arg is None):
        raise ApiKeyError("give the key's name once: `tanaban apikey create --name NAME` (or as the argument)")
    token = create_api_key(get_initialised_config(ctx), name or name_arg or "", tuple(scope or ("read",)))
    console.print(token, highlight=False, markup=False)


@apikey_app.command("revoke")
def apikey_revoke(ctx: typer.Context,
                  key_id: Annotated[str, typer.Argument(help="Key id from `apikey list`.")]) -> None:
    """Revoke a key; the running service refuses it from the next request on. Audited (apikey.revoke).

    Example: tanaban apikey revoke 3fa2c1d0
    """
    from appliance.serve.events import revoke_api_key

    key = revoke_api_key(get_initialised_config(ctx), key_id)
    console.print(f"revoked {key.key_id} at {key.revoked_at}", highlight=False, markup=False)


@apikey_app.command("list")
def apikey_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help=(
        "Print a JSON array of {key_id, name, scopes, created_at, revoked_at}."))] = False) -> None:
    """List API keys (ids, names, scopes, dates; never the keys).

    Example: tanaban apikey list --json
    """
    from dataclasses import asdict

    from appliance.serve.apikeys import KEYS_FILE, list_keys

    keys = list_keys(get_config(ctx).data_dir / KEYS_FILE)
    if as_json:
        print_json([asdict(key) for key in keys])
        return
    table = Table("id", "name", "scopes", "created", "revoked")
    for key in keys:
        table.add_row(key.key_id, key.name, ",".join(key.scopes), key.created_at, key.revoked_at or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(apikey_app, name="apikey")
