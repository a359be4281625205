"""HTTP service under load on loopback: p50/p99 latency and requests/s at several concurrencies, for cached answers
(known customer, precomputed top-K) and live answers (explicit history scored with the ONNX CF scorer).

Builds a throwaway home from the generated sample, trains LightGCN briefly, exports and signs the bundle, starts
`tanaban serve` in a subprocess and drives it with wrk (Debian package `wrk`; the load generator shares the 2 cores
with the server, so these are lower bounds; the server's CPU time per request, read from /proc, is the figure to
compare across runs on a shared machine). Usage:
  .venv/bin/python bench/serve_load.py [--epochs 30] [--seconds 10] [--connections 1,8,32] [--workers 1,2]
With several --workers counts the cached scenario runs once per count (`tanaban serve --workers N`), the others
under the first count only.

Generative scenarios (`--scenarios ...,gen-cached,gen-live`): the items get random unique 3-level codes (32 x 32 x
32, a stand-in for semantic IDs with the same branching; decoding cost does not depend on what the codes mean), the
`small` generative model trains `--gen-epochs` epochs and is exported (`tanaban export gen`, which decodes every
customer's list once: gen-cached reads those); gen-live sends histories, decoded live (beam 20) and batched across
requests (appliance.serve.batching), at `--gen-connections`. The last column is live queries per beam search.
  .venv/bin/python bench/serve_load.py --scenarios gen-cached,gen-live --gen-connections 1,4,16 --seconds 5
An existing home instead (live answers to posted histories from its served bundle, per model; issue 15's goal is
p99 < 10 ms at 8 connections on 2 cores), with each worker's share of the server CPU (how evenly the connections
landed on the workers) and the load average at the start of each row; `--trees` compares the servers of several
source trees side by side (PYTHONPATH=tree for `tanaban serve`, alternating, `--rounds` times):
  .venv/bin/python bench/serve_load.py --home var/bench/hyb/s0 --models sasrec,hybrid --connections 1,8
  .venv/bin/python bench/serve_load.py --home var/bench/lat/home --models sasrec,hybrid --connections 1,8 \
      --workers 1,2 --seconds 10 --rounds 2 --trees /tmp/before,/work/main
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from appliance.models.graph_cf import train_cf
from appliance.serve.apikeys import KEYS_FILE, create_key
from export.cf import export_cf

SCENARIOS = ("cached", "live", "gen-cached", "gen-live")
GEN_LEVELS = 32  # values per code level (3 levels): the branching of the Beauty semantic IDs

LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/recommendations", {["Content-Type"]="application/json", ["X-API-Key"]="%s"},
                    bodies[(i %% #bodies) + 1])
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_by_pid(pid: int) -> dict[int, float]:
    """User + system CPU seconds of process `pid` and of each of its direct children (the workers of `--workers N`),
    by pid, from /proc (Linux): CPU per request is far less disturbed than latency by other load on a shared
    machine, and each worker's share of it shows how evenly the connections were spread over the workers."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent pid
            out[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime+stime
    return out


def _cpu_seconds(pid: int) -> float:
    return sum(_cpu_by_pid(pid).values())


def _worker_shares(pid: int, before: dict[int, float]) -> str:
    """Each worker's share of the CPU the workers used since `before` (`_cpu_by_pid`), highest first, e.g. 51/49."""
    after = _cpu_by_pid(pid)
    used = sorted((after[p] - before.get(p, 0.0) for p in after if p != pid), reverse=True)
    total = sum(used)
    used = [u for u in used if u > 0.005 * total]  # not multiprocessing's resource tracker, an idle child
    return "/".join(f"{100 * u / total:.0f}" for u in used) if total > 0 and len(used) > 1 else "-"


def _wrk(port: int, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s",
                          str(script), f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": ms("50%"), "p99": ms("99%"), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "non2xx": int(errors.group(1)) if errors else 0}


def _start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    """`tanaban serve --workers N` on loopback, returned once /metrics lists N live workers (tanaban_worker_info)."""
    server = subprocess.Popen([str(Path(sys.executable).parent / "tanaban"), "serve", "--port", str(port),
                               "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids: set[str] = set()
    deadline = time.monotonic() + 60
    while len(pids) < workers and time.monotonic() < deadline:
        try:
            pids |= set(re.findall(r'tanaban_worker_info\{pid="(\d+)"', httpx.get(f"http://127.0.0.1:{port}/metrics").text))
        except httpx.TransportError:
            time.sleep(0.2)
    if len(pids) < workers:
        server.terminate()
        sys.exit(f"tanaban serve --workers {workers} did not answer from {workers} workers within 60 s")
    return server


def _train_and_export_gen(home, epochs: int) -> str:
    """Random unique codes, a `small` generative model trained `epochs` epochs, a signed generative bundle."""
    from appliance.generative.pipeline import train_gen
    from export.gen_bundle import export_gen_bundle

    split = load_split(home.engine)
    flat = np.random.default_rng(0).choice(GEN_LEVELS ** 3, split.n_items, replace=False)
    codes = np.stack([flat // GEN_LEVELS ** 2, (flat // GEN_LEVELS) % GEN_LEVELS, flat % GEN_LEVELS], axis=1)
    save_artifact(home.config.artifacts_dir, "semantic-ids", {"codes": codes.astype(np.int32),
                  "item_ids": split.item_ids}, {"level_sizes": [GEN_LEVELS] * 3})
    gen = dataclasses.replace(home.config.gen, tasks=("seq",), max_epochs=max(epochs, 1), valid_users=200,
                              windows_per_user=3, beam=20)
    result = train_gen(home, gen, progress=False)
    bundle = export_gen_bundle(home, progress=False)
    gate = json.loads((bundle / "metrics.json").read_text())["gate"]
    return (f"generative: small preset, {epochs} epochs, test NDCG@10 {result.test['ndcg@10']:.4f}; decoder "
            f"{gate['chosen']} ({gate['reason']})")


def _gen_batches(port: int) -> tuple[int, int]:
    """(beam searches run, live queries answered) so far, summed over the workers (as of each one's last answer)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    found = dict(re.findall(r"^(tanaban_gen_\w+_total) ([\d.e+]+)$", text, re.M))
    return (int(float(found.get("tanaban_gen_batches_total", 0))),
            int(float(found.get("tanaban_gen_batched_queries_total", 0))))


def _per_search(port: int, before: tuple[int, int], workers: int) -> str:
    after = _gen_batches(port)
    return f"{(after[1] - before[1]) / (after[0] - before[0]):.1f}" if workers == 1 and after[0] > before[0] else "-"


def _existing_home(args: argparse.Namespace) -> None:
    """Live answers to posted histories from an existing home's served bundle, per requested model."""
    from appliance.serve.node import build_service

    env = {**os.environ, "TANABAN_PATHS__DATA_DIR": str(args.home.resolve() / "data")
           if (args.home / "data").is_dir() else str(args.home.resolve())}
    cfg = load_config(None, env=env)
    bundle = build_service(cfg)[0].bundle
    if bundle is None or not hasattr(bundle, "seq_items"):
        sys.exit(f"{args.home} serves no sequential bundle: run `tanaban export best` (or `export sasrec`) there first")
    rng = np.random.default_rng(0)
    users = rng.choice(len(bundle.users), size=500, replace=False)
    histories = [[bundle.items[i]["sku"] for i in bundle.seq_items[bundle.indptr[u]:bundle.indptr[u + 1]]]
                 for u in users]
    token = create_key(cfg.data_dir / KEYS_FILE, "bench")
    work = Path(tempfile.mkdtemp(prefix="tanaban-bench-serve-"))
    print(f"bundle {bundle.version} of {args.home}: {len(bundle.items)} items, {len(bundle.users)} customers; "
          f"histories of 500 random customers (mean {np.mean([len(h) for h in histories]):.1f} items)")
    trees = args.trees.split(",") if args.trees else [""]
    print("| tree | request | connections | p50 ms | p99 ms | requests/s | non-2xx | server CPU us/request | worker "
          "CPU shares % | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    try:
        for _ in range(args.rounds):
            for workers in (int(x) for x in args.workers.split(",")):
                for tree in trees:  # alternating: a change in the machine's load hits every tree alike
                    _serve_round(args, {**env, "PYTHONPATH": tree} if tree else env, tree, workers, histories,
                                 token, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _serve_round(args: argparse.Namespace, env: dict[str, str], tree: str, workers: int, histories: list,
                 token: str, work: Path) -> None:
    """One server start (`tanaban serve --workers N` of `tree`'s code), then wrk per model and connection count."""
    port = _free_port()
    server = _start_server(env, port, workers)
    try:
        for model in args.models.split(",") if args.models else [""]:
            extra = {"model": model} if model else {}
            script = work / "live.lua"
            script.write_text(LUA % (", ".join("[[" + json.dumps({"history": h, "k": 10, **extra}) + "]]"
                                               for h in histories), token))
            for c in (int(x) for x in args.connections.split(",")):
                load, by_pid = os.getloadavg()[0], _cpu_by_pid(server.pid)
                r = _wrk(port, script, c, args.seconds)
                cpu_us = (_cpu_seconds(server.pid) - sum(by_pid.values())) / (r["rps"] * args.seconds) * 1e6
                print(f"| {tree or 'installed'} | live {model or 'default'}, {workers} worker(s) | {c} | "
                      f"{r['p50']:.2f} | {r['p99']:.2f} | {r['rps']:.0f} | {r['non2xx']} | {cpu_us:.0f} | "
                      f"{_worker_shares(server.pid, by_pid)} | {load:.2f} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", default="1,8,32")
    ap.add_argument("--workers", default="1", help="comma list of `tanaban serve --workers` counts, e.g. 1,2")
    ap.add_argument("--gen-connections", default="1,4,16", help="concurrencies of the generative scenarios")
    ap.add_argument("--gen-epochs", type=int, default=2, help="training epochs of the generative model")
    ap.add_argument("--scenarios", default="cached,live", help=f"comma list of {', '.join(SCENARIOS)}")
    ap.add_argument("--home", type=Path, default=None,
                    help="serve this existing home's exported bundle (e.g. Beauty after `tanaban export best`) instead "
                         "of a throwaway sample home; runs the live scenario only, with histories of its customers")
    ap.add_argument("--models", default="",
                    help="with --home: comma list of the request's `model` field for live answers, e.g. "
                         "sasrec,hybrid,item-knn (default: the bundle's default model)")
    ap.add_argument("--trees", default="",
                    help="with --home: comma list of source trees whose server to compare side by side (each started "
                         "with PYTHONPATH=tree, alternating), e.g. a snapshot of HEAD and the working tree")
    ap.add_argument("--rounds", type=int, default=1, help="with --home: repeat everything this many times")
    args = ap.parse_args()
    if args.home is not None:
        _existing_home(args)
        return
    scenarios = args.scenarios.split(",")
    if set(scenarios) - set(SCENARIOS):
        sys.exit(f"unknown scenarios {sorted(set(scenarios) - set(SCENARIOS))}: choose from {SCENARIOS}")
    worker_counts = [int(x) for x in args.workers.split(",")]
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt install wrk")
    work = Path(tempfile.mkdtemp(prefix="tanaban-bench-serve-"))
    env = {**os.environ, "TANABAN_PATHS__DATA_DIR": str(work / "data")}
    cfg = load_config(None, env=env)
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(work / "sample")
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, work / "sample" / name, kind, progress=False)
    _, metrics, _ = train_cf(home, "lightgcn", epochs=args.epochs)
    bundle = export_cf(home, "lightgcn")
    gate = json.loads((bundle / "metrics.json").read_text())["gate"]
    gen_note = _train_and_export_gen(home, args.gen_epochs) if {"gen-cached", "gen-live"} & set(scenarios) else ""
    token = create_key(cfg.data_dir / KEYS_FILE, "bench")
    with (work / "sample" / "interactions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    users = sorted({r["customer_id"] for r in rows})[:500]
    skus = [r["sku"] for r in rows]
    cached = [json.dumps({"user_id": u, "k": 10}) for u in users]
    live = [json.dumps({"history": skus[i:i + 5], "k": 10}) for i in range(0, 2500, 5)]
    bodies_of = {"cached": cached, "live": live,
                 "gen-cached": [json.dumps({"user_id": u, "k": 10, "model": "generative"}) for u in users],
                 "gen-live": [json.dumps({"history": skus[i:i + 5], "k": 10, "model": "generative"})
                              for i in range(0, 2500, 5)]}
    print(f"bundle scorer {gate['chosen']} ({gate['reason']}); LightGCN {args.epochs} epochs, "
          f"test NDCG@10 {metrics['test/ndcg@10']:.4f}")
    if gen_note:
        print(gen_note)
    print("| request | connections | p50 ms | p99 ms | requests/s | non-2xx | server CPU us/request | live queries per "
          "beam search |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for workers in worker_counts:
            port = _free_port()
            server = _start_server(env, port, workers)
            try:
                for name in scenarios:
                    if workers != worker_counts[0] and name != "cached":
                        continue
                    label = name if len(worker_counts) == 1 else f"{name}, {workers} worker{'s' * (workers > 1)}"
                    script = work / f"{name}.lua"
                    script.write_text(LUA % (", ".join("[[" + b + "]]" for b in bodies_of[name]), token))
                    conns = args.gen_connections if name.startswith("gen") else args.connections
                    for c in (int(x) for x in conns.split(",")):
                        before, cpu = _gen_batches(port), _cpu_seconds(server.pid)
                        r = _wrk(port, script, c, args.seconds)
                        cpu_us = (_cpu_seconds(server.pid) - cpu) / (r["rps"] * args.seconds) * 1e6
                        print(f"| {label} | {c} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rps']:.0f} | {r['non2xx']} | "
                              f"{cpu_us:.0f} | {_per_search(port, before, workers)} |")
            finally:
                server.terminate()
                server.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
