"""Prometheus metrics of the HTTP service (prometheus_client; text exposition format 0.0.4, with HELP and TYPE lines)
and its optional JSON log lines.

Follows the Prometheus client library guidelines (https://prometheus.io/docs/instrumenting/writing_clientlibs/) and
prometheus_client's multiprocess mode (https://prometheus.github.io/client_python/multiprocess/): with
`tanaban serve --workers N` the server creates a private directory (`multiprocess_dir`, mode 0700) and sets
PROMETHEUS_MULTIPROC_DIR before the workers start, so each worker writes its values to memory-mapped files there and
whichever worker answers /metrics reads them all: counters and histograms are summed over every worker (also ones
that have exited), gauges carry a `pid` label per live worker. The directory is removed when the server stops. In a
single process (one worker, the tests) the values live in memory.

Series: `tanaban_requests_total{route,status}`, `tanaban_request_duration_seconds{route,status_class}` (histogram),
`tanaban_bundle_reloads_total{trigger,outcome}` (a refused reload counts as `failed`), `tanaban_bundle_info{bundle,
model}`, `tanaban_worker_info`, `tanaban_gen_batches_total`, `tanaban_gen_batched_queries_total` and the standard
`process_*` metrics (per worker, `pid` label, with several workers). `route` is the route template, never a path
holding a sku; no label ever holds request data.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from appliance.data.locks import pid_alive
from appliance.serve.errors import ServeError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Cached answers take well under a millisecond; live and generative ones a few to tens of milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOG_FORMATS = ("text", "json")
disable_created_metrics()  # no `*_created` series: half the /metrics lines, and nobody graphs them
_LIVE: weakref.WeakSet[ServeMetrics] = weakref.WeakSet()  # this process's apps, told about reloads (reload_observed)


class LogFormatError(ServeError):
    """serve.log_format is neither "text" nor "json"."""


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[str]:
    """A private directory for the workers' metric files, exported as PROMETHEUS_MULTIPROC_DIR to the processes
    started inside the block (set it before they start: prometheus_client reads it at import); removed afterwards."""
    directory = tempfile.mkdtemp(prefix="tanaban-metrics-")  # 0700: only the service user reads the counters
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def _trigger(actor: str) -> str:
    """The reload trigger of an audit actor: `apikey:<id>` -> http, `signal`, `watcher`."""
    return "http" if actor.startswith("apikey:") else actor if actor in ("signal", "watcher") else "other"


def reload_observed(actor: str, outcome: str) -> None:
    """Count a reload attempt (appliance.serve.events.reload_event calls this for every bundle.reload entry it makes,
    so HTTP, SIGHUP and watcher reloads all count) and refresh the bundle info of this process's apps."""
    for metrics in list(_LIVE):
        metrics.reloads.labels(_trigger(actor), "ok" if outcome == "ok" else "failed").inc()
        metrics.refresh_bundles()


    return True


def _file_pids(directory: str) -> set[int]:
    """Pids of the processes that wrote live gauges (`gauge_live*_<pid>.db`) into the multiprocess directory."""
    pids = set()
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        with contextlib.suppress(ValueError):
            pids.add(int(os.path.basename(path).rsplit("_", 1)[1][:-3]))
    return pids


