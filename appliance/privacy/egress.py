"""The egress gateway: the only module of the appliance that opens outbound connections.

It sends anonymized text to one OpenAI-compatible chat-completions endpoint (`POST {base_url}/chat/completions`,
the OpenAI Chat Completions API shape) and fails closed: kill switch, destination allow-list, request preparation
(control characters, customer ids, two-layer anonymization, residual and size checks: appliance.privacy.
egress_prepare), audit record committed BEFORE sending, outcome record after. See docs/EGRESS.md for the order of
operations and every failure mode.

The HTTP/1.1 client (RFC 9112, stdlib http.client) has two time limits: `timeout_s` per socket operation and
`total_timeout_s` for the whole request, enforced by a watchdog that shuts the socket down (shutdown(2)) at the
deadline, so a peer that trickles one byte a second cannot hold a call open. TLS (RFC 8446 / 5246, server
certificates checked per RFC 6125 by the ssl module) trusts exactly one store, read once when the transport is
built: `egress.ca_file`, or else OpenSSL's compiled-in system locations, never SSL_CERT_FILE / SSL_CERT_DIR.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from appliance.config import EgressConfig
from appliance.data.keys import PseudonymKey
from appliance.privacy import egress_checks
from appliance.privacy.audit.log import AuditEvent, AuditLog
from appliance.privacy.customer_ids import EgressPseudonyms, stored_users
from appliance.privacy.egress_checks import (
    Destination,
    EgressStatus,
    is_loopback,
    load_credential,
    resolve_destination,
)
from appliance.privacy.egress_prepare import (
    CONTROL_CHARS,
    ROLES,
    Anonymizer,
    EgressError,
    PreparedRequest,
    Refused,
    UnavailableAnonymizer,
    build_home_anonymizer,
    prepare_request,
)
from appliance.privacy.policy import PolicyReport, describe_anonymizer

__all__ = ["ROLES", "Anonymizer", "Destination", "EgressError", "EgressGateway", "EgressPseudonyms", "EgressResult",
           "EgressStatus", "EgressTimeoutError", "HttpTransport", "PreparedRequest", "Transport", "TransportResponse",
           "UnavailableAnonymizer", "build_home_anonymizer", "egress_status", "is_loopback", "load_credential",
           "open_gateway", "resolve_destination", "send_test_message"]

MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a chat answer is a few KiB; anything far larger is refused, not buffered
# where a system keeps its CA bundle when OpenSSL's compiled-in file is missing (Debian/Ubuntu, RHEL/Fedora, Alpine)
SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


class EgressTimeoutError(EgressError):
    """The whole request (connect, TLS handshake, send, answer) did not finish within egress.total_timeout_s."""


@dataclass(frozen=True)
class TransportResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float,
             total_timeout_s: float = EgressConfig.total_timeout_s) -> TransportResponse: ...


def tls_context(ca_file: str = "") -> tuple[ssl.SSLContext, str]:
    """(the client context egress verifies servers with, what it trusts in words). It trusts `ca_file` (a PEM bundle)
    alone when given, else the system store at OpenSSL's compiled-in locations (or a distribution's usual bundle).
    Unlike ssl.create_default_context() it never reads SSL_CERT_FILE / SSL_CERT_DIR: whoever can set a service's
    environment must not be able to choose whom it trusts. EgressError when there is nothing usable to trust."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and host name checking; loads no CA
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        path = Path(ca_file).expanduser()
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise EgressError(f"egress.ca_file {path} is not a readable PEM file of CA certificates "
                              f"({type(exc).__name__}): fix the path or the file") from None
        return context, f"egress.ca_file {path}"
    paths = ssl.get_default_verify_paths()
    cafile = next((f for f in (paths.openssl_cafile, *SYSTEM_CA_BUNDLES) if f and os.path.isfile(f)), None)
    capath = paths.openssl_capath if paths.openssl_capath and os.path.isdir(paths.openssl_capath) else None
    try:
        context.load_verify_locations(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError, TypeError) as exc:  # TypeError: neither exists
        looked = ", ".join(filter(None, (paths.openssl_cafile, paths.openssl_capath, *SYSTEM_CA_BUNDLES)))
        raise EgressError(f"no usable system CA store ({type(exc).__name__}; looked at {looked}): install the "
                          "system CA certificates or set egress.ca_file to a PEM file of the CAs to trust") from None
    where = " and ".join(filter(None, (cafile, capath)))
    return context, f"system store {where} (SSL_CERT_FILE and SSL_CERT_DIR ignored)"


