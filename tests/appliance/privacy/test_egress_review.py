"""Findings of a security review of the egress gateway's HTTP client and of the offline audit verifier, each pinned by
a test against a real loopback socket or a real export: a peer's bytes never reach error messages or the audit
log, plain http reaches only a loopback address (no DNS rebinding of `localhost`), proxy variables are ignored, and
an export without any signed checkpoint (an empty file) does not verify."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import AuditEvent, AuditLog
from appliance.privacy.audit.chain import AuditVerificationError
from appliance.privacy.audit.export import write_jsonl
from appliance.privacy.audit.verify import main as verify_main
from appliance.privacy.audit.verify import verify_export
from appliance.privacy.egress import EgressError, EgressGateway, HttpTransport

KEY = SigningKey(public_key_id(Ed25519PrivateKey.from_private_bytes(b"\x05" * 32).public_key()),
                 Ed25519PrivateKey.from_private_bytes(b"\x05" * 32))
SECRET = "ECHOED-REQUEST-TEXT-4711"


@dataclass
class CaptureServer:
    """A loopback TCP server that records each raw request and answers it with `reply` (any bytes, HTTP or not)."""

    reply: bytes
    requests: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length and (chunk := conn.recv(65536)):
                    body += chunk
                self.requests.append(head + b"\r\n\r\n" + body)
                conn.sendall(self.reply.replace(b"{body}", body))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[CaptureServer]:
    srv = CaptureServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r\n"
                        b'{"choices":[{"message":{"content":"fine!!"}}]}')
    yield srv
    srv.close()


def test_a_peer_echoing_the_request_is_not_quoted_in_errors_or_the_audit_log(
        loopback_gateway: Callable[..., EgressGateway], egress_audit_entries: Callable[[], list[dict]]) -> None:
    """Before the fix the EgressError quoted http.client's BadStatusLine, i.e. the first line the peer sent back."""
    echo = CaptureServer(b"{body}\r\n")  # not HTTP: the request body comes straight back
    try:
        with loopback_gateway(f"http://127.0.0.1:{echo.port}/v1") as gateway, pytest.raises(EgressError) as caught:
            gateway.chat([{"role": "user", "content": SECRET}], purpose="review")
    finally:
        echo.close()
    assert len(echo.requests) == 1 and SECRET.encode() in echo.requests[0]  # it was sent (audited first)...
    assert "BadStatusLine" in str(caught.value)  # ...the failure is named by its class...
    assert SECRET not in str(caught.value)  # ...but what the peer sent back is not repeated
    audit = "\n".join(str({k: v for k, v in e.items() if k != "payload"}) for e in egress_audit_entries())
    assert "egress.result" in audit and SECRET not in audit


def test_plain_http_to_a_name_resolving_outside_loopback_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                                     server: CaptureServer) -> None:
    """`localhost` passes the allow-list by name; before the fix http.client resolved it itself and connected
    wherever it pointed (a hosts-file change or DNS answer sent the text off the machine in clear)."""
    real = socket.getaddrinfo

    def rebound(host: str, *args: object, **kwargs: object):
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", args[0] if args else 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    with pytest.raises(EgressError, match=r"only to loopback addresses, but localhost resolves to 192\.0\.2\.7"):
        HttpTransport().post(f"http://localhost:{server.port}/v1/chat/completions", {}, b"{}", 0.5)
    assert server.requests == []


def test_plain_http_connects_to_the_checked_loopback_address_with_the_configured_host(
        monkeypatch: pytest.MonkeyPatch, server: CaptureServer) -> None:
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def pinned(host: str, *args: object, **kwargs: object):
        looked_up.append(host)
        return real("127.0.0.1" if host == "localhost" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", pinned)
    response = HttpTransport().post(f"http://localhost:{server.port}/v1/chat/completions", {"X-Test": "1"}, b"{}", 5)
    assert response.status == 200
    assert looked_up.count("localhost") == 1  # resolved once, by the check; the connection used its answer
    assert f"Host: localhost:{server.port}".encode() in server.requests[0]


def test_proxy_variables_are_ignored(monkeypatch: pytest.MonkeyPatch, server: CaptureServer) -> None:
    """Regression guard (held before the review too): http.client reads no *_PROXY variable, so an environment
    cannot divert egress through another host."""
    proxy = CaptureServer(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
    try:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        response = HttpTransport().post(f"http://127.0.0.1:{server.port}/v1/chat/completions", {}, b"{}", 5)
    finally:
        proxy.close()
    assert response.status == 200 and len(server.requests) == 1 and proxy.requests == []


def _export(tmp_path: Path, with_checkpoints: bool) -> Path:
    with AuditLog.open(tmp_path / "audit.db", KEY, cfg=AuditConfig(checkpoint_every=0)) as log:
        log.append_at_time(AuditEvent("egress.request", "ok", purpose="p"), datetime(2026, 1, 1, tzinfo=UTC))
        log.checkpoint_at_time(datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
        out = tmp_path / "export.jsonl"
        write_jsonl(out, log.entries() if with_checkpoints else iter(()),
                    log.checkpoints() if with_checkpoints else [], public_key_pem(KEY.public).decode(), KEY.key_id)
    return out


@pytest.mark.parametrize("content", ["", "public-key-only"])
def test_an_export_without_a_signed_checkpoint_does_not_verify(tmp_path: Path, content: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Before the fix an empty file (or one holding only the public key line) printed `OK: verified 0 entries`."""
    if content:
        path = _export(tmp_path, with_checkpoints=False)
    else:
        path = tmp_path / "empty.jsonl"
        path.write_text("")
    with pytest.raises(AuditVerificationError, match="no entry and no signed checkpoint"):
        verify_export(path, [KEY.public])
    pem = tmp_path / "key.pem"
    pem.write_bytes(public_key_pem(KEY.public))
    assert verify_main([str(path), "--public-key", str(pem)]) == 1
    assert capsys.readouterr().out.startswith("FAILED: the export holds no entry and no signed checkpoint")


def test_a_real_export_still_verifies(tmp_path: Path) -> None:
    report = verify_export(_export(tmp_path, with_checkpoints=True), [KEY.public])
    assert (report.entries, report.checkpoints, report.signed_size) == (1, 1, 1)


def test_control_and_bidi_characters_in_the_answer_are_removed(
        loopback_gateway: Callable[..., EgressGateway]) -> None:
    """Before the fix the peer's answer came back verbatim, so `tanaban egress test` printed its escape sequences
    (clear screen, cursor moves, a hidden line) and bidi overrides to the administrator's terminal."""
    body = b'{"choices":[{"message":{"content":"ok\\u001b[2J\\u001b[8mhidden\\u202e tab\\tnew\\nline"}}]}'
    answer = CaptureServer(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    try:
        with loopback_gateway(f"http://127.0.0.1:{answer.port}/v1") as gateway:
            result = gateway.chat([{"role": "user", "content": "hello"}], purpose="review")
    finally:
        answer.close()
    assert result.text == "ok[2J[8mhidden tab\tnew\nline"


def test_plain_http_tries_each_checked_loopback_address(monkeypatch: pytest.MonkeyPatch,
                                                        server: CaptureServer) -> None:
    """`localhost` often resolves to ::1 first; a server listening on 127.0.0.1 only must still be reached."""
    real = socket.getaddrinfo  # nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): refused first

    def two(host: str, *args: object, **kwargs: object):
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", server.port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two)
    response = HttpTransport().post(f"http://localhost:{server.port}/v1/chat/completions", {}, b"{}", 5)
    assert response.status == 200 and len(server.requests) == 1
