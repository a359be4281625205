"""Benchmark: training time per epoch, evaluation and export at N x Amazon Beauty 2014 (issue 17, "scale figures").

The data come from bench/scale_ingest.py's seeded generator (no dataset needed; at --scale 10: 121,010 items, 223,630
customers, about 1.99M interactions) and go into a fresh SQLite home through `ingest_file`, what `tanaban ingest`
runs. Then, each phase in a child process of its own (so each peak RSS is its own: VmHWM from /proc/self/status):

- ``lightgcn``: `train_cf` (what `tanaban train cf` runs) for one epoch, with the library's default configuration.
  Reported apart: the BPR steps of the epoch (the "time per epoch"), the validation pass inside the fit (full
  ranking of every validation customer against every item, Recall@20) and the final evaluation on validation and
  test that `train cf` runs before saving; the artifact's size on disk.
- ``sasrec``: `train_sasrec` for at most one epoch under a time budget (--sasrec-budget-min). When the budget cuts
  the epoch, the epoch time is extrapolated from the batches done (batches are equal-sized and shuffled, so the
  per-batch cost does not drift) and the report says so. Validation and the final evaluation are timed apart.
- ``topk``: the ranking step of every full-ranking evaluation and export, argpartition vs block maxima
  (appliance.models.contract.top_k), side by side on one batch of the scale's shape.
- ``valbatch``: LightGCN's validation pass (`graph_cf.validation_recall`) on 8,192 customers x the scale's catalog,
  dim 32: rows per batch from the score-cell cap (`metrics.rows_per_batch`, 277 at 121k items) vs 2,048 rows (the
  batch before the cap), alternating, 3 rounds each, process CPU seconds; the results are compared.
- ``export-cf`` / ``export-sasrec``: `export_cf` (without the text encoder: `tanaban embed` over 121k item texts is
  a separate, measured-elsewhere job) and `export_sasrec`: ONNX export, the int8 gate on validation, precomputed
  top-K lists for every customer, signing. Wall and CPU seconds, peak RSS and the bundle's size per file kind.

Every evaluation scores the configured sample of customers (`eval.max_customers`, default 100,000, seeded; the
report gives `evaluated_customers` of `customers`), as `tanaban train` does on a store that size.
Wall and CPU (user + system) seconds per phase; the machine and its load average are printed. The figures are
for one process with one intra-op thread (OMP_NUM_THREADS=1 unless set): a 2-core machine shared with other work.

Usage: OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python bench/scale_train.py --scale 10 --out var/bench/scale_train
       [--phases ingest,lightgcn,export-cf,sasrec,export-sasrec] [--sasrec-budget-min 6] [--json FILE]
       (--out is a throwaway directory: data, home and bundles; delete it afterwards)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PHASES = ("ingest", "lightgcn", "export-cf", "sasrec", "export-sasrec", "topk", "valbatch")


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _by_kind(path: Path) -> dict[str, float]:
    """MiB per file suffix under `path` (what the bundle is made of)."""
    sizes: dict[str, float] = {}
    for f in path.rglob("*"):
        if f.is_file():
            sizes[f.suffix or f.name] = sizes.get(f.suffix or f.name, 0.0) + f.stat().st_size / 2**20
    return {k: round(v, 2) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])}


def _home(out: Path):  # -> appliance.data.home.Home (imported lazily)
    from appliance.config import load_config
    from appliance.data.home import init_home, open_home

    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(out / "home")})
    init_home(cfg)
    return open_home(cfg)


class Timer:
    """Accumulates wall seconds of the calls it wraps."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def phase_ingest(out: Path, args: argparse.Namespace) -> dict[str, float]:
    from scale_ingest import generate

    from appliance.data import ingest

    counts = generate(out / "data", args.scale)
    home, result = _home(out), {f"generated_{k}": float(v) for k, v in counts.items()}
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        start = time.perf_counter()
        report = ingest.ingest_file(home, out / "data" / name, kind, progress=False)
        result[f"{kind}_rows"], result[f"{kind}_wall_s"] = report.added, time.perf_counter() - start
    return result


