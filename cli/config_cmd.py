"""`tanaban config show` and `tanaban init`: inspect the resolved config, create data directory, store and keys."""

from __future__ import annotations

from typing import Annotated

import typer

from appliance.config import config_fingerprint, config_to_dict, config_to_toml
from appliance.data.home import init_home
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


def init(ctx: typer.Context) -> None:
    """Create the data directory, the store and the keys (0600, never overwritten). Safe to run again.

    Example: tanaban init
    """
    report = init_home(get_config(ctx))
    verb = "created" if report.created_keys else "kept existing"
    console.print(f"data dir   {report.data_dir}\nstore      {report.store_url} (schema v{report.schema_version})"
                  f"\nkeys       {report.keys_dir} ({verb}: pseudonym {report.pseudonym_key_id}, "
                  f"signing {report.signing_key_id})", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
    app.command("init")(init)
