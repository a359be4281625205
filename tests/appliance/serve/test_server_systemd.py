"""The service as `installer/install.sh --system` sets it up: the unit's ExecStart with the installed config starts
before any bundle exists (/healthz 200, /readyz 503 with the reason), picks up the first exported bundle, and the
unit's ExecReload (SIGHUP) keeps it ready. systemd itself is not run: the test runs the unit's command lines."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from appliance.config import config_fingerprint, load_config
from appliance.data.home import init_home, open_home
from export.cf import export_cf

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unit(root: Path) -> dict[str, list[str]]:
    """The installed unit's directives (key -> every value, in order)."""
    out: dict[str, list[str]] = {}
    for line in (root / "etc/systemd/system/tanaban.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def _get(port: int, path: str) -> tuple[int, dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _wait_for(port: int, path: str, status: int, seconds: float, server: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, log.read_text()
        with contextlib.suppress(OSError):
            got, body = _get(port, path)
            if got == status:
                return body
        assert time.monotonic() < deadline, f"{path} never answered {status}: {log.read_text()[-2000:]}"
        time.sleep(0.1)


@contextlib.contextmanager
def _exec_start(unit: dict[str, list[str]], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The unit's ExecStart, its /opt/tanaban/venv path mapped to this venv, in a session of its own."""
    argv = shlex.split(unit["ExecStart"][0])
    assert argv[0] == "/opt/tanaban/venv/bin/tanaban"
    with log.open("wb") as err:
        server = subprocess.Popen([str(VENV_BIN / "tanaban"), *argv[1:]], env=env, stdout=subprocess.DEVNULL,
                                  stderr=err, start_new_session=True)
    try:
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def test_installed_unit_starts_without_a_bundle_then_serves_and_reloads(tmp_path: Path, serve_sample) -> None:
    root = tmp_path / "root"
    out = subprocess.run(["bash", str(ROOT / "installer/install.sh"), "--system", "--root", str(root), "--no-pip"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    unit = _unit(root)
    (config_env,) = unit["Environment"]
    name, config = config_env.split("=", 1)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANABAN_")}
    env |= {name: str(root) + config, "TANABAN_PATHS__DATA_DIR": str(root / "var/lib/tanaban"),
            "TANABAN_SERVE__PORT": str(port)}  # the staged layout, and a free port instead of 8080
    cfg = load_config(None, env=env)
    assert cfg.source == str(root / "etc/tanaban/config.toml") and cfg.serve.host == "127.0.0.1"
    # the store and audit log this process resolved (PostgreSQL under TANABAN_TEST_BACKEND) for the unit's process too
    env |= {k: v for k, v in (("TANABAN_STORE__URL", cfg.store.url), ("TANABAN_AUDIT__URL", cfg.audit.url)) if v}
    init_home(cfg)  # the installer's first next step
    log = tmp_path / "serve.log"
    with _exec_start(unit, env, log) as server:
        _wait_for(port, "/healthz", 200, 60, server, log)
        body = _wait_for(port, "/readyz", 503, 5, server, log)
        assert body["bundle"] is None and "no bundle published yet: run `tanaban export cf`" in body["reason"]
        home = open_home(cfg)
        serve_sample.ingest(home, tmp_path / "sample")
        serve_sample.fake_cf(home)
        export_cf(home, "lightgcn", version="v1")
        assert _wait_for(port, "/readyz", 200, 30, server, log)["bundle"] == "v1"  # the watcher's poll
        reload = shlex.split(unit["ExecReload"][0].replace("$MAINPID", str(server.pid)))
        assert subprocess.run(reload, timeout=10).returncode == 0
        deadline = time.monotonic() + 20
        while "bundle v1 loaded" not in log.read_text():  # reload_on_signal's line: the handler ran
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.1)
        assert _get(port, "/readyz") == (200, {"ready": True, "bundle": "v1"})
    start = next(line for line in log.read_text().splitlines() if "serving on" in line)
    assert f"http://127.0.0.1:{port} (plain HTTP, 1 worker(s))" in start and "bundle none yet" in start
    assert f"tanaban {version('tanaban')} " in start and f"config sha256 {config_fingerprint(cfg)}" in start
