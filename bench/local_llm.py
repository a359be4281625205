"""The local LLM (SmolLM2-135M-Instruct, appliance/text/local_llm.py) on amazon-beauty-2014 items: load time,
generated tokens per second, and the share of answers passing the output checks, for intent labels (IRLLRec,
Wang et al. SIGIR 2025) and item profiles (RLMRec, Ren et al. WWW 2024); the rest fall back to template text.

Items: `--items` sampled with a fixed seed from the catalog (derived/items.jsonl). Labels: the sampled items grouped
by leaf category, `--group` titles per prompt (groups with fewer items are padded from the same category in the
whole catalog). Profiles: one per sampled item until `--budget-s` of generation is spent (then the figures cover the
items done; the JSON says how many). Writes var/bench/local_llm.json. Usage:
  nice -n 10 .venv/bin/python bench/local_llm.py --items 50 --labels 12 --budget-s 700
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.text.intents import LocalLLMBackend, checked_labels
from appliance.text.local_llm import ITEM_PREFILL, check_profile, clean_answer, item_ask
from appliance.text.profiles import item_profile_text

BEAUTY = "amazon-beauty-2014"
OUT = Path("var/bench/local_llm.json")  # --out to keep an earlier run


def load_items(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / BEAUTY / "derived/items.jsonl").open(encoding="utf-8")]


def text_of(row: dict) -> str:
    brand = None if row.get("brand_guess") in (None, "Unknown") else row["brand_guess"]
    return item_profile_text(row["title"] or "", brand, row.get("categories") or [], None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_option(parser)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--group", type=int, default=5, help="items per intent-label prompt")
    parser.add_argument("--labels", type=int, default=12, help="label prompts at most (one per leaf category)")
    parser.add_argument("--profile-tokens", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--budget-s", type=float, default=700.0, help="generation seconds for the profiles")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = load_items(args.data)
    rng = np.random.default_rng(args.seed)
    sample = [rows[i] for i in sorted(rng.choice(len(rows), size=args.items, replace=False))]
    leaf = defaultdict(list)
    for r in rows:
        leaf[(r.get("categories") or ["?"])[-1]].append(r)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in sample:
        groups[(r.get("categories") or ["?"])[-1]].append(r)
    profiles = []
    for cat, members in sorted(groups.items()):
        extra = [r for r in leaf[cat] if r not in members]
        profiles.append("\n".join(text_of(r) for r in (members + extra)[:args.group]))
    profiles = profiles[:args.labels]

    start = time.perf_counter()
    backend = LocalLLMBackend(max_new_tokens=8, batch_size=args.batch_size)
    llm = backend.llm
    load_s = time.perf_counter() - start
    print(f"loaded in {load_s:.1f} s (from_pretrained {llm.load_seconds:.1f} s); {len(profiles)} label prompts",
          flush=True)
    answers = []
    for i, answer in enumerate(backend.iter_labels(profiles)):
        answers.append(answer)
        print(f"label {i + 1}/{len(profiles)} {llm.rate()}", flush=True)
    labels, fallbacks = checked_labels(profiles, answers)
    label_stats = dict(tokens=llm.stats.new_tokens, seconds=round(llm.stats.seconds, 1),
                       tokens_per_s=round(llm.stats.tokens_per_s, 2))
    llm.stats.__init__()
    llm.max_new_tokens = args.profile_tokens
    done, reasons, examples = 0, Counter(), []
    for lo in range(0, len(sample), args.batch_size):
        if llm.stats.seconds > args.budget_s:
            break
        part = sample[lo:lo + args.batch_size]
        asks = [item_ask(text_of(r)) for r in part]
        for r, raw in zip(part, llm.generate(asks, prefill=ITEM_PREFILL), strict=True):
            answer = clean_answer(f"{ITEM_PREFILL} {raw}")
            brand = [] if r.get("brand_guess") in (None, "Unknown") else [r["brand_guess"]]
            reason = check_profile(answer, [r["title"]], brand)
            reasons[reason or "passed"] += 1
            done += 1
            if len(examples) < 3:
                examples.append({"title": r["title"], "answer": answer, "check": reason or "passed"})
        print(f"profiles {done}/{len(sample)} {llm.rate()}", flush=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
        "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "model": llm.name, "load_s": round(load_s, 1),
        "labels": {"prompts": len(profiles), "passed": len(profiles) - len(fallbacks),
                   "fallback_reasons": dict(Counter(f["reason"] for f in fallbacks)), **label_stats,
                   "examples": [{"answer": a, "label": lab} for a, lab in zip(answers, labels, strict=True)]},
        "profiles": {"asked": done, "of": len(sample), "passed": reasons["passed"],
                     "reasons": dict(reasons), "tokens": llm.stats.new_tokens,
                     "seconds": round(llm.stats.seconds, 1), "tokens_per_s": round(llm.stats.tokens_per_s, 2),
                     "examples": examples},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
