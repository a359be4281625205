"""Benchmark: constrained beam search of the generative recommender: transformers' own `model.generate` (beam 20,
`prefix_allowed_tokens_fn` over the code trie), our torch eager beam search (appliance.generative.model.generate), and
the torch-free numpy beam search over the ONNX decoder-with-past, fp32 and int8 (appliance.serve.decoder).

Same model for all three: the `small` preset (Qwen2, hidden 64, 2 layers) with random weights, or trained for
`--epochs` epochs on the generated sample (appliance.demo.sample, 3000 items, 1500 users). Item codes have 3 levels of
32 values: level 1 is the product type (two types per value, 29 values), levels 2-3 are random and unique within
it, a stand-in for TIGER-style semantic IDs with the same branching; decoding cost does not depend on the weights.
Beam 20, top-10, history masked (generate: the prefix function also drops trie branches whose items the user
all has, as our trie does), one thread each. generate runs `max_new_tokens` = code depth (3 here; no EOS step).
Prints latency p50/p99 and CPU time per user (one user per call), users/s (batches of 64 users), model file size,
the export gates, the speed-up of each of our paths over generate, and agreement of the lists with generate and
with our torch path, and Recall/NDCG@10 of each path on the decoded users' test items.
Run: `nice -n 10 timeout 1800 .venv/bin/python bench/gen_decode.py --users 200 --epochs 5`
On Beauty (S3Rec split, read from the shared data folder `--data`) with a model saved by `bench/gen_beauty.py --save
DIR`: `OMP_NUM_THREADS=1 .venv/bin/python bench/gen_decode.py --users 500 --beauty-model DIR`
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import GenConfig, SampleConfig
from appliance.data.splits import split_from_sequences
from appliance.demo.sample import build_sample
from appliance.generative.model import GenerativeRecommender
from appliance.generative.tasks import seq_prompt
from appliance.generative.tokenizer import EOS, PAD
from appliance.serve.decoder import DECODER_FILE, GenerativeDecoder
from export.generative import export_generative

OUT = Path("var/bench/gen_decode")
LEVELS = (32, 32, 32)


def build_model(epochs: int) -> tuple[GenerativeRecommender, object]:
    sample = build_sample(SampleConfig())
    n_items = len(sample.catalog.items)
    seqs: list[list[int]] = [[] for _ in sample.customers]
    for user, item, _ts in sample.purchases:
        seqs[user].append(item)
    split = split_from_sequences([np.array(s) for s in seqs], n_items)
    codes = semantic_like_codes(sample.catalog.item_type)
    texts = [f"{r['title']} {r.get('brand', '')}" for r in sample.catalog.items]
    cfg = GenConfig(preset="small", tasks=("seq",), beam=20, max_epochs=max(epochs, 1), valid_users=200,
                    windows_per_user=3)
    model = GenerativeRecommender(cfg, codes, item_texts=texts, level_sizes=LEVELS)
    if epochs > 0:
        model.fit(split, progress=True)
    else:
        model.build()
        model.bind(split)
    return model, split


def load_beauty_model(directory: Path, data: Path) -> tuple[GenerativeRecommender, object]:
    """A generative model trained on Beauty by bench/gen_beauty.py (`--save`), bound to the same split (read from the
    shared data folder `data`)."""
    from gen_beauty import read_data  # bench/ is on sys.path when run as a script

    sequences, texts = read_data(data)
    split = split_from_sequences(sequences, len(texts))
    model = GenerativeRecommender.load(directory)
    model.bind(split)
    return model, split


def semantic_like_codes(item_type: np.ndarray) -> np.ndarray:
    """Level 1 groups product types two per value; levels 2-3 are random and unique within the group."""
    rng = np.random.default_rng(0)
    codes = np.zeros((len(item_type), 3), np.int64)
    codes[:, 0] = item_type // 2
    for group in np.unique(codes[:, 0]):
        rows = np.flatnonzero(codes[:, 0] == group)
        flat = rng.choice(LEVELS[1] * LEVELS[2], len(rows), replace=False)
        codes[rows, 1], codes[rows, 2] = np.divmod(flat, LEVELS[2])
    return codes


class PrefixTrie:
    """The code trie as transformers' `prefix_allowed_tokens_fn` wants it: allowed next token ids per prefix."""

    def __init__(self, codes: np.ndarray, offsets: np.ndarray, eos: int) -> None:
        self.codes, self.offsets, self.eos, self.depth = codes, offsets, eos, codes.shape[1]
        self.children: dict[tuple[int, ...], list[int]] = {}
        self.leaves: Counter[tuple[int, ...]] = Counter()
        self.item = {tuple(int(v) for v in c): i for i, c in enumerate(codes)}
        for code in self.item:
            for d in range(self.depth + 1):
                self.leaves[code[:d]] += 1
            for d in range(self.depth):
                kids = self.children.setdefault(code[:d], [])
                if code[d] not in kids:
                    kids.append(code[d])

    def dead(self, history: np.ndarray) -> set[tuple[int, ...]]:
        """Prefixes all of whose items the user has (our trie's exclusion rule)."""
        counts = Counter(tuple(int(v) for v in self.codes[i][:d]) for i in set(history.tolist())
                         for d in range(self.depth + 1))
        return {p for p, n in counts.items() if n >= self.leaves[p]}

    def allowed_fn(self, histories: list[np.ndarray], width: int):
        dead = [self.dead(h) for h in histories]

        def allowed(batch_id: int, ids) -> list[int]:
            gen = ids[width:].tolist()
            prefix = tuple(t - int(self.offsets[d]) for d, t in enumerate(gen))
            if len(prefix) >= self.depth:
                return [self.eos]
            lo = int(self.offsets[len(prefix)])
            ok = [lo + v for v in self.children.get(prefix, []) if (*prefix, v) not in dead[batch_id]]
            return ok or [self.eos]  # a beam off the trie (only when too few items remain) ends; it maps to -1

        return allowed

    def to_items(self, tokens: np.ndarray) -> list[int]:
        return [self.item.get(tuple(int(t) - int(o) for t, o in zip(row, self.offsets, strict=False)), -1)
                for row in tokens]


