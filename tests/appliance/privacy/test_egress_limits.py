"""The egress client's two hardening limits, against real loopback sockets: a total deadline per request (a peer
that trickles one byte a second, or stalls a TLS handshake, is cut at egress.total_timeout_s, recorded as timed out
and not retried) and an explicit TLS trust store (SSL_CERT_FILE / REQUESTS_CA_BUNDLE pointing at a throwaway CA do
not make its server trusted; egress.ca_file naming that CA does)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.config import ConfigError, EgressConfig, load_config
from appliance.privacy import egress as egress_module
from appliance.privacy.egress import (
    EgressError,
    EgressGateway,
    EgressTimeoutError,
    HttpTransport,
    egress_status,
    tls_context,
)

ANSWER = b'{"choices":[{"message":{"content":"fine"}}]}'
OK_REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER)


@dataclass
class SlowServer:
    """A loopback HTTP server (TLS with `tls`) that reads each request, then sends `reply` `step` bytes every
    `pause` seconds (`stall`: sends nothing, not even a TLS handshake), and closes after `give_up` seconds."""

    reply: bytes = OK_REPLY
    pause: float = 0.0
    step: int = 1 << 20
    stall: bool = False
    give_up: float = 8.0
    tls: ssl.SSLContext | None = None
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        end = time.monotonic() + self.give_up
        try:
            if self.stall:
                time.sleep(self.give_up)
                return
            conn = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            conn.settimeout(5)
            self.requests.append(_read_request(conn))
            for at in range(0, len(self.reply), self.step):
                if time.monotonic() > end:
                    return
                conn.sendall(self.reply[at:at + self.step])
                time.sleep(self.pause)
        except (OSError, ssl.SSLError):
            return  # the client cut the connection (what the deadline does) or refused the certificate
        finally:
            raw.close()

    def close(self) -> None:
        self.sock.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length and (chunk := conn.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def servers() -> Iterator[list[SlowServer]]:
    made: list[SlowServer] = []
    yield made
    for server in made:
        server.close()


def _send(gateway: EgressGateway) -> str:
    with gateway:
        return gateway.chat([{"role": "user", "content": "hello"}], purpose="limits").text


# --- total deadline ------------------------------------------------------------------------------------------------

def test_a_peer_trickling_one_byte_a_second_is_cut_at_the_total_deadline(
        servers: list[SlowServer], loopback_gateway: Callable[..., EgressGateway],
        egress_audit_entries: Callable[[], list[dict]]) -> None:
    """Every read gets a byte within a second, far inside timeout_s = 5: before the total deadline existed the call
    ran until the peer gave up (30 s here, len(reply) s for a patient peer). The upper bound leaves room for a loaded
    machine (anonymizing and auditing come first) while staying far below what the peer would allow."""
    servers.append(slow := SlowServer(pause=1.0, step=1, give_up=30.0))
    start = time.monotonic()
    with pytest.raises(EgressError, match=r"timed out: no complete answer within egress\.total_timeout_s = 1\.5 s"):
        _send(loopback_gateway(f"http://127.0.0.1:{slow.port}/v1", total_timeout_s=1.5))
    assert 1.4 < time.monotonic() - start < 10.0
    assert slow.connections == 1 and len(slow.requests) == 1  # sent once, never retried
    request, result = egress_audit_entries()
    assert request["action"] == "egress.request"
    assert (result["action"], result["outcome"]) == ("egress.result", "error")
    assert "timed out (total deadline egress.total_timeout_s = 1.5 s)" in result["reason"]
    assert result["reason"].endswith("not retried") and result["response_size"] == 0


def test_a_body_without_length_cut_at_the_deadline_is_not_taken_as_complete(tmp_path: Path) -> None:
    """An answer that ends when the connection closes would end at the watchdog's cut and look whole."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + ANSWER
    slow = SlowServer(reply=reply, pause=0.05, step=2)  # about 3 s in all, each read answered at once
    try:
        with pytest.raises(EgressTimeoutError):
            HttpTransport().post(f"http://127.0.0.1:{slow.port}/v1/chat/completions", {}, b"{}", 5.0, 1.2)
    finally:
        slow.close()


def test_a_stalled_tls_handshake_is_cut_at_the_total_deadline(servers: list[SlowServer],
                                                              loopback_gateway: Callable[..., EgressGateway],
                                                              egress_audit_entries: Callable[[], list[dict]]) -> None:
    servers.append(silent := SlowServer(stall=True, give_up=30.0))  # silent for far longer than the deadline
    start = time.monotonic()
    with pytest.raises(EgressError, match="timed out: no complete answer"):
        _send(loopback_gateway(f"https://127.0.0.1:{silent.port}/v1", timeout_s=30.0, total_timeout_s=1.0))
    assert time.monotonic() - start < 10.0  # cut by the 1 s deadline, not by timeout_s = 30 nor the peer (30 s)
    assert "total deadline" in egress_audit_entries()[-1]["reason"]


