"""Benchmark (reliability): issue 14's kill -9 injections into real `tanaban` processes, with invariants after each.

One home under var/bench/faults/; a seeded RNG picks the command (`ingest interactions` of a new file of R rows,
`keys rotate --yes`, or `egress test` against the loopback LLM stand-in, which appends audit entries) and a delay
after its start; the process gets SIGKILL then (if it has not finished). After every injection: the store opens,
every ingested file is all-or-nothing (a file's rows are told apart by their timestamps), no split customers (stored
pseudonyms are exactly those of the customers of complete files, all under the current key), the keys load,
`tanaban audit verify` exits 0, and no lock is left held (the store lock is taken exclusively at once).
An interrupted rotation that left a pending key is finished with `tanaban keys rotate --yes`, the documented
recovery, and counted. `tanaban export cf` is not exercised (it needs a trained model: too slow on this CPU).
Usage: nice -n 10 .venv/bin/python bench/faults.py [--injections 200] [--rows 3000] [--seed 14] [--dir DIR]
Exits 1 when any invariant was violated.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from appliance.config import load_config
from appliance.data.home import open_home
from appliance.data.locks import EXCLUSIVE, STORE, FileLocks
from appliance.data.rotation import PENDING_FILE
from appliance.data.store import Interaction, User
from appliance.demo.llm_standin import LLMStandin

ROOT = Path(__file__).resolve().parents[1]
TANABAN = [sys.executable, "-c", "from cli.main import main; main()"]
CUSTOMERS = 400  # every file touches the same customers, so a rotation mix-up shows as split customers
FILE_TS = 10_000_000  # file j holds timestamps [j * FILE_TS, j * FILE_TS + rows)
DELAY_S = {"ingest": 3.0, "rotate": 1.8, "egress": 2.6}  # upper bound of the random kill delay, about one run
INVARIANTS = ("store opens", "file all-or-nothing", "split customers", "keys load", "audit verify", "lock free")


def _tanaban(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200", "TANABAN_STORE__LOCK_TIMEOUT_S": "5"}
    return subprocess.Popen([*TANABAN, "--config", str(config), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)


def _run(config: Path, *args: str) -> tuple[int, str]:
    proc = _tanaban(config, *args)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def _setup(run_dir: Path, standin: LLMStandin) -> Path:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    config = run_dir / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{run_dir / "data"}"\n[anonymize]\nuse_ner = false\n'
                      f'[egress]\nenabled = true\nbase_url = "{standin.base_url}"\nmodel = "tiny"\n'
                      'allowed_hosts = ["127.0.0.1"]\napi_key_env = ""\napi_key = "sk-bench"\n'
                      "allow_weakened_policy = true\n", encoding="utf-8")
    items = run_dir / "items.csv"
    items.write_text("sku,title\n" + "".join(f"S{i},Item {i}\n" for i in range(50)), encoding="utf-8")
    for args in (("init",), ("ingest", "items", str(items))):
        code, out = _run(config, *args)
        assert code == 0, out
    return config


def _events(path: Path, file_no: int, rows: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["customer_id", "sku", "timestamp"])
        writer.writerows([f"cust-{i % CUSTOMERS}", f"S{i % 50}", file_no * FILE_TS + i] for i in range(rows))
    return path


def _file_rows(home, files: int) -> list[int]:
    """Rows stored per ingested file (files 1..files), told apart by their timestamp ranges."""
    with home.engine.connect() as conn:
        return [conn.scalar(select(func.count()).select_from(Interaction)
                            .where(Interaction.ts >= j * FILE_TS, Interaction.ts < (j + 1) * FILE_TS)) or 0
                for j in range(1, files + 1)]


def _split(home, complete_files: int) -> int:
    """Stored users not among the customers of complete files (or missing from them), plus users not under the
    current key."""
    with home.engine.connect() as conn:
        users = dict(conn.execute(select(User.pseudonym, User.key_id)).all())
    expected = {home.store_pseudonym(f"cust-{i}") for i in range(CUSTOMERS)} if complete_files else set()
    current = home.pseudonym_key.key_id
    return len(set(users) ^ expected) + sum(kid != current for kid in users.values())


def _check(config: Path, files: int, rows: int, ingested: bool) -> tuple[Counter[str], bool]:
    """Violations per invariant after one injection, and whether a pending rotation had to be finished."""
    bad: Counter[str] = Counter()
    cfg = load_config(config)
    pending = (cfg.keys_dir / PENDING_FILE).exists()
    if pending:
        code, out = _run(config, "keys", "rotate", "--yes")  # the documented recovery (keys show says so)
        bad["keys load"] += code != 0
    try:
        home = open_home(cfg)
        per_file = _file_rows(home, files)
    except Exception:
        return Counter({"store opens": 1}), pending
    bad["file all-or-nothing"] += sum(n not in (0, rows) for n in per_file)
    bad["file all-or-nothing"] += ingested and per_file[-1] != rows  # an ingest exited 0 yet rows are missing
    try:
        bad["split customers"] += _split(home, sum(n == rows for n in per_file))
    except Exception:
        bad["keys load"] += 1
    home.engine.dispose()
    try:
        with FileLocks(cfg.data_dir / "locks", command="bench/faults.py").acquire(STORE, EXCLUSIVE, 0.5):
            pass
    except Exception:
        bad["lock free"] += 1
    code, out = _run(config, "audit", "verify")
    bad["audit verify"] += code != 0 or "OK: verified" not in out
    return bad, pending


def _inject(config: Path, rng: random.Random, run_dir: Path, files: int, rows: int) -> tuple[str, int, int]:
    """Start one command, SIGKILL it after a random delay; (command, files now ingested, exit code or -9)."""
    op = rng.choice(("ingest", "ingest", "rotate", "egress"))
    if op == "ingest":
        files += 1
        args: tuple[str, ...] = ("ingest", "interactions", str(_events(run_dir / "new.csv", files, rows)))
    elif op == "rotate":
        args = ("keys", "rotate", "--yes")
    else:
        args = ("egress", "test", "--text", "Please write to jane.doe@example.com about order 17")
    proc = _tanaban(config, *args)
    try:
        proc.wait(rng.uniform(0.5, DELAY_S[op]))  # the first 0.5 s is the interpreter starting
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return op, files, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--injections", type=int, default=200)
    parser.add_argument("--rows", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench" / "faults",
                        help="work directory (a fresh home is made in it)")
    args = parser.parse_args()
    rng, run_dir, began = random.Random(args.seed), args.dir, time.perf_counter()
    outcomes: Counter[str] = Counter()
    violations: Counter[str] = Counter({name: 0 for name in INVARIANTS})
    with LLMStandin() as standin:
        config, files = _setup(run_dir, standin), 0
        for _ in range(args.injections):
            op, files, code = _inject(config, rng, run_dir, files, args.rows)
            outcomes[f"{op} {'killed' if code == -signal.SIGKILL else f'exit {code}'}"] += 1
            bad, pending = _check(config, files, args.rows, op == "ingest" and code == 0)
            violations.update(bad)
            outcomes["pending rotations finished"] += pending
    print(f"kill -9 injections: {args.injections}, {args.rows} rows per ingest file, seed {args.seed}; "
          f"{platform.node()} {platform.platform()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{time.perf_counter() - began:.0f} s")
    for name, value in sorted(outcomes.items()):
        print(f"  {name:32} {value}")
    print("violations per invariant:")
    for name in INVARIANTS:
        print(f"  {name:32} {violations[name]}")
    sys.exit(1 if sum(violations.values()) else 0)  # a violation fails the run (tests/cli/test_faults.py)


if __name__ == "__main__":
    main()
