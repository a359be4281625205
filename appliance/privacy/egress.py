"""The egress gateway: the only module of the appliance that opens outbound connections.

It sends anonymized text to one OpenAI-compatible chat-completions endpoint (`POST {base_url}/chat/completions`,
the OpenAI Chat Completions API shape) and fails closed: kill switch, destination allow-list, pseudonymize customer
ids, anonymize, residual-PII and size checks, audit record committed BEFORE sending, outcome record after. See
docs/EGRESS.md for the order of operations and every failure mode. (Over 400 lines on purpose: the whole
fail-closed path is in one file so that a reviewer can read everything that can make data leave in one go.)
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import os
import re
import ssl
import stat
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from anonymize.pseudonym import pseudonymize
from appliance.config import EgressConfig
from appliance.data.keys import PseudonymKey
from appliance.errors import UserError
from appliance.privacy.audit.log import AuditEvent, AuditLog
from appliance.privacy.policy import PolicyReport, describe_anonymizer

ROLES = ("system", "user", "assistant")  # the chat roles a request may carry
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a chat answer is a few KiB; anything far larger is refused, not buffered
_STORE_TOKEN = re.compile(r"(?<![\w-])usr-[0-9a-f]{16}-[0-9a-f]{32}(?![\w-])")  # anonymize.pseudonym store tokens
_CREDENTIAL = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: nothing that could split a header


class EgressError(UserError, RuntimeError):
    """An egress call was refused or failed; nothing (further) was sent. The message says why and how to fix it."""


class Anonymizer(Protocol):
    """What the gateway needs from `appliance.privacy.anonymizer.home_anonymizer(...)`."""

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]: ...  # [AnonymizeResult(text, findings)]

    def residual(self, text: str) -> list[Any]: ...  # findings still present above threshold


@dataclass(frozen=True)
class TransportResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> TransportResponse: ...


class HttpTransport:
    """Stdlib http.client: TLS verified against the system CA store, no proxies, no redirects followed."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> TransportResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout_s, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
        try:
            conn.request("POST", path, body=body, headers=dict(headers))
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
            return TransportResponse(response.status, data)
        finally:
            conn.close()


@dataclass(frozen=True)
class Destination:
    url: str  # the chat-completions URL
    scheme: str
    host: str
    port: int
    model: str

    def audit_fields(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "model": self.model, "scheme": self.scheme}


@dataclass(frozen=True)
class EgressPseudonyms:
    """Maps customer ids to egress tokens: raw id -> store pseudonym (the Home's single mapping) -> egress token.

    Egress tokens are HMACs under the current pseudonym key with purpose "egress", so they cannot be joined with
    the store's ids without the key, and change when the key is rotated.
    """

    key: PseudonymKey
    store_pseudonym: Callable[[str], str]

    def token(self, store_token: str) -> str:
        return pseudonymize(store_token, key=self.key.secret, key_id=self.key.key_id, purpose="egress")


@dataclass(frozen=True)
class PreparedRequest:
    url: str
    headers: Mapping[str, str]  # as sent, minus the Authorization header
    body: str  # the exact JSON text sent (UTF-8)
    payload_sha256: str
    categories: Mapping[str, int]  # entity type -> count removed
    sends_credential: bool


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


