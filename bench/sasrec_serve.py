"""Benchmark: SASRec from store to served bundle on Amazon Beauty 2014 (issue 15, part 4).

Ingests amazon-beauty-2014 (under `--data DIR`, bench/_data.py) into a fresh home under var/bench/, trains SASRec
with `train_sasrec` under a wall-clock budget (what `tanaban train sasrec --time-budget-min` runs), exports the
bundle with `export_sasrec` (parity and int8 gates, precomputed top-K), then reports, with one harness (leave-one-out
test split, full ranking, history masked): R@10 / N@10 of torch, ONNX fp32 and ONNX int8 on the same inputs; and the
latency of live scoring a posted history (`SequentialBundle.for_history`, k=10) and of cached answers
(`for_user`) at 1 and 8 concurrent in-process callers.
Run: `OMP_NUM_THREADS=2 nice -n 10 timeout 3600 .venv/bin/python bench/sasrec_serve.py --minutes 20`.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import load_config
from appliance.data.adapters import ingest_dataset
from appliance.data.home import init_home, open_home
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.data.splits import load_split
from appliance.models.metrics import rank_metrics
from appliance.models.sasrec import load_sasrec, train_sasrec
from appliance.serve.sequential import SequentialBundle
from export.sasrec import export_sasrec, export_scorer, onnx_seq_scores, quantize_int8

ROOT = Path(__file__).resolve().parents[1]
DATASET = "amazon-beauty-2014"


def _metrics(scores: np.ndarray, split, users: np.ndarray) -> str:
    m = rank_metrics(scores, split.history("test")[users], split.test[users], (10,))
    return f"R@10 {m['recall@10']:.4f} N@10 {m['ndcg@10']:.4f}"


def _latency(call, args: list, callers: int) -> str:
    """p50 / p99 ms per call and calls/s with `callers` threads sharing the bundle."""
    def timed(arg) -> float:
        start = time.perf_counter()
        call(arg)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        seconds = np.array(list(pool.map(timed, args)))
    wall = time.perf_counter() - start
    p50, p99 = np.percentile(seconds * 1e3, [50, 99])
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {len(args) / wall:.0f} calls/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--minutes", type=float, default=20.0, help="SASRec training budget (validation included)")
    parser.add_argument("--requests", type=int, default=2000, help="latency: calls per configuration")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, python {platform.python_version()}")

    home_dir = Path(tempfile.mkdtemp(prefix="sasrec-serve-", dir=ROOT / "var" / "bench"))
    try:
        cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(home_dir)})
        init_home(cfg)
        home = open_home(cfg)
        start = time.perf_counter()
        ingest_dataset(home, DATASET, args.data / DATASET, progress=False)
        split = load_split(home.engine)
        print(f"ingest: {split.n_users} users, {split.n_items} items in {time.perf_counter() - start:.0f} s")

        def line(epoch: int, row: dict[str, float]) -> None:
            print(f"epoch {epoch} loss {row['loss']:.4f} valid N@10 {row['ndcg@10']:.4f} "
                  f"elapsed {row['seconds']:.0f}s", flush=True)

        path, metrics, info = train_sasrec(home, time_budget_min=args.minutes, progress=line)
        print(f"train: {info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch}; saved {path.name}")
        print(f"test torch: R@10 {metrics['test/recall@10']:.4f} N@10 {metrics['test/ndcg@10']:.4f} "
              f"(valid N@10 {metrics['valid/ndcg@10']:.4f})")

        # --- quality: ONNX fp32 and int8 on the test inputs, by the harness train_sasrec scored torch with
        model, _ = load_sasrec(cfg.artifacts_dir, split=split)
        users = np.flatnonzero(np.diff(split.test.indptr) > 0)
        work = Path(tempfile.mkdtemp(dir=home_dir))
        export_scorer(model.net, work / "fp32.onnx")
        quantize_int8(work / "fp32.onnx", work / "int8.onnx")
        inputs = model.inputs["test"][users]
        for name in ("fp32", "int8"):
            print(f"test onnx {name}: {_metrics(onnx_seq_scores(work / f'{name}.onnx', inputs), split, users)}")
        # --- batch scoring speed, side by side on the same users (ratios; the machine is shared)
        sample = users[:4096]
        for name, score in (("torch", lambda: np.concatenate([model.score(sample[i:i + 512], "test")
                                                              for i in range(0, len(sample), 512)])),
                            ("onnx fp32", lambda: onnx_seq_scores(work / "fp32.onnx", model.inputs["test"][sample])),
                            ("onnx int8", lambda: onnx_seq_scores(work / "int8.onnx", model.inputs["test"][sample]))):
            start = time.perf_counter()
            score()
            print(f"scoring {len(sample)} test users, {name}: {time.perf_counter() - start:.1f} s")

        # --- the bundle, as `tanaban export sasrec` builds it
        start = time.perf_counter()
        bundle_dir = export_sasrec(home)
        print(f"export: {time.perf_counter() - start:.0f} s, bundle {(bundle_dir / 'manifest.json').exists()}")
        bundle = SequentialBundle.load(bundle_dir, [load_public_key(cfg.keys_dir / PUBLIC_FILE)])
        gate = bundle.manifest.data["meta"]["gate"]
        print(f"gate: {gate['chosen']} ({gate['reason']}); parity {bundle.manifest.data['meta']['parity']}")

        # --- latency: live scoring of posted histories, and cached answers
        rng = np.random.default_rng(0)
        picked = rng.choice(len(bundle.users), size=args.requests)
        pseudonyms = list(bundle.users)
        histories = [[bundle.items[i]["sku"] for i in bundle.seq_items[bundle.indptr[u]:bundle.indptr[u + 1]]]
                     for u in picked]
        for callers in (1, 8):
            print(f"live for_history k=10, {callers} caller(s): "
                  f"{_latency(lambda h: bundle.for_history(h, 10), histories, callers)}")
            print(f"cached for_user k=10, {callers} caller(s): "
                  f"{_latency(lambda u: bundle.for_user(pseudonyms[u], 10), picked.tolist(), callers)}")
    finally:
        shutil.rmtree(home_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
