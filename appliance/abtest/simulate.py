"""Simulated A/B experiments with a planted effect, to check the report end to end (issue 18).

Customers get a latent propensity p ~ Beta (mean `base_rate`) of buying from a list they are shown; arm a multiplies
it by `lift[a]` (the planted, known effect). Arms are assigned by the serving path's own keyed hash
(appliance.abtest.assignment.assign_arm); each customer sees their arm's list on one or more visits (exposures),
buys one or more recommended items within the report window with probability min(1, p * lift), and also makes
purchases the report must not credit (items not shown, and shown items bought before the first exposure). Purchases
are written to the store as ingest stores them (the customer's pseudonym, the item, a purchase event).
`simulate_responses` is the same response model on arrays only, for fast many-seed checks (A/A tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, func, insert, select

from appliance.abtest.assignment import assign_arm
from appliance.abtest.exposures import record_exposures
from appliance.abtest.report import ABReport, build_report
from appliance.abtest.stats import DAY_S
from appliance.config import StoreConfig
from appliance.data.store import Interaction, Item, User, open_store
from appliance.errors import UserError

SIM_START_TS = 1_767_225_600  # 2026-01-01T00:00:00Z: a fixed epoch keeps runs independent of the clock
ListMaker = Callable[[str, str], Sequence[str]]  # (arm, token) -> SKUs in served order


class SimulationError(UserError, ValueError):
    """The simulation cannot run as asked (no customers or items in the store, bad lift or rate)."""


@dataclass(frozen=True)
class SimSpec:
    """What to simulate; `lift` is the ground truth the report should find."""

    experiment: str = "simulated"
    arms: tuple[tuple[str, float], ...] = (("control", 1.0), ("treatment", 1.0))  # (name, weight)
    lift: tuple[float, ...] = (1.0, 1.5)  # per arm: multiplier on the purchase probability (1.0 everywhere: A/A)
    base_rate: float = 0.10  # mean probability that an exposed customer buys a recommended item within the window
    concentration: float = 4.0  # Beta(a, b) with a + b = 4: propensities vary widely between customers
    list_size: int = 10  # items per served list
    days: int = 14  # exposures are spread over this many days
    window_days: int = 14  # credited purchases fall within this many days of an exposure (the report's window)
    visits: float = 1.5  # mean exposures per customer (1 + Poisson(visits - 1))
    start_ts: int = SIM_START_TS

    @property
    def end_ts(self) -> int:
        """When the last window closes: the `now` to report at."""
        return self.start_ts + (self.days + self.window_days) * DAY_S


@dataclass(frozen=True)
class SimResult:
    experiment: str
    customers: int
    exposures: int
    purchases: int  # purchase rows written, credited or not
    planted_share: dict[str, float]  # per arm: expected share of buyers, E[min(1, p * lift)]
    now: int  # report as of this time


def _check(spec: SimSpec) -> None:
    if len(spec.lift) != len(spec.arms) or min(spec.lift) <= 0:
        raise SimulationError("lift: give one multiplier > 0 per arm")
    if not 0 < spec.base_rate < 1 or spec.concentration <= 0:
        raise SimulationError("base_rate must be in (0, 1) and concentration > 0")
    if spec.list_size < 1 or spec.days < 1 or spec.window_days < 1 or spec.visits < 1:
        raise SimulationError("list_size, days and window_days must be >= 1, visits >= 1")


def _propensities(spec: SimSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    a = spec.base_rate * spec.concentration
    return rng.beta(a, spec.concentration - a, n)


def simulate_responses(spec: SimSpec, arm_idx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(bought a recommended item 0/1, recommended items bought) per customer, for arms `arm_idx` (n,)."""
    p = np.minimum(1.0, _propensities(spec, len(arm_idx), rng) * np.asarray(spec.lift)[arm_idx])
    bought = rng.random(len(arm_idx)) < p
    items = np.where(bought, np.minimum(1 + rng.poisson(0.5, len(arm_idx)), spec.list_size), 0)
    return bought.astype(np.float64), items.astype(np.float64)


def planted_shares(spec: SimSpec, draws: int = 200_000, seed: int = 0) -> dict[str, float]:
    """Expected share of buyers per arm under the spec (Monte Carlo over the propensity distribution)."""
    p = _propensities(spec, draws, np.random.default_rng(seed))
    return {name: float(np.minimum(1.0, p * lift).mean()) for (name, _), lift in zip(spec.arms, spec.lift, strict=True)}


def popularity_lists(engine: Engine, spec: SimSpec, seed: int) -> ListMaker:
    """Default lists: the first arm shows the most bought items to everyone; the others a per-customer draw weighted
    by popularity (more of the catalog, as a personalised model would)."""
    with engine.connect() as conn:
        counts = dict(conn.execute(select(Item.sku, func.count(Interaction.id)).join(
            Interaction, Interaction.item_id == Item.id, isouter=True).group_by(Item.sku)).all())
    skus = sorted(counts, key=lambda s: (-counts[s], s))
    weights = np.array([counts[s] + 1.0 for s in skus])
    top = skus[: spec.list_size]
    first = spec.arms[0][0]

    def make(arm: str, token: str) -> Sequence[str]:
        if arm == first:
            return top
        rng = np.random.default_rng([seed, int.from_bytes(token.encode()[-8:], "big")])
        size = min(spec.list_size, len(skus))
        return [skus[i] for i in rng.choice(len(skus), size, replace=False, p=weights / weights.sum())]

    return make


