"""LightGCN vs IRLLRec (local intents) vs the IRLLRec ablation (each loss term off) on amazon-beauty-2014,
leave-one-out, full ranking with history masked, Recall/NDCG@5/10/20 (He et al. SIGIR 2020; Wang et al. SIGIR 2025).

Every run trains for the same FIXED number of epochs (validation Recall@20 every `--eval-every` epochs picks the
weights kept) and writes one JSON under var/bench/cf/<tag>/ (tag = lr, batch, epochs); a rerun skips finished runs,
and several processes may work on the same queue (a `.lock` file per run in progress). Usage:
  OMP_NUM_THREADS=1 nice -n 10 timeout 7200 .venv/bin/python bench/cf_beauty.py --seeds 0 1 2 --epochs 40 \
      --lr 1e-2 [--runs lightgcn irllrec ...]        # train (queue order: seed-major, ablation last)
  .venv/bin/python bench/cf_beauty.py --epochs 40 --lr 1e-2 --table     # markdown tables, mean +- std over seeds
  .venv/bin/python bench/cf_beauty.py --profile 20   # ms/step of LightGCN, IRLLRec and IRLLRec's previous InfoNCE
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import IntentsConfig, IRLLRecConfig, LightGCNConfig
from appliance.data.splits import Split, split_from_sequences
from appliance.models.graph_cf import IRLLRecRecommender, LightGCNRecommender
from appliance.models.metrics import evaluate
from appliance.text.intents import IntentSet, LocalBackend, extract_intents
from appliance.text.profiles import item_profile_text

BEAUTY = "amazon-beauty-2014"  # in the shared data folder (`--data DIR`)
CACHE = Path("var/cf_beauty")
OUT = Path("var/bench/cf")
TERMS = ("align", "profile", "translation", "matching")
INTENT_TERMS = ("align", "translation", "matching")  # IRLLRec's own terms; "profile" is RLMRec's, which it builds on
RUNS = ("lightgcn", "irllrec", *(f"irllrec-no-{t}" for t in TERMS), "irllrec-no-intent-terms")
KS = (5, 10, 20)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_beauty(data: Path) -> tuple[Split, list[str]]:
    """The leave-one-out split of amazon-beauty-2014 under the shared data folder, and one profile text per item."""
    rows = [json.loads(line) for line in (data / BEAUTY / "derived/items.jsonl").open(encoding="utf-8")]
    index = {r["asin"]: i for i, r in enumerate(rows)}
    seqs = []
    for line in (data / BEAUTY / "raw/gram/user_sequence.txt").open(encoding="utf-8"):
        parts = line.split()
        seqs.append(np.array([index[a] for a in parts[1:]], dtype=np.int64))
    texts = [item_profile_text(r["title"] or "", None if r.get("brand_guess") in (None, "Unknown")
                               else r["brand_guess"], r.get("categories") or [], None) for r in rows]
    return split_from_sequences(seqs, len(rows)), texts


def embed(texts: list[str]) -> np.ndarray:
    """Item profile vectors, cached; bench/embed_beauty.py times the encoder on its own."""
    for path in (CACHE / "item_emb.npy", Path("var/bench/beauty_text_emb.npy")):  # same item_profile_text inputs
        if path.exists() and len(np.load(path, mmap_mode="r")) == len(texts):
            print(f"embed: cached {path} (bench/embed_beauty.py times the encoder)")
            return np.load(path)
    from appliance.text.encoder import TextEncoder

    vectors = TextEncoder().encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(CACHE / "item_emb.npy", vectors)
    return vectors


def intents(vectors: np.ndarray, texts: list[str], split: Split, cfg: IntentsConfig) -> IntentSet:
    start, cpu = time.perf_counter(), time.process_time()
    labels, protos, item_dist, user_dist = extract_intents(vectors, texts, split.train_sequences, cfg,
                                                           LocalBackend(cfg.label_terms))
    print(f"intents (local): K={cfg.k} in {time.perf_counter() - start:.1f}s wall, "
          f"{time.process_time() - cpu:.1f}s CPU, process peak RSS {peak_mib():.0f} MiB")
    print("  sample labels:", " | ".join(labels[:12]))
    return IntentSet(labels, protos, np.arange(split.n_items), item_dist, np.arange(split.n_users), user_dist,
                     "local", cfg.recency)


def make(run: str, cfg: LightGCNConfig, intent_set: IntentSet, vectors: np.ndarray) -> LightGCNRecommender:
    if run == "lightgcn":
        return LightGCNRecommender(cfg, intents=intent_set)
    icfg = IRLLRecConfig()
    if run == "irllrec-no-intent-terms":  # only BPR + the profile alignment: what the intent terms add jointly
        icfg = dataclasses.replace(icfg, **{f"{t}_weight": 0.0 for t in INTENT_TERMS})
    elif run.startswith("irllrec-no-"):
        icfg = dataclasses.replace(icfg, **{f"{run.removeprefix('irllrec-no-')}_weight": 0.0})
    return IRLLRecRecommender(cfg, icfg, intents=intent_set, item_vectors=vectors)


def queue(runs: list[str], seeds: list[int]) -> list[tuple[str, int]]:
    """Main models seed by seed first, then the ablation (seed 0 before other seeds)."""
    main = [(r, s) for s in seeds for r in runs if not r.startswith("irllrec-no-")]
    ablation = [(r, s) for s in seeds for r in runs if r.startswith("irllrec-no-")]
    return main + ablation


def _claim(path: Path) -> bool:
    """Take the run's lock (O_EXCL); a lock whose process is gone is taken over."""
    lock = path.with_suffix(".lock")
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                os.kill(int(lock.read_text() or 0), 0)
                return False  # another live worker has it
            except (ProcessLookupError, ValueError):
                lock.unlink(missing_ok=True)
                continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    return False


