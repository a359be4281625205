"""A/B outcomes and the always-valid decision rule (issue 18).

Outcomes: an exposed customer (store pseudonym) belongs to the arm of their first exposure (intention to treat); a
purchase counts for them when it is of an item that arm showed them, strictly after that exposure and at most
`window` seconds later. Per arm: exposed customers, the share who bought a recommended item, recommended items
bought per customer (distinct items), purchases of any item per customer (within the window of an exposure: a list
that only moves purchases onto recommended items shows here), catalog coverage and novelty of the served lists
(mean self-information -log2 p(item), p from purchases before the experiment: Zhou et al., "Solving the apparent
diversity-accuracy dilemma of recommender systems", PNAS 2010).

Every interval is a confidence sequence: the normal-mixture boundary (Robbins 1970) in its asymptotic form
(Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and asymptotic confidence
sequences", Ann. Statist. 2024); for a difference of two arms it is the mixture SPRT of Johari, Koomen, Pekelis &
Walsh ("Always valid inference: continuous monitoring of A/B tests", Oper. Res. 2022). It covers the truth at all
times at once with probability 1 - alpha, so an admin may run the report every day and act the first time the
interval of a difference excludes zero. A fixed-sample t-test read daily would not be safe: its false-positive rate
grows with every look (Armitage, McPherson & Rowe 1969).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from appliance.abtest.exposures import ExposureRow

DAY_S = 86_400
DEFAULT_WINDOW_DAYS = 14  # purchases later than this after an exposure are not credited to it
DEFAULT_ALPHA = 0.05  # error rate of the whole sequence of looks, not of one look
DEFAULT_PLANNED = 1000  # customers per arm at which the intervals are tuned to be narrowest
MIN_CUSTOMERS = 100  # per arm before any verdict: the intervals are asymptotic (central limit), not exact


@dataclass(frozen=True)
class Outcomes:
    """Exposed customers and the recommended items they bought (one hit per customer and distinct item)."""

    arms: tuple[str, ...]  # sorted arm names
    arm: np.ndarray  # (n,) index into arms, the arm of the customer's first exposure
    entry_ts: np.ndarray  # (n,) time of the first exposure
    hit_customer: np.ndarray  # (m,) index into the customers
    hit_ts: np.ndarray  # (m,) time of the first credited purchase of that item
    switched: int  # customers also exposed in another arm (weights changed mid-test); kept in their first arm
    buy_customer: np.ndarray  # (b,) index into the customers: purchases of ANY item within the window of an exposure
    buy_ts: np.ndarray  # (b,) their times


class CustomerValues(NamedTuple):
    """Per customer exposed by some time: arm index and outcomes, all (n,)."""

    arm: np.ndarray
    converted: np.ndarray  # 1.0 when they bought a recommended item
    items: np.ndarray  # distinct recommended items bought
    purchases: np.ndarray  # purchases of any item (cannibalisation shows here: recommended up, total down)


@dataclass(frozen=True)
class Interval:
    """An estimate with its always-valid interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    customers: int
    buyers: int | None  # None: suppressed, the arm has fewer customers than the report's min_cell
    share: Interval  # share of exposed customers who bought a recommended item
    items: Interval  # recommended items bought per exposed customer
    purchases: Interval  # purchases of any item per exposed customer


@dataclass(frozen=True)
class Comparison:
    """One arm against the control: differences (arm - control) and the verdict on the share of buyers."""

    arm: str
    control: str
    share_diff: Interval
    items_diff: Interval
    purchases_diff: Interval
    verdict: str  # "better", "worse", "undecided" or "too few customers"


