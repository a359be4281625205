"""The exposure writer: answers under an experiment are logged off the request path, through a bounded queue that a
background thread drains into the store in batches (appliance.abtest.exposures.record_exposures: one transaction per
batch, SQLite in WAL mode with a busy timeout, so several serving workers can write side by side).

A full queue never slows an answer: the row is dropped and counted (tanaban_abtest_exposures_total{outcome="dropped"}).
`stop()` flushes what is queued (the app's lifespan calls it on shutdown). Retention: exposures older than
abtest.exposure_retention_days are deleted when the writer starts and then hourly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("tanaban.abtest")
PRUNE_EVERY_SECONDS = 3600.0


class ExposureWriter:
    """Bounded queue + one writer thread. `offer` is what a request calls: an append to a deque (atomic under the
    GIL), no lock and no wake-up of the thread, which sleeps `flush_seconds` between batches (or until a batch is
    full): waking it per answer cost more than the rest of A/B serving together (docs/BENCHMARKS.md)."""

    def __init__(self, engine: Any, *, capacity: int, batch: int, flush_seconds: float, retention_days: float,
                 record: Callable[[Any, list[Mapping[str, Any]]], int] | None = None,
                 prune: Callable[[Any, int], int] | None = None, count: Callable[[str, int], None] | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        from appliance.abtest.exposures import prune_exposures, record_exposures

        self.engine, self.capacity, self.batch, self.flush_seconds = engine, capacity, batch, flush_seconds
        self.retention_seconds = retention_days * 86400.0
        self.record, self.prune = record or record_exposures, prune or prune_exposures
        self.count = count or (lambda outcome, n: None)  # outcome: written | dropped | failed
        self.wall = wall
        self.queue: deque[Mapping[str, Any]] = deque()
        self.dropped = self.written = self.failed = 0
        self._wake, self._stopping = threading.Event(), False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._next_prune = 0.0

    def offer(self, row: Mapping[str, Any]) -> bool:
        """Queue one exposure row; False (and counted as dropped) when the queue is full."""
        if self._thread is None:
            self.start()
        size = len(self.queue)
        if size >= self.capacity:
            self.dropped += 1
            self.count("dropped", 1)
            return False
        self.queue.append(row)
        if size + 1 == self.batch:  # a full batch: write it now rather than at the next tick
            self._wake.set()
        return True

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="tanaban-exposures", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then end the thread (the app's shutdown)."""
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        self._prune_due()
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping  # read before draining: rows offered before stop() are all written
            while self.queue:
                rows = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
                self._write(rows)
            self._prune_due()
            if stopping:
                return

    def _write(self, rows: list[Mapping[str, Any]]) -> None:
        try:
            written = self.record(self.engine, rows)
        except Exception as exc:  # a locked or full disk must not kill the writer; the rows are lost, and counted
            self.failed += len(rows)
            self.count("failed", len(rows))
            log.error("%d exposure rows not written (%s); the writer keeps going", len(rows), type(exc).__name__)
            return
        self.written += written
        self.count("written", written)

    def _prune_due(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY_SECONDS
        try:
            removed = self.prune(self.engine, int(self.wall() - self.retention_seconds))
        except Exception as exc:
            log.error("exposure retention pruning failed (%s); retrying in an hour", type(exc).__name__)
            return
        if removed:
            log.info("removed %d exposures older than %g days", removed, self.retention_seconds / 86400)
