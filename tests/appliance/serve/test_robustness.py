"""Malformed values (strict I-JSON bodies), no request data in logs, re-verification on reload, any-sku paths,
HEAD on health routes, stale staging directories, slow clients on a real socket (issue 14, serving part), and the
lingering close after a 400 (RFC 9112 section 9.6; appliance.serve.workers._LingeringClose), and its TLS fallback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appliance.config import ServeConfig
from appliance.data.home import Home
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.bodies import loads_strict
from appliance.serve.http import create_app
from appliance.serve.node import build_service, resolve_listen
from export.bundle import STAGING_PREFIX, make_staging, remove_stale_staging
from export.cf import export_cf

EMAIL = "jane.doe@example.org"  # stands for any request value that must never reach a log


@pytest.fixture
def api(bundle_home: tuple[Home, Path]) -> tuple[TestClient, dict[str, str], Home]:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")
    token = create_key(home.config.data_dir / KEYS_FILE, "tests", ("read", "admin"))
    client = TestClient(create_app(*build_service(home.config)), raise_server_exceptions=False)
    return client, {"X-API-Key": token, "content-type": "application/json"}, home


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"user_id": "%s", "k": NaN}', "non_finite_number"),
    (b'{"user_id": "%s", "k": -Infinity}', "non_finite_number"),
    (b'{"user_id": "%s", "exclude": [1e400]}', "non_finite_number"),
    (b'{"user_id": "%s\\ud800"}', "lone_surrogate"),
    (b'{"history": ["%s", "\\udc00x"]}', "lone_surrogate"),
    (b'{"user_id": "%s", "\\udbff": 1}', "lone_surrogate"),
    (b'{"user_id": "%s\xed\xa0\x80"}', "not_utf8"),  # a surrogate encoded as UTF-8 bytes
    (b'{"user_id": "%s", "k": 3, "k": 1000}', "duplicate_key"),
    (b'{"user_id": "%s", "k": 1' + b"0" * 5000 + b"}", "number_too_long"),
    (b'{"user_id": "%s", "exclude": ' + b"[" * 20000 + b"]" * 20000 + b"}", "too_deep"),
    (b'{"user_id": "%s", "k": true}', "invalid_field"),  # a boolean is not k=1
    (b'{"user_id": "%s", "explain": 1}', "invalid_field"),
    (b'{"user_id": "%s", "k": "5"}', "invalid_field"),
    (b'{"user_id": "%s"', "json_invalid"),
])
def test_malformed_values_get_422_with_a_reason_and_no_echo(api, caplog, body: bytes, reason: str) -> None:
    client, headers, _ = api
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/recommendations", content=body.replace(b"%s", EMAIL.encode(), 1),
                               headers=headers)
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == reason
    assert EMAIL not in response.text
    assert caplog.records and not [r for r in caplog.records if EMAIL in r.getMessage()]


def test_search_query_with_a_lone_surrogate_is_422(api) -> None:
    client, headers, _ = api
    response = client.post("/v1/search", content=b'{"query": "gift \\ud800", "k": 3}', headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "lone_surrogate"


def test_strict_json_keeps_valid_pairs_and_escapes() -> None:
    assert loads_strict(b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800", "c": 1.5}') == {"a": "\U0001f600",
                                                                                  "b": "\\ud800", "c": 1.5}


def test_a_bug_is_a_json_500_logged_without_its_message(api, caplog, monkeypatch) -> None:
    from appliance.serve.service import CFBundle

    client, headers, _ = api

    def broken(self, pseudonym, *args, **kwargs):
        raise KeyError(EMAIL)

    monkeypatch.setattr(CFBundle, "for_user", broken)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/recommendations", json={"user_id": EMAIL}, headers=headers)
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert "unexpected KeyError" in caplog.text and EMAIL not in caplog.text


def test_reload_reverifies_the_served_bundle_and_readyz_says_why(api, serve_sample, bundle_home) -> None:
    client, headers, home = api
    user = serve_sample.customers(bundle_home[1])[0]
    assert client.get("/readyz").status_code == 200
    path = home.config.artifacts_dir / "bundles" / "v1" / "precomputed.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # one flipped bit in the live bundle
    path.write_bytes(bytes(data))
    reload = client.post("/v1/admin/reload", headers=headers)
    assert reload.status_code == 409 and "no longer verifies" in reload.json()["error"]["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "precomputed.npy" in ready.json()["reason"]
    assert client.head("/readyz").status_code == 503
    # answers still come from the copy verified at load (everything is in memory)
    assert client.post("/v1/recommendations", json={"user_id": user, "k": 2}, headers=headers).status_code == 200
    data[-1] ^= 1
    path.write_bytes(bytes(data))  # restored: the next reload clears the fault
    assert client.post("/v1/admin/reload", headers=headers).json() == {"bundle": "v1"}
    assert client.get("/readyz").json() == {"ready": True, "bundle": "v1"}


def test_sku_with_a_slash_and_head_on_health_routes(api, bundle_home) -> None:
    client, headers, home = api
    sku = json.loads((home.config.artifacts_dir / "bundles" / "v1" / "items.json").read_text())[0]["sku"]
    assert client.get(f"/v1/items/{sku}/similar?k=2", headers=headers).status_code == 200
    for odd in ("a/b", "a%2Fb", "x/y/z"):
        response = client.get(f"/v1/items/{odd}/similar", headers=headers)
        assert response.status_code == 404 and "unknown sku" in response.json()["error"]["message"]
    for route in ("/healthz", "/readyz"):
        head = client.head(route)
        assert head.status_code == 200 and head.content == b""


def test_stale_staging_directories_are_removed_at_start(bundle_home, caplog) -> None:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")
    root = home.config.artifacts_dir / "bundles"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = [root / f"{STAGING_PREFIX}{dead.stdout.strip()}-abc", root / f"{STAGING_PREFIX}oldstyle"]
    for path in stale:
        path.mkdir()
        (path / "cf_scorer.onnx").write_bytes(b"half")
    live = make_staging(root)  # this process: an export still running
    with caplog.at_level(logging.INFO, logger="tanaban.serve"):
        build_service(home.config)
    assert not any(p.exists() for p in stale) and live.is_dir()
    assert "removed 2 staging directories" in caplog.text
    assert remove_stale_staging(root) == 0 and (root / "v1").is_dir()
    assert str(os.getpid()) in live.name


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (reads what it sent meanwhile), or None if it stayed open."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    return time.monotonic() - start


def test_slow_clients_are_disconnected(bundle_home) -> None:
    import dataclasses

    from appliance.serve.server import serving_on_loopback

    home, _ = bundle_home
    export_cf(home, "lightgcn")
    serve = dataclasses.replace(home.config.serve, head_timeout_seconds=0.5, body_timeout_seconds=0.5,
                                keep_alive_seconds=0.5, reload_poll_seconds=0)
    with serving_on_loopback(dataclasses.replace(home.config, serve=serve)) as port:
        idle, partial_head, partial_body = (socket.create_connection(("127.0.0.1", port)) for _ in range(3))
        partial_head.sendall(b"POST /v1/recommendations HTTP/1.1\r\nHost: x\r\n")
        partial_body.sendall(b"POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100\r\n\r\n{\"user_id\":")
        assert (_closed_within(idle, 5) or 99) < 3
        start = time.monotonic()
        with pytest.raises(OSError):  # a head trickled in byte by byte is cut off too, at the head timeout
            while time.monotonic() - start < 5:
                partial_head.sendall(b"X")
                time.sleep(0.05)
        assert time.monotonic() - start < 3
        partial_body.settimeout(5)
        assert partial_body.recv(4096).startswith(b"HTTP/1.1 408")
        assert _closed_within(partial_body, 5) is not None
        for sock in (idle, partial_head, partial_body):
            sock.close()


def test_a_request_head_over_16_kib_gets_400_and_a_normal_one_still_answers(bundle_home) -> None:
    """h11 refused request heads over 16 KiB; the httptools protocol the server now uses has no such bound of its
    own (appliance.serve.workers.BoundedHttpToolsProtocol adds it): a huge head, in one piece or trickled in
    chunks, gets 400 and the connection closes, while a request with a 15 KiB header is answered."""
    import dataclasses

    from appliance.serve.server import serving_on_loopback

    home, _ = bundle_home
    export_cf(home, "lightgcn")
    serve = dataclasses.replace(home.config.serve, reload_poll_seconds=0)
    with serving_on_loopback(dataclasses.replace(home.config, serve=serve)) as port:
        for chunks in (1, 40):
            big = socket.create_connection(("127.0.0.1", port), timeout=5)
            head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (20 * 1024)
            step = -(-len(head) // chunks)
            with contextlib.suppress(OSError):  # the server may close while the rest is still being sent
                for i in range(0, len(head), step):
                    big.sendall(head[i:i + step])
            assert big.recv(4096).startswith(b"HTTP/1.1 400")
            assert _closed_within(big, 5) is not None
            big.close()
        fine = socket.create_connection(("127.0.0.1", port), timeout=5)
        fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (15 * 1024) + b"\r\n\r\n")
        assert fine.recv(4096).startswith(b"HTTP/1.1 200")
        fine.close()


async def _ok_app(scope: dict, receive: object, send: object) -> None:
    """A bare ASGI app answering 200 "ok": these tests are about the HTTP protocol, not the service."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})


