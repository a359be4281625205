"""`tanaban config show` and `tanaban init`: inspect the resolved config, create data directory, store and keys."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from appliance.config import config_fingerprint, config_to_dict, config_to_toml
from appliance.data.home import init_home
from appliance.data.store import safe_url
from appliance.privacy.policy import current_policy
from cli.common import console, get_config, print_json

config_app = typer.Typer(help="Inspect the configuration.\n\nExample: tanaban config show", no_args_is_help=True)


@config_app.command("show")
def show(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help=(
        "Print one JSON document: {config_fingerprint, policy_fingerprint, source, env_overrides, config}."))]
        = False) -> None:
    """Print the resolved configuration as TOML (secrets are shown as ***), each value set by a TANABAN_* variable
    marked `# env TANABAN_...`, headed by the config fingerprint (as service.start records it) and the anonymization
    policy fingerprint (as egress audit entries record it).

    Example: tanaban config show  (or: TANABAN_CONFIG=/etc/tanaban/config.toml tanaban config show --json)
    """
    cfg = get_config(ctx)
    if as_json:
        print_json({"config_fingerprint": f"sha256:{config_fingerprint(cfg)}",
                    "policy_fingerprint": current_policy(cfg).fingerprint, "source": cfg.source,
                    "env_overrides": dict(cfg.env_overrides), "config": config_to_dict(cfg)})
        return
    console.print(f"# config fingerprint: sha256:{config_fingerprint(cfg)}\n"
                  f"# policy fingerprint: {current_policy(cfg).summary()}", highlight=False, markup=False)
    console.print(config_to_toml(cfg), highlight=False, markup=False, end="")


def init(ctx: typer.Context, store: Annotated[str | None, typer.Option("--store", metavar="URL", help=(
        "Create the store here instead of store.url: postgresql://USER@HOST:PORT/DB (an existing, empty database; "
        "docs/POSTGRES.md) or sqlite:///PATH. Other commands read store.url: set it to the same URL."))] = None,
         ) -> None:
    """Create the data directory, the store and the keys (0600, never overwritten). Safe to run again.

    Example: tanaban init  (or, on PostgreSQL: tanaban init --store postgresql://tanaban@db.internal:5432/tanaban)
    """
    cfg = get_config(ctx)
    if store is not None and store != cfg.store.url:
        cfg = dataclasses.replace(cfg, store=dataclasses.replace(cfg.store, url=store))
    else:
        store = None
    report = init_home(cfg)
    verb = "created" if report.created_keys else "kept existing"
    console.print(f"data dir   {report.data_dir}\nstore      {safe_url(report.store_url)} "
                  f"(schema v{report.schema_version})\nkeys       {report.keys_dir} ({verb}: pseudonym "
                  f"{report.pseudonym_key_id}, signing {report.signing_key_id})", highlight=False)
    if store is not None:
        where = "your config file" if cfg.source == "defaults" else cfg.source
        console.print(f"note: the other commands read the store from store.url: set [store] url = "
                      f'"{safe_url(store)}" in {where} (a password belongs in ~/.pgpass, not in the URL), or '
                      "export TANABAN_STORE__URL", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
    app.command("init")(init)
