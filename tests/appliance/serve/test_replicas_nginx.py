"""Two replicas behind nginx (docs/SERVING.md, Replicas), on loopback: nodes set up without signing.key, the
documented nginx block in front, steady load while one node is stopped (SIGTERM: it drains) and restarted and a new
bundle is synced to both; not one request may fail. Skipped where nginx is not installed, failed where CI is set."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from appliance.config import load_config
from appliance.data.home import Home
from appliance.data.keys import SIGNING_FILE
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.events import open_serve_audit
from appliance.serve.replica import init_replica, sync_bundles
from export.cf import export_cf

TANABAN = Path(sys.executable).parent / "tanaban"
SERVING_DOC = Path(__file__).resolve().parents[3] / "docs" / "SERVING.md"


def _need_nginx() -> None:
    if shutil.which("nginx") is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed on CI: .ci/run installs nginx-light, check that step")
        pytest.skip("nginx is not installed (apt-get install nginx-light): the replicas config is not run")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def _nginx_conf(tmp: Path, nodes: list[int], port: int, cert: Path, key: Path) -> Path:
    """docs/SERVING.md's nginx block with this test's addresses, inside a config that keeps nginx's files in tmp."""
    (block,) = re.findall(r"```nginx\n(.+?)\n```", SERVING_DOC.read_text(encoding="utf-8"), re.S)
    swaps = {"server 10.20.1.11:8080 ": f"server 127.0.0.1:{nodes[0]} ",
             "server 10.20.1.12:8080 ": f"server 127.0.0.1:{nodes[1]} ",
             "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;", "allow 10.20.0.0/16;": "allow 127.0.0.1;",
             "/etc/nginx/tls/tanaban.crt": str(cert), "/etc/nginx/tls/tanaban.key": str(key)}
    for old, new in swaps.items():
        assert block.count(old) == 1, f"docs/SERVING.md's nginx block no longer has {old!r}"
        block = block.replace(old, new)
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                        "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(f"daemon off;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} warn;\n"
                    f"events {{ worker_connections 256; }}\nhttp {{\n    access_log {tmp / 'access.log'};\n{temp}\n"
                    f"{block}\n}}\n", encoding="utf-8")
    return conf


@contextlib.contextmanager
def _nginx(conf: Path, port: int) -> Iterator[None]:
    tmp = conf.parent
    args = ["nginx", "-p", f"{tmp}/", "-e", str(tmp / "error.log"), "-c", str(conf)]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proxy = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait(lambda: _connects(port), 20, "nginx did not start listening", proxy)
        yield
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)


def _connects(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _ready(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    return False


def _wait(condition, seconds: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process is None or process.poll() is None, f"{what}: the process exited"
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Node:
    """One `tanaban serve` replica (1 worker) in its own process group, its log in its data directory."""

    def __init__(self, config: Path, port: int) -> None:
        self.config, self.port, self.process = config, port, None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TANABAN_")}
        with (self.config.parent / "serve.log").open("ab") as log:
            self.process = subprocess.Popen([str(TANABAN), "--config", str(self.config), "serve"], env=env,
                                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=40)


def _answered_since_start(node: Node) -> bool:
    """Whether the node's log shows a recommendation answered since its latest start."""
    log = (node.config.parent / "serve.log").read_text()
    return "POST /v1/recommendations 200" in log.rsplit("serving on http://127.0.0.1", 1)[-1]


def _setup_nodes(primary: Home, tmp: Path, count: int) -> tuple[list[Node], str]:
    """`count` replicas as docs/SERVING.md sets them up (keys without signing.key, replica init, one API key file
    shared by all, sync); returns the nodes and the API token."""
    nodes, token = [], ""
    for i in range(count):
        root, port = tmp / f"node{i}", _free_port()
        root.mkdir()
        config = root / "config.toml"
        config.write_text(f'[paths]\ndata_dir = "{root / "data"}"\n[serve]\nport = {port}\n'
                          "reload_poll_seconds = 0.2\n", encoding="utf-8")
        cfg = load_config(config, env={})
        shutil.copytree(primary.config.keys_dir, cfg.keys_dir, ignore=shutil.ignore_patterns(SIGNING_FILE))
        init_replica(cfg)
        if i == 0:
            token = create_key(cfg.data_dir / KEYS_FILE, "shop")
        else:
            shutil.copy2(tmp / "node0" / "data" / KEYS_FILE, cfg.data_dir / KEYS_FILE)
        sync_bundles(primary.config.artifacts_dir / "bundles", cfg.artifacts_dir / "bundles", cfg.keys_dir)
        nodes.append(Node(config, port))
    return nodes, token


class Load:
    """Steady POST /v1/recommendations through the proxy from two client threads; counts answers by status and
    bundle version, and any transport error."""

    def __init__(self, url: str, token: str, customer: str, cafile: Path) -> None:
        self.url, self.token, self.customer, self.cafile = url, token, customer, cafile
        self.seen: Counter[str] = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.cafile)), timeout=30) as client:
            while not self.stop.is_set():
                try:
                    r = client.post(f"{self.url}/v1/recommendations", json={"user_id": self.customer, "k": 3},
                                    headers={"X-API-Key": self.token})
                    self.seen[f"{r.status_code} {r.json().get('bundle')}" if r.status_code == 200 else
                              f"{r.status_code}"] += 1
                except httpx.HTTPError as exc:
                    self.seen[type(exc).__name__] += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=40)

    def ok(self, version: str) -> int:
        return self.seen[f"200 {version}"]