@contextlib.contextmanager
def _protocol_on_loopback(protocol: str, app: object = _ok_app, **config: Any) -> Iterator[int]:
    """uvicorn with `protocol` (BoundedHttpToolsProtocol or BoundedH11Protocol) on 127.0.0.1, and `config` (more
    uvicorn.Config keyword arguments: the TLS files); yields the port."""
    import functools
    import threading

    import uvicorn

    from appliance.serve import workers

    cls = getattr(workers, protocol)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", access_log=False,
                                           ws="none", http=functools.partial(cls, head_timeout=5), **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _read_to_eof(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; ConnectionResetError if it ends with a reset instead."""
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


@pytest.mark.parametrize("protocol", ["BoundedHttpToolsProtocol", "BoundedH11Protocol"])
@pytest.mark.parametrize("start", [b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ", b"GET / HTTP/1.1\r\nBad header\r\n"],
                         ids=["oversized", "malformed"])
def test_a_400_for_a_large_head_in_one_piece_arrives_with_a_clean_close(protocol: str, start: bytes) -> None:
    """A 128 KiB head sent in one piece: the server answers 400 after 16 KiB (or at the malformed header line),
    while most of the head is still unread in its socket. Closing then made the kernel send a reset (RFC 9112
    section 9.6), which can erase the 400 before the client reads it, and did end every such connection with
    ECONNRESET; with the lingering close the client reads the whole 400 and then a clean end of stream, every time."""
    head = start + b"a" * (128 * 1024)
    with _protocol_on_loopback(protocol) as port:
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(head)
                reply = _read_to_eof(sock)
            assert reply.startswith(b"HTTP/1.1 400") and b"\r\nconnection: close\r\n" in reply.lower()
            assert reply.endswith((b"Request head too large.", b"Invalid HTTP request received."))


@pytest.mark.parametrize(("seconds", "max_bytes", "within"), [(0.5, 1 << 30, (0.4, 3)), (30, 256 * 1024, (0, 3))])
def test_the_lingering_close_is_bounded_in_time_and_bytes(monkeypatch, seconds: float, max_bytes: int,
                                                          within: tuple[float, float]) -> None:
    """A client that keeps sending after its 400 (and never closes) is cut off after LINGER_SECONDS, or sooner once
    more than LINGER_MAX_BYTES were discarded: lingering must not become a way to hold a connection."""
    from appliance.serve import workers

    monkeypatch.setattr(workers, "LINGER_SECONDS", seconds)
    monkeypatch.setattr(workers, "LINGER_MAX_BYTES", max_bytes)
    with _protocol_on_loopback("BoundedHttpToolsProtocol") as port, \
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (20 * 1024))
        assert _read_to_eof(sock).startswith(b"HTTP/1.1 400")  # the server's half-close ends the answer
        start = time.monotonic()
        with pytest.raises(OSError):  # a reset (or a broken pipe) once the server has closed its socket
            while time.monotonic() - start < 5:
                sock.sendall(b"x" * 4096)
                time.sleep(0.01)
        assert within[0] < time.monotonic() - start < within[1]


def test_a_400_pipelined_behind_an_answer_in_progress_closes_without_lingering() -> None:
    """A 400 for a request pipelined behind one still being answered does not linger (the answer would be written
    after the FIN and fail: "Cannot call write() after write_eof()"); the connection closes as in uvicorn."""
    import asyncio

    failures: list[BaseException] = []

    async def slow_app(scope: dict, receive: object, send: object) -> None:
        await asyncio.sleep(0.2)  # still answering when the malformed request behind it is parsed
        try:
            await _ok_app(scope, receive, send)
        except Exception as exc:
            failures.append(exc)
            raise

    with _protocol_on_loopback("BoundedHttpToolsProtocol", slow_app) as port, \
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nBad header\r\n\r\n")
        assert _read_to_eof(sock).startswith(b"HTTP/1.1 400")
        time.sleep(0.4)  # the slow answer has been attempted
    assert failures == []



@pytest.mark.parametrize("protocol", ["BoundedHttpToolsProtocol", "BoundedH11Protocol"])
def test_a_400_over_tls_ends_with_close_notify_at_once_and_the_server_answers_after(self_signed,
        monkeypatch, tmp_path: Path, protocol: str) -> None:
    """Over TLS there is no half-close, so a 400 keeps asyncio's close (close_notify; _LingeringClose): on 10
    connections each, a 128 KiB head (oversized, or malformed at its second line) and a short garbage request line
    get the whole 400 and then the server's close_notify, a clean end of stream (no reset, no bare FIN: ragged EOFs
    raise here), within 3 s although LINGER_SECONDS is 30 here; the client's own close_notify after the garbage
    line is met by the server's FIN at once; and a good request is answered afterwards. The rest of a 128 KiB
    head may fail to send (the server's TLS shutdown fails at the first record after its close_notify, OpenSSL's
    APPLICATION_DATA_AFTER_CLOSE_NOTIFY, and asyncio aborts the socket), tolerated as in the chunked test above."""
    from appliance.serve import workers

    monkeypatch.setattr(workers, "LINGER_SECONDS", 30.0)  # a lingering close would hold each connection 30 s
    cert, key = self_signed(tmp_path)
    listen = resolve_listen(ServeConfig(tls_certfile=str(cert), tls_keyfile=str(key)))  # `tanaban serve`'s checks
    trusted = ssl.create_default_context(cafile=str(cert))
    heads = {"oversized": b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (128 * 1024),
             "malformed": b"GET / HTTP/1.1\r\nBad header\r\n" + b"a" * (128 * 1024),
             "garbage": b"\x16\x03 no request line\r\n\r\n"}

    def connect(port: int) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        return trusted.wrap_socket(raw, server_hostname="127.0.0.1", suppress_ragged_eofs=False)

    with _protocol_on_loopback(protocol, **listen.uvicorn_tls()) as port:
        for _ in range(10):
            for kind, head in heads.items():
                with connect(port) as sock:
                    start = time.monotonic()
                    with contextlib.suppress(OSError):  # see the docstring: the 400 is read below all the same
                        sock.sendall(head)
                    reply = _read_to_eof(sock)  # b"" only at a close_notify
                    assert time.monotonic() - start < 3, kind
                    assert reply.startswith(b"HTTP/1.1 400") and b"\r\nconnection: close\r\n" in reply.lower(), kind
                    assert reply.endswith((b"Request head too large.", b"Invalid HTTP request received.")), kind
                    if kind == "garbage":  # nothing left unread: the TLS shutdown completes, the server closes
                        plain = sock.unwrap()  # our close_notify
                        plain.settimeout(3)
                        assert plain.recv(1) == b""
                        plain.close()
        with connect(port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = _read_to_eof(sock)
        assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"\r\n\r\nok")


@pytest.mark.parametrize("protocol", ["BoundedHttpToolsProtocol", "BoundedH11Protocol"])
@pytest.mark.parametrize(("filler", "status"), [(15 * 1024, b"200"), (17 * 1024, b"400"), (120 * 1024, b"400")])
def test_a_complete_head_in_one_read_is_bounded_too(protocol: str, filler: int, status: bytes) -> None:
    """The 16 KiB bound holds for a head that arrives complete in one read (it used to count only a head still
    incomplete after a read, so a whole 120 KB head sent at once was answered 200 by the httptools protocol)."""
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * filler + b"\r\nConnection: close\r\n\r\n"
    with _protocol_on_loopback(protocol) as port:
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(head)
                reply = _read_to_eof(sock)
            assert reply.startswith(b"HTTP/1.1 " + status), reply[:80]
            if status == b"400" and protocol == "BoundedHttpToolsProtocol":
                assert reply.endswith(b"Request head too large.")


def test_a_tls_client_that_never_closes_after_its_400_is_cut_off_after_the_linger_time(self_signed, monkeypatch,
                                                                                       tmp_path: Path) -> None:
    """Over TLS asyncio waits for the client's close_notify after the server's (up to its ssl_shutdown_timeout, 30 s,
    which uvicorn does not set): a client that reads its 400 and then neither answers nor closes held the
    connection that long. It is aborted after LINGER_SECONDS now, as a plain-HTTP lingering close is closed."""
    from appliance.serve import workers

    monkeypatch.setattr(workers, "LINGER_SECONDS", 1.0)
    cert, key = self_signed(tmp_path)
    listen = resolve_listen(ServeConfig(tls_certfile=str(cert), tls_keyfile=str(key)))
    trusted = ssl.create_default_context(cafile=str(cert))
    with _protocol_on_loopback("BoundedHttpToolsProtocol", **listen.uvicorn_tls()) as port:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        watch = raw.dup()  # the TCP stream under TLS: what comes after the server's close_notify
        with trusted.wrap_socket(raw, server_hostname="127.0.0.1", suppress_ragged_eofs=False) as sock, watch:
            sock.sendall(b"\x16\x03 no request line\r\n\r\n")
            assert _read_to_eof(sock).startswith(b"HTTP/1.1 400")  # then the server's close_notify
            start = time.monotonic()
            watch.settimeout(10)
            with contextlib.suppress(ConnectionResetError):  # an abort may end the stream with a reset
                assert watch.recv(1) == b""
            assert 0.5 < time.monotonic() - start < 5
