"""Issue 14's races through real `tanaban` processes: two `init`s, two ingests, and `keys rotate` against `ingest
interactions` (3 runs here; bench/races.py runs 50 and docs/BENCHMARKS.md records them). The locks of
appliance.data.locks make each pair run one after the other: no split customers, no lost rows, honest summaries."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appliance.config import load_config
from appliance.data.home import open_home
from appliance.data.ingest import ingest_file
from appliance.data.store import Interaction, User

TANABAN = [sys.executable, "-c", "from cli.main import main; main()"]
CUSTOMERS = 200


def _start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*TANABAN, "--config", str(config), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})


def _together(config: Path, *commands: tuple[str, ...]) -> list[tuple[int, str]]:
    procs = [_start(config, *args) for args in commands]
    return [(proc.wait(120), proc.stdout.read()) for proc in procs]  # type: ignore[union-attr]


def _events(path: Path, customers: range, rows: int, ts0: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["customer_id", "sku", "timestamp"])
        writer.writerows([f"cust-{customers[i % len(customers)]}", f"S{i % 7}", ts0 + i] for i in range(rows))
    return path


@pytest.fixture(scope="module")
def racing_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two concurrent `tanaban init`s, then 7 items and two concurrent ingests of half the customers each (once per
    module: every process start costs a second or more on a busy 2-core machine)."""
    tmp_path = tmp_path_factory.mktemp("races")
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    results = _together(config_file, ("init",), ("init",))
    assert [code for code, _ in results] == [0, 0], results
    assert sorted("(created:" in out for _, out in results) == [False, True], results
    items = tmp_path / "items.csv"
    items.write_text("sku,title\n" + "".join(f"S{i},Item {i}\n" for i in range(7)), encoding="utf-8")
    ingest_file(open_home(load_config(config_file)), items, "items", progress=False)
    halves = [_events(tmp_path / f"half{n}.csv", range(n * 100, n * 100 + 100), 100, 1_000) for n in (0, 1)]
    results = _together(config_file, *[("ingest", "interactions", str(half)) for half in halves])
    for code, out in results:
        assert code == 0 and "100 rows read, 100 added, 0 already present" in out, results
    return config_file


def _split_customers(config: Path) -> tuple[int, int]:
    """(users not stored under the current key or not found by the current chain, interactions)."""
    home = open_home(load_config(config))
    with home.engine.connect() as conn:
        users = dict(conn.execute(select(User.pseudonym, User.key_id)).all())
        interactions = conn.scalar(select(func.count()).select_from(Interaction))
    expected = {home.store_pseudonym(f"cust-{i}") for i in range(CUSTOMERS)}
    current = home.pseudonym_key.key_id
    return len(set(users) ^ expected) + sum(kid != current for kid in users.values()), interactions


@pytest.mark.parametrize("run", range(3))
def test_rotate_and_ingest_never_split_customers(racing_home: Path, tmp_path: Path, run: int) -> None:
    new = _events(tmp_path / "new.csv", range(CUSTOMERS), 2_000, 10_000 * (run + 1))
    results = _together(racing_home, ("keys", "rotate", "--yes"), ("ingest", "interactions", str(new)))
    for code, out in results:
        assert code == 0 and "Traceback" not in out, results
    assert "2,000 rows read, 2,000 added, 0 already present" in results[1][1], results
    assert _split_customers(racing_home) == (0, CUSTOMERS + 2_000 * (run + 1))
