"""`tanaban serve` listening: [serve] host/port with flags over them, the TLS files checked at start with one-line
errors, a real HTTPS server on loopback (a self-signed certificate made here) that httpx verifies, and the nginx
reverse-proxy config of docs/INSTALL.md in front of the service (skipped where nginx is not installed)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from appliance.config import ServeConfig, load_config
from appliance.data.home import Home, init_home
from appliance.serve.node import ListenError, resolve_listen
from appliance.serve.server import serving_on_loopback
from cli.main import app

TANABAN = Path(sys.executable).parent / "tanaban"
INSTALL_DOC = Path(__file__).resolve().parents[3] / "docs" / "INSTALL.md"



def test_flags_override_the_config_and_plain_http_needs_no_files() -> None:
    serve = ServeConfig(host="0.0.0.0", port=9000)
    assert resolve_listen(serve).url == "http://0.0.0.0:9000"
    listen = resolve_listen(serve, host="::1", port=9100)
    assert (listen.host, listen.port, listen.url, listen.uvicorn_tls()) == ("::1", 9100, "http://[::1]:9100", {})


def test_tls_pair_gives_uvicorn_its_ssl_files(self_signed, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    listen = resolve_listen(ServeConfig(tls_certfile=str(cert), tls_keyfile=str(key)), port=8443)
    assert listen.url == "https://127.0.0.1:8443"
    assert listen.uvicorn_tls() == {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


@pytest.mark.parametrize(("case", "message"), [
    ("only_cert", "set both (HTTPS) or neither"),
    ("missing_key", "serve.tls_keyfile {tmp}/absent.key does not exist"),
    ("cert_is_dir", "serve.tls_certfile {tmp} is a directory"),
    ("world_readable_key", "serve.tls_keyfile {tmp}/server.key is readable by every user: chmod 0640"),
    ("key_of_another_cert", "are not a PEM certificate and its key"),
    ("not_pem", "are not a PEM certificate and its key"),
    ("port_zero", "serve.port 0 is not a TCP port"),
])
def test_bad_listen_settings_fail_with_one_line(self_signed, tmp_path: Path, case: str, message: str) -> None:
    cert, key = self_signed(tmp_path)
    _, other_key = self_signed(tmp_path, "other")
    settings = {
        "only_cert": {"tls_certfile": str(cert)},
        "missing_key": {"tls_certfile": str(cert), "tls_keyfile": str(tmp_path / "absent.key")},
        "cert_is_dir": {"tls_certfile": str(tmp_path), "tls_keyfile": str(key)},
        "world_readable_key": {"tls_certfile": str(cert), "tls_keyfile": str(key)},
        "key_of_another_cert": {"tls_certfile": str(cert), "tls_keyfile": str(other_key)},
        "not_pem": {"tls_certfile": str(other_key.with_suffix(".txt")), "tls_keyfile": str(key)},
        "port_zero": {"port": 0},
    }[case]
    if case == "world_readable_key":
        key.chmod(0o644)
    other_key.with_suffix(".txt").write_text("not a certificate\n")
    with pytest.raises(ListenError) as info:
        resolve_listen(ServeConfig(**settings))
    assert message.format(tmp=tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_serve_refuses_a_world_readable_key_before_loading_anything(self_signed, tmp_path: Path,
                                                                    cli_runner: CliRunner) -> None:
    cert, key = self_signed(tmp_path)
    key.chmod(0o604)
    config = tmp_path / "c.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[serve]\ntls_certfile = "{cert}"\n'
                      f'tls_keyfile = "{key}"\n', encoding="utf-8")
    result = cli_runner.invoke(app, ["--config", str(config), "serve", "--port", "1"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == f"error: serve.tls_keyfile {key} is readable by every user: chmod 0640 " \
                                    "(group tanaban) or 0600 it"


def test_serves_https_that_verifies_against_its_certificate(self_signed, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    other_cert, _ = self_signed(tmp_path, "other")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "c.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[serve]\nport = {port}\ntls_certfile = "{cert}"\n'
                      f'tls_keyfile = "{key}"\n', encoding="utf-8")
    init_home(load_config(config, env={}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANABAN_")}
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        server = subprocess.Popen([str(TANABAN), "--config", str(config), "serve"], env=env, stderr=err,
                                  stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            with contextlib.suppress(httpx.ConnectError):
                response = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted, timeout=5)
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        ready = httpx.get(f"https://127.0.0.1:{port}/readyz", verify=trusted, timeout=5)
        assert ready.status_code == 503 and "no bundle published yet" in ready.json()["reason"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # verification is real
            httpx.get(f"https://127.0.0.1:{port}/healthz", verify=ssl.create_default_context(cafile=str(other_cert)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    assert f"serving on https://127.0.0.1:{port} (TLS by uvicorn, 1 worker(s))" in log.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nginx_conf(tmp: Path, upstream: int, port: int, cert: Path, key: Path, allow_loopback: bool) -> Path:
    """docs/INSTALL.md's nginx block with this test's addresses and files, inside a config that keeps everything
    nginx writes (pid, logs, temp files) under `tmp`, so it runs as an ordinary process."""
    (block,) = re.findall(r"```nginx\n(.+?)\n```", INSTALL_DOC.read_text(encoding="utf-8"), re.S)
    swaps = {"server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream};",
             "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
             "/etc/nginx/tls/tanaban.crt": str(cert), "/etc/nginx/tls/tanaban.key": str(key)}
    if allow_loopback:
        swaps["allow 10.20.0.0/16;"] = "allow 127.0.0.1;"
    for old, new in swaps.items():
        assert block.count(old) == 1, f"docs/INSTALL.md's nginx block no longer has {old!r}"
        block = block.replace(old, new)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};" for kind in kinds)
    conf = tmp / "nginx.conf"
    conf.write_text(f"daemon off;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} warn;\n"
                    f"events {{ worker_connections 64; }}\nhttp {{\n    access_log {tmp / 'access.log'};\n{temp}\n"
                    f"{block}\n}}\n", encoding="utf-8")
    return conf


@contextlib.contextmanager
def _nginx(conf: Path, port: int) -> Iterator[None]:
    tmp = conf.parent
    check = subprocess.run(["nginx", "-t", "-p", f"{tmp}/", "-e", str(tmp / "error.log"), "-c", str(conf)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proxy = subprocess.Popen(["nginx", "-p", f"{tmp}/", "-e", str(tmp / "error.log"), "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proxy.poll() is None, (tmp / "error.log").read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "nginx did not start listening"
            time.sleep(0.05)
        yield
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light): "
                                                          "the reverse-proxy config in docs/INSTALL.md is not run")
def test_nginx_config_of_the_docs_proxies_with_tls_request_ids_and_allow_list(self_signed,
        home: Home, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cert, key = self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    with caplog.at_level(logging.INFO, logger="tanaban.access"), serving_on_loopback(home.config) as upstream:
        allowed_dir, denied_dir = tmp_path / "allowed", tmp_path / "denied"
        allowed_dir.mkdir(), denied_dir.mkdir()
        port = _free_port()
        with _nginx(_nginx_conf(allowed_dir, upstream, port, cert, key, allow_loopback=True), port):
            url = f"https://127.0.0.1:{port}"
            mine = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "shop-42"}, verify=trusted, timeout=10)
            assert mine.status_code == 200 and mine.headers["x-request-id"] == "shop-42"
            given = httpx.get(f"{url}/readyz", verify=trusted, timeout=10)  # no id: nginx's $request_id
            assert given.status_code == 503 and "no bundle published yet" in given.json()["reason"]
            assert re.fullmatch(r"[0-9a-f]{32}", given.headers["x-request-id"])
        port = _free_port()
        with _nginx(_nginx_conf(denied_dir, upstream, port, cert, key, allow_loopback=False), port):
            denied = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=trusted, timeout=10)
            assert denied.status_code == 403  # loopback is not in the documented allow-list
    seen = caplog.text
    assert "GET /healthz 200" in seen and "rid=shop-42" in seen and f"rid={given.headers['x-request-id']}" in seen
    assert seen.count("GET /healthz") == 1  # the denied request never reached tanaban
