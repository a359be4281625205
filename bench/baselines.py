"""Benchmark: popularity and item-kNN on Amazon Beauty 2014 (leave-one-out, full ranking, history masked).

Reads amazon-beauty-2014/raw/gram/user_sequence.txt (`user item item ...`, chronological) in the shared data folder
(`--data DIR`, default $TANABAN_SHARED_DATA, else <repo>/../shared/data: bench/_data.py) and builds the Split in
memory with appliance.data.splits.split_from_sequences (no store). Prints the metric table and the time per model.
Run: `nice -n 10 timeout 900 .venv/bin/python bench/baselines.py`.
`--store-rows N` instead times `load_split` on a temporary SQLite store holding N synthetic interactions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import EvalConfig, StoreConfig
from appliance.data.splits import Split, load_split, split_from_sequences
from appliance.data.store import open_store
from appliance.models.baselines import ItemKNNRecommender, PopularityRecommender
from appliance.models.metrics import evaluate

SEQUENCES = Path("amazon-beauty-2014/raw/gram/user_sequence.txt")  # under the shared data folder
REFERENCE = {"popularity": (0.0141, 0.0063), "item-knn": (0.0716, 0.0413)}  # DESIGN.md, R@10 / N@10 (test)


def read_sequences(path: Path) -> tuple[list[np.ndarray], int]:
    """Dense item indices in order of first appearance, one array per line."""
    index: dict[str, int] = {}
    sequences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        tokens = line.split()
        if len(tokens) > 1:
            sequences.append(np.array([index.setdefault(t, len(index)) for t in tokens[1:]], dtype=np.int64))
    return sequences, len(index)


def run(split: Split, stage: str, cfg: EvalConfig) -> None:
    ks = cfg.ks
    header = ["model", *[f"{m}@{k}" for k in ks for m in ("R", "N")], "fit s (cpu)", "eval s (cpu)"]
    print(" | ".join(header))
    for model in (PopularityRecommender(), ItemKNNRecommender(cfg)):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(split)
        fitted, fitted_cpu = time.perf_counter(), time.process_time()
        metrics = evaluate(model, split, stage=stage, ks=ks)
        done, done_cpu = time.perf_counter(), time.process_time()
        cells = [f"{metrics[f'{m}@{k}']:.4f}" for k in ks for m in ("recall", "ndcg")]
        ref = REFERENCE.get(model.name) if stage == "test" else None
        note = f"  (reference R@10 {ref[0]:.4f} / N@10 {ref[1]:.4f})" if ref else ""
        times = [f"{fitted - start:.2f} ({fitted_cpu - start_cpu:.2f})",
                 f"{done - fitted:.2f} ({done_cpu - fitted_cpu:.2f})"]
        print(" | ".join([model.name, *cells, *times]) + note)


def time_store_split(n_rows: int, seed: int = 0) -> None:
    """Fill a temporary store with n_rows interactions (about 48 per user, Zipf-like items), time load_split."""
    rng = np.random.default_rng(seed)
    n_users, n_items = max(1, n_rows // 48), max(10, n_rows // 27)  # amazon-book-like shape
    users = rng.integers(1, n_users + 1, n_rows)
    items = np.minimum(rng.zipf(1.3, n_rows), n_items)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(StoreConfig(url=f"sqlite:///{tmp}/bench.db"))
        start = time.perf_counter()
        with engine.begin() as conn:
            cursor = conn.connection.cursor()
            item_rows = ((i, f"s{i}", f"item {i}") for i in range(1, n_items + 1))
            cursor.executemany("INSERT INTO items (id, sku, title, categories, attributes) "
                               "VALUES (?, ?, ?, '[]', '{}')", item_rows)
            cursor.executemany("INSERT INTO users (id, pseudonym, key_id) VALUES (?, ?, 'k')",
                               ((u, f"usr-k-{u}") for u in range(1, n_users + 1)))
            cursor.executemany("INSERT INTO interactions (user_id, item_id, ts, event) VALUES (?, ?, ?, 'purchase')",
                               zip(users.tolist(), items.tolist(), range(n_rows), strict=True))
        print(f"store filled with {n_rows} interactions in {time.perf_counter() - start:.1f}s")
        start = time.perf_counter()
        split = load_split(engine)
        print(f"load_split: {time.perf_counter() - start:.2f}s for {n_rows} rows -> {split.n_users} users, "
              f"{split.n_items} items, {split.train.nnz} train pairs")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--stage", choices=("valid", "test"), default="test")
    parser.add_argument("--shrink", type=float, default=EvalConfig.knn_shrink)
    parser.add_argument("--neighbours", type=int, default=EvalConfig.knn_neighbours)
    parser.add_argument("--store-rows", type=int, default=0, help="time load_split on N synthetic store rows")
    args = parser.parse_args()
    if args.store_rows:
        time_store_split(args.store_rows)
        return
    start = time.perf_counter()
    sequences, n_items = read_sequences(args.data / SEQUENCES)
    split = split_from_sequences(sequences, n_items)
    print(f"{args.data / SEQUENCES}: {split.n_users} users, {split.n_items} items, {split.train.nnz} train, "
          f"{split.valid.nnz} valid, {split.test.nnz} test; split built in {time.perf_counter() - start:.2f}s")
    run(split, args.stage, EvalConfig(knn_shrink=args.shrink, knn_neighbours=args.neighbours))


if __name__ == "__main__":
    main()
