"""The data scientist's workflow on data no default was tuned on, through the CLI exactly as a user runs it:
ingest (generic format) -> train cf (saved artifact) -> evaluate (scores the artifact, no retraining) -> evaluate
--retrain with a time budget (per-epoch lines, budget kept). With `--served`, instead: ingest -> train sasrec (time
budget) -> evaluate item-knn, sasrec and hybrid (the saved SASRec; the hybrid's weights fitted on validation) ->
export best, which must pick its model on validation alone: the issue-15 check that the served model beats the
category's item-kNN on data nothing was tuned on.

Sources (both written to a temporary home, never into the repository):
- `sample`: the repository's generated retail sample with another seed and the Beauty department removed, the
  catalog given as ONE free-text field per item (`sku,text`: no separate title/brand/categories).
- `book`: the RLMRec/IRLLRec amazon-book-cf split (ids only; `--data DIR`, bench/_data.py) converted to the
  generic CSV format (customer_id, sku, timestamp = row order over train, valid, test; items `sku,text`), so the
  protocol is leave-one-out over that order, not the papers' given split.

Usage: nice -n 10 .venv/bin/python bench/unseen_category.py sample [--seed 11] [--epochs 100] [--budget-min 0.5]
       nice -n 10 .venv/bin/python bench/unseen_category.py book --epochs 30 --budget-min 2
       nice -n 10 .venv/bin/python bench/unseen_category.py sample --served --sasrec-min 5 [--sasrec-seed 0]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.demo.sample import generate_sample

TANABAN = str(Path(sys.executable).with_name("tanaban"))


def sample_files(out: Path, seed: int, items: int, users: int, drop: str) -> tuple[Path, Path]:
    """The generated sample without department `drop`, items as `sku,text` only."""
    raw = out / "raw"
    generate_sample(raw, seed=seed, n_items=items, n_users=users)
    kept: dict[str, str] = {}
    for line in (raw / "items.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["categories"][0] != drop:
            kept[item["sku"]] = f"{item['title']}. {item.get('description') or ''}".strip()
    items_csv, events_csv = out / "items.csv", out / "interactions.csv"
    with items_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "text"])
        writer.writerows(kept.items())
    with (raw / "interactions.csv").open(encoding="utf-8") as src, events_csv.open("w", newline="",
                                                                                  encoding="utf-8") as dst:
        rows = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=rows.fieldnames)
        writer.writeheader()
        writer.writerows(r for r in rows if r["sku"] in kept)
    return items_csv, events_csv


def book_files(out: Path, root: Path) -> tuple[Path, Path]:
    """amazon-book-cf's three TSV files as generic items/interactions CSV (ids only)."""
    items: set[str] = set()
    events_csv, items_csv = out / "interactions.csv", out / "items.csv"
    order = 0
    with events_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer_id", "sku", "timestamp"])
        for name in ("train", "valid", "test"):
            with (root / f"{name}.tsv").open(encoding="utf-8") as src:
                next(src)
                for line in src:
                    user, item = line.split()
                    writer.writerow([f"u{user}", f"b{item}", order])
                    items.add(item)
                    order += 1
    with items_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "text"])
        writer.writerows([f"b{i}", f"book {i}"] for i in sorted(items, key=int))
    return items_csv, events_csv


def run(config: Path, *args: str) -> tuple[str, float]:
    """One CLI command (output piped, as in a log file); prints it and its wall time; returns output and time."""
    cmd = ["nice", "-n", "10", TANABAN, "--config", str(config), *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    print(f"$ tanaban {' '.join(args)}   [{seconds:.1f} s, exit {done.returncode}]", flush=True)
    print("\n".join("    " + line for line in (done.stdout + done.stderr).strip().splitlines()[-12:]), flush=True)
    if done.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(args)}")
    return done.stdout, seconds


