"""Semantic-ID quality on amazon-beauty-2014: text-only vs fused (text + LightGCN) codes, residual k-means vs RQ-VAE.

Prints one markdown table: build time, per-level utilisation and perplexity, collision rate before the last level,
max items per 3-level prefix, and relative reconstruction error in the fused space. Text embeddings (MiniLM over
title, brand and categories) and the LightGCN item embeddings (trained briefly on the leave-one-out training part
only, so test items leak nothing) are cached under var/bench/. Reads amazon-beauty-2014/ in the shared data folder
(`--data DIR`: bench/_data.py).

Usage: nice -n 10 .venv/bin/python bench/semantic_ids.py [--methods kmeans,kmeans-nospread,rqvae]
       [--variants text,fused] [--cf lightgcn|svd]
       [--lightgcn-epochs 30] [--rqvae-epochs 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from _data import add_data_option  # bench/ is on sys.path when run as a script
from rich.progress import Progress

from appliance.config import LightGCNConfig, RQConfig, TextEncoderConfig
from appliance.generative.quantize import CodeStats, TokenizeError, fuse_embeddings
from appliance.generative.semantic_ids import assign_semantic_ids
from appliance.text.profiles import item_profile_text

BEAUTY = "amazon-beauty-2014"  # in the shared data folder (`--data DIR`)
CACHE = Path("var/bench")


def load_items(data: Path) -> list[dict]:
    """The Beauty items of the shared data folder `data`, in item-id order."""
    path = data / BEAUTY / "derived" / "items.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows.sort(key=lambda r: r["item_id"])
    if [r["item_id"] for r in rows] != list(range(1, len(rows) + 1)):
        raise SystemExit("derived/items.jsonl item ids are not 1..n: the S3Rec id mapping changed")
    return rows


def text_embeddings(rows: list[dict]) -> np.ndarray:
    """(n_items, 384) MiniLM embeddings of 'Title. Brand: b. Categories: a > b.' (cached)."""
    path = CACHE / "beauty_text_emb.npy"
    if path.exists():
        return np.load(path)
    from appliance.text.encoder import TextEncoder

    texts = [item_profile_text(r["title"] or "", None if r.get("brand_guess") in (None, "Unknown")
                               else r["brand_guess"], r.get("categories") or [], None) for r in rows]
    with Progress() as bar:
        task = bar.add_task("embedding item texts", total=len(texts))
        vectors = TextEncoder(TextEncoderConfig()).encode(texts, progress=lambda n: bar.advance(task, n))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _split(data: Path, n_items: int):
    from appliance.data.splits import split_from_sequences

    lines = (data / BEAUTY / "raw" / "s3rec" / "Beauty.txt").read_text(encoding="utf-8").splitlines()
    return split_from_sequences([np.array([int(t) - 1 for t in line.split()[1:]]) for line in lines], n_items)


def svd_embeddings(data: Path, n_items: int, dim: int = 32) -> np.ndarray:
    """(n_items, dim) items' top singular vectors of the normalised training adjacency D^-1/2 R D^-1/2 (seconds;
    LightGCN's propagation smooths towards this low-rank space, GF-CF, Shen et al. 2021)."""
    from scipy.sparse.linalg import svds

    train = _split(data, n_items).train
    du, di = np.asarray(train.sum(1)).ravel(), np.asarray(train.sum(0)).ravel()
    norm = sp.diags(1 / np.sqrt(np.maximum(du, 1))) @ train @ sp.diags(1 / np.sqrt(np.maximum(di, 1)))
    _, s, vt = svds(norm.astype(np.float64), k=dim, random_state=0)
    return (vt.T * np.sqrt(s)).astype(np.float32)


def cf_embeddings(data: Path, n_items: int, epochs: int, seed: int) -> np.ndarray:
    """(n_items, 32) LightGCN item embeddings trained `epochs` epochs on the leave-one-out training part (cached)."""
    path = CACHE / f"beauty_lightgcn_items_e{epochs}_s{seed}.npy"
    if path.exists():
        return np.load(path)
    from appliance.data.splits import build_norm_adj
    from appliance.models.bpr import fit_bpr
    from appliance.models.lightgcn import LightGCN

    split = _split(data, n_items)
    cfg = LightGCNConfig(lr=5e-3, max_epochs=epochs, eval_every=epochs, patience=1, seed=seed)
    model = LightGCN(split.n_users, split.n_items, build_norm_adj(split.train), cfg)
    with Progress() as bar:
        task = bar.add_task("LightGCN epochs", total=epochs)
        fit_bpr(model, split.train, cfg, validate=lambda: 0.0, progress=lambda e, _: bar.update(task, completed=e))
    items = model.embeddings()[1]
    np.save(path, items)
    return items


def row(variant: str, method: str, seconds: float, stats: CodeStats) -> str:
    util = " / ".join(f"{u:.2f}" for u in stats.utilisation)
    ppl = " / ".join(f"{p:.0f}" for p in stats.perplexity)
    return (f"| {variant} | {method} | {seconds:.1f} | {util} | {ppl} | {stats.collision_rate:.4f} | "
            f"{stats.max_per_prefix} | {stats.reconstruction:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument("--methods", default="kmeans,rqvae")
    parser.add_argument("--variants", default="text,fused")
    parser.add_argument("--cf", choices=("lightgcn", "svd"), default="lightgcn", help="CF part of the fused codes")
    parser.add_argument("--lightgcn-epochs", type=int, default=30)
    parser.add_argument("--rqvae-epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = load_items(args.data)
    text = text_embeddings(rows)
    inputs = {"text": fuse_embeddings(text)}
    if "fused" in args.variants.split(","):
        cf = svd_embeddings(args.data, len(rows)) if args.cf == "svd" else \
            cf_embeddings(args.data, len(rows), args.lightgcn_epochs, args.seed)
        inputs["fused"] = fuse_embeddings(text, cf)
    base = RQConfig(rqvae_epochs=args.rqvae_epochs, seed=args.seed)
    lines = ["| codes from | quantizer | seconds | utilisation a/b/c | perplexity a/b/c | collision rate | "
             "max items per prefix | reconstruction |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    results = []
    for variant in args.variants.split(","):
        for method in args.methods.split(","):
            name, _, suffix = method.partition("-")  # "kmeans-nospread": without collision spreading
            cfg = dataclasses.replace(base, method=name, spread_last=suffix != "nospread")
            start = time.perf_counter()
            try:
                ids, collapse = assign_semantic_ids(inputs[variant], cfg, progress=print), ""
                seconds = time.perf_counter() - start
            except TokenizeError as exc:  # report the collapsed codes' statistics too, with the checks off
                collapse, seconds = str(exc).split(":")[0], time.perf_counter() - start
                ids = assign_semantic_ids(inputs[variant], dataclasses.replace(
                    cfg, min_utilisation=0.0, min_perplexity_ratio=0.0, last_level_size=len(text)))
            lines.append(row(variant, method + (f" ({collapse})" if collapse else ""), seconds, ids.stats))
            results.append({"variant": variant, "method": method, "seconds": seconds, "collapse": collapse,
                            **ids.stats.as_dict()})
    print(f"{len(rows)} items, dim text {text.shape[1]}, fused {inputs.get('fused', text).shape[1]}; "
          f"levels {list(base.levels)}, seed {args.seed}")
    print("\n".join(lines))
    (CACHE / "semantic_ids.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
