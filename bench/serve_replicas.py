"""Requests/s of serving replicas behind nginx (docs/SERVING.md, Replicas): one node behind the proxy against two,
side by side in one run, plus one node without the proxy as the reference.

A primary home is built from the generated sample with a fabricated CF artifact (random embeddings: throughput of
cached answers does not depend on their quality) and exported; each node is set up as the docs say (keys without
signing.key, `replica init`, `replica sync`) and runs `tanaban serve --workers W`. nginx runs the docs' block with
TLS (a self-signed certificate made here), and wrk (Debian package `wrk`) sends cached recommendation requests for
random known customers over keep-alive connections. Everything shares this machine's cores: on 2 cores, a second
node can only add throughput where a core sat idle, so the ratio is a lower bound for nodes on their own machines.
The CPU seconds each side used per request (from /proc) say where the cores went. Usage:

    nice -n 10 .venv/bin/python bench/serve_replicas.py --seconds 10 --connections 16 --workers 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.keys import SIGNING_FILE
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.replica import init_replica, sync_bundles
from export.cf import export_cf

TANABAN = Path(sys.executable).parent / "tanaban"
DOC = Path(__file__).resolve().parents[1] / "docs" / "SERVING.md"
LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/recommendations", {["Content-Type"]="application/json", ["X-API-Key"]="%s"},
                    bodies[(i %% #bodies) + 1])
end
"""


def build_primary(root: Path, items: int, users: int) -> tuple[Home, list[str]]:
    """A home with the sample ingested and a CF bundle published; returns it and the raw customer ids."""
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(root / "primary")})
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(root / "sample", seed=7, n_items=items, n_users=users)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, root / "sample" / name, kind, progress=False)
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    save_artifact(cfg.artifacts_dir, "cf-lightgcn", {
        "user_emb": rng.normal(size=(split.n_users, 64)).astype(np.float32),
        "item_emb": rng.normal(size=(split.n_items, 64)).astype(np.float32),
        "user_ids": split.user_ids, "item_ids": split.item_ids}, {"model": "lightgcn"})
    export_cf(home, "lightgcn", version="bench", progress=False)
    with (root / "sample" / "interactions.csv").open() as fh:
        customers = sorted({line.split(",")[0] for line in list(fh)[1:]})
    return home, customers


def setup_node(primary: Home, root: Path, port: int, token_file: Path | None) -> Path:
    """A replica as docs/SERVING.md sets one up; returns its config file."""
    root.mkdir(parents=True)
    config = root / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{root / "data"}"\n[serve]\nport = {port}\n', encoding="utf-8")
    cfg = load_config(config, env={})
    shutil.copytree(primary.config.keys_dir, cfg.keys_dir, ignore=shutil.ignore_patterns(SIGNING_FILE))
    init_replica(cfg)
    if token_file is not None:
        shutil.copy2(token_file, cfg.data_dir / KEYS_FILE)
    sync_bundles(primary.config.artifacts_dir / "bundles", cfg.artifacts_dir / "bundles", cfg.keys_dir)
    return config


def nginx_conf(tmp: Path, ports: list[int], listen: int, cert: Path, key: Path) -> Path:
    """The docs' block with these nodes (one or two) and this listening port; nginx's files under tmp."""
    (block,) = re.findall(r"```nginx\n(.+?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    block = block.replace("server 10.20.1.11:8080 ", f"server 127.0.0.1:{ports[0]} ")
    second = f"server 127.0.0.1:{ports[1]} " if len(ports) > 1 else "# server (one node only) "
    block = block.replace("server 10.20.1.12:8080 ", second).replace("listen 443 ssl;", f"listen 127.0.0.1:{listen} "
                                                                                        "ssl;")
    block = block.replace("allow 10.20.0.0/16;", "allow 127.0.0.1;").replace("/etc/nginx/tls/tanaban.crt", str(cert))
    block = block.replace("/etc/nginx/tls/tanaban.key", str(key))
    temp = "\n".join(f"    {k}_temp_path {tmp / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"daemon off;\nworker_processes 2;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} "
                    f"warn;\nevents {{ worker_connections 1024; }}\nhttp {{\n    access_log off;\n{temp}\n{block}\n"
                    "}\n", encoding="utf-8")
    return conf


def certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "proxy.crt", directory / "proxy.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def cpu_seconds(pid: int) -> float:
    """User + system CPU of pid and its descendants (their clock ticks in /proc/<pid>/stat)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{p}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[float, str, int]:
    """requests/s, p99 and non-2xx count from one wrk run."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # the --latency distribution, not a Stdev column
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.+)", out)
    return rate, p99 + (f" (socket errors: {errors.group(1)})" if errors else ""), int(bad.group(1)) if bad else 0


def start(config: Path, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANABAN_")}
    return subprocess.Popen([str(TANABAN), "--config", str(config), "serve", "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the node on port {port} did not become ready")
        time.sleep(0.2)


def run(args: argparse.Namespace, tmp: Path) -> list[tuple[str, float, str, int, float, float]]:
    primary, customers = build_primary(tmp, args.items, args.users)
    token = create_key(primary.config.data_dir / KEYS_FILE, "bench")
    ports = [_free_port() for _ in range(3)]
    configs = [setup_node(primary, tmp / f"node{i}", ports[i], primary.config.data_dir / KEYS_FILE)
               for i in range(2)]
    bodies = ",".join(json.dumps(json.dumps({"user_id": c, "k": 10}))
                      for c in random.Random(0).sample(customers, min(500, len(customers))))
    script = tmp / "load.lua"
    script.write_text(LUA % (bodies, token), encoding="utf-8")
    cert, key = certificate(tmp)
    nodes = [start(c, args.workers) for c in configs]
    rows = []
    try:
        for port, node in zip(ports, nodes, strict=False):
            wait_ready(port, node)
        scenarios = [("1 node, no proxy", None, 1), ("1 node behind nginx", [ports[0]], 1),
                     ("2 nodes behind nginx", ports[:2], 2)]
        for name, upstream, used in scenarios:
            proxy, url = None, f"http://127.0.0.1:{ports[0]}"
            if upstream is not None:
                (tmp / name.replace(" ", "_")).mkdir()
                conf = nginx_conf(tmp / name.replace(" ", "_"), upstream, ports[2], cert, key)
                proxy = subprocess.Popen(["nginx", "-p", f"{conf.parent}/", "-e", str(conf.parent / "error.log"),
                                          "-c", str(conf)], start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                url = f"https://127.0.0.1:{ports[2]}"
                time.sleep(1)
            try:
                before = [cpu_seconds(n.pid) for n in nodes[:used]] + [cpu_seconds(proxy.pid) if proxy else 0.0]
                rate, p99, bad = wrk(url, script, args.seconds, args.connections)
                after = [cpu_seconds(n.pid) for n in nodes[:used]] + [cpu_seconds(proxy.pid) if proxy else 0.0]
            finally:
                if proxy is not None:
                    proxy.terminate()
                    proxy.wait(timeout=20)
            total = rate * args.seconds
            node_us = sum(a - b for a, b in zip(after[:-1], before[:-1], strict=True)) / total * 1e6
            proxy_us = (after[-1] - before[-1]) / total * 1e6
            rows.append((name, rate, p99, bad, node_us, proxy_us))
            print(f"{name}: {rate:,.0f} req/s, p99 {p99}, non-2xx {bad}; CPU per request: nodes {node_us:.0f} us, "
                  f"nginx {proxy_us:.0f} us", flush=True)
    finally:
        for node in nodes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGTERM)
            node.wait(timeout=60)
    return rows


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="`tanaban serve --workers` of each node")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "openssl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install nginx-light wrk openssl)")
    print(f"cores: {os.cpu_count()}; {args.connections} connections, {args.seconds} s per scenario, "
          f"{args.workers} worker(s) per node", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args, Path(tmp))
    one = next(r[1] for r in rows if r[0] == "1 node behind nginx")
    two = next(r[1] for r in rows if r[0] == "2 nodes behind nginx")
    print(f"2 nodes / 1 node behind nginx: {two / one:.2f}x")


if __name__ == "__main__":
    main()