def hf_generate(model: GenerativeRecommender, trie: PrefixTrie, histories: list[np.ndarray], k: int,
                beam: int = 20) -> np.ndarray:
    """transformers' beam search (num_beams = num_return_sequences = beam): (B, k) item indices, -1 padded."""
    tok = model.tokenizer
    prompts = [seq_prompt(tok, model.codes, h, model.cfg.history_len) for h in histories]
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[tok.token_id(PAD)] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    with torch.inference_mode():
        out = model.lm.generate(input_ids=ids, attention_mask=mask, num_beams=beam, num_return_sequences=beam,
                                max_new_tokens=trie.depth, do_sample=False, use_cache=True,
                                prefix_allowed_tokens_fn=trie.allowed_fn(histories, width),
                                pad_token_id=tok.token_id(PAD), eos_token_id=tok.token_id(EOS),
                                output_scores=True, return_dict_in_generate=True)
    items = np.array(trie.to_items(out.sequences[:, width:width + trie.depth].numpy())).reshape(len(prompts), beam)
    finite = np.isfinite(out.sequences_scores.numpy().reshape(len(prompts), beam)) & (items >= 0)
    rows = [row[ok][:k] for row, ok in zip(items, finite, strict=True)]  # already best first
    return np.array([np.pad(r, (0, k - len(r)), constant_values=-1) for r in rows])


def timed(fn, batches: list) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    times, cpu, outs = [], [], []
    for batch in batches:
        start, start_cpu = time.perf_counter(), time.process_time()
        outs.append(fn(batch))
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return np.array(times), np.array(cpu), outs


