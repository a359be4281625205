"""Benchmark: the hybrid (rank fusion of SASRec and item-kNN, appliance/models/fusion.py) against SASRec alone and
item-kNN alone on Amazon Beauty 2014 (issue 15, part 4).

Ingests amazon-beauty-2014 (under `--data DIR`, bench/_data.py) into a fresh home under var/bench/ (removed at the
end), or into `--home DIR` (kept, so a second run reuses the store and the trained SASRec: delete it when done, it
holds the research-only dataset), trains SASRec with `train_sasrec` under `--minutes` unless the home already
holds a SASRec artifact, then fits the fusion weights on the validation split (appliance/models/hybrid.py
`fit_hybrid`, what `tanaban export best` runs) and reports, with one harness (leave-one-out test split, full
ranking, history masked): test R@10 / N@10 of SASRec, item-kNN and the hybrid with the validation-fitted weights.
With `--serve` it then exports the hybrid bundle (`export_sasrec(..., fusion=...)`, what `tanaban export best`
writes when the hybrid wins) and times live answers to posted histories (`SequentialBundle.for_history`, k=10) per
model, side by side, at 1 and 8 concurrent in-process callers, and cached answers (`for_user`).
Run: `OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python bench/hybrid_beauty.py --minutes 10 [--serve]`.
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
from appliance.data.splits import load_split

ROOT = Path(__file__).resolve().parents[1]
DATASET = "amazon-beauty-2014"


def _home(directory: Path, data: Path):
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(directory)})
    fresh = not (directory / "tanaban.db").exists()
    if fresh:
        init_home(cfg)
    home = open_home(cfg)
    if fresh:
        start = time.perf_counter()
        ingest_dataset(home, DATASET, data / DATASET, progress=False)
        print(f"ingest: {time.perf_counter() - start:.0f} s", flush=True)
    return home


def _train(home, minutes: float, seed: int = 0, epochs: int | None = None) -> None:
    from appliance.models.sasrec import train_sasrec

    if (home.config.artifacts_dir / "sasrec" / "LATEST").exists():
        print("sasrec: reusing the trained artifact in the home", flush=True)
        return

    def line(epoch: int, row: dict[str, float]) -> None:
        print(f"epoch {epoch} loss {row['loss']:.4f} valid N@10 {row['ndcg@10']:.4f} elapsed {row['seconds']:.0f}s",
              flush=True)

    path, metrics, info = train_sasrec(home, time_budget_min=minutes or None, seed=seed, epochs=epochs,
                                        progress=line)
    print(f"train: {info.epochs} epochs in {info.seconds:.0f} s, best epoch {info.best_epoch}; saved {path.name}; "
          f"test R@10 {metrics['test/recall@10']:.4f} N@10 {metrics['test/ndcg@10']:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--home", type=Path, default=None,
                        help="appliance home to create or reuse, kept (default: a temporary one, removed)")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="SASRec training budget (validation included); 0 = none: train until validation NDCG@10 "
                             "stops improving (sasrec.patience), which does not depend on the machine's load")
    parser.add_argument("--seed", type=int, default=0, help="SASRec seed (init, dropout, batch order)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="SASRec epochs at most (sasrec.max_epochs); with --minutes 0 a fixed amount of training "
                             "whatever the machine's load")
    parser.add_argument("--train-only", action="store_true", help="stop after ingest and training")
    parser.add_argument("--serve", action="store_true", help="also export the hybrid bundle and time its answers")
    parser.add_argument("--requests", type=int, default=1000, help="latency: calls per configuration")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, python {platform.python_version()}")
    directory = args.home or Path(tempfile.mkdtemp(prefix="hybrid-beauty-", dir=ROOT / "var" / "bench"))
    try:
        _run(args, _home(directory, args.data))
    finally:
        if args.home is None:
            shutil.rmtree(directory, ignore_errors=True)


def _run(args: argparse.Namespace, home) -> None:
    _train(home, args.minutes, args.seed, args.epochs)
    if args.train_only:
        return
    from appliance.models.hybrid import fit_hybrid, report_on_test
    from appliance.models.sasrec import load_sasrec

    split = load_split(home.engine)
    model, _ = load_sasrec(home.config.artifacts_dir, split=split)
    start = time.perf_counter()
    fit = fit_hybrid(home, split, model)
    weights = ", ".join(f"{n} {w:g}" for n, w in zip(fit.components, fit.weights, strict=True))
    valid = ", ".join(f"{n} {v:.4f}" for n, v in fit.scores.items())
    print(f"fusion fitted on validation in {time.perf_counter() - start:.0f} s: {fit.method}, weights {weights}, "
          f"params {fit.params}; validation N@10: {valid}", flush=True)
    for name, row in report_on_test(home, split, model, fit).items():
        print(f"test {name}: R@10 {row['recall@10']:.4f} N@10 {row['ndcg@10']:.4f}", flush=True)
    if args.serve:
        _serve(home, fit, args.requests)


def _latency(call, args: list, callers: int) -> str:
    """p50 / p99 ms per call and calls/s with `callers` threads sharing the bundle."""
    def timed(arg) -> float:
        start = time.perf_counter()
        call(arg)
        return time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        times = np.array(list(pool.map(timed, args)))
    wall = time.perf_counter() - start
    return (f"p50 {np.percentile(times, 50) * 1e3:.2f} ms, p99 {np.percentile(times, 99) * 1e3:.2f} ms, "
            f"{len(args) / wall:.0f} calls/s")


def _serve(home, fit, requests: int) -> None:
    from appliance.data.keys import PUBLIC_FILE, load_public_key
    from appliance.serve.sequential import SequentialBundle
    from export.sasrec import export_sasrec

    start = time.perf_counter()
    path = export_sasrec(home, fusion=fit)
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 2**20
    print(f"export hybrid bundle: {time.perf_counter() - start:.0f} s, {size:.0f} MiB", flush=True)
    bundle = SequentialBundle.load(path, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])
    print(f"gate: {bundle.manifest.data['meta']['gate']['reason']}", flush=True)
    rng = np.random.default_rng(0)
    picked = rng.choice(len(bundle.users), size=requests)
    pseudonyms = list(bundle.users)
    histories = [[bundle.items[i]["sku"] for i in bundle.seq_items[bundle.indptr[u]:bundle.indptr[u + 1]]]
                 for u in picked]
    for callers in (1, 8):
        for model in ("sasrec", "item-knn", "hybrid"):
            print(f"live for_history {model} k=10, {callers} caller(s): "
                  f"{_latency(lambda h, m=model: bundle.for_history(h, 10, model=m), histories, callers)}",
                  flush=True)
        print(f"cached for_user hybrid k=10, {callers} caller(s): "
              f"{_latency(lambda u: bundle.for_user(pseudonyms[u], 10), picked.tolist(), callers)}", flush=True)


if __name__ == "__main__":
    main()
