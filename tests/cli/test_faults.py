"""Issue 14's kill -9 fault injection in CI: a short seeded run of bench/faults.py (real `tanaban` processes killed
at random points of ingest, key rotation and audited egress), which exits 1 on any violated invariant. The 200-kill
run and its figures are in docs/BENCHMARKS.md (Reliability)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_random_kills_leave_every_invariant_intact(tmp_path: Path) -> None:
    run = [sys.executable, str(ROOT / "bench" / "faults.py"), "--injections", "12", "--rows", "1000", "--seed", "14",
           "--dir", str(tmp_path / "faults")]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    outcomes, violations = done.stdout.split("violations per invariant:")
    counts = [line.split()[-1] for line in violations.strip().splitlines()]
    assert len(counts) == 6 and set(counts) == {"0"}, done.stdout
    assert "ingest killed" in outcomes and "rotate killed" in outcomes, outcomes  # the kills really landed
