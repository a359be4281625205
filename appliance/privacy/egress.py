"""The egress gateway: the only module of the appliance that opens outbound connections.

It sends anonymized text to one OpenAI-compatible chat-completions endpoint (`POST {base_url}/chat/completions`,
the OpenAI Chat Completions API shape) and fails closed: kill switch, destination allow-list, request preparation
(control characters, customer ids, two-layer anonymization, residual and size checks: appliance.privacy.
egress_prepare), audit record committed BEFORE sending, outcome record after. See docs/EGRESS.md for the order of
operations and every failure mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from appliance.config import EgressConfig
from appliance.data.keys import PseudonymKey
from appliance.privacy.audit.log import AuditEvent, AuditLog
from appliance.privacy.customer_ids import EgressPseudonyms, stored_users
from appliance.privacy.egress_checks import (
    Destination,
    EgressStatus,
    egress_status,
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
           "EgressStatus", "HttpTransport", "PreparedRequest", "Transport", "TransportResponse",
           "UnavailableAnonymizer", "build_home_anonymizer", "egress_status", "is_loopback", "load_credential",
           "open_gateway", "resolve_destination", "send_test_message"]

MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a chat answer is a few KiB; anything far larger is refused, not buffered


@dataclass(frozen=True)
class TransportResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> TransportResponse: ...


class HttpTransport:
    """Stdlib http.client: TLS verified against the system CA store, no proxies (http.client reads no *_PROXY
    variable), no redirects followed. Plain http connects only to a loopback address checked here and then used
    as is, so a name such as `localhost` that resolves (or is rebound) elsewhere is refused, not followed."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> TransportResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = dict(headers)
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout_s, context=ssl.create_default_context())
        elif parts.scheme == "http" and parts.hostname:
            sent["Host"] = parts.netloc.rpartition("@")[2]  # the name the server expects, not the address
            conn = _loopback_connection(parts.hostname, parts.port or 80, timeout_s)
        else:
            raise EgressError(f"unsupported URL scheme {parts.scheme!r}: use https")
        try:
            conn.request("POST", path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
            return TransportResponse(response.status, data)
        finally:
            conn.close()


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
        self.transport = transport or HttpTransport()
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
            response = self.transport.post(request.url, headers, request.body.encode("utf-8"), self.cfg.timeout_s)
        except Exception as exc:  # network errors of every kind end the same way
            self._outcome("error", f"request seq {seq}: {type(exc).__name__} after "
                          f"{self._ms(start)} ms", b"", request, dest, purpose)
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
