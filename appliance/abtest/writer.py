"""The exposure writer: answers under an experiment are logged off the request path, through a bounded queue that a
background thread drains into the store in batches (appliance.abtest.exposures.record_exposures: one transaction per
batch, SQLite in WAL mode with a busy timeout, so several serving workers can write side by side).

A full queue never slows an answer: the row is dropped and counted (tanaban_abtest_exposures_total{outcome="dropped"}).
A batch the store refuses (locked past its busy timeout, disk full) goes back to the head of the queue and is tried
again after an exponential back-off (capped at MAX_BACKOFF_SECONDS), so a store locked for a minute loses nothing
while the queue has room; a malformed row is dropped at once and counted as failed. `stop()` flushes what is queued
(the app's lifespan calls it on shutdown), one attempt: what the store still refuses then is counted as failed.
Retention: exposures older than abtest.exposure_retention_days are deleted when the writer starts and then hourly.
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
MAX_BACKOFF_SECONDS = 30.0  # longest wait between attempts while the store refuses writes


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
        self.dropped = self.written = self.failed = self.retries = 0
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
        wait = self.flush_seconds
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            stopping = self._stopping  # read before draining: rows offered before stop() are all written
            drained = self._drain()
            wait = self.flush_seconds if drained else min(max(2 * wait, self.flush_seconds), MAX_BACKOFF_SECONDS)
            self._prune_due()
            if stopping:
                if not drained:
                    self._lose(len(self.queue), "the store still refuses them at shutdown")
                    self.queue.clear()
                return

    def _drain(self) -> bool:
        """Write the queue in batches; False when the store refused one (it is back at the head of the queue)."""
        while self.queue:
            rows = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
            if not self._write(rows):
                return False
        return True

    def _write(self, rows: list[Mapping[str, Any]]) -> bool:
        from appliance.abtest.exposures import ExposureError

        try:
            written = self.record(self.engine, rows)
        except ExposureError as exc:  # a malformed row: trying again cannot help
            self._lose(len(rows), str(exc))
            return True
        except Exception as exc:  # locked, disk full: must not kill the writer; the batch is tried again
            self.queue.extendleft(reversed(rows))
            self.retries += 1
            log.warning("%d exposure rows not written yet (%s); trying again", len(rows), type(exc).__name__)
            return False
        self.written += written
        self.count("written", written)
        return True

    def _lose(self, n: int, why: str) -> None:
        if n:
            self.failed += n
            self.count("failed", n)
            log.error("%d exposure rows lost: %s", n, why)

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
