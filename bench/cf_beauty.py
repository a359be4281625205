"""LightGCN vs IRLLRec (local intents) vs the IRLLRec ablation (each loss term off) on amazon-beauty-2014,
leave-one-out, full ranking with history masked, Recall/NDCG@5/10/20; time and peak memory of embed, intents, train.

Item text (derived/items.jsonl: title, brand, categories) is embedded with the MiniLM TextEncoder once and cached
under var/cf_beauty/. Usage:
  nice -n 10 timeout 3600 .venv/bin/python bench/cf_beauty.py [--seeds 0] [--max-seconds 480] [--runs all]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import time
from pathlib import Path

import numpy as np

from appliance.cf import IRLLRecRecommender, LightGCNRecommender
from appliance.config import IntentsConfig, IRLLRecConfig, LightGCNConfig
from appliance.data import Split, split_from_sequences
from appliance.intents import IntentSet, LocalBackend, extract_intents
from appliance.metrics import evaluate
from appliance.profiles import item_profile_text

DATA = Path("/work/shared/data/amazon-beauty-2014")
CACHE = Path("var/cf_beauty")
TERMS = ("align", "profile", "translation", "matching")
RUNS = ("lightgcn", "irllrec", *(f"irllrec-no-{t}" for t in TERMS))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_beauty() -> tuple[Split, list[str]]:
    rows = [json.loads(line) for line in (DATA / "derived/items.jsonl").open(encoding="utf-8")]
    index = {r["asin"]: i for i, r in enumerate(rows)}
    seqs = []
    for line in (DATA / "raw/gram/user_sequence.txt").open(encoding="utf-8"):
        parts = line.split()
        seqs.append(np.array([index[a] for a in parts[1:]], dtype=np.int64))
    texts = [item_profile_text(r["title"] or "", None if r.get("brand_guess") in (None, "Unknown")
                               else r["brand_guess"], r.get("categories") or [], None) for r in rows]
    return split_from_sequences(seqs, len(rows)), texts


def embed(texts: list[str]) -> np.ndarray:
    path = CACHE / "item_emb.npy"
    if path.exists():
        print(f"embed: cached {path} (delete it to time the encoder)")
        return np.load(path)
    shared = Path("var/bench/beauty_text_emb.npy")  # the same profile texts, embedded by another bench script
    if shared.exists() and len(np.load(shared, mmap_mode="r")) == len(texts):
        print(f"embed: reusing {shared} (same item_profile_text inputs; not timed here)")
        return np.load(shared)
    from appliance.textenc import TextEncoder

    start = time.perf_counter()
    vectors = TextEncoder().encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    print(f"embed: {len(texts)} items in {time.perf_counter() - start:.1f}s, peak RSS {peak_mib():.0f} MiB")
    return vectors


def intents(vectors: np.ndarray, texts: list[str], split: Split, cfg: IntentsConfig) -> IntentSet:
    start = time.perf_counter()
    labels, protos, item_dist, user_dist = extract_intents(vectors, texts, split.train_sequences, cfg,
                                                           LocalBackend(cfg.label_terms))
    print(f"intents: K={cfg.k} in {time.perf_counter() - start:.1f}s, peak RSS {peak_mib():.0f} MiB")
    print("  sample labels:", " | ".join(labels[:12]))
    return IntentSet(labels, protos, np.arange(split.n_items), item_dist, np.arange(split.n_users), user_dist,
                     "local", cfg.recency)


def make(run: str, cfg: LightGCNConfig, intent_set: IntentSet, vectors: np.ndarray) -> LightGCNRecommender:
    if run == "lightgcn":
        return LightGCNRecommender(cfg, intents=intent_set)
    icfg = IRLLRecConfig()
    if run.startswith("irllrec-no-"):
        icfg = dataclasses.replace(icfg, **{f"{run.removeprefix('irllrec-no-')}_weight": 0.0})
    return IRLLRecRecommender(cfg, icfg, intents=intent_set, item_vectors=vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--max-seconds", type=float, default=480.0, help="training budget per run")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-epochs", type=int, default=400)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=5)
    args = parser.parse_args()
    split, texts = load_beauty()
    print(f"amazon-beauty-2014: {split.n_users} users, {split.n_items} items, train {split.train.nnz}")
    vectors = embed(texts)
    intent_set = intents(vectors, texts, split, IntentsConfig())
    results: dict[str, list[dict[str, float]]] = {}
    for seed in args.seeds:
        cfg = dataclasses.replace(LightGCNConfig(), seed=seed, lr=args.lr, max_epochs=args.max_epochs,
                                  eval_every=args.eval_every, patience=args.patience, max_seconds=args.max_seconds)
        for run in args.runs:
            model = make(run, cfg, intent_set, vectors)
            info = model.fit(split)
            metrics = evaluate(model, split, stage="test", ks=(5, 10, 20))
            results.setdefault(run, []).append(metrics)
            print(f"{run} seed {seed}: best epoch {info.best_epoch}/{info.epochs}, valid R@20 {info.best_score:.4f}, "
                  f"{info.seconds:.0f}s ({info.seconds / max(info.epochs, 1):.2f} s/epoch), "
                  f"peak RSS {peak_mib():.0f} MiB | " + " ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
                  flush=True)
    keys = list(next(iter(results.values()))[0])
    print(f"\ntest, mean over seeds {args.seeds}\n{'model':<24}" + "".join(f"{k:>11}" for k in keys))
    for run, rows in results.items():
        print(f"{run:<24}" + "".join(f"{np.mean([r[k] for r in rows]):>11.4f}" for k in keys))


if __name__ == "__main__":
    main()
