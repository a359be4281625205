"""A real full disk (issue 14): the data directory on a 2 MiB tmpfs, then `tanaban ingest reviews` of a bigger file.

Needs root to mount the tmpfs; skipped with the reason otherwise. The ingest must end with one `error:` line and exit
74, no traceback and no review text, e-mail address or phone number; the store must open unchanged afterwards and
take a small ingest once space is free again.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import open_home
from appliance.data.store import Item, Review
from cli.failures import EXIT_IO
from cli.main import app

EMAIL, PHONE, SENTENCE = "disk.full.payload@example.org", "+49 176 5550 4321", "My toddler loved this teal backpack"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted under tmp_path, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)  # lazy: the in-process CLI may hold the file open


def _counts(config: Path) -> tuple[int, int]:
    home = open_home(load_config(config))
    with home.engine.connect() as conn:
        counts = (conn.scalar(select(func.count()).select_from(Item)) or 0,
                  conn.scalar(select(func.count()).select_from(Review)) or 0)
    home.engine.dispose()
    return counts


@pytest.mark.sqlite_only(reason="fills the disk under the SQLite store file; PostgreSQL's is on its server's disk")
def test_disk_full_during_ingest_is_one_line_and_leaves_the_store_as_it_was(small_disk: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{small_disk / "data"}"\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(config), "init"]).exit_code == 0
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"sku": "A1", "title": "Backpack"}) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["--config", str(config), "ingest", "items", str(items)]).exit_code == 0
    reviews = tmp_path / "reviews.jsonl"  # about 4 MB, twice the whole disk
    rows = [{"customer_id": f"{i}-{EMAIL}", "sku": "A1", "timestamp": 1714564800 + i,
             "text": f"{SENTENCE}, call {PHONE} {i} " * 20} for i in range(4_000)]
    reviews.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "ingest", "reviews", str(reviews)])
    assert result.exit_code == EXIT_IO, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: disk full while writing ") and "Traceback" not in result.output
    assert EMAIL not in result.output and PHONE not in result.output and SENTENCE[:12] not in result.output
    assert not list(small_disk.rglob("tanaban-crash-*"))
    assert _counts(config) == (1, 0)
    reviews.write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")  # space is free again: a small file goes in
    assert runner.invoke(app, ["--config", str(config), "ingest", "reviews", str(reviews)]).exit_code == 0
    assert _counts(config) == (1, 1)