@pytest.mark.slow  # about 30 s on the shared 2-core machine: three `tanaban serve` starts
def test_two_replicas_behind_nginx_lose_no_request_across_a_restart_and_a_new_bundle(self_signed,
        bundle_home: tuple[Home, Path], tmp_path: Path, serve_sample) -> None:
    _need_nginx()
    primary, sample = bundle_home
    export_cf(primary, "lightgcn", version="v1", progress=False)
    (a, b), token = _setup_nodes(primary, tmp_path, 2)
    cert, key = self_signed(tmp_path)
    proxy_port = _free_port()
    (tmp_path / "proxy").mkdir()
    try:
        for node in (a, b):
            node.start()
        for node in (a, b):
            _wait(lambda n=node: _ready(n.port), 90, "a replica did not become ready", node.process)
        with _nginx(_nginx_conf(tmp_path / "proxy", [a.port, b.port], proxy_port, cert, key), proxy_port), \
                Load(f"https://127.0.0.1:{proxy_port}", token, serve_sample.customers(sample)[0], cert) as load:
            _wait(lambda: load.ok("v1") >= 20, 30, "no answers through nginx")
            assert a.stop() == 0  # drained, audited its stop and exited with status 0, under load
            before = load.ok("v1")
            _wait(lambda: load.ok("v1") >= before + 20, 30, "node b alone did not answer")
            a.start()
            _wait(lambda: _ready(a.port), 90, "the restarted replica did not become ready", a.process)
            _wait(lambda: _answered_since_start(a), 30, "nginx sent nothing to the restarted replica")  # fail_timeout
            export_cf(primary, "lightgcn", version="v2", progress=False)  # the primary publishes; the nodes pull
            for node in (a, b):
                cfg = load_config(node.config, env={})
                sync_bundles(primary.config.artifacts_dir / "bundles", cfg.artifacts_dir / "bundles", cfg.keys_dir)
            _wait(lambda: load.ok("v2") >= 20, 30, "the synced bundle was not served")
    finally:
        for node in (a, b):
            if node.process is not None and node.process.poll() is None:
                node.stop()
    failed = {outcome: n for outcome, n in load.seen.items() if not outcome.startswith("200 ")}
    assert failed == {}, f"{failed} of {sum(load.seen.values())} requests failed"
    log = (tmp_path / "node0" / "serve.log").read_text()
    assert log.count("serving on http://127.0.0.1") == 2, log  # node a started twice, and answered both times
    assert "POST /v1/recommendations 200" in log.split("serving on http://127.0.0.1")[1]
    with open_serve_audit(load_config(a.config, env={})) as audit:  # a SIGTERM stop is a clean, audited stop
        actions = [entry["action"] for entry in audit.entries()]
    assert actions[:2] == ["service.start", "service.stop"] and "service.start" in actions[2:]
