"""Benchmark (reliability): issue 14's "split customers" race, `keys rotate` against `ingest interactions`, N times.

Each run: a fresh home under var/bench/races/ with C customers (one interaction each), then two forked processes
start together: one rotates the pseudonym key (library `rotate_pseudonym_key`, what `tanaban keys rotate --yes`
calls), the other ingests a file of R new rows for the same customers (`ingest_file`, what `tanaban ingest
interactions` calls). Counts: split customers (stored users not under the current key, or customers the current
key chain does not find), lost updates (rows of a successful ingest missing from the store), tracebacks (a child
failing with anything but a one-line UserError) and clean refusals (a UserError such as a lock timeout).
`--no-locks` replaces the lock discipline by a no-op in the children, to show the race the locks close.
Usage: nice -n 10 .venv/bin/python bench/races.py [--runs 50] [--customers 2000] [--rows 20000] [--no-locks]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import multiprocessing as mp
import platform
import shutil
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from appliance.config import ApplianceConfig, load_config
from appliance.data import locks
from appliance.data.home import init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.rotation import rotate_pseudonym_key
from appliance.data.store import Interaction, User
from appliance.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def _events(path: Path, customers: int, rows: int, ts0: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["customer_id", "sku", "timestamp"])
        writer.writerows([f"cust-{i % customers}", f"S{i % 50}", ts0 + i] for i in range(rows))
    return path


def _setup(run_dir: Path, customers: int, rows: int) -> tuple[ApplianceConfig, Path]:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(run_dir / "data")})
    init_home(cfg)
    home = open_home(cfg)
    items = run_dir / "items.csv"
    items.write_text("sku,title\n" + "".join(f"S{i},Item {i}\n" for i in range(50)), encoding="utf-8")
    ingest_file(home, items, "items", progress=False)
    ingest_file(home, _events(run_dir / "first.csv", customers, customers, 1_000), "interactions", progress=False)
    return cfg, _events(run_dir / "new.csv", customers, rows, 10_000_000)


def _child(task: str, cfg: ApplianceConfig, new: Path, no_locks: bool, start: Any, out: Any) -> None:
    if no_locks:
        locks.writing = lambda *_a, **_k: contextlib.nullcontext()  # the baseline: no discipline at all
    start.wait()
    try:
        home = open_home(cfg)
        rotate_pseudonym_key(home) if task == "rotate" else ingest_file(home, new, "interactions", progress=False)
        out.put((task, "ok"))
    except UserError as exc:
        out.put((task, f"refused: {type(exc).__name__}"))
    except Exception:
        out.put((task, "traceback:\n" + traceback.format_exc(limit=3)))


def _check(cfg: ApplianceConfig, customers: int) -> tuple[int, int]:
    """(split customers, interactions) as the store and the current key chain see them."""
    home = open_home(cfg)
    with home.engine.connect() as conn:
        users = dict(conn.execute(select(User.pseudonym, User.key_id)).all())
        interactions = conn.scalar(select(func.count()).select_from(Interaction)) or 0
    try:
        expected = {home.store_pseudonym(f"cust-{i}") for i in range(customers)}
    except UserError:  # the chain itself is unusable (a rotation left pending): every customer is affected
        return customers, interactions
    current = home.pseudonym_key.key_id
    return len(set(users) ^ expected) + sum(kid != current for kid in users.values()), interactions


def one_run(run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    cfg, new = _setup(run_dir, args.customers, args.rows)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(task, cfg, new, args.no_locks, start, out))
             for task in ("rotate", "ingest")]
    for proc in procs:
        proc.start()
    start.set()
    results = dict(out.get(timeout=600) for _ in procs)
    for proc in procs:
        proc.join(60)
    split, interactions = _check(cfg, args.customers)
    expected = args.customers + (args.rows if results["ingest"] == "ok" else 0)
    return {"split": split, "lost": max(expected - interactions, 0), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--no-locks", action="store_true", help="baseline without the lock discipline")
    args = parser.parse_args()
    totals = {"runs": 0, "runs with split customers": 0, "split customers": 0, "lost updates": 0,
              "tracebacks": 0, "clean refusals": 0}
    began = time.perf_counter()
    for run in range(args.runs):
        result = one_run(ROOT / "var" / "bench" / "races", args)
        outcomes = list(result["results"].values())
        totals["runs"] += 1
        totals["runs with split customers"] += result["split"] > 0
        totals["split customers"] += result["split"]
        totals["lost updates"] += result["lost"]
        totals["tracebacks"] += sum(o.startswith("traceback") for o in outcomes)
        totals["clean refusals"] += sum(o.startswith("refused") for o in outcomes)
        tb = [o for o in outcomes if o.startswith("traceback")]
        if (tb and run == 0) or (tb and totals["tracebacks"] == len(tb)):
            print(tb[0])  # the first traceback seen, for the record
    print(f"rotate vs ingest, {args.customers} customers, {args.rows} new rows, "
          f"{'NO locks (baseline)' if args.no_locks else 'with locks'}; {platform.node()} "
          f"{platform.platform()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {time.perf_counter() - began:.0f} s")
    for name, value in totals.items():
        print(f"  {name:26} {value}")


if __name__ == "__main__":
    main()
