"""The report: experiment and control resolution with clear errors, the window, the daily timeline, the decision's
wording, --json types and a self-contained, escaped HTML page."""

from __future__ import annotations

import json
import math
from itertools import pairwise

import pytest
from sqlalchemy import Engine, insert, select

from appliance.abtest.exposures import record_exposures
from appliance.abtest.report import ReportError, build_report, chain_rekeyer, report_dict
from appliance.abtest.report_html import render_html
from appliance.abtest.simulate import SimSpec, run_simulation, seed_store, simulate_in_memory
from appliance.abtest.stats import DAY_S
from appliance.config import StoreConfig
from appliance.data.home import Home
from appliance.data.rotation import rotate_pseudonym_key
from appliance.data.store import Interaction, Item, User, open_store

T0 = 1_800_000_000


@pytest.fixture
def engine() -> Engine:
    return open_store(StoreConfig(url="sqlite://"))


def _tiny(engine: Engine, arms: tuple[str, ...] = ("control", "treatment"), experiment: str = "exp") -> None:
    """Two customers per arm shown [A]; customer 0 buys A ten days later."""
    seed_store(engine, customers=2 * len(arms), items=3, seed=0, before_ts=T0)
    with engine.connect() as conn:
        tokens = list(conn.scalars(select(User.pseudonym).order_by(User.id)))
        user0 = conn.scalar(select(User.id).order_by(User.id))
        item_a = conn.scalar(select(Item.id).where(Item.sku == "SIM-000000"))
    record_exposures(engine, [{"experiment": experiment, "token": t, "arm": arms[i % len(arms)],
                               "items": ["SIM-000000"], "ts": T0} for i, t in enumerate(tokens)])
    with engine.begin() as conn:
        conn.execute(insert(Interaction).values(user_id=user0, item_id=item_a, ts=T0 + 10 * DAY_S, event="purchase"))


def test_no_exposures_says_what_to_do(engine: Engine) -> None:
    with pytest.raises(ReportError, match=r"no exposures recorded yet.*ROLLOUT"):
        build_report(engine, now=T0)


def test_several_experiments_need_a_choice(engine: Engine) -> None:
    _tiny(engine, experiment="one")
    record_exposures(engine, [{"experiment": "two", "token": "usr-x", "arm": "a", "items": [], "ts": T0}])
    with pytest.raises(ReportError, match=r"2 experiments.*--experiment"):
        build_report(engine, now=T0)
    with pytest.raises(ReportError, match="no exposures for experiment 'three'"):
        build_report(engine, now=T0, experiment="three")
    with pytest.raises(ReportError, match="only the arm 'a'"):
        build_report(engine, now=T0, experiment="two")
    with pytest.raises(ReportError, match="control arm 'b' has no exposures"):
        build_report(engine, now=T0, experiment="one", control="b")


@pytest.mark.parametrize(("window", "buyers"), [(14, 1), (7, 0)])
def test_the_window_decides_what_is_credited(engine: Engine, window: int, buyers: int) -> None:
    _tiny(engine)
    report = build_report(engine, now=T0 + 30 * DAY_S, window_days=window, min_cell=1)  # 2 customers per arm
    assert {s.arm: s.buyers for s in report.summaries} == {"control": buyers, "treatment": 0}
    assert report.decision.startswith("Keep collecting")


def test_control_defaults_to_the_arm_named_control_else_the_first(engine: Engine) -> None:
    _tiny(engine, arms=("zeta", "alpha"))
    assert build_report(engine, now=T0).control == "alpha"
    assert build_report(engine, now=T0, control="zeta").comparisons[0].arm == "alpha"


def test_timeline_is_daily_and_ends_with_the_verdict_shown() -> None:
    _, report = simulate_in_memory(SimSpec(lift=(1.0, 2.0)), customers=1200, seed=2)
    stamps = [ts for ts, _ in report.timeline]
    assert stamps[-1] == report.now and all(b - a == DAY_S for a, b in pairwise(stamps[:-1]))
    assert report.timeline[-1][1]["treatment"] == report.comparisons[0].share_diff
    early = report.timeline[0][1]["treatment"]
    assert early.high - early.low > report.comparisons[0].share_diff.high - report.comparisons[0].share_diff.low


