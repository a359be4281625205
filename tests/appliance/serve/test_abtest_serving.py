"""A/B serving through the ASGI app on the tiny sample bundle: every answer names its arm (body and header), the arm
is the keyed-hash assignment and decides the list, exposures are written off the request path, out-of-pilot requests
fall back and say so, the guard stops an arm, and without [abtest] nothing changes."""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import export.cf
from appliance.abtest.arms import ArmSourceError
from appliance.abtest.assignment import assign_arm, assignment_key
from appliance.abtest.exposures import load_exposures
from appliance.abtest.guard import resume_arm, stopped_arms
from appliance.abtest.serving import build_experiment
from appliance.config import AbArmConfig, AbTestConfig
from appliance.data.home import Home
from appliance.data.imports import ingest_lists
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from export.cf import export_cf

ARMS = (AbArmConfig("ours", "bundle", 1.0), AbArmConfig("pop", "popularity", 1.0))


def _app(home: Home, **abtest) -> tuple[TestClient, dict[str, str]]:
    """A client of the app over `home` with [abtest] set to `abtest` (no keyword: no experiment)."""
    cfg = dataclasses.replace(home.config, abtest=AbTestConfig(**abtest)) if abtest else home.config
    service, keys, to_pseudonym, gen = build_service(cfg)
    app = create_app(service, keys, to_pseudonym, gen, experiment=build_experiment(cfg, service, to_pseudonym))
    token = create_key(cfg.data_dir / KEYS_FILE, f"web{time.monotonic_ns()}", ("read",))
    return TestClient(app, raise_server_exceptions=False), {"X-API-Key": token}


@pytest.fixture
def served(bundle_home: tuple[Home, Path], serve_sample) -> tuple[Home, list[str]]:
    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1", progress=False)
    return home, serve_sample.customers(sample)


def _popular_skus(sample: Path) -> list[str]:
    """SKUs by interaction count in the sample file, most first (ties: catalog order), computed from the CSV."""
    with (sample / "interactions.csv").open() as fh:
        counts = Counter(row["sku"] for row in csv.DictReader(fh))
    return [sku for sku, _ in sorted(counts.items(), key=lambda kv: -kv[1])]


def test_each_answer_names_its_assigned_arm_and_is_logged_as_an_exposure(served, bundle_home) -> None:
    home, customers = served
    with _app(home, experiment="exp1", arms=ARMS, fallback="pop", exposure_flush_seconds=0.05)[0] as client:
        headers = {"X-API-Key": create_key(home.config.data_dir / KEYS_FILE, "web", ("read",))}
        answers = {}
        for raw in customers:
            first, again = (client.post("/v1/recommendations", json={"user_id": raw, "k": 4}, headers=headers)
                            for _ in range(2))
            assert first.status_code == again.status_code == 200
            body = first.json()
            assert body["arm"] == first.headers["x-tanaban-arm"] == again.json()["arm"]  # sticky
            assert first.headers["x-tanaban-experiment"] == "exp1" and "fallback" not in body
            answers[raw] = body
    key = assignment_key(home.pseudonym_chain[0].secret)
    for raw, body in answers.items():  # the arm is the keyed hash of the pseudonym, and the arm decides the list
        assert body["arm"] == assign_arm(home.store_pseudonym(raw), ARMS, key, "exp1")
        assert body["source"] == ("popularity" if body["arm"] == "pop" else "cached")
    assert {body["arm"] for body in answers.values()} == {"ours", "pop"}
    pop = [body["items"] for body in answers.values() if body["arm"] == "pop"]
    assert all([i["sku"] for i in items] == [i["sku"] for i in pop[0]] for items in pop)  # one list for everyone
    assert [i["sku"] for i in pop[0]] == _popular_skus(bundle_home[1])[:4]
    rows = load_exposures(home.engine, "exp1")  # flushed on shutdown; the repeated identical answer is not logged
    assert len(rows) == len(customers)
    by_token = {home.store_pseudonym(raw): body for raw, body in answers.items()}
    for row in rows:
        assert row.token in by_token and row.arm == by_token[row.token]["arm"]
        assert list(row.items) == [i["sku"] for i in by_token[row.token]["items"]]
        assert row.bundle_id == by_token[row.token]["bundle"] and abs(row.ts - time.time()) < 300
    assert not {row.token for row in rows} & set(customers)  # pseudonyms only


