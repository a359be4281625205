"""Audit append throughput with a signed checkpoint every N entries, side by side in one run: each checkpoint first
verifies the log since the previous one (appliance.privacy.audit.guard), then is signed (Ed25519), committed and
appended to the witness file with an fsync. Prints one markdown table (entries/s per setting and their ratio).

Usage: .venv/bin/python bench/audit_append.py [--entries 5000] [--every 100 1] [--dir var/bench]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id
from appliance.privacy.audit import AuditEvent, AuditLog

PAYLOAD = ('{"model":"m","messages":[{"role":"user","content":"<PERSON_1> bought hiking boots and a rain jacket; '
           'asked <EMAIL_ADDRESS_1> about tents for two."}]}')


def _event(i: int) -> AuditEvent:
    return AuditEvent("egress.request", "ok", destination={"host": "llm.internal.example", "port": 443, "model": "m"},
                      purpose="intent-extraction", categories={"PERSON": 1 + i % 3, "EMAIL_ADDRESS": 1},
                      record_count=1, pseudonym_key_id="0123456789abcdef", policy_version="2026-11-1",
                      payload=PAYLOAD)


def append_rate(entries: int, every: int, work: Path) -> tuple[float, int, float]:
    """Entries per second appending `entries` events to a new log with `checkpoint_every = every`, the number of
    checkpoints, and the seconds a new process's first signing takes (it checks the whole log and witness file)."""
    private = Ed25519PrivateKey.from_private_bytes(bytes(32))
    key = SigningKey(public_key_id(private.public_key()), private)
    with AuditLog.open(work / "audit.db", key, cfg=AuditConfig(checkpoint_every=every)) as log:
        start = time.perf_counter()
        for i in range(entries):
            log.append(_event(i))
        seconds = time.perf_counter() - start
        log.ensure_checkpoint()
        checkpoints = log.verify().checkpoints
    with AuditLog.open(work / "audit.db", key, cfg=AuditConfig(checkpoint_every=every)) as fresh:
        start = time.perf_counter()
        fresh.ensure_checkpoint()
        first = time.perf_counter() - start
    return entries / seconds, checkpoints, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--every", type=int, nargs="+", default=[100, 1], help="checkpoint_every settings to compare")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the logs (default: a temp dir)")
    args = parser.parse_args()
    rates = {}
    for every in args.every:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            rates[every] = append_rate(args.entries, every, Path(tmp))
    base = rates[args.every[0]][0]
    load = os.getloadavg()[0]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, load {load:.1f}, "
          f"{args.entries} entries each")
    print("| checkpoint_every | appends/s | vs first | checkpoints | a new process's first check s |")
    print("|---|---|---|---|---|")
    for every, (rate, checkpoints, first) in rates.items():
        print(f"| {every} | {rate:,.0f} | {rate / base:.2f} | {checkpoints} | {first:.2f} |")


if __name__ == "__main__":
    main()