def test_a_worse_arm_is_called_out(engine: Engine) -> None:
    seed_store(engine, customers=1500, items=100)
    sim = run_simulation(engine, SimSpec(lift=(2.5, 1.0), base_rate=0.12), bytes(32), seed=3)
    report = build_report(engine, now=sim.now)
    assert report.comparisons[0].verdict == "worse" and report.winner is None
    assert report.decision.startswith("treatment sells worse than control: roll it back")


def test_json_has_no_infinities(engine: Engine) -> None:
    _tiny(engine)
    doc = json.loads(json.dumps(report_dict(build_report(engine, now=T0 + 30 * DAY_S)), allow_nan=False))
    assert doc["experiment"] == "exp" and doc["timeline"][-1]["ts"] == T0 + 30 * DAY_S
    assert {a["arm"] for a in doc["summaries"]} == {"control", "treatment"}


def test_html_is_self_contained_and_escaped(engine: Engine) -> None:
    _tiny(engine, arms=("control", "<script>alert(1)</script>"))
    page = render_html(build_report(engine, now=T0 + 30 * DAY_S))
    assert page.count("<svg") == 3 and "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page and " src=" not in page


def test_exposures_logged_before_a_key_rotation_still_join(home: Home) -> None:
    tokens = [home.store_pseudonym(f"cust-{u}") for u in range(4)]
    with home.engine.begin() as conn:
        conn.execute(insert(Item).values(sku="A", title="a", categories=[], attributes={}))
        conn.execute(insert(User), [{"pseudonym": t, "key_id": home.pseudonym_key.key_id} for t in tokens])
        user0, item = conn.scalar(select(User.id).order_by(User.id)), conn.scalar(select(Item.id))
        conn.execute(insert(Interaction).values(user_id=user0, item_id=item, ts=T0 + DAY_S, event="purchase"))
    record_exposures(home.engine, [{"experiment": "exp", "token": t, "arm": ("control", "b")[i % 2], "items": ["A"],
                                    "ts": T0} for i, t in enumerate(tokens)])
    rotate_pseudonym_key(home)
    plain = build_report(home.engine, now=T0 + 2 * DAY_S, min_cell=1)  # two customers per arm: the join is tested
    rekeyed = build_report(home.engine, now=T0 + 2 * DAY_S, rekey=chain_rekeyer(home.pseudonym_chain), min_cell=1)
    assert {s.arm: s.buyers for s in plain.summaries} == {"b": 0, "control": 0}  # old tokens name nobody now
    assert {s.arm: s.buyers for s in rekeyed.summaries} == {"b": 0, "control": 1}
    assert chain_rekeyer(home.pseudonym_chain)("not-a-token") == "not-a-token"


def test_an_arm_too_small_to_hide_one_customer_shows_no_outcome(engine: Engine) -> None:
    # two customers per arm, one of whom bought: "1 of 2 bought" would tell who did to anyone who knows the two
    _tiny(engine)
    report = build_report(engine, now=T0 + 30 * DAY_S)
    assert [(s.customers, s.buyers) for s in report.summaries] == [(2, None), (2, None)]
    assert all(math.isnan(s.share.estimate) and math.isnan(s.items.estimate) for s in report.summaries)
    diff = report.comparisons[0]
    assert diff.verdict == "too few customers" and math.isnan(diff.share_diff.estimate)
    assert all(diffs == {} for _, diffs in report.timeline)  # not day by day either
    doc = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert [a["buyers"] for a in doc["summaries"]] == [None, None]
    page = render_html(report)
    assert page.count("suppressed: too few customers") == 2 and "50.0%" not in page
    shown = build_report(engine, now=T0 + 30 * DAY_S, min_cell=2)  # the threshold is the library's to set
    assert [s.buyers for s in shown.summaries] == [1, 0]

