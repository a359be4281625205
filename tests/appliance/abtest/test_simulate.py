"""A simulated experiment end to end: assignment by the serving hash, exposures and purchases in the store, and the
report finds the planted winner (and none in an A/A run)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from appliance.abtest.assignment import assign_arm
from appliance.abtest.exposures import load_exposures
from appliance.abtest.report import build_report
from appliance.abtest.simulate import SimSpec, SimulationError, run_simulation, seed_store, simulate_in_memory
from appliance.config import StoreConfig
from appliance.data.store import Interaction, open_store

KEY = bytes(range(32))


@pytest.fixture
def engine() -> Engine:
    engine = open_store(StoreConfig(url="sqlite://"))
    seed_store(engine, customers=1500, items=120, seed=4)
    return engine


def test_report_finds_the_planted_winner(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))  # SQLite and PostgreSQL
    seed_store(engine, customers=1500, items=120, seed=4)
    spec = SimSpec(lift=(1.0, 2.2), base_rate=0.12)
    sim = run_simulation(engine, spec, KEY, seed=1)
    report = build_report(engine, now=sim.now, experiment=spec.experiment)
    assert report.winner == "treatment" and report.comparisons[0].verdict == "better"
    measured = {s.arm: s.share.estimate for s in report.summaries}
    for arm, planted in sim.planted_share.items():  # the join recovers the planted rates (distractors not credited)
        assert abs(measured[arm] - planted) < 0.04
    assert sum(s.customers for s in report.summaries) == sim.customers == 1500
    assert all(s.purchases.estimate > s.items.estimate for s in report.summaries)  # distractor purchases count here


def test_arms_follow_the_serving_assignment(engine: Engine) -> None:
    spec = SimSpec()
    run_simulation(engine, spec, KEY, seed=2, customers=200)
    rows = load_exposures(engine, spec.experiment)
    assert len({r.token for r in rows}) == 200
    assert all(r.arm == assign_arm(r.token, spec.arms, KEY, spec.experiment) for r in rows)
    assert all(len(r.items) == spec.list_size for r in rows)


def test_an_aa_run_declares_no_winner() -> None:
    sim, report = simulate_in_memory(SimSpec(lift=(1.0, 1.0)), customers=1500, seed=5)
    assert report.winner is None and report.comparisons[0].verdict == "undecided"
    assert sim.planted_share["control"] == pytest.approx(sim.planted_share["treatment"])


def test_purchases_are_written_as_ingest_stores_them(engine: Engine) -> None:
    with engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(Interaction))
    sim = run_simulation(engine, SimSpec(), KEY, seed=3, customers=300)
    with engine.connect() as conn:
        after = conn.scalar(select(func.count()).select_from(Interaction))
        events = set(conn.scalars(select(Interaction.event).distinct()))
    assert after - before == sim.purchases > 0 and events == {"purchase"}


@pytest.mark.parametrize(("spec", "message"), [(SimSpec(lift=(1.0,)), "one multiplier"),
                                               (SimSpec(base_rate=1.5), "base_rate"),
                                               (SimSpec(list_size=0), "list_size")])
def test_bad_specs_are_refused(engine: Engine, spec: SimSpec, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        run_simulation(engine, spec, KEY)


def test_an_empty_store_is_refused() -> None:
    with pytest.raises(SimulationError, match="no customers"):
        run_simulation(open_store(StoreConfig(url="sqlite://")), SimSpec(), KEY)
