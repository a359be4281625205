"""Score candidate builds of the learned PII detector on a DEVELOPMENT set, with an error analysis (issue 12).

Only development data may be used to choose a build: `var/dev/mimesis_dev.jsonl` (bench/pii_eval/mimesis_set.py
with `--seed 7 --n 400`, brand allow-list beside it) or a set you generate yourself with another new seed. Never
point this at the evaluation sets (handwritten, mimesis seed 0, pii-dev): they are scored once, by bench/pii_eval.py.

For each model directory it runs the anonymizer as shipped (`Anonymizer(detector_path=...)`: learned detector plus
the primary-layer rules, with the set's allow-list; with --detector-only the learned detector alone) and scores it
with bench/pii_eval.py's rules (a span is caught when >= 80% of its characters are masked; char precision = masked
characters inside labelled PII / all masked characters), then F2 = 5PR / (4P + R) on ALL-PII recall and char
precision (recall weighted, the issue's priority).
With --analyse it prints the false-positive characters by finding type and by kind (boundary overrun next to a
labelled span, whole spans on decoys, on other text), the most frequent false-positive words, and the misses by
type with their values (development data only, so printing them is fine).

Usage:
    nice -n 10 .venv/bin/python bench/detector_dev.py --models anonymize/detector/model,var/det/cand1 --analyse
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pii_eval import TYPES, score_set, summarise

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO / "var" / "dev" / "mimesis_dev.jsonl"
FORBIDDEN = ("handwritten.jsonl", "pii_dev.jsonl", "var/bench/pii_eval/mimesis.jsonl")


def f_beta(p: float | None, r: float | None, beta: float = 2.0) -> float:
    if not p or not r:
        return 0.0
    return (1 + beta * beta) * p * r / (beta * beta * p + r)


def load(path: Path) -> tuple[list[dict], list[str]]:
    if any(path.resolve().as_posix().endswith(f) for f in FORBIDDEN):
        raise SystemExit(f"{path} is an evaluation set; choose builds on development data only")
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    brands_path = path.with_suffix(".brands.txt")
    brands = [b.strip() for b in brands_path.read_text("utf-8").splitlines() if b.strip()] \
        if brands_path.exists() else []
    return records, brands


def analyse(records: list[dict], findings: list[list]) -> str:
    """False-positive characters by type and kind, frequent false-positive words, misses by type."""
    fp_by_type: Counter = Counter()
    fp_by_kind: Counter = Counter()
    fp_words: Counter = Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    for rec, fs in zip(records, findings, strict=True):
        text = rec["text"]
        gold = [False] * len(text)
        decoy = [False] * len(text)
        for s in rec["spans"]:
            target = decoy if s["type"] == "DECOY" else gold
            target[s["start"]:s["end"]] = [True] * (s["end"] - s["start"])
        mask = [False] * len(text)
        for f in fs:
            mask[f.start:f.end] = [True] * (f.end - f.start)
            bad = [i for i in range(f.start, f.end) if not gold[i]]
            if not bad:
                continue
            fp_by_type[f.entity_type] += len(bad)
            touches = any(gold[f.start:f.end])
            kind = "overrun" if touches else "decoy" if any(decoy[f.start:f.end]) else "other"
            fp_by_kind[kind] += len(bad)
            for word in re.findall(r"\w[\w'.-]*", "".join(text[i] if not gold[i] else " " for i in
                                                         range(f.start, f.end))):
                fp_words[f"{f.entity_type}:{word}"] += 1
        for s in rec["spans"]:
            if s["type"] != "DECOY" and 5 * sum(mask[s["start"]:s["end"]]) < 4 * (s["end"] - s["start"]):
                misses[s["type"]].append(s["value"])
    lines = ["false-positive chars by finding type: " + ", ".join(f"{k} {v}" for k, v in fp_by_type.most_common()),
             "false-positive chars by kind: " + ", ".join(f"{k} {v}" for k, v in fp_by_kind.most_common()),
             "frequent false-positive words: " + ", ".join(f"{k} x{v}" for k, v in fp_words.most_common(40))]
    for t in sorted(misses, key=lambda t: -len(misses[t])):
        lines.append(f"missed {t} ({len(misses[t])}): " + " | ".join(m.replace("\n", "/") for m in misses[t][:25]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=DEV_SET, help="development set (pii-dev JSONL format)")
    parser.add_argument("--models", default="anonymize/detector/model", help="comma-separated model directories")
    parser.add_argument("--analyse", action="store_true", help="print the error analysis for each model")
    parser.add_argument("--detector-only", action="store_true",
                        help="the learned detector alone (no rule recognizers): a score that rule changes do not move")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores as JSON here")
    args = parser.parse_args(argv)
    from anonymize.engine import Anonymizer

    records, brands = load(args.set)
    texts = [r["text"] for r in records]
    totals = Counter(s["type"] for r in records for s in r["spans"] if s["type"] != "DECOY")
    out = {}
    for model in args.models.split(","):
        engine = Anonymizer(allow_list=brands, detector_path=str(Path(model).resolve()),
                            recognizers=[] if args.detector_only else None)
        findings = engine.analyze_many(texts)
        masked = [r.text for r in engine.anonymize_batch(texts)]
        s = summarise(score_set(records, [[(f.start, f.end) for f in fs] for fs in findings], masked))
        s["f2"] = f_beta(s["char_precision"], s["all_pii_recall"])
        out[model] = s
        per_type = " ".join(f"{t[:6]} {100 * s['recall'][t]:.1f}" for t in TYPES if totals[t])
        print(f"{model}: F2 {s['f2']:.4f} recall {100 * s['all_pii_recall']:.1f} char-P "
              f"{100 * s['char_precision']:.1f} span-P {100 * s['span_precision']:.1f} decoys "
              f"{100 * (s['decoys_masked'] or 0):.1f} leaks {100 * (s['leak_share'] or 0):.1f} | {per_type}",
              flush=True)
        if args.analyse:
            print(analyse(records, findings), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
