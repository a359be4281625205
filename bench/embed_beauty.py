"""Time and peak memory of the two text steps before IRLLRec training (Wang et al., SIGIR 2025) on
amazon-beauty-2014: `embed` (all-MiniLM-L6-v2 over item profiles, Sentence-BERT mean pooling) and `intents`
(local backend: spherical k-means K = 128, TF-IDF labels, user distributions), each on one thread.

The encoder runs on a seeded random sample of `--items` profiles (all when 0) and the full-catalog time is
extrapolated linearly from it (texts are sampled, not the first ones, so the length mix matches the catalog).
Run each step in its own process so the peak RSS belongs to that step:
  OMP_NUM_THREADS=1 nice -n 10 timeout 1800 .venv/bin/python bench/embed_beauty.py embed --items 2000
  OMP_NUM_THREADS=1 nice -n 10 timeout 600 .venv/bin/python bench/embed_beauty.py intents
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script
from cf_beauty import embed, intents, load_beauty, peak_mib

from appliance.config import IntentsConfig


def time_embed(texts: list[str], n: int, seed: int) -> None:
    import torch

    from appliance.text.encoder import TextEncoder

    torch.set_num_threads(1)
    sample = texts if not n or n >= len(texts) else \
        [texts[i] for i in np.random.default_rng(seed).choice(len(texts), n, replace=False)]
    start, cpu0 = time.perf_counter(), time.process_time()
    encoder = TextEncoder()
    load_s, load_cpu = time.perf_counter() - start, time.process_time() - cpu0
    vectors = encoder.encode(sample)
    wall, cpu = time.perf_counter() - start - load_s, time.process_time() - cpu0 - load_cpu
    scale = len(texts) / len(sample)
    print(f"embed: {len(sample)} of {len(texts)} item profiles, dim {vectors.shape[1]}, batch "
          f"{encoder.cfg.batch_size}: model load {load_s:.1f}s wall / {load_cpu:.1f}s CPU; encode {wall:.1f}s wall / "
          f"{cpu:.1f}s CPU = {1e3 * cpu / len(sample):.1f} CPU ms/item; full catalog "
          f"{'measured' if scale == 1 else 'extrapolated'}: {wall * scale:.0f}s wall / {cpu * scale:.0f}s CPU; "
          f"peak RSS {peak_mib():.0f} MiB; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("embed", "intents"))
    add_data_option(parser)
    parser.add_argument("--items", type=int, default=2000, help="profiles to embed (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    split, texts = load_beauty(args.data)
    print(f"amazon-beauty-2014: {split.n_users} users, {split.n_items} items; after loading: peak RSS "
          f"{peak_mib():.0f} MiB")
    if args.step == "embed":
        time_embed(texts, args.items, args.seed)
    else:
        intents(embed(texts), texts, split, IntentsConfig())


if __name__ == "__main__":
    main()
