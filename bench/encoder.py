"""Text encoder backends side by side in one run: torch eager vs ONNX fp32 vs ONNX int8 (per-channel dynamic).

Prints latency per batch (p50/p99), throughput (texts/s), model size and cosine to torch, on product-like texts.
Usage: .venv/bin/python bench/encoder.py [--texts 2000] [--batch 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from appliance.config import TextEncoderConfig
from appliance.onnx_encoder import OnnxTextEncoder
from appliance.textenc import TextEncoder
from export.encoder import _torch_export

_TEXT = ("hydrating facial cream with hyaluronic acid for dry sensitive skin travel size gentle fragrance free "
         "matte lipstick long lasting vegan nail polish quick dry shampoo for curly hair argan oil conditioner "
         "sunscreen spf 50 mineral tinted moisturizer exfoliating scrub charcoal mask brush set eyeliner")
WORDS = _TEXT.split()


def _texts(n: int, rng: np.random.Generator) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(8, 40)))) for _ in range(n)]


def _time(encode, texts: list[str], batch: int) -> tuple[np.ndarray, list[float]]:
    out, lat = [], []
    for i in range(0, len(texts), batch):
        t = time.perf_counter()
        out.append(encode(texts[i:i + batch]))
        lat.append(time.perf_counter() - t)
    return np.concatenate(out), lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    texts = _texts(args.texts, np.random.default_rng(0))
    enc = TextEncoder(TextEncoderConfig(batch_size=args.batch))
    work = Path(tempfile.mkdtemp(prefix="tanaban-bench-enc-"))
    _torch_export(enc, work / "fp32.onnx", 17, torch)
    enc.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(work / "fp32.onnx"), str(work / "int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    backends = {"torch eager": (enc.encode, enc.model_dir / "model.safetensors")}
    for name in ("fp32", "int8"):
        onnx = OnnxTextEncoder(work / f"{name}.onnx", work / "tokenizer.json", batch_size=args.batch,
                               threads=args.threads)
        backends[f"ONNX {name}"] = (onnx.encode, work / f"{name}.onnx")
    for fn, _ in backends.values():
        fn(texts[:args.batch])  # warm-up
    ref = None
    print(f"{args.texts} texts, batch {args.batch}, {args.threads} threads")
    print("| backend | p50 ms/batch | p99 ms/batch | texts/s | size MB | speed-up | mean cos | min cos |")
    print("|---|---|---|---|---|---|---|---|")
    base = None
    for name, (fn, path) in backends.items():
        vecs, lat = _time(fn, texts, args.batch)
        ref = vecs if ref is None else ref
        cos = (ref * vecs).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(vecs, axis=1))
        rate = len(texts) / sum(lat)
        base = rate if base is None else base
        print(f"| {name} | {np.percentile(lat, 50) * 1e3:.1f} | {np.percentile(lat, 99) * 1e3:.1f} | {rate:.0f} | "
              f"{path.stat().st_size / 1e6:.1f} | {rate / base:.2f}x | {cos.mean():.4f} | {cos.min():.4f} |")


if __name__ == "__main__":
    main()
