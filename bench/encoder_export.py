"""What the text encoder adds to `tanaban export cf`, and text search on the resulting bundle.

On a generated sample of the demo's size (appliance.demo.run.DemoSize: 3,000 items, 1,500 customers, seed 0) with a
made-up CF artifact (the CF model does not matter here): wall and CPU seconds of `export_cf` without and with the
encoder, the share of embedding the catalog one text per run, how much an int8 vector depends on its batch-mates,
float16 against float32 item text embeddings on search rankings, and `CFBundle.search` latency. Writes its home
under var/bench/ (git-ignored).
Usage: OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/encoder_export.py [--items 3000] [--users 1500]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from appliance.serve.encoder import OnnxTextEncoder
from appliance.serve.service import CFBundle
from appliance.text.profiles import load_item_profiles
from export.cf import export_cf

ROOT = Path(__file__).resolve().parents[1]


def _home(work: Path, items: int, users: int, seed: int) -> Home:
    shutil.rmtree(work, ignore_errors=True)
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(work / "data")})
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(work / "sample", seed=seed, n_items=items, n_users=users)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, work / "sample" / name, kind, progress=False)
    split, rng = load_split(home.engine), np.random.default_rng(0)
    arrays = {"user_emb": rng.normal(size=(split.n_users, 32)).astype(np.float32),
              "item_emb": rng.normal(size=(split.n_items, 32)).astype(np.float32),
              "user_ids": split.user_ids, "item_ids": split.item_ids}
    save_artifact(cfg.artifacts_dir, "cf-lightgcn", arrays, {"model": "lightgcn"})
    return home


def _timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _fp16_check(bundle: Path, queries: list[str], enc: OnnxTextEncoder) -> str:
    emb = np.load(bundle / "item_text_emb.npy")
    half = emb.astype(np.float16).astype(np.float32)
    same_list = same_set = same_top1 = 0
    for vec in enc.encode(queries):
        a, b = np.argsort(-(emb @ vec), kind="stable")[:10], np.argsort(-(half @ vec), kind="stable")[:10]
        same_list += np.array_equal(a, b)
        same_set += set(a) == set(b)
        same_top1 += a[0] == b[0]
    n = len(queries)
    return (f"float16 vs float32 item text embeddings, {n} queries: same top-1 {same_top1}/{n}, same top-10 set "
            f"{same_set}/{n}, same top-10 order {same_list}/{n}; float32 size {emb.nbytes / 1e6:.1f} MB")


def _batch_check(bundle: Path, texts: list[str], max_length: int) -> str:
    """Cosine between each text's vector encoded alone and inside batches of 8 and 64 (dynamic int8 couples them)."""
    model, tok = bundle / "encoder" / "encoder.onnx", bundle / "encoder" / "tokenizer.json"
    alone = OnnxTextEncoder(model, tok, max_length=max_length, batch_size=1, threads=1).encode(texts)
    out = []
    for size in (8, 64):
        encoder = OnnxTextEncoder(model, tok, max_length=max_length, batch_size=size, threads=1)
        batched, _, cpu = _timed(encoder.encode, texts)
        cos = (alone * batched).sum(axis=1)
        out.append(f"batch {size}: min cosine {cos.min():.4f}, mean {cos.mean():.5f}, {cpu:.1f} CPU s")
    return f"same {len(texts)} profiles, alone vs in a batch: " + "; ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--users", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "encoder_export")
    args = ap.parse_args()
    home = _home(args.work, args.items, args.users, args.seed)
    _, wall0, cpu0 = _timed(export_cf, home, "lightgcn", encoder=False, progress=False)
    bundle, wall1, cpu1 = _timed(export_cf, home, "lightgcn", encoder=True, progress=False)
    gate = json.loads((bundle / "metrics.json").read_text(encoding="utf-8"))["encoder_gate"]
    settings = json.loads((bundle / "encoder" / "encoder.json").read_text(encoding="utf-8"))
    enc = OnnxTextEncoder(bundle / "encoder" / "encoder.onnx", bundle / "encoder" / "tokenizer.json",
                          max_length=settings["max_length"], batch_size=1, threads=1)
    texts = [p.text for p in load_item_profiles(home.engine)]
    _, wall2, cpu2 = _timed(enc.encode, texts)
    print(f"{gate['n_items']} items in the bundle; encoder gate: {gate['reason']} (fp32 max |diff| "
          f"{gate['fp32_max_abs']:.1e}, int8 min cosine {gate['int8_min_cosine']:.4f}), chosen {gate['chosen']}")
    print("| step | wall s | CPU s |\n|---|---|---|")
    print(f"| export_cf(encoder=False) | {wall0:.1f} | {cpu0:.1f} |")
    print(f"| export_cf(encoder=True) | {wall1:.1f} | {cpu1:.1f} |")
    print(f"| of which: embed {len(texts)} profiles, one per run (re-timed alone) | {wall2:.1f} | {cpu2:.1f} |")
    print(f"| encoder added in all | {wall1 - wall0:.1f} | {cpu1 - cpu0:.1f} |")
    _, _, cpu_first = _timed(enc.encode, texts[:300])
    print(f"first 300 profiles one per run: {cpu_first:.1f} CPU s; " + _batch_check(bundle, texts[:300],
                                                                                  settings["max_length"]))
    service = CFBundle.load(bundle, [load_public_key(home.config.keys_dir / PUBLIC_FILE)])
    items = json.loads((bundle / "items.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(1)
    queries = [" ".join(items[i]["title"].split()[:3]) for i in rng.choice(len(items), args.queries)]
    print(_fp16_check(bundle, queries, enc))
    service.search(queries[0], 10)  # warm-up
    lat, cpu = [], time.process_time()
    for query in queries:
        start = time.perf_counter()
        service.search(query, 10)
        lat.append(time.perf_counter() - start)
    print(f"CFBundle.search k=10, {len(queries)} queries: p50 {np.percentile(lat, 50) * 1e3:.1f} ms, p99 "
          f"{np.percentile(lat, 99) * 1e3:.1f} ms, {(time.process_time() - cpu) / len(queries) * 1e3:.1f} ms CPU/query")


if __name__ == "__main__":
    main()
