"""Ablation of the generative recommender on Amazon Beauty 2014 (issue 6; Semantic Convergence, Li et al., AAAI 2025;
TIGER, Rajput et al., NeurIPS 2023): text-only vs fused codes, residual k-means vs RQ-VAE, each alignment task off.

Protocol as bench/gen_beauty.py: S3Rec split, leave-one-out, full ranking over all items, history masked; items
outside the beam rank last. Every variant gets THE SAME budget (epochs and sequential windows per user, not
minutes), the same seed and the same sampled validation/test users, so results do not depend on machine load.
Codes and intent texts are cached under var/bench/gen_ablation/; each variant runs in its own process (so its CPU
time and peak RSS are its own), writes var/bench/gen_ablation/<variant>-s<seed>.json as soon as it ends, and a
rerun skips finished variants with the same budget (`--force` redoes them). Prints a markdown table at the end
and writes it to var/bench/gen_ablation/table.md.

Run: OMP_NUM_THREADS=1 nice -n 10 timeout 6000 .venv/bin/python bench/gen_ablation.py --epochs 4 --windows 2 \
         > var/bench/gen_ablation/run.log 2>&1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import add_data_option
from gen_beauty import read_data
from semantic_ids import cf_embeddings, load_items, text_embeddings

from appliance.config import GenConfig, IntentsConfig, RQConfig
from appliance.data.splits import Split, split_from_sequences

OUT = Path("var/bench/gen_ablation")
ALL_TASKS = ("seq", "text", "intent", "neg")
LIGHTGCN_EPOCHS = 30  # var/bench/beauty_lightgcn_items_e30_s0.npy, as in docs/bench/semantic_ids.md


@dataclass(frozen=True)
class Variant:
    name: str
    codes: str  # "<source>-<quantizer>": text-kmeans | fused-kmeans | fused-rqvae
    tasks: tuple[str, ...]
    label: str


VARIANTS = (
    Variant("a-tiger", "text-kmeans", ("seq",), "a. TIGER-style"),
    Variant("b-fused-seq", "fused-kmeans", ("seq",), "b. fused codes, seq only"),
    Variant("c-ours", "fused-kmeans", ALL_TASKS, "c. ours (all tasks)"),
    Variant("d-no-text", "fused-kmeans", ("seq", "intent", "neg"), "d. c without text"),
    Variant("e-no-intent", "fused-kmeans", ("seq", "text", "neg"), "e. c without intent"),
    Variant("f-no-neg", "fused-kmeans", ("seq", "text", "intent"), "f. c without neg"),
    Variant("g-rqvae", "fused-rqvae", ALL_TASKS, "g. c with RQ-VAE codes"),
)
BY_NAME = {v.name: v for v in VARIANTS}


# --- cached inputs: codes and intent texts --------------------------------------------------------------------


def codes_path(kind: str) -> Path:
    return OUT / "codes" / f"{kind}.npy"


def build_codes(kind: str, data: Path) -> np.ndarray:
    """(n_items, 4) semantic IDs from MiniLM text (+ LightGCN for "fused") by k-means or RQ-VAE; cached."""
    path = codes_path(kind)
    if path.exists():
        return np.load(path)
    from appliance.generative.quantize import fuse_embeddings
    from appliance.generative.semantic_ids import assign_semantic_ids

    source, method = kind.split("-")
    rows = load_items(data)
    text = text_embeddings(rows)
    cf = cf_embeddings(data, len(rows), LIGHTGCN_EPOCHS, 0) if source == "fused" else None
    start, cpu = time.perf_counter(), time.process_time()
    ids = assign_semantic_ids(fuse_embeddings(text, cf), RQConfig(method=method))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, ids.codes)
    stats = {"kind": kind, "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
             **ids.stats.as_dict()}
    path.with_suffix(".json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    print(f"built {kind} codes {ids.codes.shape} in {stats['seconds']:.0f} s "
          f"(collision rate {ids.stats.collision_rate:.4f})", flush=True)
    return ids.codes


def intent_texts(split: Split, data: Path) -> dict[int, str]:
    """User row -> intent text from the `local` backend on the cached MiniLM item vectors, training items only."""
    path = OUT / "intents.json"
    if path.exists():
        return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    from appliance.text.intents import LocalBackend, extract_intents
    from appliance.text.profiles import item_profile_text

    rows = load_items(data)
    cfg = IntentsConfig()
    texts = [item_profile_text(r["title"] or "", None if r.get("brand_guess") in (None, "Unknown")
                               else r["brand_guess"], r.get("categories") or [], None) for r in rows]
    start, train = time.perf_counter(), split.sequences("valid")  # the training part only
    labels, _, _, user_dist = extract_intents(text_embeddings(rows), texts, train, cfg, LocalBackend(cfg.label_terms))
    out = {u: "; ".join(labels[k] for k in np.argsort(-dist, kind="stable")[:cfg.text_intents])
           for u, dist in enumerate(user_dist) if len(train[u])}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=0) + "\n", encoding="utf-8")
    print(f"built intent texts for {len(out)} users ({len(labels)} intents) in {time.perf_counter() - start:.0f} s; "
          f"e.g. {next(iter(out.values()))!r}", flush=True)
    return out


# --- one variant (child process) ------------------------------------------------------------------------------


def budget(args: argparse.Namespace) -> dict[str, object]:
    """Everything that must match for a saved result to count as done."""
    return {"preset": args.preset, "epochs": args.epochs, "windows": args.windows, "lr": args.lr,
            "batch": args.batch, "valid_users": args.valid_users, "test_users": args.test_users, "seed": args.seed}


def result_path(name: str, seed: int) -> Path:
    return OUT / f"{name}-s{seed}.json"


def run_variant(variant: Variant, args: argparse.Namespace) -> dict[str, object]:
    """Train and evaluate one variant in this process; returns (and writes) its result."""
    import torch

    from appliance.generative.model import GenerativeRecommender
    from appliance.generative.train import fit_generative, validate

    torch.set_num_threads(1)
    sequences, texts = read_data(args.data)
    split = split_from_sequences(sequences, len(texts))
    codes = np.load(codes_path(variant.codes))
    intents = intent_texts(split, args.data) if "intent" in variant.tasks else None
    cfg = GenConfig(preset=args.preset, tasks=variant.tasks, max_epochs=args.epochs, patience=args.epochs,
                    windows_per_user=args.windows, valid_users=args.valid_users, batch_size=args.batch, lr=args.lr,
                    seed=args.seed)  # patience = epochs: every variant runs the whole budget, best epoch kept
    model = GenerativeRecommender(cfg, codes, item_texts=texts, intent_texts=intents)
    model.bind(split)
    model.build()
    wall, cpu = time.perf_counter(), time.process_time()
    report = fit_generative(model, split, on_epoch=lambda row: print(
        variant.name, " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
        flush=True))
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    users = np.arange(split.n_users)
    if 0 < args.test_users < split.n_users:  # seed 0 always: every variant and seed sees the same users
        users = np.sort(np.random.default_rng(0).choice(users, args.test_users, replace=False))
    metrics = {stage: validate(model, split, users, stage) for stage in ("valid", "test")}
    result = {"variant": variant.name, "label": variant.label, "codes": variant.codes, "tasks": list(variant.tasks),
              "budget": budget(args), "epochs_run": report.epochs_run, "best_epoch": report.best_epoch,
              "examples_per_epoch": report.examples_per_epoch, "train_wall_s": train_wall,
              "train_cpu_s": train_cpu, "eval_users": len(users), "eval_cpu_s": time.process_time() - cpu - train_cpu,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "params": sum(p.numel() for p in model.lm.parameters()), "history": report.history,
              "valid": metrics["valid"], "test": metrics["test"], "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                        time.gmtime())}
    result_path(variant.name, args.seed).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"{variant.name} done: test {metrics['test']}", flush=True)
    return result


# --- the driver ---------------------------------------------------------------------------------------------------


def is_done(name: str, args: argparse.Namespace) -> bool:
    path = result_path(name, args.seed)
    return path.exists() and json.loads(path.read_text(encoding="utf-8")).get("budget") == budget(args)


def child_command(name: str, args: argparse.Namespace) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--run", name, "--preset", args.preset, "--epochs",
            str(args.epochs), "--windows", str(args.windows), "--lr", str(args.lr), "--batch", str(args.batch),
            "--valid-users", str(args.valid_users), "--test-users", str(args.test_users), "--seed", str(args.seed),
            "--data", str(args.data)]


def run_all(names: list[str], args: argparse.Namespace) -> None:
    """Run the pending variants, `args.jobs` processes at a time, each logging to <variant>-s<seed>.log."""
    pending = [n for n in names if args.force or not is_done(n, args)]
    skipped = sorted(set(names) - set(pending))
    if skipped:
        print(f"skipping finished variants (same budget): {', '.join(skipped)}", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running: list[tuple[str, subprocess.Popen, object]] = []
    while pending or running:
        while pending and len(running) < args.jobs:
            name = pending.pop(0)
            log = (OUT / f"{name}-s{args.seed}.log").open("w", encoding="utf-8")
            print(f"{time.strftime('%H:%M:%S')} start {name}", flush=True)
            running.append((name, subprocess.Popen(child_command(name, args), stdout=log, stderr=subprocess.STDOUT,
                                                   env=env), log))
        time.sleep(2)
        for entry in list(running):
            name, proc, log = entry
            if proc.poll() is not None:
                log.close()
                running.remove(entry)
                state = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode}, see its log)"
                print(f"{time.strftime('%H:%M:%S')} {name} {state}", flush=True)


def table(results: list[dict]) -> str:
    """Markdown table of the saved results (one row per variant and seed)."""
    head = ("| variant | codes | tasks | seed | epochs (best) | train CPU s | peak RSS MiB | valid R@5 | valid N@5 | "
            "valid R@10 | valid N@10 | test R@5 | test N@5 | test R@10 | test N@10 |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        cells = [f"{r[stage][f'{m}@{k}']:.4f}" for stage in ("valid", "test") for k in (5, 10)
                 for m in ("recall", "ndcg")]
        lines.append(f"| {r['label']} | {r['codes']} | {'+'.join(r['tasks'])} | {r['budget']['seed']} | "
                     f"{r['epochs_run']} ({r['best_epoch']}) | {r['train_cpu_s']:.0f} | {r['peak_rss_mib']:.0f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--variants", default=",".join(v.name for v in VARIANTS), help="comma list of variant names")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per variant (all run; best validation kept)")
    parser.add_argument("--windows", type=int, default=2, help="sequential examples per user and epoch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--valid-users", type=int, default=1000, help="users for per-epoch validation")
    parser.add_argument("--test-users", type=int, default=2000, help="users for the final valid/test figures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="variants trained at once (one thread each)")
    parser.add_argument("--force", action="store_true", help="redo variants that already have a result")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # child process: run this one variant
    args = parser.parse_args()
    if args.run:
        run_variant(BY_NAME[args.run], args)
        return
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BY_NAME))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}: choose from {', '.join(BY_NAME)}")
    OUT.mkdir(parents=True, exist_ok=True)
    for kind in dict.fromkeys(BY_NAME[n].codes for n in names):
        build_codes(kind, args.data)
    if any("intent" in BY_NAME[n].tasks for n in names):
        sequences, texts = read_data(args.data)
        intent_texts(split_from_sequences(sequences, len(texts)), args.data)
    run_all(names, args)
    same = {k: v for k, v in budget(args).items() if k != "seed"}
    results = [r for r in (json.loads(p.read_text(encoding="utf-8")) for p in OUT.glob("*-s*.json"))
               if {k: v for k, v in r["budget"].items() if k != "seed"} == same]
    text = table(sorted(results, key=lambda r: (r["variant"], r["budget"]["seed"])))
    (OUT / "table.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