def run_simulation(engine: Engine, spec: SimSpec, key: bytes, *, seed: int = 0, customers: int | None = None,
                   lists: ListMaker | None = None) -> SimResult:
    """Simulate the experiment on the store's customers and items: exposures and purchases are written to it.

    Args:
        key: the assignment key (appliance.abtest.assignment.assignment_key).
        customers: use the first this many customers (by store id); all when None.
        lists: (arm, token) -> SKUs; default `popularity_lists`.
    """
    _check(spec)
    with engine.connect() as conn:
        users = conn.execute(select(User.id, User.pseudonym).order_by(User.id).limit(customers)).all()
        item_ids = dict(conn.execute(select(Item.sku, Item.id)).all())
    if not users or not item_ids:
        raise SimulationError("the store has no customers or no items: ingest (or `tanaban sample`) first")
    rng = np.random.default_rng(seed)
    lists = lists or popularity_lists(engine, spec, seed)
    names = [name for name, _ in spec.arms]
    arm_idx = np.array([names.index(assign_arm(tok, spec.arms, key, spec.experiment)) for _, tok in users])
    _, n_items = simulate_responses(spec, arm_idx, rng)
    exposures, purchases, catalog = [], [], sorted(item_ids)
    for (user_id, token), arm, n_bought in zip(users, arm_idx, n_items, strict=True):
        shown = list(lists(names[arm], token))
        times = np.sort(spec.start_ts + rng.integers(0, spec.days * DAY_S, 1 + rng.poisson(spec.visits - 1)))
        exposures += [{"experiment": spec.experiment, "token": token, "arm": names[arm], "items": shown,
                       "bundle_id": "simulated", "ts": int(t)} for t in times]
        purchases += _purchases(user_id, shown, int(n_bought), times, spec, item_ids, catalog, rng)
    record_exposures(engine, exposures)
    rows = list({(p["user_id"], p["item_id"], p["ts"]): p for p in purchases}.values())  # unique as ingest keeps
    with engine.begin() as conn:
        conn.execute(insert(Interaction), rows)
    return SimResult(spec.experiment, len(users), len(exposures), len(rows), planted_shares(spec), spec.end_ts)


def _purchases(user_id: int, shown: list[str], n_bought: int, times: np.ndarray, spec: SimSpec,
               item_ids: dict[str, int], catalog: list[str], rng: np.random.Generator) -> list[dict]:
    """The credited purchases (n_bought shown items within the window of a visit) and distractors the report must
    not credit: an item not shown, and a shown item bought the day before the first visit."""
    window = spec.window_days * DAY_S
    rows = []
    if n_bought and shown:
        after = times[rng.integers(len(times))] + rng.integers(60, window, n_bought)
        picks = rng.choice(len(shown), min(n_bought, len(shown)), replace=False)
        rows += [(shown[i], int(t)) for i, t in zip(picks, after, strict=False)]
    if rng.random() < 0.3:
        other = catalog[rng.integers(len(catalog))]
        if other not in shown:
            rows.append((other, int(times[0] + rng.integers(60, window))))
    if shown and rng.random() < 0.1:
        rows.append((shown[rng.integers(len(shown))], int(times[0] - DAY_S)))
    return [{"user_id": user_id, "item_id": item_ids[sku], "ts": ts, "event": "purchase"} for sku, ts in rows]


def seed_store(engine: Engine, customers: int, items: int, seed: int = 0, before_ts: int = SIM_START_TS) -> None:
    """Synthetic customers (pseudonym-shaped tokens, never real HMACs), items, and 1-5 Zipf-popular purchases per
    customer in the 30 days before `before_ts` (the history that popularity lists and novelty read)."""
    if customers < 1 or items < 1:
        raise SimulationError("customers and items must be >= 1")
    rng = np.random.default_rng(seed)
    with engine.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"SIM-{i:06d}", "title": f"simulated item {i}", "categories": [],
                                     "attributes": {}} for i in range(items)])
        conn.execute(insert(User), [{"pseudonym": f"usr-sim-{u:07d}", "key_id": "sim"} for u in range(customers)])
        user_ids = list(conn.scalars(select(User.id).order_by(User.id)))
        item_ids = list(conn.scalars(select(Item.id).order_by(Item.id)))
        rows = {(u, item_ids[i]): int(before_ts - rng.integers(1, 30 * DAY_S))
                for u in user_ids for i in (rng.zipf(1.6, rng.integers(1, 6)) - 1) % items}
        conn.execute(insert(Interaction), [{"user_id": u, "item_id": i, "ts": ts, "event": "purchase"}
                                           for (u, i), ts in rows.items()])


def simulate_in_memory(spec: SimSpec, *, customers: int = 2000, items: int = 300,
                       seed: int = 0) -> tuple[SimResult, ABReport]:
    """A whole simulated experiment in a throwaway in-memory store, and its report as of the last window's end."""
    engine = open_store(StoreConfig(url="sqlite://"))
    try:
        seed_store(engine, customers, items, seed, spec.start_ts)
        key = hashlib.sha256(f"tanaban/abtest-simulation/{seed}".encode()).digest()  # no secret: nothing is real
        result = run_simulation(engine, spec, key, seed=seed)
        return result, build_report(engine, now=result.now, experiment=spec.experiment,
                                    window_days=spec.window_days)
    finally:
        engine.dispose()
