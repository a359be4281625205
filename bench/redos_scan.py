"""Worst-case regular-expression time of the anonymizer's rules on long runs without spaces (issue 12, reliability).

Python's `re` backtracks: a pattern such as `[A-Z][\\w-]*-Gasse` tried at every start inside a 20,000-character run of
"Ab-Ab-Ab-..." scans the rest of the run from each start, which is quadratic in the run's length, and a nested
quantifier under IGNORECASE can be quadratic even at one start (OWASP, "Regular expression Denial of Service"). A
review or chat text of such a run (spam, a pasted blob, "hahahaha...") would hold an egress worker for seconds to
minutes. This scan runs every rule recognizer of both egress layers (`anonymize.layers.default_layered`) on runs of
each unit at two lengths and reports those whose time grows more than --ratio times when the length grows 4x (linear
is 4x, quadratic 16x) and that take at least --floor seconds at the long length; then it times the whole egress pair
on 20,000-character texts (prose from a development set, and runs of the units).

Run it from the repository root, or with PYTHONPATH set to another code tree to compare:
    .venv/bin/python bench/redos_scan.py [--short 2000] [--long 8000] [--pair-chars 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

UNITS = ("a", "A", "Ab-", "ab-", "Aa ", "a ", "1", "1 ", "a1", "ab.", "Ab.", "a\n", "é", "Ab,", "1/", "1-", "- ", "ж",
         "ア", "一", "ก", "ا", "Ab ", "AB ", "1.", "a'")


def _seconds(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=int, default=2000)
    parser.add_argument("--long", type=int, default=8000)
    parser.add_argument("--ratio", type=float, default=6.0)
    parser.add_argument("--floor", type=float, default=0.15)
    parser.add_argument("--pair-chars", type=int, default=20000)
    parser.add_argument("--prose", default="var/dev/handwritten_dev.jsonl", help="texts joined as the prose case")
    args = parser.parse_args()

    import anonymize
    from anonymize.layers import default_layered

    print(f"code: {Path(anonymize.__file__).parent}")
    pair = default_layered()
    recognizers = {}
    for layer in (v for v in vars(pair).values() if hasattr(v, "recognizers")):
        for r in layer.recognizers:
            recognizers[id(r)] = r
    print(f"{len(recognizers)} rule recognizers; runs of {len(UNITS)} units at {args.short} and {args.long} characters")
    print("| recognizer | unit | seconds, short | seconds, long | growth |\n|---|---|---|---|---|")
    flagged = 0
    for r in recognizers.values():
        for unit in UNITS:
            long_text = (unit * args.long)[:args.long]
            slow = _seconds(lambda t, r=r: r.analyze(t, None), long_text)
            if slow < args.floor:
                continue
            fast = _seconds(lambda t, r=r: r.analyze(t, None), (unit * args.short)[:args.short])
            if slow / max(fast, 1e-4) > args.ratio:
                flagged += 1
                print(f"| {getattr(r, 'name', type(r).__name__)} | {unit!r} | {fast:.3f} | {slow:.3f} | "
                      f"{slow / max(fast, 1e-4):.1f}x |")
    print(f"{flagged} recognizer/unit pairs grow faster than {args.ratio}x\n")

    path = Path(args.prose)
    prose = "\n\n".join(json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()) \
        if path.exists() else "Please send it to Anna Berg, 12 Elm Street, Leeds. " * 400
    pair.anonymize_batch(["warm-up: Anna Berg, 12 Elm Street"])
    n = args.pair_chars
    cases = {"prose": prose[:n], **{f"run of {u!r}": (u * n)[:n] for u in ("a", "A", "Ab-", "Ab.", "a'", "Aa ")}}
    print(f"| egress pair, {n} characters | seconds |\n|---|---|")
    for name, text in cases.items():
        print(f"| {name} | {_seconds(lambda t: pair.anonymize_batch([t]), text):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
