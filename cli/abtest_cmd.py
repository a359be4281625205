"""`tanaban abtest`: the A/B report (per-arm outcomes, differences to the control, an always-valid decision), a
simulated experiment with a planted effect, and the serving side's status and resume (appliance.abtest)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from appliance.abtest.report import ABReport, build_report, chain_rekeyer, report_dict
from appliance.abtest.report_html import render_html
from appliance.abtest.simulate import SimSpec, simulate_in_memory
from appliance.abtest.stats import DEFAULT_ALPHA, DEFAULT_WINDOW_DAYS
from cli.common import console, err_console, get_home, print_json

abtest_app = typer.Typer(help="A/B experiments: the outcome report, a simulation, status and resuming a stopped "
                              "arm.\n\n"
                              "Example: tanaban abtest report --html var/ab.html", no_args_is_help=True)

_Json = Annotated[bool, typer.Option("--json", help="Print the report as one JSON document (for scripts).")]
_Html = Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML page with plots here.")]


@abtest_app.command("report")
def report(
    ctx: typer.Context,
    experiment: Annotated[str | None, typer.Option(help="Experiment name (default: the only one in the log).")]
    = None,
    window_days: Annotated[int, typer.Option(help="Credit purchases up to this many days after an exposure.")]
    = DEFAULT_WINDOW_DAYS,
    control: Annotated[str | None, typer.Option(help=(
        "Control arm (default: the arm named `control`, else the first arm by name)."))] = None,
    alpha: Annotated[float, typer.Option(help="Error rate over all looks together (0.05: 95% intervals).")]
    = DEFAULT_ALPHA,
    as_json: _Json = False,
    html: _Html = None,
) -> None:
    """Per-arm outcomes of an A/B experiment, the difference to the control arm and a decision.

    Joins the exposure log to purchases ingested since. The intervals are confidence sequences: the report may be
    read every day and the decision stays valid (docs/ROLLOUT.md, "Reading the report").

    Example: tanaban abtest report --experiment pilot-2027-01 --html var/ab.html
    """
    home = get_home(ctx)
    result = build_report(home.engine, now=int(time.time()), experiment=experiment, window_days=window_days,
                          control=control, alpha=alpha, rekey=chain_rekeyer(home.pseudonym_chain))
    _emit(result, as_json, html)


@abtest_app.command("simulate")
def simulate(
    customers: Annotated[int, typer.Option(help="Simulated customers, split between two arms.")] = 2000,
    lift: Annotated[float, typer.Option(help="Planted effect: the treatment multiplies the purchase probability "
                                             "by this (1.0: an A/A test).")] = 1.5,
    base_rate: Annotated[float, typer.Option(help="Control's share of customers who buy a recommended item.")]
    = 0.10,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same report.")] = 0,
    as_json: _Json = False,
    html: _Html = None,
) -> None:
    """Simulate an A/B experiment with a known effect in a throwaway in-memory store and print its report.

    Nothing is written to the appliance's store. Shows what the report looks like and how many customers a given
    effect needs before the decision names a winner.

    Example: tanaban abtest simulate --customers 4000 --lift 1.3 --html var/sim.html
    """
    spec = SimSpec(lift=(1.0, lift), base_rate=base_rate)
    with console.status("simulating"):
        sim, result = simulate_in_memory(spec, customers=customers, seed=seed)
    if not as_json:
        console.print(f"planted: {', '.join(f'{a} {s:.1%}' for a, s in sim.planted_share.items())} of exposed "
                      f"customers buy a recommended item ({sim.customers} customers, {sim.exposures} exposures)",
                      highlight=False)
    _emit(result, as_json, html)


@abtest_app.command("status")
def status(ctx: typer.Context, as_json: _Json = False) -> None:
    """The configured experiment as serving sees it: arms, sources, shares, fallback, assignment key id, the arms
    the guard stopped (and why), and the exposures logged per arm (helper F's part of `tanaban abtest`).

    Example: tanaban abtest status --json
    """
    from appliance.abtest.status import experiment_status

    st = experiment_status(get_home(ctx))
    if as_json:
        print_json(st.as_dict())
        return
    table = Table("arm", "source", "share", "exposures", "state", box=box.SIMPLE_HEAD, title_justify="left",
                  title=f"{st.experiment}: fallback {st.fallback}, assignment key {st.key_id}")
    for arm in st.arms:
        table.add_row(arm.name, arm.source, f"{arm.share:.1%}", str(arm.exposures),
                      f"STOPPED: {arm.stopped}" if arm.stopped else "serving")
    console.print(table)


@abtest_app.command("resume")
def resume(ctx: typer.Context, arm: Annotated[str, typer.Argument(help="The stopped arm's name.")]) -> None:
    """Resume an arm the guard stopped; serving workers pick it up within a second.

    Example: tanaban abtest resume challenger
    """
    from appliance.abtest.status import resume_stopped_arm

    resumed = resume_stopped_arm(get_home(ctx), arm)
    console.print(f"arm {arm} resumed" if resumed else f"arm {arm} was not stopped", highlight=False, markup=False)


def _emit(result: ABReport, as_json: bool, html: Path | None) -> None:
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
    if as_json:
        print_json(report_dict(result))
        if html is not None:
            err_console.print(f"HTML report written to {html}", highlight=False)
        return
    console.print(_arm_table(result))
    console.print(_diff_table(result))
    console.print(f"[bold]decision:[/] {result.decision}", highlight=False)
    if html is not None:
        console.print(f"HTML report written to {html}", highlight=False)


def _arm_table(r: ABReport) -> Table:
    table = Table(title=f"{r.experiment}: {r.exposures} exposures, {r.window_days}-day window; items and purchases "
                  "per exposed customer, catalog coverage, novelty in bits", box=box.SIMPLE_HEAD, title_justify="left",
                  pad_edge=False)
    for name in ("arm", "buyers", "share (interval)", "items", "purch.", "cov.", "nov."):
        table.add_column(name, no_wrap=True, justify="left" if name == "arm" else "right")
    for s in r.summaries:
        i = s.share
        if s.buyers is None:  # fewer customers than the report shows outcomes for (appliance.abtest.report.MIN_CELL)
            table.add_row(s.arm, f"?/{s.customers}", "suppressed", "", "", "", "")
            continue
        table.add_row(s.arm, f"{s.buyers}/{s.customers}", f"{i.estimate:.1%} ({i.low * 100:.1f}-{i.high * 100:.1f})",
                      f"{s.items.estimate:.3f}", f"{s.purchases.estimate:.3f}", f"{r.lists[s.arm]['coverage']:.0%}",
                      f"{r.lists[s.arm]['novelty']:.2f}")
    return table


def _diff_table(r: ABReport) -> Table:
    table = Table("arm", "share diff (interval)", "items diff", "purchases diff", "verdict", box=box.SIMPLE_HEAD,
                  title=f"against {r.control}: always-valid intervals, alpha {r.alpha}", title_justify="left")
    for c in r.comparisons:
        d = c.share_diff
        if not math.isfinite(d.estimate):  # an arm too small to show
            table.add_row(c.arm, "n/a", "", "", c.verdict)
            continue
        table.add_row(c.arm, f"{d.estimate * 100:+.1f} pp ({d.low * 100:+.1f} to {d.high * 100:+.1f})",
                      f"{c.items_diff.estimate:+.3f}", f"{c.purchases_diff.estimate:+.3f}", c.verdict)
    return table


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(abtest_app, name="abtest")