def resolve_destination(cfg: EgressConfig) -> Destination:
    """Check base_url against the allow-list: https, or http to a loopback host; host listed; no userinfo."""
    if not cfg.base_url:
        raise EgressError("no destination: set egress.base_url (e.g. https://llm.internal.example/v1)")
    try:
        parts = urlsplit(cfg.base_url)
    except ValueError:
        raise EgressError(f"egress.base_url {cfg.base_url!r} is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise EgressError(f"egress.base_url {cfg.base_url!r} must be an https:// URL with a host")
    if parts.scheme == "http" and not is_loopback(host):
        raise EgressError(f"plain http is allowed only to loopback hosts, not {host}: use https")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EgressError("egress.base_url must not hold credentials, a query or a fragment "
                          "(put the credential in egress.api_key_file)")
    if host not in {h.lower() for h in cfg.allowed_hosts}:
        raise EgressError(f"destination host {host} is not in egress.allowed_hosts {list(cfg.allowed_hosts)}")
    if not cfg.model:
        raise EgressError("egress.model is not set (the model name the endpoint expects)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EgressError(f"egress.base_url {cfg.base_url!r} has an invalid port") from None
    url = cfg.base_url.rstrip("/") + "/chat/completions"
    return Destination(url, parts.scheme, host, port, cfg.model)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_credential(cfg: EgressConfig, env: Mapping[str, str]) -> tuple[str, str]:
    """(credential, where it came from); ("", "none") when none is configured. The file must be mode 0600."""
    if cfg.api_key_file:
        path = Path(cfg.api_key_file).expanduser()
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            value = path.read_text(encoding="utf-8").strip() if not mode & 0o077 else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise EgressError(f"cannot read egress.api_key_file {path}: {type(exc).__name__}") from None
        if mode & 0o077:
            raise EgressError(f"egress.api_key_file {path} is readable by group or others (mode {mode:04o}); "
                              f"fix it with: chmod 600 {path}")
        return _checked(value, f"file {path}"), f"file {path}"
    if cfg.api_key_env and env.get(cfg.api_key_env):
        source = f"environment variable {cfg.api_key_env}"
        return _checked(env[cfg.api_key_env].strip(), source), source
    if cfg.api_key:
        return _checked(cfg.api_key.strip(), "egress.api_key"), "egress.api_key (inline)"
    return "", "none"


def _checked(value: str, source: str) -> str:
    if not _CREDENTIAL.fullmatch(value):
        raise EgressError(f"the credential from {source} is empty or holds spaces or non-ASCII characters")
    return value


def _describe(exc: Exception) -> str:
    """Our own errors carry safe messages; a detector's message might quote the text, so only its class is kept."""
    return str(exc) if isinstance(exc, EgressError) else type(exc).__name__


def _entity(finding: Any) -> str:
    """Entity type of a finding, whatever the detector's field is called."""
    for name in ("entity_type", "kind"):
        value = getattr(finding, name, None)
        if isinstance(value, str) and value:
            return value
    return "UNKNOWN"


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

        Raw `customer_ids` occurring in the text, and stored pseudonyms, are replaced by egress tokens first.
        Raises EgressError on any refusal or failure; a refused attempt is logged as egress.blocked.
        """
        if not dry_run and not self.cfg.enabled:
            self._block("kill switch: egress.enabled is false", None, purpose)
        try:
            dest = resolve_destination(self.cfg)
        except EgressError as exc:
            self._block(str(exc), None, purpose)
        if self.policy.weakened and not self.cfg.allow_weakened_policy and not dry_run:
            self._block(self._weakened_refusal(), dest, purpose)
        roles, texts, replaced = self._pseudonymized(messages, customer_ids, dest, purpose)
        request = self._prepare(roles, texts, replaced, dest, purpose)
        if dry_run:
            reason = "; ".join(filter(None, ("dry run: nothing sent", self._weakened_note())))
            seq = self._record(AuditEvent("egress.dryrun", "ok", reason=reason,
                                          **self._common(dest, purpose, request, len(texts))), dest, purpose)
            return EgressResult(request, True, self.cfg.enabled, audit_seqs=(seq,), policy=self.policy.fingerprint,
                                weakened=self.policy.weakened)
        credential = self._credential(dest, purpose)
        seq = self._record(AuditEvent("egress.request", "ok", reason=self._weakened_note(),
                                      **self._common(dest, purpose, request, len(texts))), dest, purpose)
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

    def _pseudonymized(self, messages: Sequence[Mapping[str, str]], customer_ids: Sequence[str], dest: Destination,
                       purpose: str) -> tuple[list[str], list[str], int]:
        """Validate messages; replace raw customer ids and store pseudonyms by egress tokens."""
        if not messages or not all(isinstance(m, Mapping) and m.get("role") in ROLES
                                   and isinstance(m.get("content"), str) for m in messages):
            self._block(f"messages must be a non-empty list of {{role: {'|'.join(ROLES)}, content: str}}",
                        dest, purpose)
        texts = [m["content"] for m in messages]
        try:
            texts, replaced = self._replace_ids(texts, customer_ids)
        except Exception as exc:  # fail closed on anything, including key errors
            self._block(f"pseudonymization failed: {_describe(exc)}", dest, purpose)
        return [m["role"] for m in messages], texts, replaced

    def _replace_ids(self, texts: list[str], customer_ids: Sequence[str]) -> tuple[list[str], int]:
        needs_key = bool(customer_ids) or any(_STORE_TOKEN.search(t) for t in texts)
        if not needs_key:
            return texts, 0
        if self.pseudonyms is None:
            raise EgressError("the text holds customer ids but the gateway has no pseudonym key")
        pseudo = self.pseudonyms
        patterns = [(re.compile(rf"(?<!\w){re.escape(raw)}(?!\w)"), pseudo.token(pseudo.store_pseudonym(raw)))
                    for raw in sorted({c for c in customer_ids if c}, key=len, reverse=True)]
        out, replaced = [], 0
        for text in texts:
            text, n = _STORE_TOKEN.subn(lambda m: pseudo.token(m.group(0)), text)
            replaced += n
            for pattern, token in patterns:
                text, n = pattern.subn(token, text)
                replaced += n
            out.append(text)
        return out, replaced

    def _prepare(self, roles: list[str], texts: list[str], replaced: int, dest: Destination,
                 purpose: str) -> PreparedRequest:
        """Anonymize, build the exact body, refuse on residual PII or size."""
        try:
            results = list(self.anonymizer.anonymize_many(texts))
            if len(results) != len(texts):
                raise RuntimeError(f"{len(results)} results for {len(texts)} texts")
            clean = [r.text for r in results]
            categories = Counter(_entity(f) for r in results for f in r.findings)
            residual = [f for text in clean for f in self.anonymizer.residual(text)]
        except Exception as exc:  # any detector failure fails closed
            self._block(f"anonymizer failed: {_describe(exc)}", dest, purpose)
        if replaced:
            categories["CUSTOMER_ID"] += replaced
        if residual:
            left = dict(Counter(_entity(f) for f in residual))
            self._block(f"residual personal data after anonymization: {sorted(left)}", dest, purpose,
                        categories=left)
        chat = [{"role": r, "content": t} for r, t in zip(roles, clean, strict=True)]
        body = json.dumps({"model": dest.model, "messages": chat}, ensure_ascii=False, separators=(",", ":"))
        data = body.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        if len(data) > self.cfg.max_payload_bytes:
            self._block(f"payload of {len(data)} bytes exceeds egress.max_payload_bytes={self.cfg.max_payload_bytes}",
                        dest, purpose, categories=dict(categories), payload_sha256=sha, payload_size=len(data))
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "tanaban-egress"}
        sends = bool(self._credential_source())
        return PreparedRequest(dest.url, headers, body, sha, dict(categories), sends)

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
            raise EgressError(f"sending to {dest.host} failed: {type(exc).__name__}: {exc}") from None
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

    def _policy_fields(self) -> dict[str, Any]:
        """policy_version is the policy's fingerprint; origin carries the settings it hashes and, for a policy
        weaker than the shipped default, what is weaker (docs/EGRESS.md, "Policy fingerprint")."""
        origin = {"policy": self.policy.settings}
        if self.policy.weakened:
            origin["weakened"] = "; ".join(self.policy.weakened)
        return {"policy_version": self.policy.fingerprint, "origin": origin}

    def _common(self, dest: Destination, purpose: str, request: PreparedRequest, count: int) -> dict[str, Any]:
        return {"destination": dest.audit_fields(), "purpose": purpose, "categories": dict(request.categories),
                "record_count": count, "pseudonym_key_id": self._key_id(), **self._policy_fields(),
                "payload": request.body}

    def _record(self, event: AuditEvent, dest: Destination, purpose: str) -> int:
        """Append and commit `event`; if that fails, nothing is sent."""
        try:
            return self.audit.append(event)
        except Exception as exc:  # no audit record, no egress
            self._block(f"audit write failed, nothing sent ({type(exc).__name__}: {exc})", dest, purpose)

    def _block(self, reason: str, dest: Destination | None, purpose: str, **fields: Any) -> NoReturn:
        """Log the refused attempt (best effort: the refusal stands either way) and raise EgressError."""
        event = AuditEvent("egress.blocked", "blocked", reason=reason, purpose=purpose,
                           destination=dest.audit_fields() if dest else {"host": _host_of(self.cfg.base_url)},
                           pseudonym_key_id=self._key_id(), **self._policy_fields(), **fields)
        with contextlib.suppress(Exception):
            self.audit.append(event)
        raise EgressError(f"egress refused: {reason}")


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _answer(response: TransportResponse) -> tuple[str, str]:
    """(answer text, problem); problem is empty when the response is a 2xx chat completion."""
    if len(response.body) > MAX_RESPONSE_BYTES:
        return "", f"response larger than {MAX_RESPONSE_BYTES} bytes"
    if not 200 <= response.status < 300:
        return "", "redirects are not followed" if 300 <= response.status < 400 else "not a success status"
    try:
        text = json.loads(response.body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "", "not an OpenAI-compatible chat completion"
    return (text, "") if isinstance(text, str) else ("", "message content is not a string")


class _UnavailableAnonymizer:
    """Stands in when the real anonymizer cannot be built, so the failure is refused and logged like any other."""

    policy_version = "unavailable"  # its policy is unknown; every request is refused at the anonymize step anyway

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]:
        raise EgressError(f"the anonymizer is unavailable: {self.problem}")

    def residual(self, text: str) -> list[Any]:
        raise EgressError(f"the anonymizer is unavailable: {self.problem}")


class GatewayHome(Protocol):
    """The part of appliance.data.home.Home the gateway uses."""

    config: Any
    engine: Any

    @property
    def pseudonym_key(self) -> PseudonymKey: ...

    @property
    def signing_key(self) -> Any: ...

    def store_pseudonym(self, raw_id: str) -> str: ...


def build_home_anonymizer(home: GatewayHome) -> Anonymizer:
    """`appliance.privacy.anonymizer.home_anonymizer` for this home; a failing stand-in if it cannot be built."""
    try:
        from appliance.privacy.anonymizer import home_anonymizer  # lazy: NER loads only when egress is used

        return home_anonymizer(home.config.anonymize, home)
    except Exception as exc:  # reported (and logged) as a refusal at the first call
        return _UnavailableAnonymizer(f"{type(exc).__name__}: {exc}")


def open_gateway(home: GatewayHome, *, cfg: EgressConfig | None = None, transport: Transport | None = None,
                 anonymizer: Anonymizer | None = None, env: Mapping[str, str] | None = None) -> EgressGateway:
    """The gateway of an opened appliance: its egress config (or `cfg`, e.g. the demo's loopback stand-in), audit
    log, anonymizer and pseudonym key."""
    from appliance.privacy.audit.admin import open_audit_log

    try:
        audit = open_audit_log(home)
    except Exception as exc:  # no audit log, no egress
        raise EgressError(f"cannot open the audit log, so nothing can be sent: {exc}") from None
    pseudonyms = EgressPseudonyms(home.pseudonym_key, home.store_pseudonym)
    return EgressGateway(cfg or home.config.egress, audit, anonymizer or build_home_anonymizer(home),
                         transport=transport, pseudonyms=pseudonyms, env=env)


@dataclass(frozen=True)
class EgressStatus:
    enabled: bool
    base_url: str
    model: str
    allowed_hosts: tuple[str, ...]
    destination_problem: str  # empty when the destination passes the checks
    credential_source: str  # where the credential comes from, or the problem reading it; never the value
    max_payload_bytes: int
    timeout_s: float
    policy: PolicyReport | None = None  # the anonymization policy egress would run under, when known
    allow_weakened_policy: bool = False


def egress_status(cfg: EgressConfig, env: Mapping[str, str] | None = None,
                  policy: PolicyReport | None = None) -> EgressStatus:
    """What `tanaban egress status` shows: kill switch, destination check, credential source (no secret) and,
    given `policy` (appliance.privacy.policy.current_policy), its fingerprint and whether it is weakened."""
    try:
        resolve_destination(cfg)
        problem = ""
    except EgressError as exc:
        problem = str(exc)
    try:
        source = load_credential(cfg, os.environ if env is None else env)[1]
    except EgressError as exc:
        source = f"error: {exc}"
    return EgressStatus(cfg.enabled, cfg.base_url, cfg.model, cfg.allowed_hosts, problem, source,
                        cfg.max_payload_bytes, cfg.timeout_s, policy, cfg.allow_weakened_policy)


def send_test_message(home: GatewayHome, text: str, *, dry_run: bool = False,
                      transport: Transport | None = None) -> EgressResult:
    """What `tanaban egress test` does: one user message, anonymized, sent (or only prepared with dry_run)."""
    with open_gateway(home, transport=transport) as gateway:
        return gateway.chat([{"role": "user", "content": text}], purpose=home.config.egress.purpose, dry_run=dry_run)
