"""Build bench/pii_eval/handwritten.jsonl and brands.txt from the hand-written sources in bench/pii_eval/src/*.txt.

With `--src DIR --out FILE` it builds another hand-written set the same way, e.g. the development set of
bench/pii_eval/dev/src (its brands file is written beside FILE as FILE's stem + `.brands.txt`).

Source format: each text starts with a header line `## <kind> <ISO country>`; the lines after it, up to the next
header, are the text (trailing blank lines dropped). Labelled values are marked inline as `{T|value}`, T one of the
codes in CODES; the markup is removed and the offsets are computed here, so no offset is ever typed by hand. Every
further free occurrence of a labelled value (not glued to a letter or digit) is labelled too. `{X|...}` marks a
catalog brand or product decoy (it also goes to brands.txt, the allow-list the appliance gets from its catalog);
`{x|...}` marks any other decoy (a shop hotline, a store branch, an order date). `{V|...}` marks a vehicle licence
plate (LICENSE_PLATE).

Usage:
    python bench/pii_eval/build_handwritten.py && python bench/pii_eval/check.py bench/pii_eval/handwritten.jsonl
    python bench/pii_eval/build_handwritten.py --src bench/pii_eval/dev/src --out var/dev/handwritten_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from check import check_records, free_occurrences, summary

HERE = Path(__file__).resolve().parent
CODES = {"P": "PERSON", "L": "LOCATION", "S": "STREET_ADDRESS", "Z": "POSTCODE", "T": "PHONE_NUMBER",
         "E": "EMAIL_ADDRESS", "C": "CREDIT_CARD", "I": "IBAN_CODE", "N": "IP_ADDRESS", "O": "ORDER_NUMBER",
         "U": "CUSTOMER_ID", "Y": "LOYALTY_ID", "G": "GIFT_CARD", "D": "ID_DOCUMENT", "B": "DATE_OF_BIRTH",
         "V": "LICENSE_PLATE", "X": "DECOY", "x": "DECOY"}
MARK = re.compile(r"\{([A-Za-z])\|([^{}]+)\}")
HEADER = re.compile(r"^## (\w+) ([A-Z]{2})\s*$")


class SourceError(ValueError):
    """A source file is malformed; the message names the file and line."""


def parse_text(marked: str) -> tuple[str, list[dict], list[str]]:
    """Plain text, its spans and its brand decoys from one marked-up text."""
    out, spans, brands, pos = [], [], [], 0
    for m in MARK.finditer(marked):
        code, value = m.group(1), m.group(2)
        if code not in CODES:
            raise SourceError(f"unknown code {code!r}")
        out.append(marked[pos:m.start()])
        start = sum(map(len, out))
        spans.append({"type": CODES[code], "start": start, "end": start + len(value), "value": value})
        brands += [value] if code == "X" else []
        out.append(value)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    if "{" in text or "}" in text:
        raise SourceError("unbalanced or malformed {T|value} markup")
    return text, _with_repeats(text, spans), brands


def _with_repeats(text: str, spans: list[dict]) -> list[dict]:
    """`spans` plus a span for every other free occurrence of a labelled PII value."""
    result = list(spans)
    for s in spans:
        if s["type"] == "DECOY":
            continue
        for i in free_occurrences(text, s["value"]):
            end = i + len(s["value"])
            if not any(r["start"] < end and i < r["end"] for r in result):
                result.append({**s, "start": i, "end": end})
    return sorted(result, key=lambda s: s["start"])


def read_source(path: Path) -> list[tuple[str, str, str, int]]:
    """(kind, country, marked text, header line number) for every text of one source file."""
    blocks: list[tuple[str, str, list[str], int]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        header = HEADER.match(line)
        if header:
            blocks.append((header.group(1), header.group(2), [], n))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip():
            raise SourceError(f"{path.name}:{n}: text before the first '## kind CC' header")
    return [(kind, cc, "\n".join(lines).strip("\n"), n) for kind, cc, lines, n in blocks]


def build(src_dir: Path = HERE / "src", prefix: str = "hw") -> tuple[list[dict], list[str]]:
    """All records (ids <prefix>-0001...) and the sorted brand allow-list."""
    records, brands = [], set()
    paths = sorted(src_dir.glob("*.txt"))
    if not paths:
        raise SourceError(f"{src_dir}: no *.txt sources; pass --src a folder of '## kind CC' source files")
    for path in paths:
        for kind, country, marked, line in read_source(path):
            try:
                text, spans, found = parse_text(marked)
            except SourceError as e:
                raise SourceError(f"{path.name}:{line}: {e}") from None
            records.append({"id": f"{prefix}-{len(records) + 1:04d}", "kind": kind, "country": country, "text": text,
                            "spans": spans})
            brands.update(found)
    return records, sorted(brands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only verify that the built files match the sources")
    parser.add_argument("--src", type=Path, default=HERE / "src", help="folder of *.txt sources (default: src/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSONL to write; its brands go to <stem>.brands.txt beside it "
                             "(default: handwritten.jsonl and brands.txt here)")
    parser.add_argument("--prefix", default=None, help="record id prefix (default: hw, or hwdev with --out)")
    args = parser.parse_args(argv)
    out = args.out or HERE / "handwritten.jsonl"
    brands_path = HERE / "brands.txt" if args.out is None else out.with_name(out.stem + ".brands.txt")
    try:
        records, brands = build(args.src, args.prefix or ("hw" if args.out is None else "hwdev"))
    except (OSError, SourceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    problems = check_records(records)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        return 1
    outputs = {out: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
               brands_path: "".join(b + "\n" for b in brands)}
    if args.check:
        stale = [p.name for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        print(f"out of date, rebuild: {', '.join(stale)}" if stale else "up to date")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(summary(records))
    print(f"brands {len(brands)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
