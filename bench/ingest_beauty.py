"""Benchmark: ingest the full amazon-beauty-2014 (and amazon-book-cf) datasets into fresh homes under var/.

Prints wall time, CPU time (the machine is shared), rows/s and peak RSS (resource.getrusage) per dataset,
then re-ingests to time the idempotent no-op path.
Usage: nice -n 10 timeout 900 .venv/bin/python bench/ingest_beauty.py [--data DIR] [--skip-book]
(DIR: the shared data folder holding both datasets; bench/_data.py has the default)
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from _data import add_data_option  # bench/ is on sys.path when run as a script

from appliance.config import load_config
from appliance.data.adapters import ingest_dataset
from appliance.data.home import init_home, open_home

ROOT = Path(__file__).resolve().parents[1]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench(name: str, data: Path) -> None:
    home_dir = ROOT / "var" / "bench" / f"ingest-{name}"
    shutil.rmtree(home_dir, ignore_errors=True)
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(home_dir)})
    init_home(cfg)
    home = open_home(cfg)
    for attempt in ("first", "again"):
        start, cpu = time.perf_counter(), _cpu_s()
        reports = ingest_dataset(home, name, data / name, progress=False)
        wall, cpu = time.perf_counter() - start, _cpu_s() - cpu
        rows = sum(r.read for r in reports)
        added = sum(r.added for r in reports)
        print(f"{name} ({attempt}): {rows:,} rows read, {added:,} added in {wall:.2f} s wall "
              f"({cpu:.2f} s CPU) = {rows / wall:,.0f} rows/s; peak RSS {_peak_rss_mib():.0f} MiB")
    db = Path(cfg.store.url.removeprefix("sqlite:///"))
    print(f"{name}: store file {db.stat().st_size / 2**20:.1f} MiB")
    home.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_option(parser)
    parser.add_argument("--skip-book", action="store_true")
    args = parser.parse_args()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    bench("amazon-beauty-2014", args.data)
    if not args.skip_book:
        bench("amazon-book-cf", args.data)


if __name__ == "__main__":
    main()