def attribute(exposures: Sequence[ExposureRow], purchases: Iterable[tuple[str, str, int]], window_s: int,
              now: int) -> Outcomes:
    """Join one experiment's exposures to purchases (token, sku, ts); only purchases at or before `now` count."""
    first: dict[str, tuple[int, str]] = {}
    arms_of: dict[str, set[str]] = defaultdict(set)
    for row in exposures:
        if row.token not in first or row.ts < first[row.token][0]:
            first[row.token] = (row.ts, row.arm)
        arms_of[row.token].add(row.arm)
    shown: dict[tuple[str, str], list[int]] = defaultdict(list)  # (token, sku) -> exposure times, first arm only
    visits: dict[str, list[int]] = defaultdict(list)  # token -> exposure times, first arm only
    for row in exposures:
        if row.arm == first[row.token][1]:
            visits[row.token].append(row.ts)
            for sku in row.items:
                shown[(row.token, sku)].append(row.ts)
    for times in (*shown.values(), *visits.values()):
        times.sort()
    credited: dict[tuple[str, str], int] = {}
    bought: list[tuple[str, int]] = []
    for token, sku, ts in purchases:
        if ts > now:
            continue
        if _within(visits.get(token), ts, window_s):
            bought.append((token, ts))
        if _within(shown.get((token, sku)), ts, window_s):
            credited[(token, sku)] = min(ts, credited.get((token, sku), ts))
    tokens = sorted(first)
    index = {t: i for i, t in enumerate(tokens)}
    arms = tuple(sorted({arm for _, arm in first.values()}))
    return Outcomes(arms=arms, arm=np.array([arms.index(first[t][1]) for t in tokens], dtype=np.int64),
                    entry_ts=np.array([first[t][0] for t in tokens], dtype=np.int64),
                    hit_customer=np.array([index[t] for t, _ in credited], dtype=np.int64),
                    hit_ts=np.array(list(credited.values()), dtype=np.int64),
                    switched=sum(len(a) > 1 for a in arms_of.values()),
                    buy_customer=np.array([index[t] for t, _ in bought], dtype=np.int64),
                    buy_ts=np.array([ts for _, ts in bought], dtype=np.int64))


def _within(times: list[int] | None, ts: int, window_s: int) -> bool:
    """Whether the latest of `times` (sorted) strictly before `ts` is at most window_s earlier."""
    if not times:
        return False
    before = bisect.bisect_left(times, ts) - 1
    return before >= 0 and ts - times[before] <= window_s


def customer_values(outcomes: Outcomes, as_of: int) -> CustomerValues:
    """The customers exposed by `as_of` and their outcomes up to then."""
    keep = outcomes.entry_ts <= as_of
    n = len(outcomes.arm)
    items = np.bincount(outcomes.hit_customer[outcomes.hit_ts <= as_of], minlength=n).astype(np.float64)
    bought = np.bincount(outcomes.buy_customer[outcomes.buy_ts <= as_of], minlength=n).astype(np.float64)
    return CustomerValues(outcomes.arm[keep], (items[keep] > 0).astype(np.float64), items[keep], bought[keep])


def mixture_radius(var: float, tau2: float, alpha: float) -> float:
    """Half-width of the normal-mixture confidence sequence for an estimate whose variance is `var` now.

    sqrt(2 V (V + tau2) / tau2 * log(sqrt((V + tau2) / V) / alpha)): the set where the mixture likelihood ratio,
    with a N(0, tau2) mixing distribution on the effect, stays below 1 / alpha (Johari et al. 2022).
    """
    if var <= 0 or tau2 <= 0:
        return math.inf
    return math.sqrt(2 * var * (var + tau2) / tau2 * math.log(math.sqrt((var + tau2) / var) / alpha))


def mixing_variance(sigma2: float, planned: int, alpha: float) -> float:
    """tau2 that makes the sequence narrowest when the estimate's variance is sigma2 / planned.

    tau2 = rho2 * sigma2 with rho2 = (2 log(1/alpha) + log(1 + 2 log(1/alpha))) / planned (Waudby-Smith et al.
    2024); any fixed choice keeps the guarantee, this one only decides where the interval is tightest.
    """
    two_l = 2 * math.log(1 / alpha)
    return (two_l + math.log(1 + two_l)) / planned * sigma2


def _moments(values: np.ndarray) -> tuple[float, float, int]:
    """Mean, and a variance estimated with two pseudo-observations (0 and 1) so that it is positive in an arm
    where nobody has bought yet (the plug-in variance would be 0 and the interval a point)."""
    n = len(values)
    padded = np.concatenate([values, [0.0, 1.0]])
    return (float(values.mean()) if n else math.nan), float(padded.var(ddof=1)), n


def mean_interval(values: np.ndarray, alpha: float, planned: int) -> Interval:
    """Always-valid interval of one arm's mean."""
    mean, var, n = _moments(values)
    if n == 0:
        return Interval(math.nan, -math.inf, math.inf)
    radius = mixture_radius(var / n, mixing_variance(var, planned, alpha), alpha)
    return Interval(mean, mean - radius, mean + radius)


