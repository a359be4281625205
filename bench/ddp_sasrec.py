"""Benchmark: seconds per SASRec training epoch on Amazon Beauty 2014 with 1 process vs 2 DDP processes (PyTorch
DistributedDataParallel over gloo on loopback, appliance.models.distributed), measured side by side in one run.

Same global batch (sasrec.batch_size) and seed in every variant; validation is switched off so only training steps
are timed (FitInfo.seconds: from the first batch to the end of the last epoch). Variants: 1 process x T threads,
1 process x 1 thread, 2 processes x 1 thread each (the 2 ranks are forked and join a gloo group on 127.0.0.1).
Leave-one-out split of amazon-beauty-2014/raw/gram/user_sequence.txt under `--data DIR`, as bench/sasrec_beauty.py.
Run: `nice -n 10 .venv/bin/python bench/ddp_sasrec.py --epochs 1` (`--users 2000`: a prefix of the users, for a busy
machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import socket
import time

import torch
from _data import add_data_option  # bench/ is on sys.path when run as a script
from baselines import SEQUENCES, read_sequences

from appliance.config import SASRecConfig
from appliance.data.splits import Split, split_from_sequences
from appliance.models.distributed import Dist, process_group
from appliance.models.sasrec import SASRecRecommender


def train_seconds(split: Split, cfg: SASRecConfig) -> float:
    """Seconds of `cfg.max_epochs` training epochs, validation skipped."""
    model = SASRecRecommender(cfg)
    model.validate = lambda _split: 0.0  # type: ignore[method-assign]  # time the training steps only
    return model.fit(split).seconds


def _rank(rank: int, world: int, port: int, split: Split, cfg: SASRecConfig, out: multiprocessing.Queue) -> None:
    torch.set_num_threads(1)
    with process_group(Dist(rank, world, rank), init_method=f"tcp://127.0.0.1:{port}"):
        seconds = train_seconds(split, cfg)
    if rank == 0:
        out.put(seconds)


def ddp_seconds(split: Split, cfg: SASRecConfig, world: int) -> float:
    ctx = multiprocessing.get_context("fork")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = ctx.Queue()
    procs = [ctx.Process(target=_rank, args=(r, world, port, split, cfg, out)) for r in range(world)]
    for p in procs:
        p.start()
    seconds = out.get()
    for p in procs:
        p.join()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--epochs", type=int, default=1, help="epochs timed per variant")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of the 1-process variant")
    parser.add_argument("--world", type=int, default=2, help="processes of the DDP variant")
    parser.add_argument("--users", type=int, default=0, help="time on the first N users only (0: all); the "
                        "catalog, hence the full-softmax cost per step, stays whole")
    args = parser.parse_args()

    sequences, n_items = read_sequences(args.data / SEQUENCES)
    sequences = sequences[:args.users] if args.users else sequences
    split = split_from_sequences(sequences, n_items)
    cfg = dataclasses.replace(SASRecConfig(), max_epochs=args.epochs, eval_every=10 ** 6, max_seconds=0.0)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"amazon-beauty-2014: {split.n_users} users, {split.n_items} items; batch {cfg.batch_size} (global), "
          f"{args.epochs} epoch(s) per variant; {os.cpu_count()} CPUs; {when}")
    results = {}
    torch.set_num_threads(args.threads)
    results[f"1 process x {args.threads} threads"] = train_seconds(split, cfg)
    torch.set_num_threads(1)
    results["1 process x 1 thread"] = train_seconds(split, cfg)
    results[f"{args.world} DDP processes x 1 thread"] = ddp_seconds(split, cfg, args.world)
    base = results["1 process x 1 thread"]
    for name, seconds in results.items():
        print(f"{name:<28} {seconds / args.epochs:8.1f} s/epoch   speed-up vs 1x1 {base / seconds:.2f}x")


if __name__ == "__main__":
    main()