def measure(name: str, fn, histories: list[np.ndarray], size: int) -> dict:
    fn(histories[:4])  # warm-up: allocations, ORT arena, torch kernels
    single, cpu, outs = timed(fn, [[h] for h in histories])
    batched, _, _ = timed(fn, [histories[i:i + 64] for i in range(0, len(histories), 64)])
    return {"name": name, "p50": 1000 * np.percentile(single, 50), "p99": 1000 * np.percentile(single, 99),
            "cpu": 1000 * cpu.mean(), "users_s": len(histories) / batched.sum(), "size": size,
            "items": np.concatenate(outs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="test users decoded per variant")
    parser.add_argument("--epochs", type=int, default=0, help="training epochs before export (0: random weights)")
    parser.add_argument("--beauty-model", type=Path, help="a model saved by bench/gen_beauty.py --save (Beauty)")
    add_data_option(parser)  # read only with --beauty-model
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, split = load_beauty_model(args.beauty_model, args.data) if args.beauty_model else build_model(args.epochs)
    shutil.rmtree(OUT, ignore_errors=True)
    start = time.perf_counter()
    gate = export_generative(model, OUT / "int8", split=split, quantize=True)
    export_s = time.perf_counter() - start
    export_generative(model, OUT / "fp32", split=split, quantize=False)
    print(f"export + gates: {export_s:.1f} s; gate: {gate}")
    candidates = np.flatnonzero(np.diff(split.test.indptr) > 0)  # users with a test item
    users = candidates[np.linspace(0, len(candidates) - 1, args.users).round().astype(int)]
    histories = [split.sequences("test")[u] for u in users]
    torch_size = sum(p.numel() * 4 for p in model.lm.parameters())
    trie = PrefixTrie(model.codes, model.tokenizer.code_offsets, model.tokenizer.token_id(EOS))
    rows = [measure("transformers generate (torch eager, fp32)", lambda h: hf_generate(model, trie, h, 10),
                    histories, torch_size),
            measure("our beam search, torch eager (fp32)", lambda h: model.recommend_for(h, h, 10)[0], histories,
                    torch_size)]
    for precision in ("fp32", "int8"):
        decoder = GenerativeDecoder(OUT / precision)
        rows.append(measure(f"ONNX {precision} + numpy beam" + (" (gate chose fp32)" if precision == "int8" and
                                                                gate["chosen"] != "int8" else ""),
                            lambda h, d=decoder: d.recommend(h, 10), histories,
                            (OUT / precision / DECODER_FILE).stat().st_size))
    print(f"\n{len(histories)} users, beam 20, top-10, 1 thread; model {dataclasses.asdict(model.cfg)['preset']} "
          f"({sum(p.numel() for p in model.lm.parameters()):,} parameters, vocab {model.lm.config.vocab_size})\n")
    print("| decoder | p50 ms/user | p99 ms/user | CPU ms/user | users/s (batch 64) | generate p50 / this p50 | "
          "model size | same top-10 as generate | same top-10 as our torch | R@10 | N@10 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    targets = np.array([split.test.indices[split.test.indptr[u]] for u in users])  # one test item per user
    for r in rows:
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['cpu']:.1f} | {r['users_s']:.1f} | "
              f"{rows[0]['p50'] / r['p50']:.1f}x | {r['size'] / 1e6:.2f} MB | {_agree(r['items'], rows[0]['items'])} "
              f"| {_agree(r['items'], rows[1]['items'])} | {_quality(r['items'], targets)} |")


def _quality(items: np.ndarray, targets: np.ndarray) -> str:
    """Recall@10 and NDCG@10 with one held-out item per user (leave-one-out)."""
    hit = items == targets[:, None]
    gains = (hit / np.log2(np.arange(2, items.shape[1] + 2))).sum(axis=1)
    return f"{hit.any(axis=1).mean():.4f} | {gains.mean():.4f}"


def _agree(items: np.ndarray, ref: np.ndarray) -> str:
    same = np.mean((items == ref).all(axis=1))
    overlap = np.mean([len(np.intersect1d(a[a >= 0], b[b >= 0])) / 10 for a, b in zip(items, ref, strict=True)])
    return f"{same:.1%} identical, {overlap:.1%} overlap"


if __name__ == "__main__":
    main()
