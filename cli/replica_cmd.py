"""`tanaban replica`: set up a serving node that holds only the primary's public key, and pull the primary's
current signed bundle into it (appliance.serve.replica)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, err_console, get_config

replica_app = typer.Typer(help="Serving replicas: a node that verifies the primary's bundles with its public key "
                               "only.\n\nExample: tanaban replica sync /mnt/primary/bundles", no_args_is_help=True)


@replica_app.command("init")
def init(ctx: typer.Context) -> None:
    """Set up this serving node from the primary's copied keys/ (pseudonym keys and signing.pub, NOT signing.key):
    creates the node's own audit key (keys/node.key, node.pub), the data directory and an empty store.

    Example: tanaban replica init
    """
    from appliance.serve.replica import init_replica

    report = init_replica(get_config(ctx))
    console.print(f"replica ready in {report.keys_dir}: bundles verified with the primary's key "
                  f"{report.trusted_signer}; audit log signed by node key {report.node_key_id} "
                  f"({'created' if report.created_node_key else 'kept'}); pseudonym key {report.pseudonym_key_id}",
                  highlight=False, markup=False)


@replica_app.command("sync")
def sync(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="The primary's bundle root as this node sees it (a read-only mount "
                                                "of <data_dir>/artifacts/bundles, or where rsync copies it).")],
    keep: Annotated[int, typer.Option(min=1, help="Bundle versions kept on this node, the current one included.")]
    = 3,
    generative: Annotated[bool, typer.Option("--generative", help="SOURCE is the primary's bundles-gen root (`tanaban "
                                             "export gen`): sync into this node's bundles-gen.")] = False,
) -> None:
    """Copy the bundle the primary's CURRENT names into this node, verify it with signing.pub, then make it this
    node's CURRENT (every worker loads it within serve.reload_poll_seconds, without dropping a request).

    Example: tanaban replica sync /mnt/primary/bundles --keep 3 (and `--generative /mnt/primary/bundles-gen`)
    """
    from appliance.serve.replica import sync_bundles

    cfg = get_config(ctx)
    dest = cfg.artifacts_dir / ("bundles-gen" if generative else "bundles")
    report = sync_bundles(source, dest, cfg.keys_dir, keep=keep,
                          progress=lambda line: err_console.print(line, highlight=False, markup=False))
    state = "now current" if report.copied else "already current"
    pruned = f"; removed {', '.join(report.pruned)}" if report.pruned else ""
    console.print(f"bundle {report.version} {state}{pruned}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(replica_app, name="replica")