def test_a_read_timeout_at_the_deadline_counts_as_the_deadline(servers: list[SlowServer],
                                                               loopback_gateway: Callable[..., EgressGateway],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy machine the per-read timeout (min(timeout_s, total_timeout_s)) can fire before the watchdog's timer
    thread runs: the failure is still reported as the total deadline. The timer is made to never fire here."""
    class NeverFires:
        def __init__(self, *_args: object) -> None:
            self.daemon = False

        def start(self) -> None: ...

        def cancel(self) -> None: ...

    monkeypatch.setattr(egress_module.threading, "Timer", NeverFires)
    servers.append(silent := SlowServer(stall=True, give_up=30.0))
    with pytest.raises(EgressError, match=r"timed out: no complete answer within egress\.total_timeout_s = 0\.5 s"):
        _send(loopback_gateway(f"https://127.0.0.1:{silent.port}/v1", timeout_s=30.0, total_timeout_s=0.5))


def test_a_prompt_answer_is_unaffected_by_the_deadline(servers: list[SlowServer],
                                                       loopback_gateway: Callable[..., EgressGateway]) -> None:
    servers.append(fast := SlowServer(pause=0.01, step=16))
    assert _send(loopback_gateway(f"http://127.0.0.1:{fast.port}/v1", total_timeout_s=5.0)) == "fine"


def test_time_limits_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="total_timeout_s must be more than 0"):
        EgressConfig(total_timeout_s=0)


# --- trusted CAs ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThrowawayPKI:
    ca_pem: Path
    server: ssl.SSLContext


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPKI:
    """A CA made for this test only, and a certificate from it for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("throwaway test CA")).issuer_name(_name("throwaway test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, chain, key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain, key)
    return ThrowawayPKI(ca_pem, server)


def test_ca_variables_in_the_environment_do_not_change_whom_egress_trusts(
        servers: list[SlowServer], pki: ThrowawayPKI, monkeypatch: pytest.MonkeyPatch,
        loopback_gateway: Callable[..., EgressGateway], egress_audit_entries: Callable[[], list[dict]]) -> None:
    """Before the change, ssl.create_default_context() read SSL_CERT_FILE when the call was made and trusted this CA."""
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(pki.ca_pem))
    monkeypatch.setenv("SSL_CERT_DIR", str(pki.ca_pem.parent))
    servers.append(tls := SlowServer(tls=pki.server))
    with pytest.raises(EgressError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        _send(loopback_gateway(f"https://127.0.0.1:{tls.port}/v1"))
    assert tls.requests == []  # the handshake failed: no byte of the request was sent
    assert egress_audit_entries()[-1]["outcome"] == "error"


def test_egress_ca_file_makes_that_ca_trusted(servers: list[SlowServer], pki: ThrowawayPKI,
                                              loopback_gateway: Callable[..., EgressGateway]) -> None:
    servers.append(tls := SlowServer(tls=pki.server))
    assert _send(loopback_gateway(f"https://127.0.0.1:{tls.port}/v1", ca_file=str(pki.ca_pem))) == "fine"
    assert len(tls.requests) == 1


def test_the_trust_store_is_read_once_when_the_gateway_is_built(
        tmp_path: Path, servers: list[SlowServer], pki: ThrowawayPKI,
        loopback_gateway: Callable[..., EgressGateway]) -> None:
    """Replacing the CA file afterwards changes nothing for a running gateway ("pinned at startup")."""
    ca_copy = tmp_path / "ca.pem"
    ca_copy.write_bytes(pki.ca_pem.read_bytes())
    servers.append(tls := SlowServer(tls=pki.server))
    gateway = loopback_gateway(f"https://127.0.0.1:{tls.port}/v1", ca_file=str(ca_copy))
    ca_copy.write_text("not a certificate\n")
    assert _send(gateway) == "fine"


def test_an_unusable_ca_file_blocks_before_anything_is_sent(
        tmp_path: Path, servers: list[SlowServer], pki: ThrowawayPKI, loopback_gateway: Callable[..., EgressGateway],
        egress_audit_entries: Callable[[], list[dict]]) -> None:
    servers.append(tls := SlowServer(tls=pki.server))
    with pytest.raises(EgressError, match=r"no trusted CA store: egress\.ca_file .* is not a readable PEM file"):
        _send(loopback_gateway(f"https://127.0.0.1:{tls.port}/v1", ca_file=str(tmp_path / "missing.pem")))
    assert tls.connections == 0
    assert [(e["action"], e["outcome"]) for e in egress_audit_entries()] == [("egress.blocked", "blocked")]


def test_the_system_store_ignores_the_environment(monkeypatch: pytest.MonkeyPatch, pki: ThrowawayPKI) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_pem))
    context, described = tls_context()
    subjects = [dict(x[0] for x in c["subject"]).get("commonName") for c in context.get_ca_certs()]
    assert "throwaway test CA" not in subjects
    assert "SSL_CERT_FILE and SSL_CERT_DIR ignored" in described
    status = egress_status(EgressConfig(ca_file=str(pki.ca_pem), total_timeout_s=42.0), env={})
    assert status.trust_store == f"egress.ca_file {pki.ca_pem}" and status.total_timeout_s == 42.0


def test_the_environment_cannot_set_the_ca_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[egress]\nenabled = false\n")
    with pytest.raises(ConfigError, match=r"egress\.ca_file can be set only in the config file"):
        load_config(tmp_path / "config.toml", env={"TANABAN_EGRESS__CA_FILE": "/tmp/evil.pem"})
