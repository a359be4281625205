"""LightGCN on the RLMRec/IRLLRec Amazon-book CF split (ids only; the papers' own train/valid/test), full ranking.

Published LightGCN: Recall@20 about 0.126-0.141, NDCG@20 about 0.089. Prints the validation learning curve, the
best epoch and test Recall/NDCG@5/10/20.

Reads amazon-book-cf/ in the shared data folder (`--data DIR`: bench/_data.py).
Usage: nice -n 10 timeout 1800 .venv/bin/python bench/cf_book.py [--lr 1e-3] [--max-seconds 1500]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import LightGCNConfig
from appliance.data.splits import Split, split_from_arrays
from appliance.models.graph_cf import LightGCNRecommender
from appliance.models.metrics import evaluate

BOOK = "amazon-book-cf"  # in the shared data folder (`--data DIR`)


def load_book(root: Path) -> Split:
    """train/valid/test.tsv (header `user\\titem`) -> a "given" Split."""
    parts = [np.loadtxt(root / f"{name}.tsv", dtype=np.int64, skiprows=1, ndmin=2)
             for name in ("train", "valid", "test")]
    rows = np.concatenate(parts)
    labels = np.concatenate([np.full(len(p), code, dtype=np.int8) for code, p in enumerate(parts)])
    order = np.argsort(rows[:, 0], kind="stable")
    rows, labels = rows[order], labels[order]
    return split_from_arrays(rows[:, 0], rows[:, 1], int(rows[:, 0].max()) + 1, int(rows[:, 1].max()) + 1,
                             labels=labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--reg", type=float, default=1e-4)
    parser.add_argument("--max-epochs", type=int, default=2000)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=1500.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    split = load_book(args.data / BOOK)
    print(f"amazon-book-cf: {split.n_users} users, {split.n_items} items, train {split.train.nnz}, "
          f"valid {split.valid.nnz}, test {split.test.nnz}")
    cfg = dataclasses.replace(LightGCNConfig(), lr=args.lr, reg=args.reg, max_epochs=args.max_epochs,
                              eval_every=args.eval_every, patience=args.patience, max_seconds=args.max_seconds,
                              seed=args.seed)
    print("config:", dataclasses.asdict(cfg))
    start = time.perf_counter()

    def progress(epoch: int, values: dict[str, float]) -> None:
        print(f"epoch {epoch:4d}  {time.perf_counter() - start:7.1f}s  loss {values['total']:.4f}  "
              f"valid R@20 {values['score']:.4f}", flush=True)

    model = LightGCNRecommender(cfg, progress=progress)
    info = model.fit(split)
    print(f"best epoch {info.best_epoch} of {info.epochs} (valid R@20 {info.best_score:.4f}), "
          f"{info.seconds:.0f}s, {info.seconds / max(info.epochs, 1):.2f} s/epoch incl. validation")
    for stage in ("valid", "test"):
        metrics = evaluate(model, split, stage=stage, ks=(5, 10, 20))
        print(stage, "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
