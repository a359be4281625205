"""Benchmark: the generative recommender on Amazon Beauty 2014 (leave-one-out, full ranking, history masked).

Codes are semantic IDs built here, cached under var/bench/gen/: `--codes text` (MiniLM embeddings of
title/brand/categories, balanced residual k-means from appliance.generative.quantize, plus the collision level) or
`--codes fused` (what `tanaban tokenize build` does when a CF model is trained: the L2-normalised text vector
beside LightGCN's item vector, trained here on the leave-one-out training part only, so validation and test
purchases leak nothing into the codes; the same RQConfig). Trains one
variant (sequential task only, or all tasks) with the given preset and wall-clock budget, then prints validation
and test Recall/NDCG@5/10 with the epochs reached and the training input positions per second (`--layout items`:
one position per history item, `tokens`: 4 code tokens per item; `--schedule budget|epochs`: the cosine decay
sized to the time budget as well, or to --epochs only). Test users can be sampled to fit a CPU budget
(the count is printed).
Run: `nice -n 10 timeout 2700 .venv/bin/python bench/gen_beauty.py --tasks seq --minutes 28 --windows 3 --threads 1`
(docs/bench/gen.md has the exact commands and figures).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import GenConfig, RQConfig
from appliance.data.splits import split_from_sequences
from appliance.generative.model import GenerativeRecommender
from appliance.generative.train import fit_generative, validate

BEAUTY = "amazon-beauty-2014"  # in the shared data folder (`--data DIR`)
CACHE = Path("var/bench/gen")


def read_data(data: Path) -> tuple[list[np.ndarray], list[str]]:
    """S3Rec sequences (item ids 1..n) as dense indices 0..n-1, and one profile text per item; `data`: the shared
    data folder."""
    root = data / BEAUTY
    rows = [json.loads(line) for line in (root / "derived/items.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {r["item_id"]: r for r in rows}
    n_items = max(by_id)
    texts = []
    for i in range(1, n_items + 1):
        r = by_id.get(i, {})
        brand = r.get("brand_guess") if r.get("brand_guess") not in (None, "Unknown") else ""
        texts.append(" ".join([r.get("title") or "", brand or "", " ".join(r.get("categories") or [])]).strip())
    sequences = []
    for line in (root / "raw/s3rec/Beauty.txt").read_text(encoding="utf-8").splitlines():
        ids = [int(t) - 1 for t in line.split()[1:]]
        sequences.append(np.array(ids, np.int64))
    return sequences, texts


def _save(path: Path, array: np.ndarray) -> None:
    """np.save through a temporary file and a rename: a concurrent run never loads half a cache file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.save(fh, array)
    os.replace(tmp, path)


def text_vectors(texts: list[str], embeddings: Path | None) -> np.ndarray:
    """(n_items, 384) MiniLM item vectors: `embeddings` (an existing matrix in item-id order, to skip encoding on a
    busy machine) if given, else encoded once and cached."""
    if embeddings is not None:
        vectors = np.load(embeddings)
    else:
        path = CACHE / "text_vectors.npy"
        if path.exists():
            vectors = np.load(path)
        else:
            from appliance.text.encoder import TextEncoder

            vectors = TextEncoder().encode(texts)
            _save(path, vectors)
    if vectors.shape[0] != len(texts):
        raise SystemExit(f"item vectors: {vectors.shape[0]} rows, expected {len(texts)} items")
    return vectors


def text_codes(texts: list[str], embeddings: Path | None) -> np.ndarray:
    """(n_items, 4) text-only semantic IDs, cached (MiniLM + balanced residual k-means + collision level)."""
    path = CACHE / "text_codes.npy"
    if path.exists():
        return np.load(path)
    from appliance.generative.semantic_ids import assign_semantic_ids

    start = time.perf_counter()
    codes = assign_semantic_ids(text_vectors(texts, embeddings), RQConfig()).codes
    _save(path, codes)
    print(f"built text-only codes {codes.shape} in {time.perf_counter() - start:.0f} s")
    return codes