class _WorkerProcesses(Collector):
    """The standard process_* metrics (CPU seconds, memory, open fds, start time) of every live worker, one `pid`
    label each: prometheus_client's ProcessCollector covers only the process that answers."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for pid in sorted(_file_pids(self.directory)):
            for family in ProcessCollector(pid=lambda p=pid: p, registry=None).collect():
                out = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    out.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        return list(families.values())


class ServeMetrics:
    """The metrics of one app: recorded by the app's ASGI middleware (`observe`, a few microseconds per request) and
    rendered for /metrics (`exposition`)."""

    def __init__(self, service: Any, gen_service: Any = None, batcher: Any = None) -> None:
        self.service, self.gen_service, self.batcher = service, gen_service, batcher
        self.directory = os.environ.get(MULTIPROC_ENV) or None
        multi = self.directory is not None
        # Single process: a registry of our own (several apps in one test process stay apart). Several workers: the
        # metric objects write to the shared files and the exposition registry reads those files back.
        own = None if multi else CollectorRegistry()
        self.requests = Counter("tanaban_requests", "HTTP requests answered, by route template and status code",
                                ("route", "status"), registry=own)
        self.latency = Histogram("tanaban_request_duration_seconds", "Time from the request's arrival to the end "
                                 "of its answer, by route template and status class", ("route", "status_class"),
                                 buckets=LATENCY_BUCKETS, registry=own)
        self.reloads = Counter("tanaban_bundle_reloads", "Bundle reload attempts by trigger (http, signal, watcher) "
                               "and outcome (ok; failed: refused, the previous bundle keeps serving)",
                               ("trigger", "outcome"), registry=own)
        self.gen_batches = Counter("tanaban_gen_batches", "Beam searches run for live generative requests",
                                   registry=own)
        self.gen_queries = Counter("tanaban_gen_batched_queries", "Live generative queries answered by those beam "
                                   "searches (queries / batches = mean batch)", registry=own)
        pid = () if multi else ("pid",)  # multiprocess mode adds the pid label itself
        self.bundle_info = Gauge("tanaban_bundle_info", "1 for each bundle being served, by version and model "
                                 "(cf, generative)", ("bundle", "model"), registry=own,
                                 multiprocess_mode="liveall")
        self.worker_info = Gauge("tanaban_worker_info", "1 per worker process answering requests", pid,
                                 registry=own, multiprocess_mode="liveall")
        (self.worker_info.labels(str(os.getpid())) if pid else self.worker_info).set(1)
        if multi:
            self.registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(self.registry, path=self.directory)
            self.registry.register(_WorkerProcesses(self.directory))
        else:
            self.registry = own
            ProcessCollector(registry=own)
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._bundles: set[tuple[str, str]] = set()
        self._gen_seen = (0, 0)
        self.refresh_bundles()
        _LIVE.add(self)

    def observe(self, route: str, status: int, seconds: float) -> None:
        """One answered request (the label children are cached: `labels()` costs more than the increment)."""
        children = self._children.get((route, status))
        if children is None:
            children = self._children[(route, status)] = (self.requests.labels(route, str(status)),
                                                          self.latency.labels(route, f"{status // 100}xx"))
        children[0].inc()
        children[1].observe(seconds)
        if self.batcher is not None and (self.batcher.batches, self.batcher.queries) != self._gen_seen:
            self._sync_batcher()

    def _sync_batcher(self) -> None:
        """Carry the batcher's own counts (appliance.serve.batching) over into the shared counters."""
        batches, queries = self.batcher.batches, self.batcher.queries
        self.gen_batches.inc(batches - self._gen_seen[0])
        self.gen_queries.inc(queries - self._gen_seen[1])
        self._gen_seen = (batches, queries)

    def refresh_bundles(self) -> None:
        """Set tanaban_bundle_info to the bundles served now; a replaced one drops out (0 in the shared files, which
        the exposition leaves out)."""
        now = {(s.bundle.version, model) for s, model in ((self.service, "cf"), (self.gen_service, "generative"))
               if s is not None and getattr(s, "bundle", None) is not None}
        for labels in self._bundles - now:
            self.bundle_info.labels(*labels).set(0)
            self.bundle_info.remove(*labels)
        for labels in now - self._bundles:
            self.bundle_info.labels(*labels).set(1)
        self._bundles = now

    def exposition(self) -> bytes:
        """The /metrics body (CONTENT_TYPE)."""
        self.refresh_bundles()
        if self.batcher is not None:
            self._sync_batcher()
        if self.directory is None:
            return generate_latest(self.registry)
        for pid in _file_pids(self.directory):  # a worker replaced by SIGHUP or a crash: its gauges go
            if not pid_alive(pid):
                with contextlib.suppress(FileNotFoundError):  # another worker's scrape removed them first
                    prom_multiprocess.mark_process_dead(pid, self.directory)
        text = generate_latest(self.registry)
        return b"\n".join(line for line in text.split(b"\n")
                          if not (line.startswith(b"tanaban_bundle_info{") and line.endswith(b" 0.0")))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message and the record's structured fields
    (the access log adds method, route, status, duration_ms, key_id and request_id)."""

    FIELDS = ("method", "route", "status", "duration_ms", "key_id", "request_id")

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        out.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(log_format: str) -> None:
    """Apply serve.log_format to the root logger's stream handlers (installed by `tanaban serve`): "text" keeps
    them, "json" gives each a JsonFormatter. Raises LogFormatError for anything else."""
    if log_format not in LOG_FORMATS:
        raise LogFormatError(f"serve.log_format must be one of {', '.join(LOG_FORMATS)} (got {log_format!r}): fix it "
                             "in the config file or TANABAN_SERVE__LOG_FORMAT")
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            if type(handler) in (logging.StreamHandler, logging.FileHandler):  # not pytest's capture handlers
                handler.setFormatter(JsonFormatter())
