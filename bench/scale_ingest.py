"""Benchmark: ingest a synthetic catalogue and purchase history at N x the size of Amazon Beauty 2014 (issue 17)
into SQLite and into PostgreSQL, through `ingest_file` (what `tanaban ingest items|interactions` runs).

The generator (`generate`) is seeded and needs no data: items with a title, brand, categories and price; customers
whose activity follows a power law; items drawn with Zipf-like popularity; timestamps increasing per customer. At
--scale 10 it writes 121,010 items and about 1.99M interactions of 223,630 customers (Beauty 2014 has 12,101 items,
22,363 users and 198,502 interactions). Each engine runs in a child process of its own, so its peak RSS is its own;
the PostgreSQL server's memory is reported separately, not included. Peak RSS is the child's VmHWM
(/proc/self/status), restarted before each file through /proc/self/clear_refs so that each file has its own peak;
not getrusage's ru_maxrss, which on Linux carries the high-water mark of the spawning process over the exec (here
the parent's, after generating the data): that is what made the 100x run's peak look like a jump at its end
(docs/BENCHMARKS.md, issue 17; ru_maxrss is still printed). Both engines run one after the other in one
invocation; wall and CPU time per phase.
PostgreSQL: --pg-url URL of an empty database, or a throwaway server started here (initdb + pg_ctl from
/usr/lib/postgresql/<v>/bin on 127.0.0.1, default durability settings, removed afterwards).

While a child ingests, the parent prints a line every --every seconds: the interactions file read so far (the
byte offset of the child's open file, from /proc/<pid>/fdinfo, turned into rows), the child's RSS and peak RSS
(VmRSS, VmHWM), the server's memory (private RssAnon summed over its processes plus the largest shared-memory
RssShmem, i.e. shared buffers counted once) and the load average; at the end the peaks seen.

Usage: nice -n 10 .venv/bin/python bench/scale_ingest.py --scale 10 [--pg-url postgresql://...] [--engines sqlite,pg]
       [--out var/bench/scale]  (add --no-copy to measure PostgreSQL with the plain INSERT path instead of COPY;
       --no-reingest to skip the second, idempotent pass; --keep-data to keep the generated files; --id-cache N to
       bound the store-id cache at N entries instead of ingest's default; --kinds items to generate and ingest the
       items file alone, which is where memory grew with the catalogue)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEAUTY = {"items": 12_101, "users": 22_363, "interactions": 198_502}  # amazon-beauty-2014, 5-core
WORDS = ("serum", "lipstick", "shampoo", "cream", "mask", "oil", "gel", "polish", "brush", "balm", "tonic", "spray")
CATEGORIES = ("Makeup", "Skin Care", "Hair Care", "Fragrance", "Tools", "Bath", "Nails")


def generate(out: Path, scale: float, seed: int = 17, interactions: bool = True) -> dict[str, int]:
    """Write items.jsonl and (unless not `interactions`) interactions.csv under `out`; returns the counts."""
    rng = np.random.default_rng(seed)
    n_items, n_users = round(BEAUTY["items"] * scale), round(BEAUTY["users"] * scale)
    target = round(BEAUTY["interactions"] * scale)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "items.jsonl", "w", encoding="utf-8") as f:
        brands = rng.integers(0, max(n_items // 40, 1), n_items)
        for i in range(n_items):
            words = rng.choice(WORDS, 3)
            f.write(json.dumps({"sku": f"SKU{i:07d}", "title": f"{words[0].title()} {words[1]} {words[2]} {i}",
                                "brand": f"Brand {brands[i]}", "categories": ["Beauty", CATEGORIES[i % 7]],
                                "price": round(float(rng.gamma(2.0, 8.0)), 2)}) + "\n")
    if not interactions:
        return {"items": n_items, "users": 0, "interactions": 0}
    activity = rng.pareto(1.6, n_users) + 1  # a few very active customers, most with a handful
    per_user = np.maximum(np.round(activity / activity.sum() * target), 1).astype(np.int64)
    popularity = 1 / np.arange(1, n_items + 1) ** 0.8
    popularity /= popularity.sum()
    order = rng.permutation(n_items)  # popularity not tied to the sku order
    draws = order[rng.choice(n_items, int(per_user.sum()), p=popularity)]  # one draw for all: O(total + items)
    bounds = np.concatenate([[0], np.cumsum(per_user)])
    written = 0
    with open(out / "interactions.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["customer_id", "sku", "timestamp", "event"])
        start = 1_500_000_000
        for u in range(n_users):
            items = np.unique(draws[bounds[u]:bounds[u + 1]])  # a customer buys an item once
            ts = start + np.sort(rng.integers(0, 3 * 365 * 86_400, len(items)))
            writer.writerows((f"C{u:08d}", f"SKU{i:07d}", int(t), "purchase") for i, t in zip(items, ts, strict=True))
            written += len(items)
    return {"items": n_items, "users": n_users, "interactions": written}


def own_peak_mib() -> float:
    """This process's peak RSS since exec, or since the last `reset_peak` (VmHWM; Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Restart VmHWM from the current RSS (proc(5), /proc/pid/clear_refs, value 5; Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(engine_url: str, data: Path, home_dir: Path, no_copy: bool, reingest: bool = True,
          id_cache: int = 0, kinds: tuple[str, ...] = ("items", "interactions")) -> None:
    """Ingest both files into a fresh home on `engine_url`; print one JSON line with the figures."""
    sys.path.insert(0, str(ROOT))
    from appliance.config import load_config
    from appliance.data import ingest
    from appliance.data.home import init_home, open_home

    if id_cache:  # entries of the bounded store-id cache (appliance.data.ingest.ID_CACHE_ENTRIES)
        ingest.ID_CACHE_ENTRIES = id_cache
    if no_copy:  # the plain INSERT ... ON CONFLICT DO NOTHING path, as before COPY
        ingest.copy_insert_ignore = lambda conn, table, rows: conn.execute(ingest._insert_ignore(conn, table), rows)
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(home_dir), "TANABAN_STORE__URL": engine_url})
    init_home(cfg)
    home = open_home(cfg)
    result: dict[str, float] = {}
    result["start_rss_mib"] = own_peak_mib()
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        if kind not in kinds:
            continue
        reset_peak()
        start, cpu = time.perf_counter(), _cpu_s()
        report = ingest.ingest_file(home, data / name, kind, progress=False)
        result[f"{kind}_rows"] = report.added
        result[f"{kind}_wall_s"] = time.perf_counter() - start
        result[f"{kind}_cpu_s"] = _cpu_s() - cpu
        result[f"{kind}_peak_mib"] = own_peak_mib()
    if reingest and "interactions" in kinds:
        start = time.perf_counter()
        again = ingest.ingest_file(home, data / "interactions.csv", "interactions", progress=False)
        result["reingest_added"], result["reingest_wall_s"] = again.added, time.perf_counter() - start
    result["peak_rss_mib"] = max(v for k, v in result.items() if k.endswith("_peak_mib") or k == "start_rss_mib")
    result["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the parent's peak too
    home.engine.dispose()
    print(json.dumps(result), flush=True)


def _status(pid: int | str) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssShmem...), PPid, and postgres = 1 when the
    process is a PostgreSQL server process."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "Name":
            out["postgres"] = int(value.strip() == "postgres")
        elif key == "PPid":
            out["PPid"] = int(value)
        elif value.strip().endswith(" kB"):
            out[key] = int(value.split()[0])
    return out


