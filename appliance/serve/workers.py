"""Several uvicorn worker processes on one address, and the per-worker bundle watcher.

On Linux each worker listens on a socket of its own bound with SO_REUSEPORT (socket(7)), so the kernel spreads
connections over the workers (AuditedMultiprocess); elsewhere they share the supervisor's socket. The HTTP protocol
is uvicorn's httptools one (h11 where httptools is missing) with a request-head timeout and size bound, and a
lingering close after a 400 (RFC 9112 section 9.6, "Tear-down"; Apache httpd's lingering_close): the server
half-closes and reads and discards what the client still sends, for a bounded time and number of bytes, so that
the kernel does not answer unread bytes with a reset that can erase the 400 before the client reads it.

uvicorn starts N > 1 workers only from an import string, so each worker process calls `app_factory()`, which loads
exactly the config the `tanaban serve` process resolved (its file path and a sha256 fingerprint travel in the
environment; TANABAN_* overrides are inherited) and builds its own `Service`. A reload request or SIGHUP reaches
one process only, so every worker also runs a `BundleWatcher` that polls `<bundles>/CURRENT` (and bundles-gen)
every `serve.reload_poll_seconds` and swaps in a newly published bundle itself (uvicorn's Multiprocess supervisor:
https://www.uvicorn.org/deployment/; its SIGHUP handler replaces the workers one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # the `serve` extra pins httptools; without it (a bare install) the pure-Python h11 parser serves
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is installed wherever the serve extra is
    HttpToolsProtocol = None  # type: ignore[assignment,misc]
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process as UvicornProcess

from appliance.abtest.serving import build_experiment
from appliance.config import ApplianceConfig, ServeConfig, config_fingerprint, load_config
from appliance.errors import UserError
from appliance.serve.events import AuditSink, audited_service, open_serve_audit, reload_event
from appliance.serve.http import create_app
from appliance.serve.metrics import configure_logging, multiprocess_dir  # metrics summed over workers
from appliance.serve.node import Listen, build_service, start_line
from appliance.serve.service import Service

CONFIG_FILE_ENV = "TANABAN_SERVE_CONFIG_FILE"  # the config file the supervisor read ("" when it used the defaults)
CONFIG_SHA_ENV = "TANABAN_SERVE_CONFIG_SHA256"  # fingerprint of the resolved config; a worker refuses a different one
FACTORY = "appliance.serve.workers:app_factory"  # what uvicorn imports in each worker process
# A new worker verifies and loads its bundle before it answers: about 8 s on a busy 2-core machine, and uvicorn's
# default of 5 s made it abort every SIGHUP restart. Also how long a silent worker lives before it is replaced.
WORKER_HEALTHCHECK_SECONDS = 60
# SIGTERM (systemctl stop, a rolling restart): stop accepting, close idle keep-alive connections, let requests in
# flight finish for at most this long (the slowest answer, a live generative decode, is bounded by nginx's 30 s read
# timeout in docs/INSTALL.md), then exit; well inside systemd's default TimeoutStopSec of 90 s.
DRAIN_SECONDS = 30
log = logging.getLogger("tanaban.serve")


class WorkerConfigError(UserError, RuntimeError):
    """A worker resolved a different config than `tanaban serve` did (the file or environment changed meanwhile)."""


def worker_env(cfg: ApplianceConfig) -> dict[str, str]:
    """Environment entries that let a worker process load the same config as `cfg`."""
    source = cfg.source if cfg.source and cfg.source != "defaults" else ""
    return {CONFIG_FILE_ENV: str(Path(source).resolve()) if source else "",
            CONFIG_SHA_ENV: config_fingerprint(cfg, redact=False)}


def load_worker_config(env: Mapping[str, str]) -> ApplianceConfig:
    """The config of the supervising `tanaban serve`, checked against its fingerprint."""
    if CONFIG_SHA_ENV not in env:
        raise WorkerConfigError(f"{CONFIG_SHA_ENV} is not set: start workers with `tanaban serve --workers N`, "
                                f"not by importing {FACTORY} directly")
    cfg = load_config(env.get(CONFIG_FILE_ENV) or None, env=env)
    if config_fingerprint(cfg, redact=False) != env[CONFIG_SHA_ENV]:
        raise WorkerConfigError(f"the config resolved in this worker ({cfg.source}) differs from the one "
                                "`tanaban serve` started with: restart the service after editing the config")
    return cfg


class BundleWatcher:
    """Reloads each service when `<root>/CURRENT` names a bundle it is not serving; a refused bundle is logged once
    and skipped until CURRENT names another one, while the previous bundle keeps serving."""

    def __init__(self, services: Sequence[Service], audit: AuditSink | None = None) -> None:
        self.services = list(services)
        self.refused: dict[Path, str] = {}  # bundles root -> the bundle name that failed to load
        self.audit = audit  # bundle.reload (actor `watcher`) per load or first refusal, never per idle poll

    def check(self) -> list[str]:
        """One poll (blocking: verification reads every file); returns the versions newly loaded."""
        loaded = []
        for service in self.services:
            name = _current_name(service.root)
            serving = service.bundle.path.name if service.bundle is not None else None
            if name is None or name == serving or name == self.refused.get(service.root):
                continue
            try:
                version = service.reload()
            except Exception as exc:  # any failure to load leaves the previous bundle serving
                self.refused[service.root] = name
                log.error("worker %d: bundle %s refused, still serving %s: %s", os.getpid(), name, serving, exc)
                self._audited("failed", f"{service.root.name} {name} refused, still serving {serving}: {exc}")
                continue
            self.refused.pop(service.root, None)
            log.warning("worker %d: bundle %s loaded from %s", os.getpid(), version, service.root)
            self._audited("ok", f"{service.root.name} {version}")
            loaded.append(version)
        return loaded

    def _audited(self, outcome: str, detail: str) -> None:
        """Write bundle.reload; the reload is done either way, so a failed write is logged, not raised."""
        if self.audit is None:
            return
        try:
            self.audit(reload_event("watcher", outcome, detail))
        except Exception:
            log.exception("worker %d: the bundle.reload audit entry could not be written", os.getpid())

    async def run(self, interval: float) -> None:
        """Poll forever; verification and loading run in a thread so requests keep being answered."""
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.check)
            except Exception:  # the watcher must outlive a transient error (disk, permissions)
                log.exception("worker %d: bundle watcher poll failed; retrying", os.getpid())


def _current_name(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def watch_bundles(services: Sequence[Service], interval: float,
                  audit: AuditSink | None = None) -> Callable[[Any], Any]:
    """A FastAPI lifespan running a `BundleWatcher` (auditing to `audit`) every `interval` seconds (0: none)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        if interval <= 0:
            yield
            return
        task = asyncio.create_task(BundleWatcher(services, audit).run(interval), name="tanaban-bundle-watcher")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


