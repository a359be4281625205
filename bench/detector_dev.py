"""Score candidate builds of the learned PII detector on DEVELOPMENT sets, with an error analysis (issue 12).

Only development data may be used to choose a build: `var/dev/mimesis_dev.jsonl` and `mimesis_dev8.jsonl`
(bench/pii_eval/mimesis_set.py with seeds 7 and 8, brand allow-lists beside them), `var/dev/handwritten_dev.jsonl`
(hand-written by another writer for development, allow-list beside it), `var/dev/handwritten_dev2.jsonl` (a third
writer's, bench/pii_eval/dev2), `var/dev/handwritten_dev3.jsonl` (a fourth writer's, bench/pii_eval/dev3),
`var/dev/handwritten_dev4.jsonl` (a fifth writer's, bench/pii_eval/dev4, precision-weighted),
`var/dev/retail_dev.src.txt` (hand-written, build_handwritten.py's markup) or a set you generate yourself with
another new seed. Never point this at the evaluation sets (handwritten, mimesis seed 0, pii-dev): they are scored
once, by bench/pii_eval.py, and are refused.
`--set` takes several comma-separated paths; `--systems ours,layered` scores the anonymizer and the egress pair
(the primary layer with the candidate detector, beside the check layer) for each model.

For each model directory it runs the anonymizer as shipped (`Anonymizer(detector_path=...)`: learned detector plus
the primary-layer rules, with the set's allow-list; with --detector-only the learned detector alone) and scores it
with bench/pii_eval.py's rules (a span is caught when >= 80% of its characters are masked; char precision = masked
characters inside labelled PII / all masked characters), then F2 = 5PR / (4P + R) on ALL-PII recall and char
precision (recall weighted, the issue's priority).
With --analyse it prints the false-positive characters by finding type and by kind (boundary overrun next to a
labelled span, whole spans on decoys, on other text), the most frequent false-positive words, and the misses by
type with their values (development data only, so printing them is fine), and every catalog-brand decoy (a DECOY
whose value is, or holds, a term of the set's allow-list) still masked, with the source of the span over it.

Usage:
    nice -n 10 .venv/bin/python bench/detector_dev.py --models anonymize/detector/model,var/det/cand1 --analyse
    nice -n 10 .venv/bin/python bench/detector_dev.py --set var/dev/handwritten_dev.jsonl,var/dev/retail_dev.src.txt \
        --systems ours,layered --json var/bench/detector_dev.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pii_eval import TYPES, catalog_matcher, score_set, summarise

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO / "var" / "dev" / "mimesis_dev.jsonl"
FORBIDDEN = ("handwritten.jsonl", "pii_dev.jsonl", "var/bench/pii_eval/mimesis.jsonl", "bench/pii_eval/src")


def f_beta(p: float | None, r: float | None, beta: float = 2.0) -> float:
    if not p or not r:
        return 0.0
    return (1 + beta * beta) * p * r / (beta * beta * p + r)


def load(path: Path) -> tuple[list[dict], list[str]]:
    resolved = path.resolve().as_posix()
    if any(resolved.endswith(f) or f"/{f}/" in resolved for f in FORBIDDEN) or "/pii-dev/" in resolved:
        raise SystemExit(f"{path} is an evaluation set; choose builds on development data only")
    if path.name.endswith(".src.txt"):  # hand-written markup: bench/pii_dev.py's parser
        from pii_dev import load_dev

        return load_dev(path.parent)[path.name.removesuffix(".src.txt")]
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    brands_path = path.with_suffix(".brands.txt")
    brands = [b.strip() for b in brands_path.read_text("utf-8").splitlines() if b.strip()] \
        if brands_path.exists() else []
    return records, brands


def source(finding: Any) -> str:
    """Who produced a kept finding: "layer:recognizer" for the egress pair (for a span only one layer found, the
    recognizers of that layer's overlapping detections, e.g. "check:spacy-ner+name-gazetteer"), else the
    recognizer."""
    layer = getattr(finding, "layer", "")
    if not layer:
        return finding.recognizer
    if layer == "both":
        return f"both:{finding.recognizer}"
    names = sorted({f.recognizer for _, f in getattr(finding, "detections", ())}) or [finding.recognizer]
    return f"{layer}:{'+'.join(names)}"


def analyse(records: list[dict], findings: list[list], examples: int = 0, brands: list[str] | None = None,
            all_misses: bool = False) -> str:
    """False-positive characters by type, kind and source (layer and recognizer), clean texts flagged and decoys
    masked by source, frequent false-positive words, misses by type; with `examples`, that many false-positive
    spans per source with 30 characters of context; with `brands` (the set's allow-list), each catalog-brand decoy
    still masked, with the type, text and source of the spans over it; with `all_misses`, every missed span with its
    text's id and 60 characters of context (development data only)."""
    fp_by_type: Counter = Counter()
    fp_by_kind: Counter = Counter()
    fp_by_source: Counter = Counter()
    clean_by_source: Counter = Counter()
    decoy_by_source: Counter = Counter()
    fp_examples: dict[str, list[str]] = defaultdict(list)
    fp_words: Counter = Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    missed_in_context: list[str] = []
    is_catalog = catalog_matcher(brands or [])
    catalog: list[str] = []
    for rec, fs in zip(records, findings, strict=True):
        text = rec["text"]
        gold = [False] * len(text)
        decoy = [False] * len(text)
        for s in rec["spans"]:
            target = decoy if s["type"] == "DECOY" else gold
            target[s["start"]:s["end"]] = [True] * (s["end"] - s["start"])
        clean = not any(gold)
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
            who = source(f)
            fp_by_source[who] += len(bad)
            clean_by_source[who] += clean
            decoy_by_source[who] += kind == "decoy"
            if examples and len(fp_examples[who]) < examples:
                left, right = text[max(0, f.start - 30):f.start], text[f.end:f.end + 30]
                fp_examples[who].append(f"{f.entity_type}[{kind}] {left}[[{text[f.start:f.end]}]]{right}"
                                        .replace("\n", "/"))
            for word in re.findall(r"\w[\w'.-]*", "".join(text[i] if not gold[i] else " " for i in
                                                         range(f.start, f.end))):
                fp_words[f"{f.entity_type}:{word}"] += 1
        for s in rec["spans"]:
            if s["type"] == "DECOY" and is_catalog is not None and is_catalog(s["value"]):
                over = [f for f in fs if f.start < s["end"] and s["start"] < f.end]
                if over:
                    catalog.append(f"{rec.get('id', '?')} {s['value']!r}: " + "; ".join(
                        f"{f.entity_type} {text[f.start:f.end]!r} by {source(f)}" for f in over).replace("\n", "/"))
            if s["type"] != "DECOY" and 5 * sum(mask[s["start"]:s["end"]]) < 4 * (s["end"] - s["start"]):
                misses[s["type"]].append(s["value"])
                left, right = text[max(0, s["start"] - 60):s["start"]], text[s["end"]:s["end"] + 60]
                missed_in_context.append(f"{rec.get('id', '?')} {s['type']} {s['value']!r} | {left}[[{s['value']}]]"
                                         f"{right}".replace("\n", "/"))
    lines = ["false-positive chars by finding type: " + ", ".join(f"{k} {v}" for k, v in fp_by_type.most_common()),
             "false-positive chars by kind: " + ", ".join(f"{k} {v}" for k, v in fp_by_kind.most_common()),
             "false-positive chars by source (chars / spans on clean texts / spans on decoys): "
             + ", ".join(f"{k} {v}/{clean_by_source[k]}/{decoy_by_source[k]}" for k, v in fp_by_source.most_common()),
             "frequent false-positive words: " + ", ".join(f"{k} x{v}" for k, v in fp_words.most_common(40))]
    for t in sorted(misses, key=lambda t: -len(misses[t])):
        lines.append(f"missed {t} ({len(misses[t])}): " + " | ".join(m.replace("\n", "/") for m in misses[t][:25]))
    if all_misses:
        lines += [f"missed spans in context ({len(missed_in_context)}):", *(f"    {m}" for m in missed_in_context)]
    if is_catalog is not None:
        lines += [f"catalog-brand decoys masked ({len(catalog)}):", *(f"    {c}" for c in catalog)]
    for who, shown in sorted(fp_examples.items(), key=lambda kv: -fp_by_source[kv[0]]):
        lines += [f"false positives of {who}:", *(f"    {e}" for e in shown)]
    return "\n".join(lines)


def _pct(rate: float | None, brands: list[str]) -> str:
    """A rate for the one-line summary: "-" for the catalog figure of a set without an allow-list."""
    return "-" if not brands else "n/a" if rate is None else f"{100 * rate:.1f}"


def build_engine(system: str, model: str, brands: list[str], detector_only: bool) -> Any:
    """The anonymizer ("ours") or the egress pair ("layered") with the detector at `model` in the primary layer."""
    from anonymize.engine import Anonymizer

    primary = Anonymizer(allow_list=brands, detector_path=str(Path(model).resolve()),
                         recognizers=[] if detector_only else None)
    if system == "ours":
        return primary
    from anonymize.layers import CHECK, LAYER_BACKENDS, LayeredAnonymizer
    from anonymize.recognizers import default_recognizers

    check = Anonymizer(allow_list=brands, ner_backend=LAYER_BACKENDS[CHECK], recognizers=default_recognizers("check"))
    return LayeredAnonymizer(primary, check)


def score_one(engine: Any, records: list[dict], brands: list[str] | None = None) -> tuple[dict, list]:
    """bench/pii_eval.py's scores of `engine` on `records` (catalog-brand decoys from `brands`), F2 and findings."""
    texts = [r["text"] for r in records]
    findings = engine.analyze_many(texts)
    masked = [r.text for r in engine.anonymize_batch(texts)]
    s = summarise(score_set(records, [[(f.start, f.end) for f in fs] for fs in findings], masked, brands or ()))
    s["f2"] = f_beta(s["char_precision"], s["all_pii_recall"])
    return s, findings


def speed(set_path: Path, models: list[str], rounds: int, systems: tuple[str, ...] = ("ours",)) -> dict[str, float]:
    """texts/s of `anonymize_batch` per model and system ("ours": the anonymizer, "layered": the egress pair), best
    of `rounds` alternating rounds, and the ratio to the first model of the same system. To compare two versions of
    the code, run this in alternating processes with PYTHONPATH on each version."""
    import time

    records, brands = load(set_path)
    texts = [r["text"] for r in records]
    keys = [f"{m}|{system}" for system in systems for m in models]
    engines = {key: build_engine(key.split("|")[1], key.split("|")[0], brands, False) for key in keys}
    for engine in engines.values():
        engine.anonymize_batch(texts[:50])  # load and warm up
    best = dict.fromkeys(keys, float("inf"))
    for _ in range(rounds):
        for key, engine in engines.items():
            started = time.perf_counter()
            engine.anonymize_batch(texts)
            best[key] = min(best[key], time.perf_counter() - started)
    chars = sum(map(len, texts)) / len(texts)
    rates = {key: len(texts) / best[key] for key in keys}
    for key in keys:
        first = f"{models[0]}|{key.split('|')[1]}"
        print(f"speed {key}: {rates[key]:.0f} texts/s ({chars:.0f} chars/text on average), "
              f"{rates[key] / rates[first]:.2f}x {first}", flush=True)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=str(DEV_SET),
                        help="comma-separated development sets (pii-dev JSONL, or *.src.txt markup)")
    parser.add_argument("--models", default="anonymize/detector/model", help="comma-separated model directories")
    parser.add_argument("--systems", default="ours", help="comma-separated: ours (anonymizer), layered (egress pair)")
    parser.add_argument("--analyse", action="store_true", help="print the error analysis for each model")
    parser.add_argument("--examples", type=int, default=0, metavar="N",
                        help="with --analyse: also print N false-positive spans per source, with context")
    parser.add_argument("--misses", action="store_true",
                        help="with --analyse: also print every missed span with its text's id and context")
    parser.add_argument("--detector-only", action="store_true",
                        help="the learned detector alone (no rule recognizers): a score that rule changes do not move")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores as JSON here")
    parser.add_argument("--speed", type=int, default=0, metavar="ROUNDS",
                        help="also time `anonymize_batch` of each model and system on the first set (best of "
                             "ROUNDS, models alternating within each round, so a busy machine slows all of them "
                             "alike)")
    parser.add_argument("--no-score", action="store_true", help="with --speed: time only, score nothing")
    args = parser.parse_args(argv)
    out: dict[str, dict] = {}
    sets = [Path(p) for p in args.set.split(",") if p]
    if args.speed:
        out["speed"] = speed(sets[0], args.models.split(","), args.speed, tuple(args.systems.split(",")))
    for set_path in [] if args.no_score else sets:
        records, brands = load(set_path)
        totals = Counter(s["type"] for r in records for s in r["spans"] if s["type"] != "DECOY")
        print(f"== {set_path.name}: {len(records)} texts, {sum(totals.values())} PII spans", flush=True)
        for model in args.models.split(","):
            for system in args.systems.split(","):
                engine = build_engine(system, model, brands, args.detector_only)
                s, findings = score_one(engine, records, brands)
                out.setdefault(set_path.name, {})[f"{model}|{system}"] = {**s, "texts": len(records)}
                per_type = " ".join(f"{t[:6]} {100 * s['recall'][t]:.1f}/{totals[t]}" for t in TYPES if totals[t])
                print(f"{model} [{system}]: F2 {s['f2']:.4f} recall {100 * s['all_pii_recall']:.1f} char-P "
                      f"{100 * s['char_precision']:.1f} span-P {100 * s['span_precision']:.1f} decoys "
                      f"{100 * (s['decoys_masked'] or 0):.1f} "
                      f"catalog-brand-decoys {_pct(s['catalog_decoys_masked'], brands)} "
                      f"clean-flagged {100 * (s['clean_flagged'] or 0):.1f} "
                      f"leaks {100 * (s['leak_share'] or 0):.1f} | {per_type}",
                      flush=True)
                if args.analyse:
                    print(analyse(records, findings, args.examples, brands, args.misses), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