def fused_codes(split, texts: list[str], embeddings: Path | None, *, epochs: int, lr: float,
                seed: int) -> np.ndarray:
    """(n_items, 4) codes over [text, LightGCN] as `tanaban tokenize build` fuses them (RQConfig's cf_weight and
    pca_dim), LightGCN trained `epochs` epochs on `split.train` only (best validation Recall@20 kept); cached."""
    path = CACHE / f"fused_codes_e{epochs}_lr{lr:g}_s{seed}.npy"
    if path.exists():
        return np.load(path)
    from appliance.config import LightGCNConfig
    from appliance.generative.quantize import fuse_embeddings
    from appliance.generative.semantic_ids import assign_semantic_ids
    from appliance.models.graph_cf import LightGCNRecommender

    start = time.perf_counter()
    text = text_vectors(texts, embeddings)
    cfg = dataclasses.replace(LightGCNConfig(), lr=lr, max_epochs=epochs, eval_every=5, patience=10**6, seed=seed)
    cf = LightGCNRecommender(cfg, progress=lambda epoch, row: None if row["score"] != row["score"] else print(
        f"  lightgcn epoch {epoch} valid R@20 {row['score']:.4f} ({row['seconds']:.0f} s)", flush=True))
    info = cf.fit(split)
    rq = RQConfig()
    codes = assign_semantic_ids(fuse_embeddings(text, cf.arrays["item_emb"], cf_weight=rq.cf_weight,
                                                pca_dim=rq.pca_dim), rq).codes
    _save(path, codes)
    print(f"built fused codes {codes.shape} in {time.perf_counter() - start:.0f} s (LightGCN {info.epochs} epochs, "
          f"best {info.best_epoch}, valid R@20 {info.best_score:.4f})", flush=True)
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--tasks", default="seq", help="comma list of seq,text,intent,neg")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall-clock budget")
    parser.add_argument("--windows", type=int, default=0, help="sequential examples per user and epoch (0: all)")
    parser.add_argument("--valid-users", type=int, default=1000)
    parser.add_argument("--patience", type=int, default=3, help="validations without NDCG@10 gain before stopping")
    parser.add_argument("--test-users", default="0", help="comma list of final-evaluation user counts, each a "
                        "sample (seeded, the same users every run) or 0 for all users; e.g. 3000,0")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden-dropout", type=float, default=GenConfig.hidden_dropout,
                        help="gen.hidden_dropout: dropout on input embeddings and sublayer outputs while training")
    parser.add_argument("--pack", action=argparse.BooleanOptionalAction, default=GenConfig.pack,
                        help="gen.pack: a user's prefixes in one row that reads the history once (same loss)")
    parser.add_argument("--item-embeddings", action="store_true",
                        help="gen.item_embeddings: a learned vector per item added to its input position")
    parser.add_argument("--layout", default="items", choices=("items", "tokens"), help="gen.history_layout")
    parser.add_argument("--schedule", default=GenConfig.schedule, choices=("budget", "epochs"),
                        help="gen.schedule: cosine decay sized to the time budget too (budget) or to --epochs only")
    parser.add_argument("--beam", type=int, default=20, help="beam width of constrained decoding")
    parser.add_argument("--eval-beams", default="", help="comma list of beam widths for the final evaluation "
                        "(default: --beam)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="directory to save the trained model in (e.g. under var/)")
    parser.add_argument("--embeddings", type=Path, help="precomputed MiniLM item matrix (.npy, item-id order)")
    parser.add_argument("--codes", default="text", choices=("text", "fused"),
                        help="semantic IDs from the item texts alone, or fused with LightGCN item vectors")
    parser.add_argument("--cf-epochs", type=int, default=40, help="LightGCN epochs for --codes fused")
    parser.add_argument("--cf-lr", type=float, default=1e-2, help="LightGCN learning rate for --codes fused "
                        "(the measured Beauty setting of bench/cf_beauty.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sequences, texts = read_data(args.data)
    split = split_from_sequences(sequences, len(texts))
    start = time.perf_counter()
    codes = text_codes(texts, args.embeddings) if args.codes == "text" else \
        fused_codes(split, texts, args.embeddings, epochs=args.cf_epochs, lr=args.cf_lr, seed=args.seed)
    print(f"codes {args.codes} ready in {time.perf_counter() - start:.0f} s", flush=True)
    cfg = GenConfig(preset=args.preset, tasks=tuple(args.tasks.split(",")), max_epochs=args.epochs,
                    max_minutes=args.minutes, windows_per_user=args.windows, valid_users=args.valid_users,
                    batch_size=args.batch, lr=args.lr, history_layout=args.layout, beam=args.beam, seed=args.seed,
                    schedule=args.schedule, patience=args.patience, hidden_dropout=args.hidden_dropout,
                    pack=args.pack, item_embeddings=args.item_embeddings)
    model = GenerativeRecommender(cfg, codes, item_texts=texts)
    print(f"users {split.n_users} items {split.n_items} codes {codes.shape} preset {cfg.preset} tasks {cfg.tasks} "
          f"layout {cfg.history_layout} beam {cfg.beam} seed {cfg.seed} lr {cfg.lr} schedule {cfg.schedule} "
          f"hidden_dropout {cfg.hidden_dropout} pack {cfg.pack} "
          f"item_embeddings {cfg.item_embeddings}",
          flush=True)
    model.bind(split)
    model.build()
    report = fit_generative(model, split, on_epoch=lambda row: print(
        " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True))
    params = sum(p.numel() for p in model.lm.parameters())
    print(f"params {params} examples/epoch {report.examples_per_epoch} epochs {report.epochs_run} "
          f"best epoch {report.best_epoch} steps {report.steps} train s {report.seconds:.0f} "
          f"step s {report.step_seconds:.0f} positions/s {report.positions / max(report.step_seconds, 1e-9):.0f} "
          f"examples/s {report.steps * cfg.batch_size / max(report.step_seconds, 1e-9):.0f} "
          f"stopped by {report.stopped_by} final lr multiplier {report.lr_mult:.3f}", flush=True)
    if args.save:
        model.save(args.save)
    for count in [int(c) for c in args.test_users.split(",") if c]:
        users = np.arange(split.n_users)
        if 0 < count < split.n_users:
            users = np.sort(np.random.default_rng(0).choice(users, count, replace=False))
        for beam in [int(b) for b in args.eval_beams.split(",") if b] or [cfg.beam]:
            model.cfg = dataclasses.replace(cfg, beam=beam)
            for stage in ("valid", "test"):
                start = time.perf_counter()
                metrics = validate(model, split, users, stage)
                cells = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
                print(f"{stage} beam={beam} users={len(users)} {cells} eval s {time.perf_counter() - start:.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