def app_factory() -> Any:
    """Build one worker's app (uvicorn calls this in each worker process)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = load_worker_config(os.environ)
    service, keys, to_pseudonym, gen_service = build_service(cfg)
    audit = open_serve_audit(cfg)  # one connection per worker, open for the worker's life (admin reloads)
    return create_app(service, keys, to_pseudonym, gen_service,
                      lifespan=watch_bundles([service, gen_service], cfg.serve.reload_poll_seconds, audit.append),
                      serve_cfg=cfg.serve, audit=audit.append,
                      experiment=build_experiment(cfg, service, to_pseudonym))  # [abtest]; None: no A/B


def run_workers(cfg: ApplianceConfig, listen: Listen, workers: int) -> None:
    """Serve with `workers` processes until stopped (SIGHUP to this process restarts the workers one at a time).
    This supervising process writes service.start and service.stop (appliance.serve.events)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    configure_logging(cfg.serve.log_format)  # serve.log_format: text or JSON lines
    service, _, to_pseudonym, gen_service = build_service(cfg)  # fail here, with the clear bundle/key error, not in
    build_experiment(cfg, service, to_pseudonym)  # every worker; likewise a missing [abtest] arm source
    os.environ.update(worker_env(cfg))  # spawned workers inherit the environment
    config = TCPConfig(
        FACTORY, factory=True, workers=workers, host=listen.host, port=listen.port, access_log=False,
        log_level="warning", server_header=False, timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **uvicorn_limits(cfg.serve), **listen.uvicorn_tls())
    fingerprint = config_fingerprint(cfg, redact=True)
    log.info("%s", start_line(fingerprint, service, gen_service, listen, workers))
    with multiprocess_dir(), \
            audited_service(cfg, fingerprint, service, gen_service, f"{listen.host}:{listen.port}", workers) as audit, \
            contextlib.suppress(KeyboardInterrupt):  # what uvicorn.run does for workers > 1, with our socket
        AuditedMultiprocess(config, [config.bind_socket()], roots=(service.root, gen_service.root),
                            audit=audit.append, reuse_port=REUSE_PORT).run()


