"""`tanaban abtest report`: per-arm outcomes of an experiment, differences to the control arm and a decision that
stays valid however often the report is read (issue 18; the statistics are in appliance.abtest.stats).

The report reads the exposure log and the purchases ingested since the experiment began, joins them
(stats.attribute), and computes per arm: exposed customers, the share who bought a recommended item, recommended
items bought per customer, coverage and novelty of the served lists. The decision is on the share of buyers; the
timeline recomputes the difference's interval as of the end of every day, which is what a daily reader saw.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from anonymize.pseudonym import PseudonymError, pseudonymize, token_key_id
from appliance.abtest.exposures import list_experiments, load_exposures
from appliance.abtest.stats import (
    DAY_S,
    DEFAULT_ALPHA,
    DEFAULT_PLANNED,
    DEFAULT_WINDOW_DAYS,
    MIN_CUSTOMERS,
    ArmSummary,
    Comparison,
    Interval,
    Outcomes,
    attribute,
    compare_arms,
    customer_values,
    list_metrics,
)
from appliance.data.keys import PseudonymKey
from appliance.data.store import Interaction, Item, User
from appliance.errors import UserError

MIN_CELL = 10  # arms with fewer exposed customers show no outcome: the threshold rule of statistical disclosure
# control (Hundepool et al., "Statistical Disclosure Control", Wiley 2012, sec. 5.2); one customer's purchases
# must not be readable from a tiny arm, nor from the first days of the timeline
_HIDDEN = Interval(math.nan, -math.inf, math.inf)
MAX_TIMELINE_POINTS = 120  # daily points for four months, then wider steps: the HTML plot stays readable
_IN_CHUNK = 500  # pseudonyms per IN (...) list: well under every engine's bound-parameter limit
RULE = ("Always-valid confidence sequences (normal mixture; Johari et al. 2022, Waudby-Smith et al. 2024): every "
        "interval holds at all times at once with probability {level}, so the report may be read daily and the test "
        "stopped the first time the interval of a difference excludes 0. Arms are compared with the control at "
        "level alpha / (arms - 1); a verdict needs {min_customers} exposed customers per arm.")


class ReportError(UserError, LookupError):
    """No exposures to report on, an unknown experiment or control arm, or a bad report setting."""


@dataclass(frozen=True)
class ABReport:
    experiment: str
    control: str
    arms: tuple[str, ...]
    window_days: int
    now: int  # outcomes as of this time (unix seconds)
    first_ts: int  # first exposure
    last_ts: int  # last exposure
    exposures: int
    switched: int  # customers exposed in more than one arm, counted in their first
    alpha: float
    planned: int
    summaries: list[ArmSummary]
    comparisons: list[Comparison]
    lists: dict[str, dict[str, float]]  # arm -> coverage, novelty
    timeline: list[tuple[int, dict[str, Interval]]] = field(default_factory=list)  # (as-of ts, arm -> share diff)
    decision: str = ""
    winner: str | None = None  # the arm to promote, when the decision names one
    rule: str = ""


def build_report(engine: Engine, *, now: int, experiment: str | None = None,
                 window_days: int = DEFAULT_WINDOW_DAYS, control: str | None = None, alpha: float = DEFAULT_ALPHA,
                 planned: int = DEFAULT_PLANNED, min_customers: int = MIN_CUSTOMERS,
                 rekey: Callable[[str], str] | None = None, min_cell: int = MIN_CELL) -> ABReport:
    """The report of `experiment` (the only one in the log when None) as of `now`.

    `rekey` maps a logged token to the customer's current store pseudonym (`chain_rekeyer`), for exposures logged
    before a `tanaban keys rotate`; without it tokens are taken as they are.
    """
    if window_days < 1 or not 0 < alpha < 1 or planned < 1 or min_customers < 1 or min_cell < 1:
        raise ReportError("window days, planned customers and minimum customers must be >= 1 and alpha in (0, 1)")
    experiment = _resolve_experiment(engine, experiment)
    exposures = load_exposures(engine, experiment)
    if rekey is not None:
        exposures = [dataclasses.replace(row, token=rekey(row.token)) for row in exposures]
    first_ts = exposures[0].ts
    purchases = _purchases(engine, sorted({row.token for row in exposures}), first_ts)
    outcomes = attribute(exposures, purchases, window_days * DAY_S, now)
    control = _resolve_control(outcomes.arms, control)
    values = customer_values(outcomes, now)
    summaries, comparisons = compare_arms(values.arm, values.converted, values.items, outcomes.arms, control,
                                          purchases=values.purchases, alpha=alpha, planned=planned,
                                          min_customers=min_customers)
    summaries, comparisons, small = _suppress(summaries, comparisons, min_cell)
    popularity, buyers, catalog = _catalog_stats(engine, first_ts)
    lists = list_metrics(exposures, outcomes, popularity, buyers, catalog)
    lists.update({arm: {"coverage": math.nan, "novelty": math.nan} for arm in small})
    decision, winner = _decide(comparisons, min_customers)
    return ABReport(
        experiment=experiment, control=control, arms=outcomes.arms, window_days=window_days, now=now,
        first_ts=first_ts, last_ts=exposures[-1].ts, exposures=len(exposures), switched=outcomes.switched,
        alpha=alpha, planned=planned, summaries=summaries, comparisons=comparisons,
        lists=lists, timeline=_timeline(outcomes, control, first_ts, now, alpha, planned, min_customers, min_cell),
        decision=decision, winner=winner,
        rule=RULE.format(level=f"{1 - alpha:.0%}", min_customers=min_customers))


def _resolve_experiment(engine: Engine, experiment: str | None) -> str:
    names = list_experiments(engine)
    if not names:
        raise ReportError("no exposures recorded yet: configure [abtest] arms, serve for a while "
                          "(docs/ROLLOUT.md), or try `tanaban abtest simulate`")
    if experiment is None:
        if len(names) > 1:
            raise ReportError(f"the log holds {len(names)} experiments ({', '.join(names)}): choose one with "
                              "--experiment")
        return names[0]
    if experiment not in names:
        raise ReportError(f"no exposures for experiment {experiment!r}: known are {', '.join(names)}")
    return experiment


def _resolve_control(arms: tuple[str, ...], control: str | None) -> str:
    """The given control arm, else the arm named "control", else the first arm by name."""
    if control is not None and control not in arms:
        raise ReportError(f"control arm {control!r} has no exposures: choose one of {', '.join(arms)}")
    if len(arms) < 2:
        raise ReportError(f"only the arm {arms[0]!r} has exposures: an A/B report needs two arms (check "
                          "[[abtest.arms]] weights)")
    return control or ("control" if "control" in arms else arms[0])


def _purchases(engine: Engine, tokens: Sequence[str], since: int) -> list[tuple[str, str, int]]:
    """(pseudonym, sku, ts) of purchases after `since` by the customers with these store pseudonyms."""
    query = (select(User.pseudonym, Item.sku, Interaction.ts)
             .join(User, Interaction.user_id == User.id).join(Item, Interaction.item_id == Item.id)
             .where(Interaction.event == "purchase", Interaction.ts > since))
    rows = []
    with engine.connect() as conn:
        for start in range(0, len(tokens), _IN_CHUNK):
            chunk = tokens[start:start + _IN_CHUNK]
            rows += [(p, s, int(t)) for p, s, t in conn.execute(query.where(User.pseudonym.in_(chunk)))]
    return rows


def chain_rekeyer(chain: Sequence[PseudonymKey]) -> Callable[[str], str]:
    """token -> the store pseudonym it has now: a token made under key k_i is carried through the keys after k_i
    (the same HMAC chain `tanaban keys rotate` applied to the store, appliance.data.rotation). Tokens of a key not
    in the chain, or not shaped like a pseudonym, are returned unchanged (they then match no customer)."""
    position = {key.key_id: i for i, key in enumerate(chain)}
    memo: dict[str, str] = {}

    def rekey(token: str) -> str:
        if token not in memo:
            try:
                start = position.get(token_key_id(token))
            except PseudonymError:
                start = None
            current = token
            for key in chain[start + 1:] if start is not None else ():
                current = pseudonymize(current, key=key.secret, key_id=key.key_id, purpose="store")
            memo[token] = current
        return memo[token]

    return rekey


def _catalog_stats(engine: Engine, before: int) -> tuple[dict[str, int], int, int]:
    """Buyers per SKU and buyers overall before the experiment (novelty's popularity), and the catalog size."""
    earlier = (Interaction.event == "purchase", Interaction.ts < before)
    with engine.connect() as conn:
        popularity = dict(conn.execute(select(Item.sku, func.count(Interaction.user_id.distinct()))
                                       .join(Item, Interaction.item_id == Item.id).where(*earlier)
                                       .group_by(Item.sku)).all())
        buyers = conn.scalar(select(func.count(Interaction.user_id.distinct())).where(*earlier)) or 0
        catalog = conn.scalar(select(func.count(Item.id))) or 0
    return popularity, int(buyers), int(catalog)


def _suppress(summaries: list[ArmSummary], comparisons: list[Comparison],
              min_cell: int) -> tuple[list[ArmSummary], list[Comparison], set[str]]:
    """Hide the outcomes of arms with fewer than `min_cell` customers, and every difference that involves one."""
    small = {s.arm for s in summaries if s.customers < min_cell}
    summaries = [dataclasses.replace(s, buyers=None, share=_HIDDEN, items=_HIDDEN, purchases=_HIDDEN)
                 if s.arm in small else s for s in summaries]
    comparisons = [dataclasses.replace(c, share_diff=_HIDDEN, items_diff=_HIDDEN, purchases_diff=_HIDDEN,
                                       verdict="too few customers")
                   if small & {c.arm, c.control} else c for c in comparisons]
    return summaries, comparisons, small


def _timeline(outcomes: Outcomes, control: str, first_ts: int, now: int, alpha: float, planned: int,
              min_customers: int, min_cell: int = MIN_CELL) -> list[tuple[int, dict[str, Interval]]]:
    """The share difference's interval as of the end of each day (wider steps for long experiments), and now."""
    days = max(1, math.ceil((now - first_ts) / DAY_S))
    step = math.ceil(days / MAX_TIMELINE_POINTS)
    cuts = [first_ts + d * DAY_S for d in range(step, days, step) if first_ts + d * DAY_S < now] + [now]
    points = []
    for cut in cuts:
        values = customer_values(outcomes, cut)
        summaries, comparisons = compare_arms(values.arm, values.converted, values.items, outcomes.arms, control,
                                              alpha=alpha, planned=planned, min_customers=min_customers)
        small = {s.arm for s in summaries if s.customers < min_cell}
        points.append((cut, {c.arm: c.share_diff for c in comparisons if not small & {c.arm, c.control}}))
    return points


def _decide(comparisons: list[Comparison], min_customers: int) -> tuple[str, str | None]:
    """One sentence for the admin, and the arm to promote when there is one."""
    better = sorted((c for c in comparisons if c.verdict == "better"), key=lambda c: -c.share_diff.estimate)
    worse = [c for c in comparisons if c.verdict == "worse"]
    control = comparisons[0].control
    if better:
        best = better[0]
        return (f"{best.arm} beats {control}: {_pp(best.share_diff.estimate)} more exposed customers bought a "
                f"recommended item (interval {_pp(best.share_diff.low)} to {_pp(best.share_diff.high)}). "
                f"Promote {best.arm} (docs/ROLLOUT.md).", best.arm)
    if worse:
        names = ", ".join(c.arm for c in worse)
        return f"{names} sells worse than {control}: roll it back (docs/ROLLOUT.md).", None
    if all(c.verdict == "too few customers" for c in comparisons):
        return f"Keep collecting: every arm needs {min_customers} exposed customers before a verdict.", None
    return ("No difference shown yet: keep the test running. Declaring a winner now is not supported by the "
            "data.", None)


def _pp(share: float) -> str:
    """A share difference in percentage points."""
    return f"{share * 100:+.1f} pp"


def report_dict(report: ABReport) -> dict[str, Any]:
    """The report as plain JSON types (--json); infinite bounds become null."""
    doc = asdict(report)
    doc["timeline"] = [{"ts": ts, "share_diff": {a: asdict(i) for a, i in diffs.items()}}
                       for ts, diffs in report.timeline]
    return _finite(doc)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value