def phase_lightgcn(out: Path, args: argparse.Namespace) -> dict[str, float]:
    from appliance.models import graph_cf
    from appliance.models.bpr import iter_batches

    home = _home(out)
    validation = graph_cf.validation_recall = Timer(graph_cf.validation_recall)  # the fit's validation pass
    steps = {"n": 0}

    def counted(*a, **k):  # counts the BPR batches of the epoch
        for batch in iter_batches(*a, **k):
            steps["n"] += 1
            yield batch

    import appliance.models.bpr as bpr

    bpr.iter_batches = counted
    cfg = home.config.lightgcn
    start = time.perf_counter()
    path, metrics, info = graph_cf.train_cf(home, "lightgcn", epochs=1, time_budget_min=args.lightgcn_budget_min)
    total = time.perf_counter() - start
    split = graph_cf.load_scoped_split(home.engine, None, evaluation=home.config.eval)
    train_nnz = split.train.nnz
    per_epoch = math.ceil(train_nnz / cfg.batch_size)
    epoch_s = info.seconds - validation.seconds
    result = {"train_interactions": float(train_nnz), "batch_size": float(cfg.batch_size), "dim": float(cfg.dim),
              "layers": float(cfg.layers), "steps_done": float(steps["n"]), "steps_per_epoch": float(per_epoch),
              "fit_s": info.seconds, "validation_in_fit_s": validation.seconds, "epoch_steps_s": epoch_s,
              "epoch_s_full": epoch_s * per_epoch / max(steps["n"], 1),
              "final_eval_s": total - info.seconds, "total_s": total, "artifact_mib": _size_mib(path),
              "valid_recall20": metrics.get("valid/recall@20", float("nan")),
              "test_ndcg10": metrics.get("test/ndcg@10", float("nan")),
              "evaluated_customers": float(len(split.eval_users("test"))), "customers": float(split.n_users)}
    return result


def phase_sasrec(out: Path, args: argparse.Namespace) -> dict[str, float]:
    from appliance.data.pilot import load_scoped_split
    from appliance.models import sasrec

    home = _home(out)
    cfg = home.config.sasrec
    batches = Timer(sasrec.SASRecRecommender._batch_loss)
    sasrec.SASRecRecommender._batch_loss = lambda self, *a: batches(self, *a)  # counts and times every batch
    validation = Timer(sasrec.SASRecRecommender.validate)
    sasrec.SASRecRecommender.validate = lambda self, split: validation(self, split)
    start = time.perf_counter()
    path, metrics, info = sasrec.train_sasrec(home, epochs=1, time_budget_min=args.sasrec_budget_min)
    total = time.perf_counter() - start
    split = load_scoped_split(home.engine, None, evaluation=home.config.eval)
    train = sasrec.padded_inputs(split.train_sequences, cfg.max_len + 1)
    sequences = int(((train > 0).sum(axis=1) >= 2).sum())
    per_epoch = math.ceil(sequences / cfg.batch_size)
    steps_s = info.seconds - validation.seconds
    return {"train_sequences": float(sequences), "batch_size": float(cfg.batch_size), "dim": float(cfg.dim),
            "max_len": float(cfg.max_len), "steps_done": float(batches.calls), "steps_per_epoch": float(per_epoch),
            "epoch_complete": float(batches.calls >= per_epoch), "fit_s": info.seconds,
            "validation_in_fit_s": validation.seconds, "steps_s": steps_s,
            "epoch_s_full": steps_s * per_epoch / max(batches.calls, 1), "final_eval_s": total - info.seconds,
            "total_s": total, "artifact_mib": _size_mib(path),
            "valid_ndcg10": metrics.get("valid/ndcg@10", float("nan")),
            "test_ndcg10": metrics.get("test/ndcg@10", float("nan")),
            "evaluated_customers": float(len(split.eval_users("test"))), "customers": float(split.n_users)}


def phase_export(out: Path, args: argparse.Namespace, which: str) -> dict[str, object]:
    home = _home(out)
    start = time.perf_counter()
    if which == "cf":
        from export.cf import export_cf

        bundle = export_cf(home, "lightgcn", encoder=False, progress=False)
    else:
        from export.sasrec import export_sasrec

        bundle = export_sasrec(home)
    manifest = json.loads((bundle / "manifest.json").read_text()) if (bundle / "manifest.json").exists() else {}
    meta = manifest.get("meta", {})
    return {"export_s": time.perf_counter() - start, "bundle_mib": _size_mib(bundle),
            "scorer": meta.get("scorer"), "gate": (meta.get("gate") or {}).get("reason"), "by_kind": _by_kind(bundle)}


