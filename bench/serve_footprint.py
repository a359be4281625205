"""Memory and disk of a serving node (docs/INSTALL.md, Sizing): resident set (VmRSS, /proc/<pid>/status) of every
process of `tanaban serve --workers W` after it answered recommendation and search requests, and the bundle's size.

The bundle is built from the generated retail sample (appliance.demo.sample) with a fabricated CF artifact (random
embeddings of the configured width: memory does not depend on their quality) and the int8 text encoder, so no
training is needed; the encoder export needs the full install. Usage:

    nice -n 10 .venv/bin/python bench/serve_footprint.py --items 3000 --users 1500 --workers 1 2

Memory per million cached customers (`--cached-customers N`): a synthetic CF bundle with N customers' top-100
lists (random lists, pseudonyms made with a throwaway key, a random scorer; signed with a throwaway key) is loaded
by `CFBundle.load` in a fresh process, as a node loads it, and RSS (anonymous and file-backed) is read before the
load, after it, and after answering `--touch` random customers from their cached lists. Three times, side by side:
as the node loads by default (every .npy read into memory); with `serve.mmap_tables` (appliance.serve.tables: each
table of 1 MiB or more copied into a private directory while hashed against the signed manifest, mapped read-only,
unlinked); and mapping the bundle's own files (np.load mmap_mode="r", no copy: the floor, which would not keep the
"broken on disk" guarantee):

    nice -n 10 .venv/bin/python bench/serve_footprint.py --cached-customers 1000000 --touch 10000 --items 20000 --dim 32
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from appliance.serve.apikeys import KEYS_FILE, create_key
from export.cf import export_cf

TANABAN = Path(sys.executable).parent / "tanaban"


def build_home(root: Path, items: int, users: int, dim: int) -> Home:
    """A home with the sample ingested and a published CF bundle (text encoder included)."""
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(root / "data")})
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(root / "sample", seed=7, n_items=items, n_users=users)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, root / "sample" / name, kind, progress=False)
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    save_artifact(cfg.artifacts_dir, "cf-lightgcn", {
        "user_emb": rng.normal(size=(split.n_users, dim)).astype(np.float32),
        "item_emb": rng.normal(size=(split.n_items, dim)).astype(np.float32),
        "user_ids": split.user_ids, "item_ids": split.item_ids}, {"model": "lightgcn"})
    export_cf(home, "lightgcn", version="footprint", encoder=True, progress=False)
    return home


def _request(port: int, method: str, path: str, body: object = None, token: str = "") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json", "X-API-Key": token})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(home: Home, workers: int, skus: list[str], users: list[str], token: str) -> list[float]:
    """RSS (MB) of each process of `tanaban serve --workers N` after 40 requests, largest first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANABAN_")}
    env |= {"TANABAN_PATHS__DATA_DIR": str(home.config.data_dir), "TANABAN_SERVE__PORT": str(port)}
    server = subprocess.Popen([str(TANABAN), "serve", "--workers", str(workers)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                if _request(port, "GET", "/readyz") == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"tanaban serve --workers {workers} did not become ready")
            time.sleep(0.2)
        for i in range(20):  # new connections: the requests spread over the workers
            assert _request(port, "POST", "/v1/recommendations", {"user_id": users[i % len(users)], "k": 10},
                            token) == 200
            assert _request(port, "POST", "/v1/search", {"query": f"gift {skus[i]}", "k": 10}, token) == 200
        return sorted((_rss_mb(p) for p in _tree(server.pid)), reverse=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def cached_bundle(directory: Path, customers: int, top: int, items: int, dim: int) -> tuple[Path, list[str]]:
    """A signed synthetic CF bundle with `customers` cached top-`top` lists; returns its public key file and the
    customers' pseudonyms."""
    import scipy.sparse as sp
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from anonymize.pseudonym import pseudonymize
    from appliance.data.keys import SigningKey, public_key_id, public_key_pem
    from export.bundle import sign_bundle
    from export.cf import scorer_graph

    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    secret = rng.bytes(32)
    pseudonyms = [pseudonymize(f"customer-{i}", key=secret, key_id="0123456789abcdef", purpose="store")
                  for i in range(customers)]
    (directory / "users.json").write_text(json.dumps({p: i for i, p in enumerate(pseudonyms)}), encoding="utf-8")
    (directory / "items.json").write_text(json.dumps([{"sku": f"SKU-{i:07d}", "title": f"item {i}"}
                                                      for i in range(items)]), encoding="utf-8")
    for name in ("intent_labels.json", "config.json", "metrics.json"):
        (directory / name).write_text("[]" if name == "intent_labels.json" else "{}", encoding="utf-8")
    item_emb = rng.normal(size=(items, dim)).astype(np.float32)
    np.save(directory / "item_emb.npy", item_emb)
    np.save(directory / "user_emb.npy", rng.normal(size=(customers, dim)).astype(np.float32))
    np.save(directory / "precomputed.npy", rng.integers(0, items, size=(customers, top), dtype=np.int32))
    rows = np.repeat(np.arange(customers), 5)  # five known purchases per customer
    known = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, rng.integers(0, items, len(rows)))),
                          shape=(customers, items))
    sp.save_npz(directory / "known.npz", known)
    import onnx

    onnx.save(scorer_graph(item_emb), str(directory / "cf_scorer.onnx"))
    private = Ed25519PrivateKey.generate()
    sign_bundle(directory, SigningKey(public_key_id(private.public_key()), private), {"kind": "cf"},
                version="cached")
    public = directory.parent / "bench.pub"
    public.write_bytes(public_key_pem(private.public_key()))
    return public, pseudonyms


CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np

def rss():
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")}

bundle, public, mode, touch = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
from appliance.data.keys import load_public_key
import appliance.serve.service as service
from appliance.serve.tables import MappedTables, TableReader

class BundleFiles(TableReader):  # maps the bundle's own files: no copy, no second hash
    def array(self, path, files):
        return np.load(path, mmap_mode="r", allow_pickle=False)

tables = {"as-is": None, "mmap_tables": MappedTables(Path(sys.argv[5])), "bundle-files": BundleFiles()}[mode]
out = {"before": rss()}
start = time.perf_counter()
loaded = service.CFBundle.load(bundle, [load_public_key(public)], tables)
out["left_on_disk"] = sum(1 for _ in Path(sys.argv[5]).rglob("*")) if Path(sys.argv[5]).exists() else 0
out["load_seconds"] = time.perf_counter() - start
out["loaded"] = rss()
users = list(loaded.users)
rng = np.random.default_rng(1)
start = time.perf_counter()
for i in rng.choice(len(users), touch, replace=False):
    assert loaded.for_user(users[i], 10).source == "cached"
out["touch_seconds"] = time.perf_counter() - start
out["touched"] = rss()
print(json.dumps(out))
"""


def cached_memory(customers: int, top: int, items: int, dim: int, touch: int) -> None:
    """Print the RSS table of `cached_bundle` loaded as today and memory-mapped."""
    with tempfile.TemporaryDirectory() as tmp:
        print(f"building a bundle with {customers:,} customers' top-{top} lists over {items:,} items ...", flush=True)
        started = time.perf_counter()
        public, _ = cached_bundle(Path(tmp) / "bundle", customers, top, items, dim)
        size = sum(f.stat().st_size for f in (Path(tmp) / "bundle").iterdir()) / 2**20
        print(f"built in {time.perf_counter() - started:.0f} s: {size:,.0f} MB on disk", flush=True)
        for mode in ("as-is", "mmap_tables", "bundle-files"):
            out = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "bundle"), str(public),
                                             mode, str(touch), str(Path(tmp) / "run-tables")], check=True,
                                            capture_output=True, text=True).stdout)
            grow = {k: out[k]["VmRSS"] - out["before"]["VmRSS"] for k in ("loaded", "touched")}
            print(f"{mode}: RSS before load {out['before']['VmRSS']:.0f} MB (imports); after load +{grow['loaded']:.0f}"
                  f" MB (RSS anon {out['loaded']['RssAnon']:.0f} + file {out['loaded']['RssFile']:.0f} MB); after "
                  f"{touch:,} random customers +{grow['touched']:.0f} MB (anon {out['touched']['RssAnon']:.0f} + file "
                  f"{out['touched']['RssFile']:.0f} MB); load {out['load_seconds']:.1f} s, {touch:,} cached answers "
                  f"{out['touch_seconds']:.2f} s; {out['left_on_disk']} private files left", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--dim", type=int, default=64, help="CF embedding width")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cached-customers", type=int, default=0,
                        help="measure memory per cached customer instead (synthetic bundle with this many)")
    parser.add_argument("--top", type=int, default=100, help="with --cached-customers: list length per customer")
    parser.add_argument("--touch", type=int, default=10000, help="with --cached-customers: customers answered")
    args = parser.parse_args()
    if args.cached_customers:
        cached_memory(args.cached_customers, args.top, args.items, args.dim, args.touch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"building a {args.items}-item, {args.users}-customer bundle ...", flush=True)
        home = build_home(Path(tmp), args.items, args.users, args.dim)
        bundle = home.config.artifacts_dir / "bundles" / "footprint"
        size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file()) / 2**20
        encoder = sum(f.stat().st_size for f in (bundle / "encoder").rglob("*") if f.is_file()) / 2**20
        print(f"bundle: {size:.1f} MB on disk ({encoder:.1f} MB of it the text encoder)")
        token = create_key(home.config.data_dir / KEYS_FILE, "bench")
        skus = [row["sku"] for row in json.loads((bundle / "items.json").read_text())]
        with (Path(tmp) / "sample" / "interactions.csv").open() as fh:
            users = sorted({line.split(",")[0] for line in list(fh)[1:]})
        for workers in args.workers:
            rss = measure(home, workers, skus, users, token)
            print(f"--workers {workers}: {len(rss)} processes, RSS " + " + ".join(f"{r:.0f}" for r in rss)
                  + f" = {sum(rss):.0f} MB")


if __name__ == "__main__":
    main()