def served(config: Path, out: Path, minutes: float, seed: int) -> None:
    """train sasrec -> evaluate item-knn,sasrec,hybrid on test -> export best (chosen on validation alone)."""
    run(config, "train", "sasrec", "--time-budget-min", str(minutes), "--seed", str(seed))
    report_path = out / "served.json"
    run(config, "evaluate", "--model", "item-knn,sasrec,hybrid", "-o", str(report_path))
    exported, _ = run(config, "export", "best")
    test = {r["name"]: r for r in json.loads(report_path.read_text(encoding="utf-8"))["results"]}
    found = re.search(r"exporting\s+([\w-]+)", exported)  # export best: "validation NDCG@10: ...; exporting <name>"
    chosen = found.group(1) if found else None
    for name, r in test.items():
        m = r["metrics"]
        print(f"test {name:9s} R@10 {m['recall@10']:.4f} N@10 {m['ndcg@10']:.4f} R@20 {m['recall@20']:.4f} "
              f"N@20 {m['ndcg@20']:.4f} epochs {r['epochs']} best {r['best_epoch']} {r['note']}", flush=True)
    if chosen in test:
        knn, best = test["item-knn"]["metrics"], test[chosen]["metrics"]
        print(f"served {chosen}: test N@10 {best['ndcg@10']:.4f} vs item-kNN {knn['ndcg@10']:.4f} "
              f"({best['ndcg@10'] / knn['ndcg@10'] - 1:+.1%}), R@10 {best['recall@10']:.4f} vs "
              f"{knn['recall@10']:.4f} ({best['recall@10'] / knn['recall@10'] - 1:+.1%})", flush=True)
    else:
        print(f"served model not found in export's output (chosen: {chosen})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=("sample", "book"))
    add_data_option(parser)
    parser.add_argument("--seed", type=int, default=11, help="sample seed (the shipped demo uses 0)")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1200)
    parser.add_argument("--drop", default="Beauty", help="department removed from the sample")
    parser.add_argument("--epochs", type=int, default=100, help="train cf --epochs")
    parser.add_argument("--budget-min", type=float, default=0.5, help="evaluate --retrain --time-budget-min")
    parser.add_argument("--served", action="store_true",
                        help="train sasrec, evaluate item-knn/sasrec/hybrid, export best (instead of the cf workflow)")
    parser.add_argument("--sasrec-min", type=float, default=5.0, help="train sasrec --time-budget-min (--served)")
    parser.add_argument("--sasrec-seed", type=int, default=0, help="train sasrec --seed (--served)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tanaban-unseen-") as tmp:
        out = Path(tmp)
        config = out / "config.toml"
        config.write_text(f'[paths]\ndata_dir = "{out / "data"}"\n', encoding="utf-8")
        if args.source == "sample":
            items_csv, events_csv = sample_files(out, args.seed, args.items, args.users, args.drop)
        else:
            items_csv, events_csv = book_files(out, args.data / "amazon-book-cf")
        run(config, "init")
        run(config, "ingest", "items", str(items_csv))
        run(config, "ingest", "interactions", str(events_csv))
        if args.served:
            served(config, out, args.sasrec_min, args.sasrec_seed)
            return
        run(config, "train", "cf", "--epochs", str(args.epochs))
        saved = out / "saved.json"
        run(config, "evaluate", "--model", "popularity,item-knn,lightgcn", "-o", str(saved))
        retrained = out / "retrained.json"
        _, wall = run(config, "evaluate", "--model", "lightgcn", "--retrain", "--time-budget-min",
                      str(args.budget_min), "-o", str(retrained))
        for label, path in (("from artifact", saved), ("retrained with budget", retrained)):
            report = json.loads(path.read_text(encoding="utf-8"))
            for r in report["results"]:
                m = r["metrics"]
                print(f"{label:22s} {r['name']:10s} {r['source']:8s} R@10 {m['recall@10']:.4f} "
                      f"N@10 {m['ndcg@10']:.4f} R@20 {m['recall@20']:.4f} epochs {r['epochs']} best "
                      f"{r['best_epoch']} train {r['train_seconds']:.1f}s load/fit {r['fit_seconds']:.1f}s "
                      f"{r['stopped_by']} {r['artifact'] or ''}")
        print(f"budget {60 * args.budget_min:.0f} s; whole retrain evaluate command {wall:.1f} s")


if __name__ == "__main__":
    main()
