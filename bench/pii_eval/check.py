"""Validate PII evaluation sets in the pii-dev JSONL format (one {"id", "kind", "country", "text", "spans"} a line).

Checks: schema and known types, unique ids, exact code-point offsets (`text[start:end] == value`), no overlapping
spans, every occurrence of a labelled value labelled, card numbers pass the Luhn check (ISO/IEC 7812-1 Annex B) and
IBANs have the ISO 13616 length of their country and a valid ISO 7064 mod-97-10 check.

Usage:
    python bench/pii_eval/check.py bench/pii_eval/handwritten.jsonl var/bench/pii_eval/mimesis.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
         "IBAN_CODE", "IP_ADDRESS", "ORDER_NUMBER", "CUSTOMER_ID", "LOYALTY_ID", "GIFT_CARD", "ID_DOCUMENT",
         "DATE_OF_BIRTH", "LICENSE_PLATE", "DECOY")
# ISO 13616 IBAN lengths (SWIFT IBAN registry) of the countries the sets use.
IBAN_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27,
                "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IT": 27, "LT": 20, "LU": 20, "LV": 21, "NL": 18,
                "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "TR": 26, "BR": 29, "SA": 24,
                "AE": 23, "IL": 23, "MT": 31, "CY": 28, "BG": 22, "IS": 26}


def luhn_ok(number: str) -> bool:
    """True when the digits of `number` (spaces and dashes ignored) pass the Luhn check."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12 or any(c not in "0123456789 -" for c in number):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """`prefix` (digits only) with the Luhn check digit appended."""
    for check in "0123456789":
        if luhn_ok(prefix + check):
            return prefix + check
    raise AssertionError("unreachable: one check digit always fits")


def _iban_number(iban: str) -> int:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved))


def iban_ok(value: str) -> bool:
    """True when `value` (spaces ignored) has its country's length and passes ISO 7064 mod-97-10."""
    iban = value.replace(" ", "").upper()
    if not iban.isalnum() or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    return _iban_number(iban) % 97 == 1


def iban_complete(country: str, bban: str) -> str:
    """The IBAN of `bban` in `country` with its two check digits computed (ISO 13616)."""
    check = 98 - _iban_number(f"{country}00{bban}") % 97
    return f"{country}{check:02d}{bban}"


def free_occurrences(text: str, value: str) -> Iterable[int]:
    """Start offsets of `value` in `text` where it is not glued to a letter or digit (so "Ana" is not in "Banana")."""
    i = text.find(value)
    while i != -1:
        before = text[i - 1] if i else " "
        end = i + len(value)
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() and value[0].isalnum()) and not (after.isalnum() and value[-1].isalnum()):
            yield i
        i = text.find(value, i + 1)


def record_problems(rec: dict) -> list[str]:
    """What is wrong with one record, one line each (never quoting its text)."""
    problems = []
    if not all(isinstance(rec.get(k), str) and rec.get(k) for k in ("id", "kind", "country", "text")):
        return ["id, kind, country and text must be non-empty strings"]
    text, spans = rec["text"], rec.get("spans")
    if not isinstance(spans, list):
        return ["spans must be a list"]
    previous_end = 0
    for n, s in enumerate(sorted(spans, key=lambda s: (s.get("start", 0), s.get("end", 0)))):
        where = f"span {n} ({s.get('type')})"
        if s.get("type") not in TYPES:
            problems.append(f"{where}: unknown type")
        if not (isinstance(s.get("start"), int) and isinstance(s.get("end"), int) and 0 <= s["start"] < s["end"]):
            problems.append(f"{where}: start/end must be ints with 0 <= start < end")
            continue
        if text[s["start"]:s["end"]] != s.get("value"):
            problems.append(f"{where}: text[start:end] != value")
        if s["start"] < previous_end:
            problems.append(f"{where}: overlaps the span before it")
        previous_end = max(previous_end, s["end"])
        if s.get("type") == "CREDIT_CARD" and not luhn_ok(s.get("value", "")):
            problems.append(f"{where}: fails the Luhn check")
        if s.get("type") == "IBAN_CODE" and not iban_ok(s.get("value", "")):
            problems.append(f"{where}: wrong length or mod-97 check")
    labelled = {(s.get("start"), s.get("end")) for s in spans}
    for s in spans:
        if s.get("type") != "DECOY" and isinstance(s.get("value"), str) and s["value"]:
            for i in free_occurrences(text, s["value"]):
                end = i + len(s["value"])
                if (i, end) not in labelled and not any(a < end and i < b for a, b in labelled):
                    problems.append(f"an occurrence of a {s['type']} value at {i} is not labelled")
    return problems


def check_records(records: list[dict]) -> list[str]:
    """Problems of a whole set, each prefixed with the record id (or line number)."""
    problems, ids = [], Counter(r.get("id") for r in records)
    problems += [f"{rid}: duplicate id" for rid, n in ids.items() if n > 1]
    for n, rec in enumerate(records, 1):
        problems += [f"{rec.get('id', f'line {n}')}: {p}" for p in record_problems(rec)]
    return problems


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSONL file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summary(records: list[dict]) -> str:
    """One line per type with its span count, plus text, country and no-PII counts."""
    counts = Counter(s["type"] for r in records for s in r["spans"])
    no_pii = sum(1 for r in records if not any(s["type"] != "DECOY" for s in r["spans"]))
    lines = [f"texts {len(records)}, countries {len({r['country'] for r in records})}, "
             f"kinds {len({r['kind'] for r in records})}, texts without PII {no_pii}"]
    lines += [f"  {t:<15} {counts[t]}" for t in TYPES if counts[t]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="JSONL sets to validate")
    args = parser.parse_args(argv)
    failed = False
    for path in args.files:
        records = read_jsonl(path)
        problems = check_records(records)
        print(f"{path}: {'clean' if not problems else f'{len(problems)} problems'}")
        print("\n".join(problems[:50]) if problems else summary(records))
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
