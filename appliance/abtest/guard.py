"""The A/B guard: per arm error rate and p99 answer time over a sliding window; an arm crossing its threshold is
stopped and its customers get the fallback arm (issue 18; the "guardrail metrics" of Kohavi, Tang & Xu,
"Trustworthy Online Controlled Experiments", 2020, ch. 7, applied automatically like a circuit breaker).

Each serving worker judges the answers it sees, in one-second buckets of a latency histogram (constant memory). A
stop is written to a small JSON state file under the data directory (`<data_dir>/abtest/guard.json`, replaced
atomically under an flock), which every worker re-reads when it changes (at most once a second), so one worker's
stop reaches all of them, survives a restart, and `tanaban abtest status` can show it. A stopped arm stays stopped
until an admin resumes it (`resume_arm`) or starts a new experiment.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import UserError

STATE_DIR = "abtest"  # under the data directory
STATE_FILE = "guard.json"
_RECHECK_SECONDS = 1.0  # how often a worker looks at the state file, and judges an arm at most
# Latency bin edges (ms) of the guard's histogram: 1-2-5 steps from 10 us to 100 s; the p99 SHOWN is the upper edge
# of its bin. The stop itself does not use it (an arm with a true p99 of 60 ms read as 100 ms would be stopped under
# an 80 ms limit): each window counts the answers slower than guard_p99_ms exactly, and p99 > limit is judged as
# "more than 1% of the answers were slower than the limit".
_SLOW_SHARE = 0.01  # p99 > limit  <=>  more than 1% of answers over the limit
_EDGES_MS = [m * 10.0 ** e for e in range(-2, 5) for m in (1.0, 2.0, 5.0)] + [1e5]
log = logging.getLogger("tanaban.abtest")


class GuardStateError(UserError, RuntimeError):
    """The guard's state file cannot be read or written; the message names it."""


@dataclass(frozen=True)
class GuardLimits:
    window_seconds: float
    min_requests: int
    error_rate: float
    p99_ms: float


@dataclass(frozen=True)
class ArmHealth:
    """One arm's window as the guard last judged it."""

    requests: int
    error_rate: float
    p99_ms: float
    slow_share: float = 0.0  # share of the answers slower than the guard's p99 limit (exact, not binned)


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_DIR / STATE_FILE


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read_state(path: Path) -> dict[str, Any]:
    """{"experiment": name, "stopped": {arm: {"reason", "at"}}}; an absent file is an empty state."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"experiment": "", "stopped": {}}
    except (OSError, ValueError) as exc:
        raise GuardStateError(f"A/B guard state {path} cannot be read ({exc.__class__.__name__}): remove it to "
                              "resume every arm") from None
    return data if isinstance(data, dict) and isinstance(data.get("stopped"), dict) else {"experiment": "",
                                                                                         "stopped": {}}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".guard-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, sort_keys=True)
    os.replace(tmp, path)


def update_state(path: Path, experiment: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply `change` to the stopped-arm map of `experiment` under the lock (another experiment's state is reset)."""
    path = Path(path)
    with _locked(path):
        state = read_state(path)
        if state.get("experiment") != experiment:
            state = {"experiment": experiment, "stopped": {}}
        change(state["stopped"])
        _write_state(path, state)
    return state


def resume_arm(data_dir: Path, experiment: str, arm: str) -> bool:
    """Lift the guard's stop of `arm` in `experiment`; False when it was not stopped."""
    found = []
    update_state(state_path(data_dir), experiment, lambda stopped: found.append(stopped.pop(arm, None)))
    return found[0] is not None


def stopped_arms(data_dir: Path, experiment: str) -> dict[str, dict[str, Any]]:
    """The arms of `experiment` the guard has stopped: arm -> {"reason", "at" (unix seconds)}."""
    state = read_state(state_path(data_dir))
    return dict(state["stopped"]) if state.get("experiment") == experiment else {}


