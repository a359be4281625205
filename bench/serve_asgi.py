"""CPU cost of one HTTP request inside the app, without sockets or a load generator: the FastAPI app
(appliance.serve.http.create_app) is called directly as an ASGI application (ASGI 3.0 HTTP scope,
https://asgi.readthedocs.io/en/latest/specs/www.html) for cached recommendations, known customers, precomputed
top-K, the access log on (to /dev/null) as under `tanaban serve`.

It measures what the HTTP layer adds per request (middleware, auth, validation, JSON, metrics, logging) in process
CPU time, which other load on a shared machine disturbs far less than latency. To compare code versions side by
side, give several source trees: each round runs one child process per tree (PYTHONPATH=tree), alternating, on the
same signed bundle. `--profile` prints where the time goes (cProfile, top functions by own time) in the last tree,
from one more child that is not counted (the profiler slows it down).
  .venv/bin/python bench/serve_asgi.py [--requests 20000] [--rounds 3] [--trees /path/a,/path/b] [--profile]
Live answers to posted histories from an existing home's served bundle instead (e.g. Beauty after `tanaban export
best`: SASRec or the hybrid), one row per tree and `model` (issue 15's live-scoring goal), histories of 500 random
known customers:
  .venv/bin/python bench/serve_asgi.py --home var/bench/lat/home --models sasrec,hybrid --requests 3000 \
      --trees /tmp/before,/work/main
`--callgrind` runs each child under valgrind's callgrind with instrumentation on only around the timed requests
(`callgrind_control -i on/off`) and adds their instructions per request: a count that other load on the machine
does not change (CPU time on the shared 2 cores varies by about 5% between two runs of the same tree), for changes
too small to see in CPU time. About 50x slower: use --requests 1500 (cached) or 600 (live).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _build(work: Path, epochs: int) -> dict[str, object]:
    """A home with the generated sample, LightGCN trained `epochs` epochs, a signed bundle and an API key."""
    from appliance.config import load_config
    from appliance.data.home import init_home, open_home
    from appliance.data.ingest import ingest_file
    from appliance.demo.sample import generate_sample
    from appliance.models.graph_cf import train_cf
    from appliance.serve.apikeys import KEYS_FILE, create_key
    from export.cf import export_cf

    env = {**os.environ, "TANABAN_PATHS__DATA_DIR": str(work / "data")}
    cfg = load_config(None, env=env)
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(work / "sample")
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, work / "sample" / name, kind, progress=False)
    train_cf(home, "lightgcn", epochs=epochs)
    export_cf(home, "lightgcn")
    with (work / "sample" / "interactions.csv").open() as fh:
        users = sorted({r["customer_id"] for r in csv.DictReader(fh)})[:500]
    return {"data_dir": str(work / "data"), "token": create_key(cfg.data_dir / KEYS_FILE, "bench"),
            "bodies": [json.dumps({"user_id": u, "k": 10}) for u in users]}


def _existing(home: Path, model: str) -> dict[str, object]:
    """Posted histories of 500 random known customers of `home`'s served sequential bundle, asking `model`."""
    import numpy as np

    from appliance.config import load_config
    from appliance.serve.apikeys import KEYS_FILE, create_key
    from appliance.serve.node import build_service

    data = home.resolve() / "data" if (home / "data").is_dir() else home.resolve()
    cfg = load_config(None, env={**os.environ, "TANABAN_PATHS__DATA_DIR": str(data)})
    bundle = build_service(cfg)[0].bundle
    if bundle is None or not hasattr(bundle, "seq_items"):
        sys.exit(f"{home} serves no sequential bundle: run `tanaban export best` (or `export sasrec`) there first")
    users = np.random.default_rng(0).choice(len(bundle.users), size=min(500, len(bundle.users)), replace=False)
    histories = [[bundle.items[i]["sku"] for i in bundle.seq_items[bundle.indptr[u]:bundle.indptr[u + 1]]]
                 for u in users]
    extra = {"model": model} if model else {}
    return {"data_dir": str(data), "token": create_key(cfg.data_dir / KEYS_FILE, "bench"),
            "bodies": [json.dumps({"history": h, "k": 10, **extra}) for h in histories]}