@pytest.mark.parametrize("repeat_seconds, rows", [(0.0, 3), (3600.0, 2)])
def test_repeated_answers_are_logged_again_only_after_the_repeat_time_or_when_the_list_changes(
        served, repeat_seconds: float, rows: int) -> None:
    home, customers = served
    client, headers = _app(home, experiment="e", arms=ARMS, fallback="pop", exposure_repeat_seconds=repeat_seconds)
    with client:
        for k in (3, 3, 4):  # k 4 is another list
            assert client.post("/v1/recommendations", json={"user_id": customers[0], "k": k},
                               headers=headers).status_code == 200
    assert len(load_exposures(home.engine, "e")) == rows


def test_without_abtest_answers_are_unchanged_and_history_only_is_unassigned(served) -> None:
    home, customers = served
    client, headers = _app(home)
    plain = client.post("/v1/recommendations", json={"user_id": customers[0]}, headers=headers)
    assert plain.status_code == 200 and "arm" not in plain.json() and "x-tanaban-arm" not in plain.headers
    client, headers = _app(home, experiment="exp1", arms=ARMS, fallback="pop")
    skus = [item["sku"] for item in plain.json()["items"][:2]]
    anonymous = client.post("/v1/recommendations", json={"history": skus}, headers=headers)
    assert anonymous.status_code == 200 and anonymous.json()["arm"] == "unassigned"
    assert anonymous.json()["source"] == "live"
    missing = client.post("/v1/recommendations", json={"k": 3}, headers=headers)
    assert missing.status_code == 422
    explicit = client.post("/v1/recommendations", json={"user_id": customers[0], "model": "lightgcn"}, headers=headers)
    assert explicit.status_code == 200 and "arm" not in explicit.json()  # a model chosen by the client: no A/B


def test_customers_and_items_outside_a_pilot_get_the_fallback_and_are_told(bundle_home, serve_sample,
                                                                          monkeypatch) -> None:
    home, sample = bundle_home
    sign = export.cf.sign_bundle
    monkeypatch.setattr(export.cf, "sign_bundle", lambda staging, key, meta, **kw: sign(
        staging, key, {**meta, "pilot": {"categories": ["Hiking"]}}, **kw))
    export_cf(home, "lightgcn", version="pilot1", progress=False)
    customers = serve_sample.customers(sample)
    client, headers = _app(home, experiment="exp1", arms=ARMS, fallback="pop")
    inside = client.post("/v1/recommendations", json={"user_id": customers[0]}, headers=headers)
    assert inside.status_code == 200 and "fallback" not in inside.json()
    outside = client.post("/v1/recommendations", json={"user_id": "never-seen-customer"}, headers=headers)
    assert outside.status_code == 200, outside.json()
    assert outside.json()["arm"] == "pop" and outside.json()["fallback"] == "outside_pilot"
    assert outside.headers["x-tanaban-fallback"] == "outside_pilot" and outside.json()["items"]
    foreign = client.post("/v1/recommendations", json={"history": ["no-such-sku"]}, headers=headers)
    assert foreign.status_code == 200 and foreign.json()["fallback"] == "outside_pilot"
    mixed = client.post("/v1/recommendations", json={"history": ["no-such-sku", _popular_skus(sample)[0]]},
                        headers=headers)
    assert mixed.status_code == 200 and "fallback" not in mixed.json()  # the pilot's items are answered
    client, headers = _app(home)  # no [abtest]: an unknown customer is a 404, as before
    assert client.post("/v1/recommendations", json={"user_id": "never-seen-customer"},
                       headers=headers).status_code == 404