def difference_interval(arm: np.ndarray, control: np.ndarray, alpha: float, planned: int) -> Interval:
    """Always-valid interval of mean(arm) - mean(control) (two independent samples, planned customers per arm)."""
    (m_a, v_a, n_a), (m_c, v_c, n_c) = _moments(arm), _moments(control)
    if n_a == 0 or n_c == 0:
        return Interval(math.nan, -math.inf, math.inf)
    radius = mixture_radius(v_a / n_a + v_c / n_c, mixing_variance(v_a + v_c, planned, alpha), alpha)
    diff = m_a - m_c
    return Interval(diff, diff - radius, diff + radius)


def verdict(diff: Interval, n_arm: int, n_control: int, min_customers: int = MIN_CUSTOMERS) -> str:
    """"better" / "worse" when the interval excludes 0 and both arms have min_customers, else why not."""
    if min(n_arm, n_control) < min_customers:
        return "too few customers"
    if diff.low > 0:
        return "better"
    if diff.high < 0:
        return "worse"
    return "undecided"


def compare_arms(arm_idx: np.ndarray, converted: np.ndarray, items: np.ndarray, arms: Sequence[str], control: str,
                 *, purchases: np.ndarray | None = None, alpha: float = DEFAULT_ALPHA, planned: int = DEFAULT_PLANNED,
                 min_customers: int = MIN_CUSTOMERS) -> tuple[list[ArmSummary], list[Comparison]]:
    """Per-arm summaries (level alpha) and each arm against `control` (level alpha / (arms - 1), Bonferroni).

    The verdict is on the share of buyers (`converted`); items and purchases (NaN intervals when not given) are shown
    beside it, not tested, so that one decision is not three chances to find something.
    """
    summaries, comparisons = [], []
    purchases = np.full(len(arm_idx), np.nan) if purchases is None else purchases
    c = list(arms).index(control)
    split_alpha = alpha / max(1, len(arms) - 1)
    for k, name in enumerate(arms):
        mine = arm_idx == k
        summaries.append(ArmSummary(name, int(mine.sum()), int(converted[mine].sum()),
                                    mean_interval(converted[mine], alpha, planned),
                                    mean_interval(items[mine], alpha, planned),
                                    mean_interval(purchases[mine], alpha, planned)))
        if k == c:
            continue
        ctrl = arm_idx == c
        share = difference_interval(converted[mine], converted[ctrl], split_alpha, planned)
        comparisons.append(Comparison(name, control, share,
                                      difference_interval(items[mine], items[ctrl], split_alpha, planned),
                                      difference_interval(purchases[mine], purchases[ctrl], split_alpha, planned),
                                      verdict(share, int(mine.sum()), int(ctrl.sum()), min_customers)))
    return summaries, comparisons


def list_metrics(exposures: Sequence[ExposureRow], outcomes: Outcomes, popularity: Mapping[str, int],
                 n_buyers: int, n_catalog: int) -> dict[str, dict[str, float]]:
    """Per arm: catalog coverage (distinct SKUs served / catalog size) and novelty (mean -log2 p over served slots,
    p = (buyers of the item + 1) / (buyers before the experiment + 1), so never-bought items are the most novel)."""
    first_arm: dict[str, str] = {}
    for row in sorted(exposures, key=lambda r: r.ts):
        first_arm.setdefault(row.token, row.arm)
    served: dict[str, set[str]] = {a: set() for a in outcomes.arms}
    info_sum: dict[str, float] = dict.fromkeys(outcomes.arms, 0.0)
    slots: dict[str, int] = dict.fromkeys(outcomes.arms, 0)
    for row in exposures:
        if row.arm != first_arm[row.token]:
            continue
        served[row.arm].update(row.items)
        info_sum[row.arm] += sum(-math.log2((popularity.get(s, 0) + 1) / (n_buyers + 1)) for s in row.items)
        slots[row.arm] += len(row.items)
    return {a: {"coverage": len(served[a]) / n_catalog if n_catalog else math.nan,
                "novelty": info_sum[a] / slots[a] if slots[a] else math.nan} for a in outcomes.arms}
