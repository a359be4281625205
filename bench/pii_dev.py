"""Score the anonymizer on DEVELOPMENT data only, and show where its false-positive characters and misses come from
(issue 12, precision work). Never point it at an evaluation set (bench/pii_eval/handwritten.jsonl, the mimesis
seed-0 set, pii-dev): those are scored once, by bench/pii_eval.py, and tuning against them is what issue 12 forbids.

Dev sets, read from var/dev/ (git-ignored, never shipped): `*.jsonl` in the pii-dev format (brand allow-list in
`<name>.brands.txt` beside it) and `*.src.txt` written by hand in build_handwritten.py's `{T|value}` markup (plus
`{K|...}` for LICENSE_PLATE; `{X|...}` brand decoys go to the allow-list). Scoring is bench/pii_eval.py's
(`score_set`, `summarise`): recall per type (>= 80% of a span's characters masked), character precision, decoys
masked, leaks.

Usage:
    nice -n 10 .venv/bin/python bench/pii_dev.py [--systems ours,layered] [--fp 40] [--misses 40] [--no-allow]
    .venv/bin/python bench/pii_dev.py --export var/bench/dev   # JSONL copies for bench/egress_leaks.py --set
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "pii_eval"))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import build_handwritten  # noqa: E402  (the markup parser of the hand-written eval set; its code, not its data)
from pii_eval import TYPES, score_set, summarise  # noqa: E402

DEV = HERE.parent / "var" / "dev"
build_handwritten.CODES.setdefault("K", "LICENSE_PLATE")


def load_dev(folder: Path = DEV) -> dict[str, tuple[list[dict], list[str]]]:
    """name -> (records, brand allow-list) for every dev set in `folder`."""
    sets: dict[str, tuple[list[dict], list[str]]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        brands = path.with_suffix(".brands.txt")
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets[path.stem] = (rows, _lines(brands))
    for path in sorted(folder.glob("*.src.txt")):
        rows, brands = [], set()
        for n, (kind, country, marked) in enumerate(_sources(path)):
            text, spans, decoys = build_handwritten.parse_text(marked)
            rows.append({"id": f"{path.stem}-{n}", "kind": kind, "country": country, "text": text, "spans": spans})
            brands.update(decoys)
        sets[path.name.removesuffix(".src.txt")] = (rows, sorted(brands))
    return sets


def _lines(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def _sources(path: Path) -> list[tuple[str, str, str]]:
    out, head, body = [], None, []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "## end XX"]:
        m = build_handwritten.HEADER.match(line)
        if m:
            if head is not None:
                out.append((*head, "\n".join(body).strip("\n")))
            head, body = (m.group(1), m.group(2)), []
        else:
            body.append(line)
    return out


def build(name: str, allow: list[str]):
    if name == "layered":
        from anonymize.layers import default_layered
        return default_layered(allow_list=allow)
    from anonymize.engine import Anonymizer
    return Anonymizer(allow_list=allow, use_ner=name == "ours")


def diagnose(records: list[dict], findings: list[list], fp_limit: int, miss_limit: int) -> None:
    """Print false-positive characters by (type, recognizer) and examples, and missed spans by type."""
    fp_chars: Counter = Counter()
    examples: dict = {}
    missed: Counter = Counter()
    miss_examples: list[str] = []
    decoys: dict[str, str] = {}
    for rec, found in zip(records, findings, strict=True):
        text = rec["text"]
        gold = [False] * len(text)
        for s in rec["spans"]:
            if s["type"] != "DECOY":
                gold[s["start"]:s["end"]] = [True] * (s["end"] - s["start"])
        mask = [False] * len(text)
        for f in found:
            mask[f.start:f.end] = [True] * (f.end - f.start)
            bad = sum(not gold[i] for i in range(f.start, f.end))
            if bad:
                key = (f.entity_type, f.recognizer)
                fp_chars[key] += bad
                extra = "".join(ch if not gold[f.start + i] else "_" for i, ch in enumerate(text[f.start:f.end]))
                examples.setdefault(key, []).append(f"{text[f.start:f.end]!r} -> {extra!r}")
        for s in rec["spans"]:
            if s["type"] == "DECOY":
                hits = [f"{f.entity_type}/{f.recognizer}:{text[f.start:f.end]!r}" for f in found
                        if f.start < s["end"] and s["start"] < f.end]
                if hits:
                    decoys[s["value"]] = ", ".join(hits)
            if s["type"] != "DECOY" and 5 * sum(mask[s["start"]:s["end"]]) < 4 * (s["end"] - s["start"]):
                missed[s["type"]] += 1
                ctx = text[max(0, s["start"] - 30):s["end"] + 15].replace("\n", " | ")
                miss_examples.append(f"{s['type']}: {s['value']!r} in ...{ctx}...")
    print(f"\nfalse-positive characters by (type, recognizer): total {sum(fp_chars.values())}")
    for key, n in fp_chars.most_common():
        print(f"  {n:6d}  {key}")
        for ex in examples[key][:fp_limit]:
            print(f"            {ex}")
    print(f"\nmissed spans by type: {dict(missed.most_common())}")
    for ex in miss_examples[:miss_limit]:
        print(f"  {ex}")
    print(f"\ndecoys masked ({len(decoys)} distinct):")
    for value, hits in list(decoys.items())[:miss_limit]:
        print(f"  {value!r}: {hits}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default="ours,layered")
    parser.add_argument("--sets", default="", help="comma-separated dev set names (default: all in var/dev)")
    parser.add_argument("--fp", type=int, default=0, metavar="N", help="print N false-positive examples per source")
    parser.add_argument("--misses", type=int, default=0, metavar="N", help="print N missed spans")
    parser.add_argument("--no-allow", action="store_true", help="run without the brand allow-list")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="only write each dev set as JSONL to DIR (for bench/egress_leaks.py --set) and stop")
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.sets.split(",")))
    for set_name, (records, brands) in load_dev().items():
        if wanted and set_name not in wanted:
            continue
        if args.export is not None:
            args.export.mkdir(parents=True, exist_ok=True)
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            (args.export / f"{set_name}.jsonl").write_text(lines, encoding="utf-8")
            continue
        for name in args.systems.split(","):
            engine = build(name, [] if args.no_allow else brands)
            findings = engine.analyze_many([r["text"] for r in records])
            masked = [r.text for r in engine.anonymize_batch([r["text"] for r in records])]
            result = summarise(score_set(records, [[(f.start, f.end) for f in fs] for fs in findings], masked))
            total = Counter(s["type"] for r in records for s in r["spans"])
            recall = ", ".join(f"{t} {result['recall'][t]:.2f}/{total[t]}" for t in TYPES if t in result["recall"])
            pct = {k: "n/a" if result[k] is None else f"{result[k]:.3f}"
                   for k in ("all_pii_recall", "char_precision", "span_precision", "decoys_masked", "leak_share")}
            print(f"== {set_name} / {name}: {len(records)} texts | ALL recall {pct['all_pii_recall']} | char prec "
                  f"{pct['char_precision']} | span prec {pct['span_precision']} | decoys masked "
                  f"{pct['decoys_masked']} | leak share {pct['leak_share']} ({result['leaks']})")
            print(f"   {recall}")
            if args.fp or args.misses:
                diagnose(records, findings, args.fp, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
