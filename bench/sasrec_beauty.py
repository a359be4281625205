"""Benchmark: SASRec (Kang & McAuley, ICDM 2018; full-softmax cross-entropy) on Amazon Beauty 2014.

Leave-one-out split built in memory with appliance.data.splits.split_from_sequences from
amazon-beauty-2014/raw/gram/user_sequence.txt under `--data DIR` (as bench/baselines.py does); full ranking over all
items, history masked. Trains under a wall-clock budget, prints the validation curve (NDCG@10 every `eval_every`
epochs) and the test metrics of the best validation epoch.
Run: `OMP_NUM_THREADS=2 nice -n 5 timeout 2400 .venv/bin/python bench/sasrec_beauty.py --minutes 25`.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch
from _data import add_data_option  # bench/ is on sys.path when run as a script
from baselines import SEQUENCES, read_sequences

from appliance.config import SASRecConfig
from appliance.data.splits import split_from_sequences
from appliance.models.metrics import evaluate
from appliance.models.sasrec import SASRecRecommender

REFERENCE = (0.0855, 0.0530)  # DESIGN.md: SASRec, same recipe, best validation epoch about 130; R@10 / N@10 test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--minutes", type=float, default=25.0, help="training budget (validation included)")
    parser.add_argument("--max-epochs", type=int, default=SASRecConfig.max_epochs)
    parser.add_argument("--eval-every", type=int, default=SASRecConfig.eval_every)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sequences, n_items = read_sequences(args.data / SEQUENCES)
    split = split_from_sequences(sequences, n_items)
    print(f"amazon-beauty-2014: {split.n_users} users, {split.n_items} items, {split.train.nnz} train pairs; "
          f"torch threads {torch.get_num_threads()}")
    cfg = dataclasses.replace(SASRecConfig(), max_seconds=args.minutes * 60, max_epochs=args.max_epochs,
                              eval_every=args.eval_every, seed=args.seed)
    print(f"config: {dataclasses.asdict(cfg)}")
    print("epoch | train CE | valid N@10 | elapsed s")

    def report(epoch: int, row: dict[str, float]) -> None:
        print(f"{epoch:5d} | {row['loss']:.4f} | {row['ndcg@10']:.4f} | {row['seconds']:.0f}", flush=True)

    model = SASRecRecommender(cfg, progress=report)
    info = model.fit(split)
    print(f"fit: {info.epochs} epochs in {info.seconds:.0f}s ({info.seconds / max(info.epochs, 1):.1f}s/epoch incl. "
          f"validation); best validation epoch {info.best_epoch} (N@10 {info.best_score:.4f})")
    start = time.perf_counter()
    metrics = evaluate(model, split, "test", ks=(5, 10, 20))
    cells = " ".join(f"{m[0].upper()}@{k} {metrics[f'{m}@{k}']:.4f}" for k in (5, 10, 20) for m in ("recall", "ndcg"))
    print(f"test: {cells}  ({time.perf_counter() - start:.1f}s)")
    print(f"reference (DESIGN.md, ~130 epochs): R@10 {REFERENCE[0]:.4f} / N@10 {REFERENCE[1]:.4f}")


if __name__ == "__main__":
    main()
