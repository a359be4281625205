"""/metrics through prometheus_client (appliance.serve.metrics): HELP and TYPE lines, the latency histogram per route
template and status class, process metrics, bundle info, reload counters (a refused reload counts), and
multiprocess mode: counters summed over worker processes, live workers' gauges only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from appliance.data.home import Home
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.http import create_app
from appliance.serve.metrics import MULTIPROC_ENV, ServeMetrics, multiprocess_dir
from appliance.serve.node import build_service
from export.cf import export_cf


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value}, parsed by prometheus_client's own parser (so the text is valid)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_have_help_histogram_process_and_bundle_info(bundle_home: tuple[Home, Path], serve_sample) -> None:
    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests", ("read", "admin"))
    client = TestClient(create_app(*build_service(home.config)))
    headers = {"X-API-Key": token}
    for user in serve_sample.customers(sample)[:3]:
        assert client.post("/v1/recommendations", json={"user_id": user, "k": 2}, headers=headers).status_code == 200
    assert client.post("/v1/recommendations", json={"user_id": "nobody"}, headers=headers).status_code == 404
    assert client.get("/v1/items/no/such/sku/similar", headers=headers).status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text, got = response.text, _samples(response.text)
    for name in ("tanaban_requests_total", "tanaban_request_duration_seconds", "tanaban_bundle_reloads_total",
                 "tanaban_bundle_info", "tanaban_worker_info", "process_cpu_seconds_total"):
        assert re.search(rf"^# HELP {name} \S", text, re.M) and re.search(rf"^# TYPE {name} ", text, re.M), name
    route = "/v1/recommendations"
    assert got[("tanaban_requests_total", (("route", route), ("status", "200")))] == 3
    assert got[("tanaban_requests_total", (("route", route), ("status", "404")))] == 1
    assert got[("tanaban_request_duration_seconds_count", (("route", route), ("status_class", "2xx")))] == 3
    assert got[("tanaban_request_duration_seconds_bucket", (("le", "+Inf"), ("route", route),
                                                            ("status_class", "4xx")))] == 1
    # the route template, never the sku asked for
    assert got[("tanaban_requests_total", (("route", "/v1/items/{sku:path}/similar"), ("status", "404")))] == 1
    assert "no/such/sku" not in text and "nobody" not in text
    assert got[("tanaban_bundle_info", (("bundle", "v1"), ("model", "cf")))] == 1
    assert got[("tanaban_worker_info", (("pid", str(os.getpid())),))] == 1
    assert got[("process_cpu_seconds_total", ())] > 0 and "_created" not in text


def test_reload_counters_count_a_refused_reload(bundle_home: tuple[Home, Path]) -> None:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "ops", ("read", "admin"))
    client = TestClient(create_app(*build_service(home.config)), raise_server_exceptions=False)
    export_cf(home, "lightgcn", version="v2")
    assert client.post("/v1/admin/reload", headers={"X-API-Key": token}).json() == {"bundle": "v2"}
    (home.config.artifacts_dir / "bundles" / "v2" / "precomputed.npy").write_bytes(b"tampered")
    assert client.post("/v1/admin/reload", headers={"X-API-Key": token}).status_code == 409
    got = _samples(client.get("/metrics").text)
    assert got[("tanaban_bundle_reloads_total", (("outcome", "ok"), ("trigger", "http")))] == 1
    assert got[("tanaban_bundle_reloads_total", (("outcome", "failed"), ("trigger", "http")))] == 1
    info = {labels for name, labels in got if name == "tanaban_bundle_info"}
    assert info == {(("bundle", "v2"), ("model", "cf"))}  # v1 dropped out when v2 came in


WORKER = """
import sys
from types import SimpleNamespace
from appliance.serve.metrics import ServeMetrics
metrics = ServeMetrics(SimpleNamespace(bundle=SimpleNamespace(version=sys.argv[1])))
for _ in range(int(sys.argv[2])):
    metrics.observe("/v1/recommendations", 200, 0.002)
metrics.observe("/v1/recommendations", 404, 0.0004)
print("ready", flush=True)
sys.stdin.read()  # live until the test closes stdin
"""


def test_multiprocess_mode_sums_counters_and_lists_live_workers() -> None:
    with multiprocess_dir() as directory:
        assert os.environ[MULTIPROC_ENV] == directory and oct(os.stat(directory).st_mode)[-3:] == "700"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, version, str(n)], env=env, text=True,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE) for version, n in (("v1", 3),
                                                                                                     ("v2", 5))]
        try:
            assert [w.stdout.readline().strip() for w in workers] == ["ready", "ready"]
            reader = ServeMetrics(None)  # in this process: reads every worker's files
            got = _samples(reader.exposition().decode())
            route = (("route", "/v1/recommendations"),)
            assert got[("tanaban_requests_total", (*route, ("status", "200")))] == 8  # 3 + 5, summed
            assert got[("tanaban_request_duration_seconds_count", (*route, ("status_class", "4xx")))] == 2
            assert got[("tanaban_request_duration_seconds_bucket", (("le", "0.0025"), *route,
                                                                    ("status_class", "2xx")))] == 8
            pids = [str(w.pid) for w in workers]
            assert {got[("tanaban_bundle_info", (("bundle", v), ("model", "cf"), ("pid", p)))]
                    for v, p in zip(("v1", "v2"), pids, strict=True)} == {1}
            assert {labels for name, labels in got if name == "process_resident_memory_bytes"} == \
                {(("pid", p),) for p in pids}
            workers[0].stdin.close()
            workers[0].wait(timeout=20)
            got = _samples(reader.exposition().decode())
            assert got[("tanaban_requests_total", (*route, ("status", "200")))] == 8  # an exited worker still counts
            assert {labels for name, labels in got if name in ("tanaban_bundle_info", "tanaban_worker_info")} == \
                {(("bundle", "v2"), ("model", "cf"), ("pid", pids[1])), (("pid", pids[1]),)}  # live workers only
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    assert not Path(directory).exists() and MULTIPROC_ENV not in os.environ
