"""Audit log throughput: appends per second (one committed transaction each, WAL, synchronous=FULL, a signed
checkpoint every 100 entries) and verification rows per second over the whole log; prints one markdown row.
With --url, the same on PostgreSQL (appliance.privacy.audit.backends: advisory lock per append, server-side cursor
for verification) in the same run, one row per engine and the ratio to SQLite.

Usage: .venv/bin/python bench/audit.py [--entries 20000] [--dir var/bench] [--url postgresql://u@host:port/emptydb]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.progress import track

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import AuditEvent, AuditLog, verify_export
from appliance.privacy.audit.export import write_jsonl

PAYLOAD = json.dumps({"model": "m", "messages": [
    {"role": "system", "content": "Extract the shopping intents of this customer as short phrases."},
    {"role": "user", "content": "<PERSON_1> bought hiking boots, a rain jacket and trail snacks; asked "
                                "<EMAIL_ADDRESS_1> about tents for two. Reviews mention knee pain on descents."}]})


def _event(i: int) -> AuditEvent:
    return AuditEvent("egress.request", "ok", destination={"host": "llm.internal.example", "port": 443, "model": "m"},
                      purpose="intent-extraction", categories={"PERSON": 1 + i % 3, "EMAIL_ADDRESS": 1},
                      record_count=1, pseudonym_key_id="0123456789abcdef", policy_version="2026-11-1",
                      payload=PAYLOAD)


def run(entries: int, work: Path, url: str = "") -> dict[str, float]:
    private = Ed25519PrivateKey.from_private_bytes(bytes(32))
    key = SigningKey(public_key_id(private.public_key()), private)
    cfg = AuditConfig(checkpoint_every=100, url=url)  # bench/audit_append.py compares this with a checkpoint per entry
    with AuditLog.open(work / "audit.db", key, cfg=cfg) as log:
        if log.size():
            raise SystemExit(f"{log.location} already holds {log.size()} audit entries: give an empty database")
        start = time.perf_counter()
        for i in track(range(entries), description="appending", transient=True):
            log.append(_event(i))
        append_s = time.perf_counter() - start
        log.ensure_checkpoint()  # verification fails closed on an unsigned tail
        start = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - start
        export = work / "audit.jsonl"
        write_jsonl(export, log.entries(), log.checkpoints(), public_key_pem(key.public).decode(), key.key_id)
    start = time.perf_counter()
    verify_export(export, [key.public])
    export_s = time.perf_counter() - start
    assert report.entries == entries
    return {"appends_per_s": entries / append_s, "verify_rows_per_s": entries / verify_s, "verify_s": verify_s,
            "export_verify_s": export_s, "checkpoints": report.checkpoints}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the log (default: a temp dir)")
    parser.add_argument("--url", default="", help="also run on this PostgreSQL database (it must hold no audit log)")
    args = parser.parse_args()
    results = {}
    for engine, url in [("SQLite", ""), *([("PostgreSQL", args.url)] if args.url else [])]:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            results[engine] = run(args.entries, Path(tmp), url)
    base = results["SQLite"]
    print("| date | engine | entries | appends/s (1 commit each) | vs SQLite | verify rows/s (live DB) | vs SQLite "
          "| verify s | verify export s | checkpoints |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for engine, r in results.items():
        print(f"| {datetime.now(UTC):%Y-%m-%d} | {engine} | {args.entries} | {r['appends_per_s']:,.0f} | "
              f"{r['appends_per_s'] / base['appends_per_s']:.2f} | {r['verify_rows_per_s']:,.0f} | "
              f"{r['verify_rows_per_s'] / base['verify_rows_per_s']:.2f} | {r['verify_s']:.2f} | "
              f"{r['export_verify_s']:.2f} | {r['checkpoints']} |")


if __name__ == "__main__":
    main()
