"""Running the HTTP(S) app: one process with SIGHUP reload and a bundle watcher, several worker processes
(appliance.serve.workers), or a background thread on loopback for the demo and the tests. Address and TLS:
appliance.serve.node.resolve_listen; a node with no bundle yet answers /readyz 503 until the watcher loads one.
`tanaban serve` writes service.start before it answers and service.stop when it ends (appliance.serve.events).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

from appliance.abtest.serving import build_experiment
from appliance.serve.errors import ServeError
from appliance.serve.events import AuditSink, audited_service, open_serve_audit, reload_event
from appliance.serve.http import access_log, create_app
from appliance.serve.metrics import configure_logging
from appliance.serve.node import build_service, resolve_listen, start_line
from appliance.serve.node import log as node_log
from appliance.serve.workers import config_fingerprint, run_workers, uvicorn_limits, watch_bundles
from export.bundle import BundleError

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig, ServeConfig
    from appliance.serve.service import Service


def run_server(cfg: ApplianceConfig, host: str | None = None, port: int | None = None,
               workers: int | None = None) -> None:
    """Serve until stopped; SIGHUP reloads the newest bundle (a bad one is refused and logged), and a watcher
    reloads when `<bundles>/CURRENT` changes. No bundle published yet: /readyz answers 503 until the first one is
    loaded. `host`, `port` (default: [serve] host and port) and TLS: see resolve_listen. `workers` > 1 (default
    `cfg.serve.workers`): see run_workers."""
    listen = resolve_listen(cfg.serve, host, port)  # before anything is loaded: a bad TLS file is one line
    workers = cfg.serve.workers if workers is None else workers
    if workers > 1:
        run_workers(cfg, listen, workers)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    configure_logging(cfg.serve.log_format)  # serve.log_format: text or JSON lines
    service, keys, to_pseudonym, gen_service = build_service(cfg)
    fingerprint = config_fingerprint(cfg, redact=True)
    with audited_service(cfg, fingerprint, service, gen_service, f"{listen.host}:{listen.port}", 1) as log:
        signal.signal(signal.SIGHUP, lambda *_: reload_on_signal(service, gen_service, log.append))
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        app = create_app(service, keys, to_pseudonym, gen_service,
                         lifespan=watch_bundles([service, gen_service], cfg.serve.reload_poll_seconds, log.append),
                         serve_cfg=cfg.serve, audit=log.append,
                         experiment=build_experiment(cfg, service, to_pseudonym))  # [abtest]; None: no A/B
        node_log.info("%s", start_line(fingerprint, service, gen_service, listen, 1))
        uvicorn.run(app, host=listen.host, port=listen.port, access_log=False, log_level="warning",
                    server_header=False, **uvicorn_limits(cfg.serve), **listen.uvicorn_tls())


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (systemctl stop, a rolling restart): uvicorn drains the requests in flight, restores this handler and
    raises the signal again; ending with status 0 here, not by the default action that kills the process at once,
    lets `audited_service` write service.stop (outcome ok)."""
    raise SystemExit(0)


def reload_on_signal(service: Service, gen_service: Service, audit: AuditSink) -> None:
    """SIGHUP: reload the newest bundle (and generative bundle, if one is published), audited as bundle.reload with
    actor `signal`; a bad bundle is refused and the previous one keeps serving. Never raises: it runs as a signal
    handler, where an exception would surface in whatever the main thread was doing."""
    try:
        loaded = [f"bundle {service.reload()}"]
        if (gen_service.root / "CURRENT").exists():
            loaded.append(f"generative {gen_service.reload()}")
        access_log.warning("%s loaded", ", ".join(loaded))
        event = reload_event("signal", "ok", ", ".join(loaded))
    except (BundleError, ServeError) as exc:
        access_log.error("reload refused, still serving the previous bundle: %s", exc)
        event = reload_event("signal", "failed", f"still serving the previous bundle: {exc}")
    try:
        audit(event)
    except Exception as exc:
        access_log.error("the bundle.reload audit entry could not be written: %s", exc)


@contextlib.contextmanager
def serving_on_loopback(cfg: ApplianceConfig, watch_seconds: float = 0) -> Iterator[int]:
    """Run the service on 127.0.0.1 (ephemeral port) in a background thread; yields the port (demo, tests).
    Admin reloads are audited; service start and stop are not (this is not `tanaban serve`). `watch_seconds` > 0:
    poll `<bundles>/CURRENT` that often and load what it names, as `tanaban serve` does."""
    with open_serve_audit(cfg) as log:
        service, keys, to_pseudonym, gen_service = build_service(cfg)
        app = create_app(service, keys, to_pseudonym, gen_service, serve_cfg=cfg.serve, audit=log.append,
                         lifespan=watch_bundles([service, gen_service], watch_seconds, log.append),
                         experiment=build_experiment(cfg, service, to_pseudonym))
        yield from _serve_in_thread(app, cfg.serve)


def _serve_in_thread(app: Any, serve: ServeConfig) -> Iterator[int]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                                           **uvicorn_limits(serve)))
    thread = threading.Thread(target=server.run, name="tanaban-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServeError("the HTTP service did not start on 127.0.0.1")
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def loopback_json(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request to the service on 127.0.0.1:port; (status, decoded body)."""
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", **({"X-API-Key": token} if token else {})}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()
