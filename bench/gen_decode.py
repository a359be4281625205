"""Benchmark: constrained beam search of the generative recommender, torch eager (appliance.generative.generate)
vs the torch-free numpy beam search over the ONNX decoder-with-past, fp32 and int8 (appliance.serve_gen).

Same model for all three: the `small` preset (Qwen2, hidden 64, 2 layers) with random weights, or trained for
`--epochs` epochs on the generated sample (appliance.sample, 3000 items, 1500 users). Item codes have 3 levels of
32 values: level 1 is the product type (two types per value, 29 values), levels 2-3 are random and unique within
it, a stand-in for TIGER-style semantic IDs with the same branching; decoding cost does not depend on the weights.
Beam 20, top-10, history masked, one thread each. Prints latency p50/p99 per user (one user per call), users/s
(batches of 64 users), model file size, the export gates, and agreement of the lists with torch.
Run: `nice -n 10 timeout 1800 .venv/bin/python bench/gen_decode.py --users 500 --epochs 5`
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from appliance.config import GenConfig, SampleConfig
from appliance.data import split_from_sequences
from appliance.generative import GenerativeRecommender
from appliance.sample import build_sample
from appliance.serve_gen import DECODER_FILE, GenerativeDecoder
from export.generative import export_generative

OUT = Path("var/bench/gen_decode")
LEVELS = (32, 32, 32)


def build_model(epochs: int) -> tuple[GenerativeRecommender, object]:
    sample = build_sample(SampleConfig())
    n_items = len(sample.catalog.items)
    seqs: list[list[int]] = [[] for _ in sample.customers]
    for user, item, _ts in sample.purchases:
        seqs[user].append(item)
    split = split_from_sequences([np.array(s) for s in seqs], n_items)
    codes = semantic_like_codes(sample.catalog.item_type)
    texts = [f"{r['title']} {r.get('brand', '')}" for r in sample.catalog.items]
    cfg = GenConfig(preset="small", tasks=("seq",), beam=20, max_epochs=max(epochs, 1), valid_users=200,
                    windows_per_user=3)
    model = GenerativeRecommender(cfg, codes, item_texts=texts, level_sizes=LEVELS)
    if epochs > 0:
        model.fit(split, progress=True)
    else:
        model.build()
        model.bind(split)
    return model, split


def semantic_like_codes(item_type: np.ndarray) -> np.ndarray:
    """Level 1 groups product types two per value; levels 2-3 are random and unique within the group."""
    rng = np.random.default_rng(0)
    codes = np.zeros((len(item_type), 3), np.int64)
    codes[:, 0] = item_type // 2
    for group in np.unique(codes[:, 0]):
        rows = np.flatnonzero(codes[:, 0] == group)
        flat = rng.choice(LEVELS[1] * LEVELS[2], len(rows), replace=False)
        codes[rows, 1], codes[rows, 2] = np.divmod(flat, LEVELS[2])
    return codes


def timed(fn, batches: list) -> tuple[np.ndarray, list[np.ndarray]]:
    times, outs = [], []
    for batch in batches:
        start = time.perf_counter()
        outs.append(fn(batch))
        times.append(time.perf_counter() - start)
    return np.array(times), outs


def measure(name: str, fn, histories: list[np.ndarray], size: int) -> dict:
    fn(histories[:4])  # warm-up: allocations, ORT arena, torch kernels
    single, outs = timed(fn, [[h] for h in histories])
    batched, _ = timed(fn, [histories[i:i + 64] for i in range(0, len(histories), 64)])
    return {"name": name, "p50": 1000 * np.percentile(single, 50), "p99": 1000 * np.percentile(single, 99),
            "users_s": len(histories) / batched.sum(), "size": size, "items": np.concatenate(outs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="test users decoded per variant")
    parser.add_argument("--epochs", type=int, default=0, help="training epochs before export (0: random weights)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, split = build_model(args.epochs)
    shutil.rmtree(OUT, ignore_errors=True)
    start = time.perf_counter()
    gate = export_generative(model, OUT / "int8", split=split, quantize=True)
    export_s = time.perf_counter() - start
    export_generative(model, OUT / "fp32", split=split, quantize=False)
    print(f"export + gates: {export_s:.1f} s; gate: {gate}")
    users = np.linspace(0, split.n_users - 1, args.users).round().astype(int)
    histories = [split.sequences("test")[u] for u in users]
    torch_size = sum(p.numel() * 4 for p in model.lm.parameters())
    rows = [measure("torch eager (fp32)", lambda h: model.recommend_for(h, h, 10)[0], histories, torch_size)]
    for precision in ("fp32", "int8"):
        decoder = GenerativeDecoder(OUT / precision)
        rows.append(measure(f"ONNX {precision} + numpy beam" + (" (gate chose fp32)" if precision == "int8" and
                                                                gate["chosen"] != "int8" else ""),
                            lambda h, d=decoder: d.recommend(h, 10), histories,
                            (OUT / precision / DECODER_FILE).stat().st_size))
    ref = rows[0]["items"]
    print(f"\n{len(histories)} users, beam 20, top-10, 1 thread; model {dataclasses.asdict(model.cfg)['preset']} "
          f"({sum(p.numel() for p in model.lm.parameters()):,} parameters, vocab {model.lm.config.vocab_size})\n")
    print("| decoder | p50 ms/user | p99 ms/user | users/s (batch 64) | model size | same top-10 as torch |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        same = np.mean((r["items"] == ref).all(axis=1))
        overlap = np.mean([len(np.intersect1d(a[a >= 0], b[b >= 0])) / 10 for a, b in zip(r["items"], ref,
                                                                                            strict=True)])
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['users_s']:.1f} | {r['size'] / 1e6:.2f} MB | "
              f"{same:.1%} identical, {overlap:.1%} overlap |")


if __name__ == "__main__":
    main()