class _Window:
    """One arm's answers over the last `seconds`, in one-second buckets of (answers, failures, latency histogram):
    constant memory and a constant-time `add` whatever the request rate (a list of every answer in a 300 s window
    at 2,000 requests/s would hold 600,000 entries, and judging it would cost milliseconds)."""

    def __init__(self, seconds: float, slow_ms: float = math.inf) -> None:
        self.size, self.slow_ms = max(1, math.ceil(seconds)), slow_ms
        self.stamp = [-1] * self.size  # which second each slot holds
        # Python lists, not numpy: an increment of a numpy element costs about 1 us, of a list item 50 ns
        self.counts = [[0] * (len(_EDGES_MS) + 1) for _ in range(self.size)]  # per slot: answers per latency bin
        self.failures = [0] * self.size
        self.slow = [0] * self.size  # answers slower than slow_ms

    def add(self, now: float, seconds: float, failed: bool) -> None:
        second = int(now)
        slot = second % self.size
        if self.stamp[slot] != second:  # a slot from an earlier turn of the ring: reuse it
            self.stamp[slot] = second
            self.counts[slot] = [0] * (len(_EDGES_MS) + 1)
            self.failures[slot] = 0
            self.slow[slot] = 0
        self.counts[slot][bisect.bisect_left(_EDGES_MS, seconds * 1e3)] += 1
        if seconds * 1e3 > self.slow_ms:
            self.slow[slot] += 1
        if failed:
            self.failures[slot] += 1

    def health(self, now: float) -> ArmHealth:
        """Answers, error rate and p99 (the upper edge of the bin holding the 99th percentile) in the window."""
        live = np.array(self.stamp) > int(now) - self.size
        hist = np.array(self.counts)[live].sum(axis=0)
        n = int(hist.sum())
        if not n:
            return ArmHealth(0, 0.0, 0.0)
        rank = int(np.searchsorted(np.cumsum(hist), math.ceil(0.99 * n)))
        p99 = _EDGES_MS[rank] if rank < len(_EDGES_MS) else math.inf
        return ArmHealth(n, int(np.array(self.failures)[live].sum()) / n, float(p99),
                         int(np.array(self.slow)[live].sum()) / n)


class ArmGuard:
    """Sliding-window health of each arm, and the set of stopped arms shared through the state file."""

    def __init__(self, experiment: str, limits: GuardLimits, path: Path | None,
                 on_trip: Callable[[str, str], None] | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.experiment, self.limits, self.path = experiment, limits, path
        self.on_trip, self.clock, self.wall = on_trip, clock, wall
        self.stopped: dict[str, str] = {}  # arm -> reason
        self.health: dict[str, ArmHealth] = {}
        self._windows: dict[str, _Window] = {}
        self._judged: dict[str, float] = {}
        self._lock = threading.Lock()
        self._seen_mtime: float | None = None
        self._next_look = 0.0
        self._sync()

    def is_stopped(self, arm: str) -> bool:
        if self.path is not None and self.clock() >= self._next_look:
            self._sync()
        return arm in self.stopped

    def observe(self, arm: str, seconds: float, failed: bool) -> None:
        """One answer of `arm`: how long it took and whether it failed (an exception, not a 404)."""
        now = self.clock()
        window = self._windows.get(arm)
        if window is None:
            window = self._windows[arm] = _Window(self.limits.window_seconds, self.limits.p99_ms)
        window.add(now, seconds, failed)
        if failed or now - self._judged.get(arm, -1e18) >= _RECHECK_SECONDS:
            self._judge(arm, now)

    def _judge(self, arm: str, now: float) -> None:
        with self._lock:
            self._judged[arm] = now
            health = self.health[arm] = self._windows[arm].health(now)
            n = health.requests
            if n < self.limits.min_requests or arm in self.stopped:
                return
            if health.error_rate > self.limits.error_rate:
                reason = f"error rate {health.error_rate:.1%} over {self.limits.error_rate:.1%} ({n} answers)"
            elif health.slow_share > _SLOW_SHARE:
                reason = (f"p99 over {self.limits.p99_ms:g} ms: {health.slow_share:.1%} of {n} answers were slower "
                          f"(about {health.p99_ms:g} ms)")
            else:
                return
        self.trip(arm, reason)

    def trip(self, arm: str, reason: str) -> None:
        """Stop `arm` here and, through the state file, in every worker."""
        self.stopped[arm] = reason
        log.error("A/B experiment %s: arm %s stopped by the guard: %s; its customers get the fallback arm",
                  self.experiment, arm, reason)
        if self.on_trip is not None:
            self.on_trip(arm, reason)
        if self.path is None:
            return
        try:
            update_state(self.path, self.experiment,
                         lambda stopped: stopped.setdefault(arm, {"reason": reason, "at": int(self.wall())}))
        except (OSError, UserError):
            log.exception("the A/B guard state %s could not be written; the stop holds in this worker only",
                          self.path)

    def _sync(self) -> None:
        """Adopt the state file's stopped arms when it changed (another worker's stop, or an admin's resume)."""
        self._next_look = self.clock() + _RECHECK_SECONDS
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._seen_mtime:
            return
        self._seen_mtime = mtime
        try:
            state = read_state(self.path)
        except GuardStateError as exc:
            log.error("%s", exc)
            return
        stopped = state["stopped"] if state.get("experiment") == self.experiment else {}
        resumed = set(self.stopped) - set(stopped)
        self.stopped = {arm: str(info.get("reason", "stopped")) if isinstance(info, dict) else "stopped"
                        for arm, info in stopped.items()}
        for arm in resumed:  # a fresh window: the answers that tripped the stop must not trip it again at once
            self._windows.pop(arm, None)
            self.health.pop(arm, None)
