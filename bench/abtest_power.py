"""How many customers an A/B test needs, and what reading the report daily costs: the report's decision rule
(appliance.abtest.stats, always-valid confidence sequences) on simulated experiments with a planted effect
(appliance.abtest.simulate's response model), against a fixed-sample z-test read on the same days.

For each (base rate, lift, customers per arm) and each seed: customers arrive evenly over `--days` days, the report
is read at the end of every day, and a seed counts as "found" when some day's verdict is "better" (and as a false
positive when an A/A run, lift 1.0, gets "better" or "worse" on any day). Outcomes are drawn per customer as the
simulation draws them; exposures and the store join are left out (tests/appliance/abtest cover them), so thousands
of experiments run in seconds.
  nice -n 10 .venv/bin/python bench/abtest_power.py [--seeds 200] [--days 14]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from appliance.abtest.simulate import SimSpec, simulate_responses
from appliance.abtest.stats import compare_arms

ARMS = ("control", "treatment")


def _daily_verdicts(spec: SimSpec, n_per_arm: int, days: int, seed: int) -> tuple[list[str], list[bool]]:
    """Per day: the report's verdict, and whether a fixed-sample 95% z-test would call a difference."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, 2 * n_per_arm)
    converted, items = simulate_responses(spec, arm, rng)
    verdicts, ztest = [], []
    for day in range(1, days + 1):
        m = 2 * n_per_arm * day // days
        _, (comparison,) = compare_arms(arm[:m], converted[:m], items[:m], ARMS, "control")
        verdicts.append(comparison.verdict)
        a, c = converted[:m][arm[:m] == 1], converted[:m][arm[:m] == 0]
        se = math.sqrt(a.var() / max(len(a), 1) + c.var() / max(len(c), 1))
        ztest.append(se > 0 and abs(a.mean() - c.mean()) / se > 1.96)
    return verdicts, ztest


def _rates(base: float, lift: float, n_per_arm: int, seeds: int, days: int) -> tuple[float, float, float]:
    """(share of seeds with a correct verdict on some day, on the last day, z-test calls on some day)."""
    spec = SimSpec(base_rate=base, lift=(1.0, lift))
    wanted = ("better", "worse") if lift == 1.0 else ("better",)
    any_day = last_day = z_any = 0
    for seed in range(seeds):
        verdicts, ztest = _daily_verdicts(spec, n_per_arm, days, seed)
        any_day += any(v in wanted for v in verdicts)
        last_day += verdicts[-1] in wanted
        z_any += any(ztest)
    return any_day / seeds, last_day / seeds, z_any / seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    start = time.perf_counter()
    print("| base rate | lift | customers per arm | report: verdict on some day | on the last day "
          "| z-test read daily: some day |")
    print("|---|---|---|---|---|---|")
    for base in (0.05, 0.10):
        for lift in (1.0, 1.1, 1.2, 1.5):
            for n in (1000, 2000, 5000, 10000):
                found, last, z = _rates(base, lift, n, args.seeds, args.days)
                print(f"| {base:.2f} | {lift:.1f} | {n:,} | {found:.1%} | {last:.1%} | {z:.1%} |", flush=True)
    print(f"\n{args.seeds} seeds per row, {args.days} daily looks, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
