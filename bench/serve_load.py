"""HTTP service under load on loopback: p50/p99 latency and requests/s at several concurrencies, for cached answers
(known customer, precomputed top-K) and live answers (explicit history scored with the ONNX CF scorer).

Builds a throwaway home from the generated sample, trains LightGCN briefly, exports and signs the bundle, starts
`tanaban serve` in a subprocess and drives it with wrk (Debian package `wrk`; the load generator shares the 2 cores
with the server, so these are lower bounds). Usage:
  .venv/bin/python bench/serve_load.py [--epochs 30] [--seconds 10] [--connections 1,8,32]
"""

from __future__ import annotations

import argparse
import csv
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

from appliance.apikeys import KEYS_FILE, create_key
from appliance.cf import train_cf
from appliance.config import load_config
from appliance.home import init_home, open_home
from appliance.ingest import ingest_file
from appliance.sample import generate_sample
from export.cf import export_cf

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


def _wrk(port: int, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s",
                          str(script), f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": ms("50%"), "p99": ms("99%"), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "non2xx": int(errors.group(1)) if errors else 0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", default="1,8,32")
    args = ap.parse_args()
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
    token = create_key(cfg.data_dir / KEYS_FILE, "bench")
    with (work / "sample" / "interactions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    users = sorted({r["customer_id"] for r in rows})[:500]
    skus = [r["sku"] for r in rows]
    cached = [json.dumps({"user_id": u, "k": 10}) for u in users]
    live = [json.dumps({"history": skus[i:i + 5], "k": 10}) for i in range(0, 2500, 5)]
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "tanaban"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        print(f"bundle scorer {gate['chosen']} ({gate['reason']}); LightGCN {args.epochs} epochs, "
              f"test NDCG@10 {metrics['test/ndcg@10']:.4f}")
        print("| request | connections | p50 ms | p99 ms | requests/s | non-2xx |")
        print("|---|---|---|---|---|---|")
        for name, bodies in (("cached", cached), ("live (history)", live)):
            script = work / f"{name.split()[0]}.lua"
            script.write_text(LUA % (", ".join("[[" + b + "]]" for b in bodies), token))
            for c in (int(x) for x in args.connections.split(",")):
                r = _wrk(port, script, c, args.seconds)
                print(f"| {name} | {c} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rps']:.0f} | {r['non2xx']} |")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
