"""`tanaban sample`: write the deterministic synthetic retail sample (appliance.demo.sample) in the generic format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.demo.sample import generate_sample
from cli.common import console, get_config

sample_app = typer.Typer(help="Synthetic retail sample data.\n\nExample: tanaban sample generate var/sample",
                         no_args_is_help=True)


@sample_app.command("generate")
def generate(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Directory for items.jsonl, interactions.csv, reviews.jsonl, "
                                            "pii_labels.jsonl (created if missing; those files are replaced).")],
    seed: Annotated[int | None, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = None,
    items: Annotated[int | None, typer.Option("--items", help="Number of catalog items.")] = None,
    users: Annotated[int | None, typer.Option("--users", help="Number of customers.")] = None,
) -> None:
    """Generate a synthetic retail sample (catalog, purchases, reviews with labelled planted PII).

    Unset options come from the `sample` section of the config. No external data is read.

    Example: tanaban sample generate var/sample --seed 7 --items 3000 --users 1500
    """
    cfg = get_config(ctx).sample
    with console.status("generating sample"):
        report = generate_sample(out_dir, seed=cfg.seed if seed is None else seed,
                                 n_items=cfg.n_items if items is None else items,
                                 n_users=cfg.n_users if users is None else users, cfg=cfg)
    console.print(f"{report.n_items} items, {report.n_users} customers, {report.n_interactions} purchases, "
                  f"{report.n_reviews} reviews ({report.n_pii_reviews} with planted personal data, "
                  f"{report.n_pii_spans} labelled spans) written to {report.out_dir}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(sample_app, name="sample")
