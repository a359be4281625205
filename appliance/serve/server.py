"""Running the HTTP app: one process with SIGHUP reload and a bundle watcher, several worker processes
(appliance.serve.workers), or a background thread on loopback for the demo and the tests. `tanaban serve` writes
service.start before it answers and service.stop when it ends (appliance.serve.events).
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

from appliance.serve.errors import ServeError
from appliance.serve.events import AuditSink, audited_service, open_serve_audit, reload_event
from appliance.serve.http import access_log, create_app
from appliance.serve.node import build_service
from appliance.serve.workers import config_fingerprint, run_workers, uvicorn_limits, watch_bundles
from export.bundle import BundleError

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig, ServeConfig
    from appliance.serve.service import Service


def run_server(cfg: ApplianceConfig, host: str, port: int, workers: int | None = None) -> None:
    """Serve until stopped; SIGHUP reloads the newest bundle (a bad one is refused and logged), and a watcher
    reloads when `<bundles>/CURRENT` changes. `workers` > 1 (default `cfg.serve.workers`): see serve_workers."""
    workers = cfg.serve.workers if workers is None else workers
    if workers > 1:
        run_workers(cfg, host, port, workers)
        return
    service, keys, to_pseudonym, gen_service = build_service(cfg)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    fingerprint = config_fingerprint(cfg, redact=True)
    with audited_service(cfg, fingerprint, service, gen_service, f"{host}:{port}", 1) as log:
        signal.signal(signal.SIGHUP, lambda *_: reload_on_signal(service, gen_service, log.append))
        app = create_app(service, keys, to_pseudonym, gen_service,
                         lifespan=watch_bundles([service, gen_service], cfg.serve.reload_poll_seconds, log.append),
                         serve_cfg=cfg.serve, audit=log.append)
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False,
                    **uvicorn_limits(cfg.serve))


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
def serving_on_loopback(cfg: ApplianceConfig) -> Iterator[int]:
    """Run the service on 127.0.0.1 (ephemeral port) in a background thread; yields the port (demo, tests).
    Admin reloads are audited; service start and stop are not (this is not `tanaban serve`)."""
    with open_serve_audit(cfg) as log:
        yield from _serve_in_thread(create_app(*build_service(cfg), serve_cfg=cfg.serve, audit=log.append), cfg.serve)


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
