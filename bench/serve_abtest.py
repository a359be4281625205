"""What A/B serving ([abtest], appliance.abtest.serving) costs per request: CPU time of cached recommendation requests
through the ASGI app (the method of bench/serve_asgi.py: no sockets, no load generator, so other load on a shared
machine disturbs it little), with A/B off and on, side by side in one run.

Variants (each round runs one child process per variant, alternating, on the same signed bundle and store):
- off: no [abtest] (serving as before issue 18);
- on: an experiment with two arms on the same bundle (50/50), so the answers cost the same as off and the difference
  is what A/B adds: keyed-hash assignment, the pilot and guard checks, the arm in body and headers, the metric, and
  the exposure row queued and written to SQLite by the background writer (its thread's CPU is counted, and the
  queue is flushed before the clock stops);
  The 500 customers are asked for in turn, so after the first pass every answer repeats one already logged and is
  not logged again (abtest.exposure_repeat_seconds, default one hour): a shop asking on every page view;
- on-all: as on, but every answer is logged (exposure_repeat_seconds = 0): the worst case for the writer;
- on-pop: the bundle against popularity 50/50 (a typical control arm; popularity answers are cheaper).
  .venv/bin/python bench/serve_abtest.py [--requests 20000] [--rounds 3] [--epochs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_asgi import _build  # the same home, bundle, key and customers as bench/serve_asgi.py

VARIANTS = ("off", "on", "on-all", "on-pop")


def _abtest(variant: str) -> object:
    from appliance.config import AbArmConfig, AbTestConfig

    if variant == "off":
        return AbTestConfig()
    second = AbArmConfig("b", "popularity" if variant == "on-pop" else "bundle", 1.0)
    return AbTestConfig(experiment=f"bench-{variant}", arms=(AbArmConfig("a", "bundle", 1.0), second), fallback="a",
                        exposure_repeat_seconds=0.0 if variant == "on-all" else 3600.0)


def _child(spec: dict[str, object], variant: str, n: int) -> dict[str, float]:
    """`n` cached recommendation requests through the app with [abtest] as `variant`; CPU and wall us each."""
    import logging

    from appliance.abtest.serving import build_experiment
    from appliance.config import load_config
    from appliance.serve.http import create_app
    from appliance.serve.node import build_service

    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115  # as `tanaban serve`
    cfg = load_config(None, env={**os.environ, "TANABAN_PATHS__DATA_DIR": str(spec["data_dir"])})
    cfg = dataclasses.replace(cfg, abtest=_abtest(variant))
    service, keys, to_pseudonym, gen = build_service(cfg)
    experiment = build_experiment(cfg, service, to_pseudonym)
    app = create_app(service, keys, to_pseudonym, gen, serve_cfg=cfg.serve, experiment=experiment)
    token = str(spec["token"]).encode()
    bodies = [json.dumps({"user_id": u, "k": 10}).encode() for u in spec["users"]]  # type: ignore[union-attr]
    statuses: list[int] = []

    async def one(body: bytes) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/v1/recommendations", "raw_path": b"/v1/recommendations",
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
                 "headers": [(b"host", b"127.0.0.1:8080"), (b"content-type", b"application/json"),
                             (b"x-api-key", token), (b"content-length", str(len(body)).encode())], "state": {}}

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[arg-type]

        await app(scope, receive, send)

    async def run(count: int) -> None:
        for i in range(count):
            await one(bodies[i % len(bodies)])

    asyncio.run(run(500))  # warm-up
    if experiment is not None and experiment.writer is not None:
        experiment.writer.stop()
    statuses.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(run(n))
    if experiment is not None and experiment.writer is not None:
        experiment.writer.stop()  # every exposure of the measured requests is in the store before the clock stops
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if set(statuses) != {200}:
        sys.exit(f"non-200 answers: {sorted(set(statuses))}")
    written = experiment.writer.written if experiment is not None and experiment.writer is not None else 0
    dropped = experiment.writer.dropped if experiment is not None and experiment.writer is not None else 0
    return {"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6, "written": written, "dropped": dropped}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="off", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(Path(args.child).read_text()), args.variant, args.requests)))
        return
    with tempfile.TemporaryDirectory(prefix="tanaban-bench-abtest-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps(_build(Path(tmp), args.epochs)))
        results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
        for r in range(args.rounds):
            for variant in VARIANTS:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(spec), "--variant", variant,
                       "--requests", str(args.requests)]
                out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"{variant}: {out.stderr[-2000:]}")
                results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
                got = results[variant][-1]
                print(f"round {r + 1} {variant}: {got['cpu_us']:.0f} us CPU per request, exposures written "
                      f"{got['written']:.0f}, dropped {got['dropped']:.0f}", flush=True)
    base = statistics.median(x["cpu_us"] for x in results["off"])
    print("| A/B | CPU us/request (median of rounds) | wall us/request | ratio to off | exposures written/dropped "
          "(last round) |")
    print("|---|---|---|---|---|")
    for variant in VARIANTS:
        cpu = statistics.median(x["cpu_us"] for x in results[variant])
        wall = statistics.median(x["wall_us"] for x in results[variant])
        last = results[variant][-1]
        print(f"| {variant} | {cpu:.0f} | {wall:.0f} | {cpu / base:.2f} | {last['written']:.0f}/"
              f"{last['dropped']:.0f} |")


if __name__ == "__main__":
    main()