def _child(spec: dict[str, object], n: int, profile: bool) -> dict[str, float]:
    """Run `n` recommendation requests (the spec's bodies, in turn) through the app in this process; CPU and wall
    microseconds each."""
    import logging

    from appliance.config import load_config
    from appliance.serve.http import create_app
    from appliance.serve.node import build_service

    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115  # as `tanaban serve`
    cfg = load_config(None, env={**os.environ, "TANABAN_PATHS__DATA_DIR": str(spec["data_dir"])})
    app = create_app(*build_service(cfg), serve_cfg=cfg.serve)
    token = str(spec["token"]).encode()
    bodies = [b.encode() for b in spec["bodies"]]  # type: ignore[union-attr]
    statuses: list[int] = []

    async def one(body: bytes) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/v1/recommendations", "raw_path": b"/v1/recommendations",
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
                 "headers": [(b"host", b"127.0.0.1:8080"), (b"content-type", b"application/json"),
                             (b"x-api-key", token), (b"content-length", str(len(body)).encode())], "state": {}}
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[arg-type]

        await app(scope, receive, send)

    async def run(count: int) -> None:
        for i in range(count):
            await one(bodies[i % len(bodies)])

    asyncio.run(run(500))  # warm-up: caches, first-call paths
    statuses.clear()
    callgrind = ["callgrind_control", "-i", "on", str(os.getpid())] if os.environ.get("TANABAN_BENCH_CALLGRIND") \
        else None
    if callgrind is not None:  # instructions of the timed requests only (valgrind --instr-atstart=no)
        subprocess.run(callgrind, check=True, capture_output=True)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(run(n))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if callgrind is not None:
        subprocess.run([*callgrind[:2], "off", callgrind[3]], check=True, capture_output=True)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    if set(statuses) != {200}:
        sys.exit(f"non-200 answers: {sorted(set(statuses))}")
    return {"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--trees", default=str(Path(__file__).resolve().parents[1]),
                    help="comma list of source trees to compare (each child runs with PYTHONPATH=tree)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the last tree (an extra run)")
    ap.add_argument("--home", type=Path, default=None,
                    help="live answers to posted histories from this existing home's bundle (not a sample home)")
    ap.add_argument("--models", default="", help="with --home: comma list of the request's `model` field, e.g. "
                                                 "sasrec,hybrid (default: the bundle's default model)")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions per request under valgrind's callgrind (deterministic; slow)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(Path(args.child).read_text()), args.requests, args.profile)))
        return
    trees = args.trees.split(",")
    models = args.models.split(",") if args.home is not None else [""]
    with tempfile.TemporaryDirectory(prefix="tanaban-bench-asgi-") as tmp:
        work = Path(tmp)
        specs = {}
        for model in models:
            specs[model] = work / f"spec-{model or 'default'}.json"
            specs[model].write_text(json.dumps(_build(work, args.epochs) if args.home is None else
                                               _existing(args.home, model)))
        results: dict[tuple[str, str], list[dict[str, float]]] = {(t, m): [] for t in trees for m in models}

        def child(tree: str, model: str, profile: bool) -> dict[str, float]:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(specs[model]), "--requests",
                   str(args.requests), *(["--profile"] if profile else [])]
            env = {**os.environ, "PYTHONPATH": tree}
            if args.callgrind and not profile:
                cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={tmp}/cg.%p", *cmd]
                env["TANABAN_BENCH_CALLGRIND"] = "1"
            out = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{tree}: {out.stderr[-2000:]}")
            if profile:
                print("\n".join(line for line in out.stderr.splitlines() if line.strip()), file=sys.stderr)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            refs = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr) if args.callgrind and not profile else None
            if refs is not None:  # valgrind's summary: the instructions collected while instrumentation was on
                result["instructions"] = int(refs.group(1).replace(",", "")) / args.requests
            return result

        if args.profile:
            for model in models:
                child(trees[-1], model, True)
        for r in range(args.rounds):
            for model in models:
                for tree in trees:  # alternating: a change in the machine's load hits every tree alike
                    results[(tree, model)].append(child(tree, model, False))
                    last = results[(tree, model)][-1]
                    counted = f", {last['instructions']:,.0f} instructions" if "instructions" in last else ""
                    print(f"round {r + 1} {tree} {model or 'default'}: {last['cpu_us']:.0f} us CPU per request"
                          f"{counted} (load average {os.getloadavg()[0]:.2f})", flush=True)
    counted = args.callgrind and args.rounds > 0
    print("| tree | model | CPU us/request (median of rounds) | wall us/request | ratio to the first tree |"
          + (" instructions/request (median) | ratio |" if counted else ""))
    print("|---|---|---|---|---|" + ("---|---|" if counted else ""))
    for model in models:
        base = statistics.median(x["cpu_us"] for x in results[(trees[0], model)])
        base_ins = statistics.median(x["instructions"] for x in results[(trees[0], model)]) if counted else 0
        for tree in trees:
            cpu = statistics.median(x["cpu_us"] for x in results[(tree, model)])
            wall = statistics.median(x["wall_us"] for x in results[(tree, model)])
            ins = statistics.median(x["instructions"] for x in results[(tree, model)]) if counted else 0
            print(f"| {tree} | {model or 'default'} | {cpu:.0f} | {wall:.0f} | {cpu / base:.2f} |"
                  + (f" {ins:,.0f} | {ins / base_ins:.4f} |" if counted else ""))

if __name__ == "__main__":
    main()