def phase_topk(out: Path, args: argparse.Namespace) -> dict[str, float]:
    """`top_k` (every full-ranking evaluation, the export gates and precomputed lists) on one batch of 2,048
    customers x the scale's catalog, k = 20: argpartition with its tie repair (the path before block maxima, forced
    by a block size larger than the catalog) vs block maxima, alternating, 3 rounds each, process CPU seconds; the
    answers are compared."""
    from unittest import mock

    import numpy as np

    from appliance.models import contract

    rng = np.random.default_rng(0)
    n_items = round(12_101 * args.scale)
    scores = rng.standard_normal((2048, 32), dtype=np.float32) @ rng.standard_normal((32, n_items), dtype=np.float32)
    times: dict[str, list[float]] = {"argpartition": [], "blocks": []}
    answers = {}
    for _ in range(3):
        for name, block in (("argpartition", 10**12), ("blocks", contract.TOP_K_BLOCK)):
            with mock.patch.object(contract, "TOP_K_BLOCK", block):
                start = time.process_time()
                answers[name] = contract.top_k(scores, 20)
                times[name].append(time.process_time() - start)
    return {"items": float(n_items), "argpartition_cpu_s": float(np.median(times["argpartition"])),
            "blocks_cpu_s": float(np.median(times["blocks"])),
            "ratio": float(np.median(times["argpartition"]) / np.median(times["blocks"])),
            "identical": float(np.array_equal(answers["argpartition"], answers["blocks"]))}


def phase_valbatch(out: Path, args: argparse.Namespace) -> dict[str, float]:
    from unittest import mock

    import numpy as np

    from appliance.data.splits import split_from_sequences
    from appliance.models import metrics
    from appliance.models.graph_cf import validation_recall

    rng = np.random.default_rng(0)
    n_users, n_items = 8192, round(12_101 * args.scale)
    split = split_from_sequences([rng.choice(n_items, 6, replace=False) for _ in range(n_users)], n_items)
    users, items = (rng.standard_normal((n, 32), dtype=np.float32) for n in (n_users, n_items))
    times: dict[str, list[float]] = {"capped": [], "rows2048": []}
    results = {}
    for _ in range(3):
        for name, cells in (("capped", metrics._MAX_BATCH_CELLS), ("rows2048", 10**15)):
            with mock.patch.object(metrics, "_MAX_BATCH_CELLS", cells):
                start = time.process_time()
                results[name] = validation_recall(users, items, split)
                times[name].append(time.process_time() - start)
    return {"items": float(n_items), "rows_capped": float(metrics.rows_per_batch(n_items, 2048)),
            "capped_cpu_s": float(np.median(times["capped"])), "rows2048_cpu_s": float(np.median(times["rows2048"])),
            "ratio": float(np.median(times["rows2048"]) / np.median(times["capped"])),
            "identical": float(results["capped"] == results["rows2048"])}


def child(phase: str, out: Path, args: argparse.Namespace) -> None:
    start, cpu = time.perf_counter(), _cpu_s()
    if phase == "ingest":
        result = phase_ingest(out, args)
    elif phase == "lightgcn":
        result = phase_lightgcn(out, args)
    elif phase == "sasrec":
        result = phase_sasrec(out, args)
    elif phase == "topk":
        result = phase_topk(out, args)
    elif phase == "valbatch":
        result = phase_valbatch(out, args)
    else:
        result = phase_export(out, args, phase.removeprefix("export-"))
    result.update(wall_s=time.perf_counter() - start, cpu_s=_cpu_s() - cpu, peak_rss_mib=_peak_mib())
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "scale_train")
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--sasrec-budget-min", type=float, default=6.0)
    parser.add_argument("--lightgcn-budget-min", type=float, default=None,
                        help="cut LightGCN's epoch too (the epoch time is then extrapolated)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args)
        return
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {sorted(unknown)}: use {','.join(PHASES)}")
    print(f"# scale_train --scale {args.scale} on {platform.node()} ({os.cpu_count()} cores), "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.1f}", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    results: dict[str, dict] = {}
    for phase in phases:
        cmd = [sys.executable, __file__, "--child", phase, "--out", str(args.out), "--scale", str(args.scale),
               "--sasrec-budget-min", str(args.sasrec_budget_min)]
        if args.lightgcn_budget_min is not None:
            cmd += ["--lightgcn-budget-min", str(args.lightgcn_budget_min)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not lines:
            print(f"{phase}: FAILED (exit {proc.returncode})\n{proc.stderr[-3000:]}", flush=True)
            break
        results[phase] = json.loads(lines[-1].removeprefix("RESULT "))
        results[phase]["load_after"] = os.getloadavg()[0]
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in results[phase].items()}
        print(f"{phase}: {json.dumps(shown)}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"scale": args.scale, "results": results}, indent=1))


if __name__ == "__main__":
    main()
