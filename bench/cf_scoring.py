"""CF scoring backends side by side on amazon-beauty-2014: torch eager vs ONNX fp32 vs ONNX int8 (the scorer
`tanaban export cf` writes: one MatMul of a user vector against the item table, export/cf.py), for LightGCN (He et
al., SIGIR 2020) trained here once.

Per backend, each in its own process (so peak RSS belongs to it), one thread: latency of one user's full-catalog
scores (p50/p99 over `--users` requests), throughput in users/s at batch 256, size of the scorer on disk, peak
RSS, and test Recall/NDCG@10 (leave-one-out, full ranking, training and validation items masked) over all users.
  OMP_NUM_THREADS=1 .venv/bin/python bench/cf_scoring.py --epochs 15
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script
from cf_beauty import load_beauty

from appliance.config import LightGCNConfig
from appliance.models.metrics import rank_metrics

CACHE = Path("var/bench/cf_scoring")
BACKENDS = ("torch", "onnx-fp32", "onnx-int8")


def prepare(data: Path, epochs: int) -> None:
    """Train LightGCN (lr 1e-2, batch 4096, seed 0: docs/bench/cf.md) and write the fp32 and int8 scorers."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from appliance.models.graph_cf import LightGCNRecommender
    from export.cf import scorer_graph

    CACHE.mkdir(parents=True, exist_ok=True)
    if not (CACHE / "item_emb.npy").exists():
        split, _ = load_beauty(data)
        cfg = dataclasses.replace(LightGCNConfig(), lr=1e-2, max_epochs=epochs, eval_every=5, patience=10**6)
        model = LightGCNRecommender(cfg)
        info = model.fit(split)
        print(f"LightGCN: {info.epochs} epochs, best {info.best_epoch}, {info.seconds:.0f} s", flush=True)
        np.save(CACHE / "user_emb.npy", model.arrays["user_emb"])
        np.save(CACHE / "item_emb.npy", model.arrays["item_emb"])
    item_emb = np.load(CACHE / "item_emb.npy").astype(np.float32)
    onnx.save(scorer_graph(item_emb), str(CACHE / "fp32.onnx"))
    quantize_dynamic(str(CACHE / "fp32.onnx"), str(CACHE / "int8.onnx"), per_channel=True,
                     weight_type=QuantType.QInt8)


def scorer(backend: str) -> tuple[object, int]:
    """A function (B, d) float32 -> (B, n_items) scores, and the scorer's size on disk in bytes."""
    item_emb = np.load(CACHE / "item_emb.npy").astype(np.float32)
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
        item_t = torch.from_numpy(np.ascontiguousarray(item_emb.T))
        torch.save(item_t, CACHE / "item_t.pt")

        def run(u: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return (torch.from_numpy(u) @ item_t).numpy()

        return run, (CACHE / "item_t.pt").stat().st_size
    import onnxruntime as ort

    path = CACHE / ("fp32.onnx" if backend == "onnx-fp32" else "int8.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return (lambda u: session.run(["scores"], {"user_vec": u})[0]), path.stat().st_size


def measure(data: Path, backend: str, n_latency: int) -> dict[str, float | str]:
    split, _ = load_beauty(data)
    user_emb = np.load(CACHE / "user_emb.npy").astype(np.float32)
    rss_before = _rss_mib()
    run, size = scorer(backend)
    rng = np.random.default_rng(0)
    times = []
    for u in rng.choice(len(user_emb), n_latency, replace=False):
        start = time.perf_counter()
        run(user_emb[u:u + 1])
        times.append(time.perf_counter() - start)
    users = np.flatnonzero(np.diff(split.test.indptr) > 0)
    wall, cpu, hits = 0.0, 0.0, []
    for i in range(0, len(users), 256):
        batch = users[i:i + 256]
        start, cpu0 = time.perf_counter(), time.process_time()
        scores = run(user_emb[batch])
        wall, cpu = wall + time.perf_counter() - start, cpu + time.process_time() - cpu0
        hits.append((len(batch), rank_metrics(scores, split.history("test")[batch], split.test[batch], (10,))))
    n = sum(b for b, _ in hits)
    quality = {k: sum(b * m[k] for b, m in hits) / n for k in ("recall@10", "ndcg@10")}
    return {"backend": backend, "p50_ms": 1e3 * float(np.percentile(times, 50)),
            "p99_ms": 1e3 * float(np.percentile(times, 99)), "users_per_s": n / wall,
            "scoring_cpu_s": cpu, "size_mb": size / 1e6, "rss_added_mib": _rss_mib() - rss_before,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **quality}


def _rss_mib() -> float:
    """Resident set size now (Linux /proc), to attribute memory to the scorer rather than to the data."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_data_option(parser)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--users", type=int, default=500, help="single-user requests timed per backend")
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(measure(args.data, args.backend, args.users)))
        return
    prepare(args.data, args.epochs)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = [json.loads(subprocess.run([sys.executable, __file__, "--backend", b, "--users", str(args.users),
                                       "--data", str(args.data)],
                                      check=True, capture_output=True, text=True, env=env).stdout.splitlines()[-1])
            for b in BACKENDS]
    print(f"Beauty test users, load average {os.getloadavg()[0]:.1f}\n")
    print("| scorer | p50 ms / user | p99 ms / user | users/s (batch 256) | scoring CPU s (all users) | size MB "
          "| RSS added by the scorer MiB | process peak RSS MiB | R@10 | N@10 |")
    print("|---" * 10 + "|")
    for r in rows:
        print(f"| {r['backend']} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['users_per_s']:.0f} | "
              f"{r['scoring_cpu_s']:.2f} | {r['size_mb']:.2f} | {r['rss_added_mib']:.0f} | {r['peak_rss_mib']:.0f} | "
              f"{r['recall@10']:.4f} | {r['ndcg@10']:.4f} |")


if __name__ == "__main__":
    main()
