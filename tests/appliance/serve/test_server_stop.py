"""`tanaban serve` stopped by SIGTERM (systemctl stop, a rolling restart behind nginx): uvicorn drains, then raises
the signal again; appliance.serve.server turns that into exit status 0 so that service.stop is written (the default
action killed the process before it, with status -15). The drain bound is passed to uvicorn."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from appliance.data.home import Home
from appliance.serve import server
from appliance.serve.events import open_serve_audit
from appliance.serve.workers import DRAIN_SECONDS
from export.cf import export_cf


def test_sigterm_after_the_drain_ends_with_status_0_and_an_audited_stop(
        bundle_home: tuple[Home, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1", quantize=False, progress=False)
    handlers: dict[int, object] = {}
    ran: list[dict] = []

    def uvicorn_run(app: object, **kw: object) -> None:  # what uvicorn does after draining: raise the signal again
        ran.append(kw)
        handlers[signal.SIGTERM](signal.SIGTERM, None)

    monkeypatch.setattr(server.uvicorn, "run", uvicorn_run)
    monkeypatch.setattr(server.signal, "signal", lambda sig, handler: handlers.__setitem__(sig, handler))
    with pytest.raises(SystemExit) as stopped:
        server.run_server(home.config, "127.0.0.1", 8089, workers=1)
    assert stopped.value.code == 0 and ran[0]["timeout_graceful_shutdown"] == DRAIN_SECONDS
    with open_serve_audit(home.config) as log:
        actions = [(e["action"], e["outcome"]) for e in log.entries()]
    assert actions[-2:] == [("service.start", "ok"), ("service.stop", "ok")]