def test_the_guard_stops_a_slow_arm_everywhere_until_resumed(served) -> None:
    home, customers = served
    client, headers = _app(home, experiment="exp1", arms=ARMS, fallback="pop", guard_min_requests=3,
                           guard_p99_ms=1e-6)  # every answer is "too slow"
    answers = {raw: client.post("/v1/recommendations", json={"user_id": raw}, headers=headers).json()
               for raw in customers}
    # a customer of "ours" answered by the fallback once the guard already stopped it (a loaded machine can spend
    # the guard's one-second pause inside this loop) is still one of ours
    ours = [raw for raw, body in answers.items() if body["arm"] == "ours" or body.get("fallback") == "arm_stopped"]
    assert len(ours) >= 3
    time.sleep(1.1)  # the guard judges an arm at most once a second
    client.post("/v1/recommendations", json={"user_id": ours[0]}, headers=headers)
    stopped = client.post("/v1/recommendations", json={"user_id": ours[1]}, headers=headers)
    assert stopped.json()["arm"] == "pop" and stopped.json()["fallback"] == "arm_stopped"
    assert "p99" in stopped_arms(home.config.data_dir, "exp1")["ours"]["reason"]
    metrics = client.get("/metrics").text
    assert 'tanaban_abtest_guard_trips_total{arm="ours"} 1.0' in metrics
    assert 'tanaban_abtest_answers_total{arm="pop",fallback="arm_stopped"}' in metrics
    other, headers2 = _app(home, experiment="exp1", arms=ARMS, fallback="pop")  # another worker: sees the stop
    assert other.post("/v1/recommendations", json={"user_id": ours[2]}, headers=headers2).json()["fallback"] == \
        "arm_stopped"
    assert resume_arm(home.config.data_dir, "exp1", "ours")
    fresh, headers3 = _app(home, experiment="exp1", arms=ARMS, fallback="pop")
    assert "fallback" not in fresh.post("/v1/recommendations", json={"user_id": ours[2]}, headers=headers3).json()
    # not stopped (any more): nothing to resume. ("pop" is no witness: on a loaded machine the loop above can outlast
    # the guard's one-second pause, and with this p99 limit the guard then stops "pop" too.)
    assert resume_arm(home.config.data_dir, "exp1", "ours") is False
    renamed = dataclasses.replace(home.config, abtest=AbTestConfig(experiment="exp2", arms=ARMS, fallback="pop"))
    service, _, to_pseudonym, _ = build_service(renamed)
    assert not build_experiment(renamed, service, to_pseudonym).guard.is_stopped("ours")  # a new experiment


def test_a_failing_arm_falls_back_per_request_and_trips_on_its_error_rate(served, monkeypatch) -> None:
    home, customers = served
    client, headers = _app(home, experiment="exp1", arms=ARMS, fallback="pop", guard_min_requests=2,
                           guard_error_rate=0.5)
    monkeypatch.setattr("appliance.serve.service.CFBundle.for_user", lambda *a, **k: 1 / 0)
    bodies = [client.post("/v1/recommendations", json={"user_id": raw}, headers=headers).json() for raw in customers]
    fallbacks = [b.get("fallback") for b in bodies if b["arm"] == "pop" and b.get("fallback")]
    assert fallbacks[:2] == ["arm_error", "arm_error"] and set(fallbacks[2:]) == {"arm_stopped"}
    assert "error rate" in stopped_arms(home.config.data_dir, "exp1")["ours"]["reason"]