def _file_offset(pid: int, name: str) -> int | None:
    """Where process `pid` is in its open file called `name` (/proc/<pid>/fdinfo), or None if none is open."""
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            if Path(os.readlink(fd)).name == name:
                return int((Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return None


class Monitor(threading.Thread):
    """Every `every` seconds print rows read so far, the child's RSS and peak, the server's memory and the load."""

    def __init__(self, pid: int, data: Path, every: float, server: ThrowawayPostgres | None) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.server, self.stop = pid, every, server, threading.Event()
        csv_path = data / "interactions.csv"
        self.size, self.rows_per_byte = 1, 0.0
        if csv_path.exists():
            self.size = csv_path.stat().st_size
            with open(csv_path, "rb") as f:
                self.rows_per_byte = max(sum(1 for _ in f) - 1, 1) / self.size
        self.peak_child_mib = self.peak_server_mib = 0.0

    def run(self) -> None:
        start = time.perf_counter()
        while not self.stop.wait(self.every):
            status = _status(self.pid)
            if not status:
                return
            offset = _file_offset(self.pid, "interactions.csv")
            self.peak_child_mib = max(self.peak_child_mib, status.get("VmHWM", 0) / 1024)
            server = self.server.server_private_mib() if self.server else 0.0
            self.peak_server_mib = max(self.peak_server_mib, server)
            done = "-" if offset is None else f"{offset * self.rows_per_byte:,.0f} rows ({offset / self.size:.1%})"
            print(f"  [{time.perf_counter() - start:6.0f} s] interactions read: {done}; child RSS "
                  f"{status.get('VmRSS', 0) / 1024:.0f} MiB (peak {status.get('VmHWM', 0) / 1024:.0f}); server "
                  f"{server:.0f} MiB; load {os.getloadavg()[0]:.1f}", flush=True)


class ThrowawayPostgres:
    """initdb + pg_ctl in a temp dir on 127.0.0.1 (as the postgres user when root), default durability."""

    def __init__(self, parent: Path | None = None) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql: pass --pg-url")
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        self.bindir = bins[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="tanaban-bench-pg-", dir=parent)).resolve()
        self.port = 0

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=300)

    def __enter__(self) -> str:
        import socket

        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "log"), "-w", "-o",
                  f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root}", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _processes(self) -> list[dict[str, int]]:
        """/proc status of this server's postmaster and its children (not other PostgreSQL servers on the host)."""
        try:
            postmaster = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [s for p in Path("/proc").glob("[0-9]*")
                if (s := _status(p.name)).get("postgres") and postmaster in (int(p.name), s.get("PPid"))]

    def server_rss_mib(self) -> float:
        """Sum of the resident memory of the server's processes now (VmRSS; shared buffers counted once per
        process that touched them, so an upper bound)."""
        return sum(s.get("VmRSS", 0) for s in self._processes()) / 1024

    def server_private_mib(self) -> float:
        """The server's memory counting shared buffers once: RssAnon summed, plus the largest RssShmem."""
        status = self._processes()
        shared = max((s.get("RssShmem", 0) for s in status), default=0)
        return (sum(s.get("RssAnon", 0) for s in status) + shared) / 1024

    def __exit__(self, *_: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def run_child(url: str, data: Path, home: Path, no_copy: bool, reingest: bool = True, every: float = 60.0,
              server: ThrowawayPostgres | None = None, id_cache: int = 0,
              kinds: tuple[str, ...] = ("items", "interactions")) -> dict[str, float]:
    shutil.rmtree(home, ignore_errors=True)
    args = [sys.executable, __file__, "--child", url, "--data-dir", str(data), "--home", str(home),
            "--kinds", ",".join(kinds)]
    args += (["--no-copy"] if no_copy else []) + ([] if reingest else ["--no-reingest"])
    args += ["--id-cache", str(id_cache)] if id_cache else []
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as proc:  # the child's stderr goes to ours
        monitor = Monitor(proc.pid, data, every, server)
        monitor.start()
        out, _ = proc.communicate()
        monitor.stop.set()
    if proc.returncode:
        raise SystemExit(f"the {url.split(':')[0]} child failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    if server is not None:
        result["server_peak_mib"] = monitor.peak_server_mib
    return result


def report(label: str, r: dict[str, float]) -> None:
    parts = []
    for kind in ("items", "interactions"):
        if f"{kind}_rows" in r:
            rows, wall = r[f"{kind}_rows"], r[f"{kind}_wall_s"]
            parts.append(f"{kind} {rows:,.0f} in {wall:.1f} s wall ({r[f'{kind}_cpu_s']:.1f} s CPU) = "
                         f"{rows / wall:,.0f} rows/s, peak RSS {r[f'{kind}_peak_mib']:.0f} MiB")
    print(f"{label}: " + "; ".join(parts) + "; "
          + (f"re-ingest adds {r['reingest_added']:.0f} in {r['reingest_wall_s']:.1f} s; " if "reingest_added" in r
             else "")
          + f"peak RSS {r['peak_rss_mib']:.0f} MiB (at start {r['start_rss_mib']:.0f}; getrusage ru_maxrss "
          f"{r['ru_maxrss_mib']:.0f}, which includes the parent's peak)"
          + (f"; server peak {r['server_peak_mib']:.0f} MiB (sampled)" if "server_peak_mib" in r else "")
          + f"; load {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--engines", default="sqlite,pg")
    parser.add_argument("--pg-url", default="")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "scale")
    parser.add_argument("--no-copy", action="store_true")
    parser.add_argument("--no-reingest", action="store_true")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    parser.add_argument("--id-cache", type=int, default=0, help="store-id cache entries (default: ingest's own)")
    parser.add_argument("--kinds", default="items,interactions", help="files to ingest: items[,interactions]")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    kinds = tuple(k for k in ("items", "interactions") if k in args.kinds.split(","))
    if "items" not in kinds:
        parser.error("--kinds must include items (interactions name their skus)")
    if args.child:
        child(args.child, args.data_dir, args.home, args.no_copy, not args.no_reingest, args.id_cache, kinds)
        return
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}, python {platform.python_version()}, scale {args.scale:g}", flush=True)
    data = args.out / f"data-x{args.scale:g}"
    start = time.perf_counter()
    counts = generate(data, args.scale, interactions="interactions" in kinds)
    print(f"generated {counts} in {time.perf_counter() - start:.0f} s; this process's peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", flush=True)
    engines, reingest = args.engines.split(","), not args.no_reingest
    try:
        if "sqlite" in engines:
            home = args.out / "home-sqlite"
            report("sqlite", run_child(f"sqlite:///{home / 'tanaban.db'}", data, home, False, reingest, args.every,
                                       id_cache=args.id_cache, kinds=kinds))
            shutil.rmtree(home, ignore_errors=True)
        if "pg" in engines:
            label = "postgresql" + (" (INSERT, no COPY)" if args.no_copy else " (COPY)")
            if args.pg_url:
                report(label, run_child(args.pg_url, data, args.out / "home-pg", args.no_copy, reingest, args.every,
                                        id_cache=args.id_cache, kinds=kinds))
            else:
                server = ThrowawayPostgres(args.out)
                with server as url:
                    report(label, run_child(url, data, args.out / "home-pg", args.no_copy, reingest, args.every,
                                            server, args.id_cache, kinds))
                    print(f"postgresql server processes: {server.server_rss_mib():.0f} MiB VmRSS summed after the "
                          f"run (upper bound), {server.server_private_mib():.0f} MiB counting shared buffers once",
                          flush=True)
            shutil.rmtree(args.out / "home-pg", ignore_errors=True)
    finally:
        if not args.keep_data:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
