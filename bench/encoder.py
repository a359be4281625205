"""Text encoder backends side by side in one run: torch eager vs ONNX fp32 vs ONNX int8 (per-channel dynamic).

Prints latency per batch (p50/p99), throughput (texts/s), CPU seconds, model size on disk, peak RSS and cosine to
torch, on product-like texts. Each backend runs in its own fresh process, so its peak RSS is its own (the ONNX
processes never import torch, as on a serving node). `--batch 1` is how serving encodes a query.
Usage: .venv/bin/python bench/encoder.py [--texts 2000] [--batch 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_TEXT = ("hydrating facial cream with hyaluronic acid for dry sensitive skin travel size gentle fragrance free "
         "matte lipstick long lasting vegan nail polish quick dry shampoo for curly hair argan oil conditioner "
         "sunscreen spf 50 mineral tinted moisturizer exfoliating scrub charcoal mask brush set eyeliner")
WORDS = _TEXT.split()
BACKENDS = ("torch eager", "ONNX fp32", "ONNX int8")


def _texts(n: int, rng: np.random.Generator) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(8, 40)))) for _ in range(n)]


def _export(work: Path) -> None:
    """fp32 ONNX export and its per-channel int8 quantization into `work` (needs torch)."""
    import torch

    from appliance.config import TextEncoderConfig
    from appliance.text.encoder import TextEncoder
    from export.encoder import _torch_export

    enc = TextEncoder(TextEncoderConfig())
    _torch_export(enc, work / "fp32.onnx", 17, torch)
    enc.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(work / "fp32.onnx"), str(work / "int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)


def _load(backend: str, work: Path, batch: int, threads: int) -> tuple[object, Path]:
    if backend == "torch eager":
        import torch

        from appliance.config import TextEncoderConfig
        from appliance.text.encoder import TextEncoder

        torch.set_num_threads(threads)
        enc = TextEncoder(TextEncoderConfig(batch_size=batch))
        return enc.encode, enc.model_dir / "model.safetensors"
    from appliance.serve.encoder import OnnxTextEncoder

    path = work / f"{backend.split()[-1]}.onnx"
    return OnnxTextEncoder(path, work / "tokenizer.json", batch_size=batch, threads=threads).encode, path


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that over from the parent across
    fork + exec, so every worker would report the exporting parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return float("nan")


def _worker(args: argparse.Namespace) -> None:
    """One backend in this process: time it, save its vectors, print one JSON line."""
    texts = _texts(args.texts, np.random.default_rng(0))
    encode, path = _load(args.worker, args.work, args.batch, args.threads)
    encode(texts[:args.batch])  # warm-up
    vecs, lat = [], []
    cpu = time.process_time()
    for i in range(0, len(texts), args.batch):
        t = time.perf_counter()
        vecs.append(encode(texts[i:i + args.batch]))
        lat.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu
    np.save(args.work / f"{args.worker.replace(' ', '_')}.npy", np.concatenate(vecs))
    rss_mb = _peak_rss_mb()
    heavy = any(m.split(".")[0] == "torch" for m in sys.modules)
    print(json.dumps({"lat": lat, "cpu": cpu, "size": path.stat().st_size, "rss_mb": rss_mb, "torch": heavy}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args)
        return
    work = Path(tempfile.mkdtemp(prefix="tanaban-bench-enc-"))
    _export(work)
    root = Path(__file__).resolve().parents[1]
    print(f"{args.texts} texts, batch {args.batch}, {args.threads} threads; each backend in a fresh process")
    print("| backend | p50 ms/batch | p99 ms/batch | texts/s | CPU s | size MB | peak RSS MB | imports torch | "
          "speed-up | mean cos | min cos |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ref, base = None, None
    for name in BACKENDS:
        cmd = [sys.executable, __file__, "--worker", name, "--work", str(work), "--texts", str(args.texts),
               "--batch", str(args.batch), "--threads", str(args.threads)]
        out = json.loads(subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True,
                                        env={**os.environ, "PYTHONPATH": str(root)}).stdout.splitlines()[-1])
        vecs = np.load(work / f"{name.replace(' ', '_')}.npy")
        ref = vecs if ref is None else ref
        cos = (ref * vecs).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(vecs, axis=1))
        lat = out["lat"]
        rate = len(ref) / sum(lat)
        base = rate if base is None else base
        print(f"| {name} | {np.percentile(lat, 50) * 1e3:.1f} | {np.percentile(lat, 99) * 1e3:.1f} | {rate:.0f} | "
              f"{out['cpu']:.1f} | {out['size'] / 1e6:.1f} | {out['rss_mb']:.0f} | {'yes' if out['torch'] else 'no'} | "
              f"{rate / base:.2f}x | {cos.mean():.4f} | {cos.min():.4f} |")


if __name__ == "__main__":
    main()