def test_a_champion_arm_serves_the_imported_lists(served, tmp_path: Path) -> None:
    home, customers = served
    skus = _popular_skus(tmp_path / "sample")
    lists = tmp_path / "lists.csv"
    lists.write_text("customer_id,rank,sku\n" + "".join(f"{raw},{r + 1},{skus[-1 - r - i]}\n"
                                                         for i, raw in enumerate(customers[:-1]) for r in range(3)))
    ingest_lists(home, lists)
    arms = (AbArmConfig("champ", "champion", 1.0), AbArmConfig("ours", "bundle", 1.0))
    client, headers = _app(home, experiment="exp1", arms=arms, fallback="champ")
    checked = 0
    for i, raw in enumerate(customers):
        response = client.post("/v1/recommendations", json={"user_id": raw, "k": 2}, headers=headers)
        if response.status_code == 404:  # the last customer has no list
            assert raw == customers[-1]
            continue
        body = response.json()
        if body["arm"] == "champ":
            assert [item["sku"] for item in body["items"]] == [skus[-1 - i], skus[-2 - i]]
            assert body["source"] == "champion" and body["bundle"].startswith("champion-lists/")
            checked += 1
    assert checked >= 5


def test_sources_that_do_not_exist_are_refused_with_the_fix(served) -> None:
    home, _ = served
    for arms, fragment in (((AbArmConfig("c", "champion", 1.0),), "ingest lists"),
                           ((AbArmConfig("b", "bundle:nope", 1.0),), "holds no bundle")):
        cfg = dataclasses.replace(home.config, abtest=AbTestConfig(experiment="e", arms=arms, fallback="popularity"))
        service, _, to_pseudonym, _ = build_service(cfg)
        with pytest.raises(ArmSourceError, match=fragment):
            build_experiment(cfg, service, to_pseudonym)


def test_fast_path_answers_ab_requests_as_the_route_does(served, fast_path_parity) -> None:
    """Under an A/B experiment the middleware's fast path answers as FastAPI's route: the same arm, list, headers,
    errors, A/B counters and access log, and the same exposures written (each run's, in order)."""
    home, customers = served
    cfg = dataclasses.replace(home.config, abtest=AbTestConfig(experiment="exp1", arms=ARMS, fallback="pop",
                                                               exposure_flush_seconds=0.05))
    token = create_key(cfg.data_dir / KEYS_FILE, "parity", ("read",))

    def make_app():
        service, keys, to_pseudonym, gen = build_service(cfg)
        return create_app(service, keys, to_pseudonym, gen, experiment=build_experiment(cfg, service, to_pseudonym))

    ok = {"X-API-Key": token, "X-Request-ID": "fixed-id"}
    # 20 customers: with two equal arms and a fresh HMAC key per home, all in one arm has odds 2 ** -19 (8 had 1 in 128)
    assigned = 20
    assert len(customers) >= assigned
    cases = [({"user_id": raw, "k": 4}, ok) for raw in customers[:assigned]] + [
        ({"user_id": customers[0], "k": 4}, ok),  # a repeat: not logged again
        ({"user_id": customers[1], "k": 3, "explain": True, "exclude": ["no-such-sku"]}, ok),
        ({"history": ["no-such-sku"]}, ok),  # unassigned: 404 as without an experiment
        ({"user_id": "nobody-at-all"}, ok),  # assigned an arm by its pseudonym; unknown to the bundle arm: 404
        ({"user_id": customers[2], "model": "lightgcn"}, ok),  # a model chosen: no A/B
        ({"k": 3}, ok),  # 422
    ]
    fast, route, answered = fast_path_parity.run(make_app, cases)
    assert answered == [True] * len(cases)
    bodies = [json.loads(body) for _, body, _ in fast[0][:assigned]]
    assert {body["arm"] for body in bodies} == {"ours", "pop"}
    for (case, _), got, expected in zip(cases, fast[0], route[0], strict=True):
        assert got == expected, case
    def counters(lines: list[str]) -> list[str]:  # exposures written so far: up to the writer thread's timing
        return [line for line in lines if not line.startswith("tanaban_abtest_exposures")]

    assert counters(fast[1]) == counters(route[1]) and fast[2] == route[2]
    assert any(line.startswith("tanaban_abtest_answers_total") for line in fast[1])
    rows = [(r.token, r.arm, r.items, r.bundle_id) for r in load_exposures(home.engine, "exp1")]
    assert len(rows) % 2 == 0 and rows[:len(rows) // 2] == rows[len(rows) // 2:] and len(rows) >= 8