def describe_trust_store(ca_file: str = "") -> str:
    """What egress TLS trusts, in words, or the problem (for `tanaban egress status`)."""
    try:
        return tls_context(ca_file)[1]
    except EgressError as exc:
        return f"error: {exc}"


class HttpTransport:
    """Stdlib http.client: TLS verified against one trust store fixed when the transport is built (`tls_context`),
    no proxies (http.client reads no *_PROXY variable), no redirects followed, a total deadline per request
    (`_Watchdog`). Plain http connects only to a loopback address checked here and then used as is, so a name such
    as `localhost` that resolves (or is rebound) elsewhere is refused, not followed. A TLS store that cannot be
    loaded is kept as `tls_problem` (the gateway refuses https calls with it) rather than raised here."""

    def __init__(self, ca_file: str = "") -> None:
        self.tls: ssl.SSLContext | None = None
        self.trust_store, self.tls_problem = "", ""
        try:
            self.tls, self.trust_store = tls_context(ca_file)
        except EgressError as exc:
            self.tls_problem = str(exc)

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float,
             total_timeout_s: float = EgressConfig.total_timeout_s) -> TransportResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = dict(headers)
        watchdog = _Watchdog(total_timeout_s)
        per_read = min(timeout_s, total_timeout_s)
        conn: http.client.HTTPConnection | None = None
        try:
            if parts.scheme == "https":
                if self.tls is None:
                    raise EgressError(self.tls_problem)
                conn = _WatchedHTTPSConnection(parts.hostname, parts.port, timeout=per_read, context=self.tls,
                                               watchdog=watchdog)
                conn.connect()
            elif parts.scheme == "http" and parts.hostname:
                sent["Host"] = parts.netloc.rpartition("@")[2]  # the name the server expects, not the address
                conn = _loopback_connection(parts.hostname, parts.port or 80, per_read)
                watchdog.watch(conn.sock)
            else:
                raise EgressError(f"unsupported URL scheme {parts.scheme!r}: use https")
            conn.request("POST", path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
        except Exception:
            if watchdog.passed():  # whatever the cut (or timed-out) socket raised, the cause is the deadline
                raise EgressTimeoutError(_deadline_message(total_timeout_s)) from None
            raise
        finally:
            watchdog.stop()  # before close: the watchdog must never act on a descriptor number reused meanwhile
            if conn is not None:
                conn.close()
        if watchdog.expired:  # an answer without a length ends at the cut and would look complete
            raise EgressTimeoutError(_deadline_message(total_timeout_s))
        return TransportResponse(response.status, data)


def _deadline_message(total_timeout_s: float) -> str:
    return (f"timed out: no complete answer within egress.total_timeout_s = {total_timeout_s:g} s (the request may "
            "have been sent; it is not retried)")


class _Watchdog:
    """Ends a request at its total deadline, whatever it is doing: a timer thread shuts the watched socket down with
    shutdown(2) on a duplicate of its descriptor, which wakes a blocked connect, TLS handshake, send or recv in the
    calling thread; the caller then sees `expired` and reports a timeout. Per-read timeouts cannot do this: a peer
    sending one byte a second never lets a single read time out."""

    def __init__(self, total_s: float) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.expired = self._stopped = False
        self._deadline = time.monotonic() + total_s
        self._timer = threading.Timer(total_s, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        """Cut `sock` at the deadline; if the deadline passed while it was connecting, cut it now."""
        if sock is None:
            return
        with self._lock:
            self._fd = sock.fileno()
            if self.expired:
                _shutdown(self._fd)

    def _expire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.expired = True
            if self._fd is not None:
                _shutdown(self._fd)

    def passed(self) -> bool:
        """The deadline was reached: the timer cut the socket, or a per-read timeout (at most the total, and started
        after this watchdog) fired first because the timer thread had not run yet on a busy machine."""
        return self.expired or time.monotonic() >= self._deadline

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._timer.cancel()


def _shutdown(fd: int) -> None:
    """shutdown(2) the socket behind `fd` without touching the Python object that owns it (another thread uses it)."""
    try:
        copy = os.dup(fd)
    except OSError:
        return
    try:
        duplicate = socket.socket(fileno=copy)
    except OSError:
        os.close(copy)
        return
    with duplicate, contextlib.suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection.connect with the TCP socket handed to the watchdog before the TLS handshake (the TLS socket
    wraps the same descriptor), so a peer that stalls the handshake is cut at the deadline too."""

    def __init__(self, host: str | None, port: int | None, *, timeout: float, context: ssl.SSLContext,
                 watchdog: _Watchdog) -> None:
        super().__init__(host or "", port, timeout=timeout, context=context)
        self._watchdog = watchdog

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP only
        self._watchdog.watch(self.sock)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EgressResult:
    request: PreparedRequest
    dry_run: bool
    enabled: bool  # the kill switch as configured (a dry run works while egress is disabled)
    text: str = ""  # the model's answer; empty for a dry run
    status: int | None = None
    latency_ms: int | None = None
    audit_seqs: tuple[int, ...] = field(default=())  # the entries written: (request, result) or (dryrun,)
    policy: str = ""  # the anonymization policy's fingerprint, as recorded in the audit entries
    weakened: tuple[str, ...] = ()  # settings weaker than the shipped default (a dry run shows them; see EGRESS.md)


class EgressGateway:
    """Sends chat requests out under the order of operations in docs/EGRESS.md. Not thread-safe per call order,
    but the audit log serialises appends, so several gateways (or processes) may share one log."""

    def __init__(self, cfg: EgressConfig, audit: AuditLog, anonymizer: Anonymizer, *,
                 transport: Transport | None = None, pseudonyms: EgressPseudonyms | None = None,
                 env: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg, self.audit, self.anonymizer = cfg, audit, anonymizer
        self._http = HttpTransport(cfg.ca_file) if transport is None else None  # trust store read once, here
        self.transport: Transport = transport or self._http  # type: ignore[assignment]
        self.pseudonyms, self._env, self._clock = pseudonyms, os.environ if env is None else env, clock
        self.policy: PolicyReport = describe_anonymizer(anonymizer)  # fingerprint + settings for every entry

    def close(self) -> None:
        self.audit.close()

    def __enter__(self) -> EgressGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chat(self, messages: Sequence[Mapping[str, str]], *, purpose: str, dry_run: bool = False,
             customer_ids: Sequence[str] = ()) -> EgressResult:
        """Anonymize `messages` and send them (or, with dry_run, return exactly what would be sent).

        Control characters are removed first; then `customer_ids` (in any case), stored pseudonyms and any word of
        the text that is a stored customer's id become egress tokens, and matches of egress.customer_id_patterns
        become <CUSTOMER_ID_n>. Raises EgressError on any refusal or failure; a refusal is logged as egress.blocked.
        """
        if not dry_run and not self.cfg.enabled:
            self._block("kill switch: egress.enabled is false", None, purpose)
        try:
            dest = resolve_destination(self.cfg)
        except EgressError as exc:
            self._block(str(exc), None, purpose)
        if self.policy.weakened and not self.cfg.allow_weakened_policy and not dry_run:
            self._block(self._weakened_refusal(), dest, purpose)
        if self._http is not None and self._http.tls_problem and dest.scheme == "https" and not dry_run:
            self._block(f"no trusted CA store: {self._http.tls_problem}", dest, purpose)
        request = self._prepare(messages, customer_ids, dest, purpose)
        if dry_run:
            reason = "; ".join(filter(None, ("dry run: nothing sent", self._weakened_note())))
            seq = self._record(AuditEvent("egress.dryrun", "ok", reason=reason,
                                          **self._common(dest, purpose, request, len(messages))), dest, purpose)
            return EgressResult(request, True, self.cfg.enabled, audit_seqs=(seq,), policy=self.policy.fingerprint,
                                weakened=self.policy.weakened)
        credential = self._credential(dest, purpose)
        seq = self._record(AuditEvent("egress.request", "ok", reason=self._weakened_note(),
                                      **self._common(dest, purpose, request, len(messages))), dest, purpose)
        return self._send(request, credential, seq, dest, purpose)

    def _weakened_refusal(self) -> str:
        return (f"the anonymization policy {self.policy.fingerprint} is weaker than the shipped default "
                f"({'; '.join(self.policy.weakened)}): restore those settings (`tanaban config show` marks "
                "TANABAN_* overrides) or, to accept it, set allow_weakened_policy = true in the egress table of the "
                "config file")

    def _weakened_note(self) -> str:
        if not self.policy.weakened:
            return ""
        if self.cfg.allow_weakened_policy:
            return "weakened policy allowed by egress.allow_weakened_policy in the config file"
        return "weakened policy: a real call would be refused"

    # --- steps ---------------------------------------------------------------------------------------------------

    def _prepare(self, messages: Sequence[Mapping[str, str]], customer_ids: Sequence[str], dest: Destination,
                 purpose: str) -> PreparedRequest:
        """The exact request (appliance.privacy.egress_prepare); a refusal is logged and raised."""
        try:
            return prepare_request(messages, url=dest.url, model=dest.model, anonymizer=self.anonymizer,
                                   pseudonyms=self.pseudonyms, customer_ids=customer_ids,
                                   id_patterns=self.cfg.customer_id_patterns,
                                   max_payload_bytes=self.cfg.max_payload_bytes,
                                   residual_passes=self.cfg.residual_passes,
                                   sends_credential=bool(self._credential_source()))
        except Refused as refused:
            fields = dict(refused.fields)
            layers = fields.pop("caught_by", None)
            self._block(refused.reason, dest, purpose, extra_origin={"caught_by": _canonical(layers)} if layers
                        else None, **fields)

    def _credential_source(self) -> str:
        cfg = self.cfg
        return cfg.api_key_file or (cfg.api_key_env if self._env.get(cfg.api_key_env) else "") or cfg.api_key

    def _credential(self, dest: Destination, purpose: str) -> str:
        try:
            return load_credential(self.cfg, self._env)[0]
        except EgressError as exc:
            self._block(str(exc), dest, purpose)

    def _send(self, request: PreparedRequest, credential: str, seq: int, dest: Destination,
              purpose: str) -> EgressResult:
        headers = {**request.headers, **({"Authorization": f"Bearer {credential}"} if credential else {})}
        start = self._clock()
        try:
            response = self.transport.post(request.url, headers, request.body.encode("utf-8"), self.cfg.timeout_s,
                                           self.cfg.total_timeout_s)
        except Exception as exc:  # network errors of every kind end the same way; none is retried
            self._outcome("error", f"request seq {seq}: {self._failure(exc)} after {self._ms(start)} ms; not "
                          "retried", b"", request, dest, purpose)
            raise EgressError(f"sending to {dest.host} failed: {_network_error(exc)}") from None
        ms = self._ms(start)
        text, problem = _answer(response)
        outcome = "ok" if not problem else "error"
        result_seq = self._outcome(outcome, f"request seq {seq}: HTTP {response.status} in {ms} ms"
                                   + (f"; {problem}" if problem else ""), response.body, request, dest, purpose)
        if problem:
            raise EgressError(f"{dest.host} answered HTTP {response.status}: {problem}")
        return EgressResult(request, False, True, text, response.status, ms, (seq, result_seq),
                            self.policy.fingerprint, self.policy.weakened)

    def _failure(self, exc: Exception) -> str:
        """How a send failed, for the audit record: a timeout says which limit, anything else its class."""
        if isinstance(exc, EgressTimeoutError):
            return f"timed out (total deadline egress.total_timeout_s = {self.cfg.total_timeout_s:g} s)"
        if isinstance(exc, TimeoutError):
            return f"timed out (no data for egress.timeout_s = {self.cfg.timeout_s:g} s)"
        return type(exc).__name__

    def _ms(self, start: float) -> int:
        return round((self._clock() - start) * 1000)

    def _outcome(self, outcome: str, reason: str, body: bytes, request: PreparedRequest, dest: Destination,
                 purpose: str) -> int:
        event = AuditEvent("egress.result", outcome, reason=reason, destination=dest.audit_fields(), purpose=purpose,
                           pseudonym_key_id=self._key_id(), **self._policy_fields(),
                           payload_sha256=request.payload_sha256,
                           payload_size=len(request.body.encode("utf-8")),
                           response_sha256=hashlib.sha256(body).hexdigest(), response_size=len(body))
        try:
            return self.audit.append(event)
        except Exception as exc:  # the answer is withheld when its outcome cannot be recorded
            raise EgressError(f"the request was sent but its outcome could not be audited ({exc}); "
                              "the answer is withheld") from None

    # --- audit helpers -------------------------------------------------------------------------------------------

    def _key_id(self) -> str:
        return self.pseudonyms.key.key_id if self.pseudonyms else ""

    def _policy_fields(self, extra_origin: Mapping[str, str] | None = None) -> dict[str, Any]:
        """policy_version is the policy's fingerprint; origin carries the settings it hashes and, for a policy
        weaker than the shipped default, what is weaker (docs/EGRESS.md, "Policy fingerprint"), plus
        `extra_origin` (which layer caught what, control characters removed: docs/AUDITORS.md)."""
        origin = {"policy": self.policy.settings, **(extra_origin or {})}
        if self.policy.weakened:
            origin["weakened"] = "; ".join(self.policy.weakened)
        return {"policy_version": self.policy.fingerprint, "origin": origin}

    def _common(self, dest: Destination, purpose: str, request: PreparedRequest, count: int) -> dict[str, Any]:
        extra = {"caught_by": _canonical(request.caught_by), "control_chars": str(request.control_chars)}
        return {"destination": dest.audit_fields(), "purpose": purpose, "categories": dict(request.categories),
                "record_count": count, "pseudonym_key_id": self._key_id(), **self._policy_fields(extra),
                "payload": request.body}

    def _record(self, event: AuditEvent, dest: Destination, purpose: str) -> int:
        """Append and commit `event`; if that fails, nothing is sent."""
        try:
            return self.audit.append(event)
        except Exception as exc:  # no audit record, no egress
            self._block(f"audit write failed, nothing sent ({type(exc).__name__}: {exc})", dest, purpose)

    def _block(self, reason: str, dest: Destination | None, purpose: str, *,
               extra_origin: Mapping[str, str] | None = None, **fields: Any) -> NoReturn:
        """Log the refused attempt (best effort: the refusal stands either way) and raise EgressError."""
        event = AuditEvent("egress.blocked", "blocked", reason=reason, purpose=purpose,
                           destination=dest.audit_fields() if dest else {"host": _host_of(self.cfg.base_url)},
                           pseudonym_key_id=self._key_id(), **self._policy_fields(extra_origin), **fields)
        with contextlib.suppress(Exception):
            self.audit.append(event)
        raise EgressError(f"egress refused: {reason}")


def egress_status(cfg: EgressConfig, env: Mapping[str, str] | None = None,
                  policy: PolicyReport | None = None) -> EgressStatus:
    """`appliance.privacy.egress_checks.egress_status` plus the TLS trust store egress would use."""
    return replace(egress_checks.egress_status(cfg, env, policy), trust_store=describe_trust_store(cfg.ca_file))


def _canonical(value: Any) -> str:
    """Counts as canonical JSON text (keys sorted, no whitespace), the form `origin` values take."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _loopback_connection(host: str, port: int, timeout_s: float) -> http.client.HTTPConnection:
    """A connection for plain http to `host`, opened to one of its checked loopback addresses (in resolver order,
    like socket.create_connection: `localhost` is often ::1 first while a server listens on 127.0.0.1 only)."""
    addresses = loopback_addresses(host, port)
    for n, address in enumerate(addresses, start=1):
        conn = http.client.HTTPConnection(address, port, timeout=timeout_s)
        try:
            conn.connect()
            return conn
        except OSError:
            conn.close()
            if n == len(addresses):
                raise
    raise AssertionError("unreachable: loopback_addresses returns at least one address")


def loopback_addresses(host: str, port: int) -> list[str]:
    """The addresses plain http to `host` may connect to: every address it resolves to must be loopback
    (EgressError otherwise); they are used as checked, so no second lookup can be rebound elsewhere."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise EgressError(f"cannot resolve {host}: {exc.strerror or type(exc).__name__}") from None
    addresses = [str(info[4][0]) for info in infos]
    outside = [a for a in addresses if not is_loopback(a.split("%", 1)[0])]
    if not addresses or outside:
        raise EgressError(f"plain http is allowed only to loopback addresses, but {host} resolves to "
                          f"{', '.join(outside) or 'nothing'}: fix the name's resolution or use https")
    return list(dict.fromkeys(addresses))


def _network_error(exc: Exception) -> str:
    """What a send failure may say: the class, plus the message of errors raised by the socket, TLS and this module
    (errno texts, certificate problems, our own refusals). Any other message may quote what the peer sent (e.g.
    http.client.BadStatusLine holds its first line, which can echo the request), so only its class is kept."""
    if isinstance(exc, OSError | EgressError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _answer(response: TransportResponse) -> tuple[str, str]:
    """(answer text without control characters, problem); problem is empty for a 2xx chat completion."""
    if len(response.body) > MAX_RESPONSE_BYTES:
        return "", f"response larger than {MAX_RESPONSE_BYTES} bytes"
    if not 200 <= response.status < 300:
        return "", "redirects are not followed" if 300 <= response.status < 400 else "not a success status"
    try:
        text = json.loads(response.body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "", "not an OpenAI-compatible chat completion"
    if not isinstance(text, str):
        return "", "message content is not a string"
    return CONTROL_CHARS.sub("", text), ""  # the peer's text reaches terminals and logs: no escape sequences, no
    # bidi overrides (the same characters removed from what is sent)


class GatewayHome(Protocol):
    """The part of appliance.data.home.Home the gateway uses."""

    config: Any
    engine: Any

    @property
    def pseudonym_key(self) -> PseudonymKey: ...

    @property
    def signing_key(self) -> Any: ...

    def store_pseudonym(self, raw_id: str) -> str: ...


def open_gateway(home: GatewayHome, *, cfg: EgressConfig | None = None, transport: Transport | None = None,
                 anonymizer: Anonymizer | None = None, env: Mapping[str, str] | None = None) -> EgressGateway:
    """The gateway of an opened appliance: its egress config (or `cfg`, e.g. the demo's loopback stand-in), audit
    log, anonymizer and pseudonym key."""
    from appliance.privacy.audit.admin import open_audit_log

    try:
        audit = open_audit_log(home)
    except Exception as exc:  # no audit log, no egress
        raise EgressError(f"cannot open the audit log, so nothing can be sent: {exc}") from None
    pseudonyms = EgressPseudonyms(home.pseudonym_key, home.store_pseudonym, stored_users(home.engine))
    return EgressGateway(cfg or home.config.egress, audit, anonymizer or build_home_anonymizer(home),
                         transport=transport, pseudonyms=pseudonyms, env=env)


def send_test_message(home: GatewayHome, text: str, *, dry_run: bool = False, transport: Transport | None = None,
                      customer_ids: Sequence[str] = ()) -> EgressResult:
    """What `tanaban egress test` does: one user message, anonymized, sent (or only prepared with dry_run);
    `customer_ids` are replaced like a caller's (`--customer-id`)."""
    with open_gateway(home, transport=transport) as gateway:
        return gateway.chat([{"role": "user", "content": text}], purpose=home.config.egress.purpose, dry_run=dry_run,
                            customer_ids=customer_ids)
