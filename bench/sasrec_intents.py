"""Benchmark: SASRec with and without IRLLRec's intent alignment (`train sasrec --intents`, issue 15 part 3) on Amazon
Beauty 2014, at equal steps (same epochs, same seed, same batch order).

Reuses (or creates) an appliance home (`--home`, kept: delete it when done, it holds the research-only dataset),
embeds the items with the local text encoder and builds the intents artifact (the `local` backend) if the home has
none, then trains SASRec twice with `train_sasrec` (max_epochs = `--epochs`, no time budget, so both runs take the
same number of optimiser steps) and prints test R@10 / N@10 of each (leave-one-out, full ranking, history masked;
the metrics `train_sasrec` records).
Run: `OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python bench/sasrec_intents.py --home var/bench/intents --epochs 3`.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from _data import add_data_option  # bench/ is on sys.path when run as a script
from hybrid_beauty import _home


def _intents(home) -> None:
    from appliance.text.embed import embed_items
    from appliance.text.intents import build_intents

    root = home.config.artifacts_dir
    if not (root / "item-embeddings" / "LATEST").exists():
        start = time.perf_counter()
        embed_items(home)
        print(f"embed: {time.perf_counter() - start:.0f} s", flush=True)
    if not (root / "intents" / "LATEST").exists():
        start = time.perf_counter()
        build_intents(home)
        print(f"intents build: {time.perf_counter() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--home", type=Path, required=True,
                        help="appliance home to create or reuse (e.g. one bench/hybrid_beauty.py --home made); kept")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of each run (equal steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, python {platform.python_version()}")
    home = _home(args.home, args.data)
    _intents(home)
    from appliance.models.sasrec import train_sasrec

    base = dataclasses.replace(home.config.sasrec, max_epochs=args.epochs, eval_every=args.epochs, seed=args.seed,
                               max_seconds=0.0)
    for intents in (False, True):
        cfg = dataclasses.replace(base, intents=intents)
        path, metrics, info = train_sasrec(home, cfg=cfg)
        print(f"intents={intents} weight={cfg.intent_weight if intents else 0}: {info.epochs} epochs in "
              f"{info.seconds:.0f} s; valid N@10 {metrics['valid/ndcg@10']:.4f}; test R@10 "
              f"{metrics['test/recall@10']:.4f} N@10 {metrics['test/ndcg@10']:.4f} ({path.name})", flush=True)


if __name__ == "__main__":
    main()