def train_one(run: str, seed: int, args: argparse.Namespace, split: Split, intent_set: IntentSet,
              vectors: np.ndarray, path: Path) -> None:
    cfg = dataclasses.replace(LightGCNConfig(), seed=seed, lr=args.lr, batch_size=args.batch_size,
                              max_epochs=args.epochs, eval_every=args.eval_every, patience=10**6, max_seconds=0.0)
    cpu0 = time.process_time()

    def progress(epoch: int, m: dict[str, float]) -> None:
        print(f"  {run} s{seed} epoch {epoch}: valid R@20 {m['score']:.4f} loss {m['total']:.4f} "
              f"({time.process_time() - cpu0:.0f} CPU s)", flush=True)

    model = make(run, cfg, intent_set, vectors)
    model.progress = progress
    info = model.fit(split)
    cpu = time.process_time() - cpu0
    result = {"run": run, "seed": seed, "lr": args.lr, "batch_size": args.batch_size, "epochs": info.epochs,
              "best_epoch": info.best_epoch, "valid_recall@20": info.best_score, "wall_s": info.seconds,
              "cpu_s": cpu, "process_peak_rss_mib": peak_mib(), "load_avg": os.getloadavg()[0],
              "test": evaluate(model, split, stage="test", ks=KS), "history": model.history}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a finished run is either complete or absent
    print(f"{run} seed {seed}: best epoch {info.best_epoch}/{info.epochs}, {info.seconds:.0f}s wall, {cpu:.0f}s CPU "
          f"({cpu / max(info.epochs, 1):.2f} CPU s/epoch incl. validation) | "
          + " ".join(f"{k} {v:.4f}" for k, v in result["test"].items()), flush=True)


def tag(args: argparse.Namespace) -> str:
    # "_foldin": test scores propagate over train + valid (appliance.models.graph_cf, since 2026-11-29 21:40 UTC); the
    # directories without it hold the earlier runs, scored from the training graph at both stages
    return f"lr{args.lr:g}_b{args.batch_size}_e{args.epochs}_foldin"


def table(args: argparse.Namespace) -> None:
    """Markdown: every run and seed, then mean +- std (sample std) over seeds per model."""
    results = [json.loads(p.read_text()) for p in sorted((OUT / tag(args)).glob("*.json"))]
    keys = [f"{m}@{k}" for k in KS for m in ("recall", "ndcg")]
    head = "| model | seed | " + " | ".join(k.replace("recall", "R").replace("ndcg", "N") for k in keys)
    print(head + " | valid R@20 | best epoch | CPU s/epoch | wall s/epoch | load |\n|" + "---|" * (len(keys) + 7))
    for r in sorted(results, key=lambda r: (RUNS.index(r["run"]), r["seed"])):
        print(f"| {r['run']} | {r['seed']} | " + " | ".join(f"{r['test'][k]:.4f}" for k in keys)
              + f" | {r['valid_recall@20']:.4f} | {r['best_epoch']}/{r['epochs']} | {r['cpu_s'] / r['epochs']:.2f} | "
              f"{r['wall_s'] / r['epochs']:.1f} | {r['load_avg']:.1f} |")
    print("\n| model | seeds | " + " | ".join(k.replace("recall", "R").replace("ndcg", "N") for k in keys)
          + " |\n|" + "---|" * (len(keys) + 2))
    for run in RUNS:
        rows = [r for r in results if r["run"] == run]
        if rows:
            cells = []
            for k in keys:
                v = np.array([r["test"][k] for r in rows])
                cells.append(f"{v.mean():.4f} ± {v.std(ddof=1):.4f}" if len(v) > 1 else f"{v[0]:.4f}")
            print(f"| {run} | {','.join(str(r['seed']) for r in rows)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=40, help="fixed epoch budget of every run")
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--table", action="store_true", help="print the tables of the finished runs and exit")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS", help="time STEPS training steps and exit")
    args = parser.parse_args()
    if args.table:
        return table(args)
    import torch

    torch.set_num_threads(1)
    split, texts = load_beauty(args.data)
    print(f"amazon-beauty-2014: {split.n_users} users, {split.n_items} items, train {split.train.nnz}")
    vectors = embed(texts)
    intent_set = intents(vectors, texts, split, IntentsConfig())
    if args.profile:
        from cf_profile import profile_steps  # bench/ is on sys.path when run as a script

        return profile_steps(split, intent_set, vectors, args.profile, make)
    out = OUT / tag(args)
    out.mkdir(parents=True, exist_ok=True)
    for run, seed in queue(args.runs, args.seeds):
        path = out / f"{run}_s{seed}.json"
        if path.exists() or not _claim(path):
            print(f"{run} seed {seed}: {'done' if path.exists() else 'taken by another worker'}, skipped")
            continue
        try:
            train_one(run, seed, args, split, intent_set, vectors, path)
        finally:
            path.with_suffix(".lock").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
