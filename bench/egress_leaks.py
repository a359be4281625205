"""Leaks through the REAL egress gateway: what a recording endpoint receives when labelled PII texts are sent.

Every text of each labelled JSONL set ({"id", "text", "spans": [{"type", "start", "end", "value"}]}) goes through
`open_gateway` on a temporary appliance home (initialised as the tests do, egress enabled to a loopback HTTP
stand-in that records every request body). A labelled value of >= 4 characters (DECOY spans excluded) leaks when
it arrives verbatim in a message's content. Also planted: raw ids of stored customers inside free text, in several
cases and with "_"/punctuation suffixes, counted when any arrives (case-insensitively).

Reported per set: labelled values and the share leaked, requests with at least one leak, refusals (nothing sent),
which layer caught what (the audit entry's counts), and texts/s; then leaks per entity type. The default sets are
var/bench/pii_eval/mimesis.jsonl, bench/pii_eval/handwritten.jsonl and <data>/pii-dev/pii_dev.jsonl (missing ones
are skipped with a message). Nothing is copied from the sets into the repository or the output: counts only.

Usage: nice -n 10 .venv/bin/python bench/egress_leaks.py [--data DIR] [--set FILE ...] [--limit N] [--no-ner]
       [--residual-passes 2] [--ids 40] [--seed 0] [--id-pattern REGEX ...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import track

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # nothing may try to fetch a suffix list
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _data import REPO, add_data_option
from rich.console import Console
from sqlalchemy import insert

from appliance.config import EgressConfig, load_config
from appliance.data.home import Home, init_home, open_home
from appliance.data.store import User
from appliance.demo.llm_standin import LLMStandin
from appliance.privacy.egress import EgressError, EgressGateway, open_gateway

MIN_VALUE = 4  # shorter values ("Al", "12") occur verbatim in ordinary text; counting them would measure noise
ID_TEMPLATES = ("Customer {} asked about a refund for the serum.", "ref {}: parcel missing since Monday",
                "Hi, this is {} again, my order is still pending", "Account ({}) wants the gift wrap removed.")
err = Console(stderr=True)


@dataclass
class Tally:
    values: int = 0
    leaked: int = 0
    requests: int = 0
    leaky_requests: int = 0
    refused: int = 0
    seconds: float = 0.0
    by_type: Counter = field(default_factory=Counter)  # type -> values
    leaked_by_type: Counter = field(default_factory=Counter)
    caught_by: dict = field(default_factory=dict)  # layer -> Counter(type -> count)
    refusals: Counter = field(default_factory=Counter)  # first words of the refusal reason


def default_sets(data: Path) -> list[Path]:
    return [REPO / "var/bench/pii_eval/mimesis.jsonl", REPO / "bench/pii_eval/handwritten.jsonl",
            data / "pii-dev" / "pii_dev.jsonl"]


def read_set(path: Path, limit: int) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def temporary_home(root: Path, use_ner: bool) -> Home:
    env = {"TANABAN_PATHS__DATA_DIR": str(root / "data"), "TANABAN_AUDIT__CHECKPOINT_EVERY": "0",
           "TANABAN_ANONYMIZE__USE_NER": "true" if use_ner else "false"}
    cfg = load_config(None, env=env)
    init_home(cfg)
    return open_home(cfg)


def store_customers(home: Home, count: int, rng: random.Random) -> list[str]:
    """Stored customers with three id shapes a retailer might use; returns the raw ids."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    ids = []
    for i in range(count):
        shape = i % 3
        ids.append(f"C{rng.randrange(10**6):06d}" if shape == 0 else f"cust-{rng.randrange(10**5):05d}"
                   if shape == 1 else "A" + "".join(rng.choice(letters) for _ in range(13)))
    with home.engine.begin() as conn:
        conn.execute(insert(User), [{"pseudonym": home.store_pseudonym(raw), "key_id": home.pseudonym_key.key_id}
                                    for raw in ids])
    return ids


def planted_texts(ids: Iterable[str], rng: random.Random) -> list[tuple[str, str]]:
    """(text, raw id) with the id as stored, lower- and upper-case, before "_" and before punctuation."""
    out = []
    for raw in ids:
        for variant in (raw, raw.lower(), raw.upper(), f"{raw}_2024", f"{raw.lower()}_x", f"{raw}."):
            out.append((rng.choice(ID_TEMPLATES).format(variant), raw))
    return out


def send(gateway: EgressGateway, standin: LLMStandin, text: str, tally: Tally) -> str | None:
    """The content that arrived, or None when the gateway refused."""
    before = len(standin.requests)
    try:
        result = gateway.chat([{"role": "user", "content": text}], purpose="bench")
    except EgressError as exc:
        tally.refused += 1
        tally.refusals[" ".join(str(exc).split()[2:5])] += 1
        return None
    for layer, counts in result.request.caught_by.items():
        tally.caught_by.setdefault(layer, Counter()).update(counts)
    if len(standin.requests) == before:
        raise RuntimeError("the gateway reported a send that the stand-in did not receive")
    return standin.requests[-1].json()["messages"][0]["content"]