class AuditedMultiprocess(Multiprocess):
    """uvicorn's supervisor, writing bundle.reload (actor `signal`) after SIGHUP has replaced the workers one at a
    time: each new worker loads the bundles CURRENT names, so the entry names those; outcome failed when uvicorn
    aborted the restart (a new worker not ready in time) and the previous workers keep serving.

    `reuse_port` (Linux): every worker listens on a socket of its own, bound to the same address with SO_REUSEPORT,
    and the kernel spreads new connections over them (by a hash of the client's address and port; socket(7)). On one
    shared socket every idle worker wakes for a new connection and asyncio's accept loop takes all that are waiting:
    8 keep-alive connections opened at once all went to one worker (99% of the CPU in bench/serve_load.py), so a
    second worker added nothing. The socket given here (bound with SO_REUSEPORT, never listening, so it is handed
    no connection) holds the address for the supervisor's life; each worker's listener is made when the worker is
    started and closed here once the worker holds it, so it goes when its worker stops (SIGHUP, SIGTTOU, a crash)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], *, roots: Sequence[Path],
                 audit: AuditSink, reuse_port: bool = False) -> None:
        super().__init__(config, sockets)
        self.roots, self.audit = tuple(roots), audit
        self.reuse_port = reuse_port and len(sockets) == 1 and sockets[0].family in (socket.AF_INET, socket.AF_INET6)

    # uvicorn 0.54's Multiprocess makes every worker with `Process(self.config, self.sockets)` in these four
    # methods; with reuse_port they are uvicorn's own, with `self._process()` instead, which gives each worker its
    # listener (without it, uvicorn's methods run unchanged).
    def init_processes(self) -> None:
        if not self.reuse_port:
            super().init_processes()
            return
        for _ in range(self.processes_num):
            self.processes.append(self._process())

    def restart_all(self) -> None:
        if not self.reuse_port:
            super().restart_all()
            return
        for idx, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._process()
            if not new_process.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    log.error("new worker %s was not ready in time: keeping worker %s and aborting the restart",
                              new_process.pid, old_process.pid)
                return
            old_process.terminate()
            old_process.join()
            self.processes[idx] = new_process

    def keep_subprocess_alive(self) -> None:
        if not self.reuse_port:
            super().keep_subprocess_alive()
            return
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # broken app, TLS or socket: every restart would fail alike
                log.error("worker %s failed to start: stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.warning("worker %s died: starting another", process.pid)
            self.processes[idx] = self._process()

    def handle_ttin(self) -> None:
        if not self.reuse_port:
            super().handle_ttin()
            return
        self.processes_num += 1
        self.processes.append(self._process())

    def _process(self) -> UvicornProcess:
        """A started worker on a listener of its own (reuse_port)."""
        listener = reuse_port_socket(self.sockets[0])
        try:
            process = UvicornProcess(self.config, [listener])
            process.start()  # a spawned worker inherits the descriptor at its start (multiprocessing passfds)
        finally:
            listener.close()  # the worker's copy is the only one: it leaves the group when the worker stops
        return process

    def handle_hup(self) -> None:
        before = list(self.processes)
        super().handle_hup()
        if self.should_exit.is_set():
            return  # stopping: the restart was cut short on purpose
        names = ", ".join(f"{root.name} {_current_name(root) or 'none'}" for root in self.roots)
        replaced = all(new is not old for new, old in zip(self.processes, before, strict=True))
        event = reload_event("signal", "ok", f"{len(before)} workers restarted, serving {names}") if replaced else \
            reload_event("signal", "failed", "a new worker was not ready in time: restart aborted, the previous "
                                             "workers keep serving")
        try:
            self.audit(event)
        except Exception:
            log.exception("the bundle.reload audit entry could not be written")


REUSE_PORT = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")  # see AuditedMultiprocess


def reuse_port_socket(reserved: socket.socket) -> socket.socket:
    """A new TCP socket bound with SO_REUSEPORT to the address `reserved` holds (the port it was given, also when
    the config asked for port 0), inheritable, not yet listening (asyncio's create_server listens in the worker)."""
    sock = socket.socket(reserved.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(reserved.getsockname())
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class TCPConfig(uvicorn.Config):
    """uvicorn's Config whose listening socket says it is TCP, so accepted connections get TCP_NODELAY.

    uvicorn 0.54's Config.bind_socket() leaves the socket's proto at 0; accepted sockets inherit it and asyncio
    sets TCP_NODELAY only when proto is IPPROTO_TCP, so with --workers N every keep-alive response waited for the
    client's delayed ACK (about 44 ms per request; uvicorn issue #3149). A module-level class: the config is pickled
    into each spawned worker.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        if REUSE_PORT and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Bound with SO_REUSEPORT too, so that the workers' own listeners (AuditedMultiprocess) may share its
            # address; the option must be set before bind: rebind a fresh socket to the address uvicorn got.
            address = sock.getsockname()
            sock.close()
            fresh = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                fresh.bind(address)
            except OSError as exc:  # taken in between: as uvicorn's own bind failure
                fresh.close()
                log.error("%s", exc)
                sys.exit(STARTUP_FAILURE)
            fresh.set_inheritable(True)
            sock = fresh
        return sock


def uvicorn_limits(serve: ServeConfig) -> dict[str, Any]:
    """uvicorn.Config keyword arguments that bound slow and idle clients (docs/SERVING.md, Limits): the request-head
    timeout below, uvicorn's keep-alive timeout, a cap on connections + tasks beyond which requests get 503, and how
    long a stopping node drains the requests in flight (DRAIN_SECONDS).
    No WebSocket protocol: the API has no WebSocket route, and an upgrade would escape the head timeout."""
    protocol = BoundedH11Protocol if HttpToolsProtocol is None else BoundedHttpToolsProtocol
    return {"http": functools.partial(protocol, head_timeout=serve.head_timeout_seconds), "ws": "none",
            "timeout_keep_alive": serve.keep_alive_seconds, "limit_concurrency": serve.max_connections,
            "timeout_graceful_shutdown": DRAIN_SECONDS}


class _HeadTimeout:
    """A request-head timeout for uvicorn's HTTP protocols: a connection whose request head is not complete
    `head_timeout` seconds after it opened (or after its previous answer) is closed (slowloris).

    uvicorn 0.54 has no such bound: its keep-alive timer starts only after a response and any received byte cancels
    it, so a client that connects and sends nothing, or one header byte every few seconds, held its connection
    forever. Reading the body is bounded in the app (serve.body_timeout_seconds, 408). Both protocols start a new
    request/response `cycle` when a request head is complete; that is what this watches."""

    head_timeout: float
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle  # type: ignore[attr-defined]
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not cycle:  # type: ignore[attr-defined]  # a complete request head started a new cycle
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        cycle = self.cycle  # type: ignore[attr-defined]
        if not self.transport.is_closing() and (cycle is None or cycle.response_complete):  # type: ignore[attr-defined]
            self._arm_head_timer()  # waiting for the next request head (a pipelined one already started a cycle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)  # type: ignore[attr-defined]

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():  # type: ignore[attr-defined]
            self._close_timed_out()

    def _close_timed_out(self) -> None:
        self.transport.close()  # type: ignore[attr-defined]


# After a 400 the connection lingers at most this long and discards at most this many bytes: a lingering close
# must not become a way for a client to hold a connection (Apache httpd waits 2 s, MAX_SECS_TO_LINGER).
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 1024 * 1024


class _LingeringClose(_HeadTimeout):
    """A lingering close after uvicorn's 400 (RFC 9112 section 9.6, "Tear-down").

    uvicorn's `send_400_response` writes the 400 (with `connection: close`) and closes the socket at once. A 400 for
    a malformed or oversized head usually comes while the client is still sending: closing a socket with unread
    bytes makes Linux send a reset instead of a FIN, and bytes that arrive after the close are answered with a reset
    too. The client then read ECONNRESET instead of the end of the answer (every time for a 128 KiB head sent in one
    piece; tests/appliance/serve/test_robustness.py), and a reset may erase the unread 400 in the client's buffers
    (RFC 9112 9.6). Here uvicorn's own 400 is written unchanged; only its final close becomes: half-close (FIN after
    the 400), then read and discard whatever arrives, and close when the client closes, after LINGER_SECONDS, or
    once more than LINGER_MAX_BYTES were discarded. Over TLS (no half-close) the close stays asyncio's: it sends
    close_notify after the 400 and waits for the client's. A client still sending at that point makes OpenSSL report
    application data after close_notify, and asyncio aborts the connection: the 400 and close_notify were written
    before, and a Linux client reads both (tests/appliance/serve/test_robustness.py, 30 connections per protocol),
    but about one client in twenty has a send of the rest of its head fail (SSLEOFError), as over plain HTTP before
    the lingering close. A client that neither answers close_notify nor closes held the connection for asyncio's
    ssl_shutdown_timeout (30 s; uvicorn does not set it): it is aborted after LINGER_SECONDS instead."""

    _linger_timer: asyncio.TimerHandle | None = None
    _lingered_bytes: int | None = None  # None: not lingering
    _head_too_large = False  # set by a protocol's own head bound: the 400 says so

    def send_400_response(self, msg: str) -> None:
        transport = self.transport  # type: ignore[attr-defined]
        self.transport = _CloseLingers(transport, self._linger)
        try:
            super().send_400_response("Request head too large." if self._head_too_large else msg)  # type: ignore[misc]
        finally:
            self.transport = transport

    def _linger(self, transport: asyncio.Transport) -> None:
        self._cancel_head_timer()  # the lingering has bounds of its own
        if transport.is_closing():
            return
        cycle = self.cycle  # type: ignore[attr-defined]
        if not transport.can_write_eof() or (cycle is not None and not cycle.response_complete):
            # TLS: asyncio's close sends close_notify after the 400 (see above). An answer still being written (a
            # malformed request pipelined behind a valid one): it would write after the FIN; uvicorn's close cuts it
            # off instead.
            transport.close()
            if not transport.can_write_eof():  # asyncio would wait up to 30 s for the client's close_notify
                self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.abort)  # type: ignore[attr-defined]
            return
        transport.write_eof()  # the FIN follows the 400 once the write buffer is flushed
        self._lingered_bytes = 0
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.close)  # type: ignore[attr-defined]
        self.flow.resume_reading()  # type: ignore[attr-defined]  # reading stays on until the client is done

    def data_received(self, data: bytes) -> None:
        if self._lingered_bytes is None:
            super().data_received(data)
            return
        self._lingered_bytes += len(data)  # discarded
        if self._lingered_bytes > LINGER_MAX_BYTES:
            self.transport.close()  # type: ignore[attr-defined]

    # eof_received: uvicorn's returns None, so asyncio closes the transport when the client closes its side.

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)


class _CloseLingers:
    """The transport as uvicorn's `send_400_response` sees it: everything passes through, except that `close()`
    starts the lingering close (_LingeringClose) instead."""

    def __init__(self, transport: asyncio.Transport, linger: Callable[[asyncio.Transport], None]) -> None:
        self._transport, self._linger_on = transport, linger

    def close(self) -> None:
        self._linger_on(self._transport)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedH11Protocol(_LingeringClose, H11Protocol):
    """uvicorn's h11 protocol (pure Python) with the request-head timeout (_HeadTimeout) and a lingering close after
    its 400s (_LingeringClose; h11 itself refuses a head over 16 KiB); used when httptools is not installed. Module
    level: the partial in `uvicorn_limits` is pickled into each spawned worker."""

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        parse = self.conn.next_event

        def next_event() -> Any:
            # h11's 16 KiB limit bounds only a head still incomplete in its buffer; one that arrives complete in a
            # single read (up to asyncio's 256 KiB) passed: bound its request-target and headers here as well.
            event = parse()
            if isinstance(event, h11.Request) and len(event.target) + sum(
                    len(name) + len(value) + 4 for name, value in event.headers) > MAX_HEAD_BYTES:
                self._head_too_large = True
                raise h11.RemoteProtocolError("request head too large", error_status_hint=400)
            return event

        self.conn.next_event = next_event  # type: ignore[method-assign]

    def _close_timed_out(self) -> None:
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


MAX_HEAD_BYTES = 16 * 1024  # a request head larger than this gets 400 (h11's own limit, kept with httptools)


class _HeadTooLargeError(Exception):
    """Raised from an httptools callback once a head passes MAX_HEAD_BYTES (httptools turns it into its error)."""


if HttpToolsProtocol is not None:
    class BoundedHttpToolsProtocol(_LingeringClose, HttpToolsProtocol):
        """uvicorn's httptools protocol (the C parser of llhttp) with the request-head timeout (_HeadTimeout),
        h11's 16 KiB bound on a request head (uvicorn's httptools protocol has none: headers would pile up in memory
        until the head timeout) and a lingering close after a 400 (_LingeringClose): the server's default. On
        Beauty's live answers it cost about 0.84x the server CPU per request of the h11 one (docs/BENCHMARKS.md,
        "Live scoring latency")."""

        def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.head_timeout = head_timeout
            self._head_bytes = 0  # received since the head timer was armed, while no head is complete
            self._parsed_head = 0  # request-target and header bytes of the head being parsed

        # The bound holds for a head that arrives complete in one read as well (up to asyncio's 256 KiB reads):
        # the parser's own callbacks count the request-target and each header, and an exception in a callback
        # makes httptools stop with an error, which uvicorn answers with a 400.
        def on_message_begin(self) -> None:
            self._parsed_head = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
            super().on_header(name, value)

        def _count_head(self, size: int) -> None:
            self._parsed_head += size
            if self._parsed_head > MAX_HEAD_BYTES:
                self._head_too_large = True
                raise _HeadTooLargeError

        def data_received(self, data: bytes) -> None:
            waiting = self._head_timer is not None  # armed: no request head complete since the last answer
            super().data_received(data)
            if not waiting or self._head_timer is None or self.transport.is_closing():
                self._head_bytes = 0  # a head completed (or the connection is going): count afresh next time
                return
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._cancel_head_timer()
                self.send_400_response("Request head too large.")