def run_set(gateway: EgressGateway, standin: LLMStandin, rows: list[dict], name: str) -> Tally:
    tally = Tally()
    start = time.perf_counter()
    for row in track(rows, description=name, console=err, transient=True):
        values = [s for s in row["spans"] if s["type"] != "DECOY" and len(s["value"]) >= MIN_VALUE]
        arrived = send(gateway, standin, row["text"], tally)
        tally.values += len(values)
        tally.by_type.update(s["type"] for s in values)
        if arrived is None:
            continue
        tally.requests += 1
        leaked = [s for s in values if s["value"] in arrived]
        tally.leaked += len(leaked)
        tally.leaked_by_type.update(s["type"] for s in leaked)
        tally.leaky_requests += bool(leaked)
    tally.seconds = time.perf_counter() - start
    return tally


def run_ids(gateway: EgressGateway, standin: LLMStandin, planted: list[tuple[str, str]]) -> Tally:
    tally = Tally()
    start = time.perf_counter()
    for text, raw in track(planted, description="planted ids", console=err, transient=True):
        arrived = send(gateway, standin, text, tally)
        tally.values += 1
        tally.by_type["CUSTOMER_ID"] += 1
        if arrived is not None:
            tally.requests += 1
            leaked = raw.casefold() in arrived.casefold()
            tally.leaked += leaked
            tally.leaked_by_type["CUSTOMER_ID"] += leaked
            tally.leaky_requests += leaked
    tally.seconds = time.perf_counter() - start
    return tally


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _layers(caught: dict) -> str:
    parts = [f"{layer} {sum(c.values())}" for layer, c in sorted(caught.items())]
    return ", ".join(parts) or "-"


def report(results: dict[str, Tally], policy: str, use_ner: bool) -> str:
    lines = [f"Policy {policy}; NER {'on' if use_ner else 'off'}; values of >= {MIN_VALUE} characters, DECOY "
             "excluded; a leak = the value verbatim in what the endpoint received.", "",
             "| set | texts | values | leaked | leaked share | requests with a leak | refused | caught by layer "
             "(spans) | texts/s |", "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for name, t in results.items():
        texts = t.requests + t.refused
        lines.append(f"| {name} | {texts} | {t.values} | {t.leaked} | {_share(t.leaked, t.values)} | "
                     f"{t.leaky_requests} ({_share(t.leaky_requests, t.requests)}) | {t.refused} | "
                     f"{_layers(t.caught_by)} | {texts / t.seconds if t.seconds else 0:.1f} |")
    types = sorted({k for t in results.values() for k in t.by_type})
    lines += ["", "| type | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
    for kind in types:
        cells = [f"{t.leaked_by_type[kind]}/{t.by_type[kind]}" if t.by_type[kind] else "-" for t in results.values()]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    refusals = Counter()
    for t in results.values():
        refusals.update(t.refusals)
    if refusals:
        lines += ["", "Refusals: " + "; ".join(f"{reason}... x{n}" for reason, n in refusals.most_common(5))]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_data_option(parser)
    parser.add_argument("--set", dest="sets", type=Path, action="append", help="labelled JSONL set (repeatable)")
    parser.add_argument("--limit", type=int, default=0, help="texts per set (0: all)")
    parser.add_argument("--no-ner", action="store_true", help="rules only (fast; a weakened policy)")
    parser.add_argument("--ids", type=int, default=40, help="stored customers whose ids are planted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--id-pattern", action="append", default=[], metavar="REGEX",
                        help="an egress.customer_id_patterns entry (repeatable), e.g. 'C\\d{6}'")
    parser.add_argument("--residual-passes", type=int, default=2,
                        help="egress.residual_passes (0: refuse on any residual finding, the strict rule)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sets = [p for p in (args.sets or default_sets(args.data)) if p.is_file() or err.print(f"skipped {p}: missing")]
    with tempfile.TemporaryDirectory() as tmp, LLMStandin() as standin:
        home = temporary_home(Path(tmp), use_ner=not args.no_ner)
        ids = store_customers(home, args.ids, rng)
        cfg = EgressConfig(enabled=True, base_url=standin.base_url, model="bench", allowed_hosts=("127.0.0.1",),
                           api_key_env="", allow_weakened_policy=args.no_ner, timeout_s=30.0,
                           customer_id_patterns=tuple(args.id_pattern),
                           residual_passes=args.residual_passes)
        with open_gateway(home, cfg=cfg, env={}) as gateway:
            if gateway.policy.fingerprint == "unavailable":
                err.print("the anonymizer could not be built; every request would be refused")
            results = {p.name: run_set(gateway, standin, read_set(p, args.limit), p.name) for p in sets}
            results["planted customer ids"] = run_ids(gateway, standin, planted_texts(ids, rng))
            policy = gateway.policy.fingerprint
        home.engine.dispose()
    print(report(results, policy, not args.no_ner))


if __name__ == "__main__":
    main()
