"""Request preparation for the egress gateway: everything between the caller's messages and the exact bytes sent.

Order (docs/EGRESS.md): strip control characters (C0 but tab and newline, DEL, C1, and the bidirectional overrides
and isolates of Unicode UAX #9, which can hide text from a reviewer: the "Trojan Source" attack, CVE-2021-42574);
replace customer ids (appliance.privacy.customer_ids); anonymize with both detection layers (anonymize.layers);
run both layers again on the final text (anything left refuses the request); build the OpenAI Chat Completions
body and check its size. Any failure raises `Refused`, which the gateway logs as egress.blocked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from anonymize.errors import AnonymizeUserError
from appliance.errors import UserError
from appliance.privacy.customer_ids import CustomerIdError, EgressPseudonyms, replace_customer_ids

ROLES = ("system", "user", "assistant")  # the chat roles a request may carry
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # see the module docstring
UNLAYERED = "primary"  # the layer a finding without a layer tag is counted under (a single, injected anonymizer)
HEADERS = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "tanaban-egress"}


class EgressError(UserError, RuntimeError):
    """An egress call was refused or failed; nothing (further) was sent. The message says why and how to fix it."""


RESIDUAL_PASSES = 2  # default of egress.residual_passes: residual findings masked and re-checked before refusing


class Refused(EgressError):  # noqa: N818 - a refusal, not an error in the code: the gateway logs it as blocked
    """The request must not be sent: `reason` is safe to log (no text, no id); `fields` go into the audit entry."""

    def __init__(self, reason: str, **fields: Any) -> None:
        super().__init__(reason)
        self.reason, self.fields = reason, fields


class Anonymizer(Protocol):
    """What the gateway needs from `appliance.privacy.anonymizer.home_anonymizer(...)`."""

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]: ...  # [AnonymizeResult(text, findings)]

    def residual(self, text: str) -> list[Any]: ...  # findings still present above threshold
    # optional: residual_many(texts) -> [findings per text], the same checks batched (anonymize.layers has it)


@dataclass(frozen=True)
class PreparedRequest:
    url: str
    headers: Mapping[str, str]  # as sent, minus the Authorization header
    body: str  # the exact JSON text sent (UTF-8)
    payload_sha256: str
    categories: Mapping[str, int]  # entity type -> count removed (CUSTOMER_ID: ids replaced)
    sends_credential: bool
    caught_by: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # layer -> entity type -> count
    control_chars: int = 0  # control and bidi characters removed


def strip_controls(texts: Sequence[str]) -> tuple[list[str], int]:
    """The texts without control and bidi-override characters, and how many were removed."""
    out, removed = [], 0
    for text in texts:
        clean, n = CONTROL_CHARS.subn("", text)
        out.append(clean)
        removed += n
    return out, removed


def checked_messages(messages: Sequence[Mapping[str, str]]) -> tuple[list[str], list[str]]:
    """(roles, texts) of well-formed chat messages; Refused otherwise."""
    if not messages or not all(isinstance(m, Mapping) and m.get("role") in ROLES
                               and isinstance(m.get("content"), str) for m in messages):
        raise Refused(f"messages must be a non-empty list of {{role: {'|'.join(ROLES)}, content: str}}")
    return [m["role"] for m in messages], [m["content"] for m in messages]


def compile_patterns(patterns: Sequence[str]) -> list[re.Pattern[str]]:
    try:
        return [re.compile(p) for p in patterns]
    except re.error:  # load_config checks them; a config built in code may not have been
        raise Refused("egress.customer_id_patterns holds an invalid regular expression") from None


def prepare_request(messages: Sequence[Mapping[str, str]], *, url: str, model: str, anonymizer: Anonymizer,
                    pseudonyms: EgressPseudonyms | None, customer_ids: Sequence[str] = (),
                    id_patterns: Sequence[str] = (), max_payload_bytes: int,
                    sends_credential: bool, residual_passes: int = RESIDUAL_PASSES) -> PreparedRequest:
    """The exact request for `messages`, or Refused (control characters, ids, anonymization, residual, size)."""
    roles, texts = checked_messages(messages)
    texts, controls = strip_controls(texts)
    patterns = compile_patterns(id_patterns)
    try:
        texts, ids = replace_customer_ids(texts, pseudonyms, customer_ids, patterns)
    except Exception as exc:  # fail closed on anything, including key and store errors
        raise Refused(f"pseudonymization failed: {_describe(exc)}") from None
    clean, findings = _anonymized(anonymizer, texts, residual_passes)
    categories = Counter(_entity(f) for f in findings)
    if ids:
        categories["CUSTOMER_ID"] += ids
    chat = [{"role": r, "content": t} for r, t in zip(roles, clean, strict=True)]
    body = json.dumps({"model": model, "messages": chat}, ensure_ascii=False, separators=(",", ":"))
    data = body.encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    if len(data) > max_payload_bytes:
        raise Refused(f"payload of {len(data)} bytes exceeds egress.max_payload_bytes={max_payload_bytes}",
                      categories=dict(categories), payload_sha256=sha, payload_size=len(data))
    return PreparedRequest(url, dict(HEADERS), body, sha, dict(categories), sends_credential,
                           caught_by=layer_counts(findings), control_chars=controls)


def _anonymized(anonymizer: Anonymizer, texts: list[str], passes: int) -> tuple[list[str], list[Any]]:
    """Anonymize, then run the residual check (both layers, for a layered anonymizer) on every final text.

    What the check still finds (often the rest of a name or address a layer cut short, seen once its first part is
    a placeholder) is masked as an unnumbered typed placeholder (`<PERSON>`: it claims no identity with the numbered
    ones) and the check runs again, at most `passes` times (egress.residual_passes; 0: refuse on any finding);
    anything left after that refuses the request. Each check is one batched call over the request's texts, and
    runs again only on the texts it just changed (the others were found clean as they still read).
    """
    try:
        results = list(anonymizer.anonymize_many(texts))
        if len(results) != len(texts):
            raise RuntimeError(f"{len(results)} results for {len(texts)} texts")
        clean = [r.text for r in results]
        found = [f for r in results for f in r.findings]
        residual: list[Any] | None = None  # known only once a check ran on the final texts
        # The texts not yet found clean as they now read. A text the anonymization found nothing in is sent as it was
        # written, and where the residual check runs the anonymization's own detection and keeps a subset of its
        # findings (`residual_within_analyze`: anonymize.engine, anonymize.layers), checking it finds nothing again.
        within = getattr(anonymizer, "residual_within_analyze", False) is True
        pending = [i for i, r in enumerate(results) if r.findings or not within]
        for _ in range(passes):
            hits = [(i, left) for i, left in zip(pending, _residual_many(anonymizer, [clean[i] for i in pending]),
                                                 strict=True) if left]
            if not hits:
                residual = []  # this check ran on the final texts: running it again would find nothing again
                break
            for i, left in hits:
                clean[i] = _mask_residual(clean[i], left)
            found += [f for _, left in hits for f in left]
            pending = [i for i, _ in hits]  # a text found clean is checked again only if it changes, and it won't
        if residual is None:
            residual = [f for left in _residual_many(anonymizer, [clean[i] for i in pending]) for f in left]
    except Exception as exc:  # any detector failure fails closed
        raise Refused(f"anonymizer failed: {_describe(exc)}") from None
    if residual:
        left = dict(Counter(_entity(f) for f in residual))
        raise Refused(f"residual personal data after anonymization: {sorted(left)}", categories=left,
                      caught_by=layer_counts(residual))
    return clean, found


def _residual_many(anonymizer: Anonymizer, texts: list[str]) -> list[list[Any]]:
    """The residual check of every text: one batched call (`residual_many`: one NER pass per layer for the whole
    request, the findings of per-text calls) where the anonymizer has it, else `residual` per text."""
    if not texts:
        return []
    many = getattr(anonymizer, "residual_many", None)
    if many is None:
        return [list(anonymizer.residual(text)) for text in texts]
    left = [list(found) for found in many(texts)]
    if len(left) != len(texts):
        raise RuntimeError(f"{len(left)} residual checks for {len(texts)} texts")
    return left


def _mask_residual(text: str, findings: Sequence[Any]) -> str:
    """`text` with each residual finding replaced by `<ENTITY>` (overlaps: the earlier, then longer, span wins)."""
    parts, cursor = [], 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not (0 <= f.start < f.end <= len(text)):
            raise RuntimeError("the residual check returned a span outside the text")
        if f.start < cursor:
            continue
        parts += [text[cursor:f.start], f"<{_entity(f)}>"]
        cursor = f.end
    parts.append(text[cursor:])
    return "".join(parts)


def layer_counts(findings: Sequence[Any]) -> dict[str, dict[str, int]]:
    """layer ("primary", "check", "both") -> entity type -> count: which layer caught what, never a value."""
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        counts.setdefault(getattr(f, "layer", "") or UNLAYERED, Counter())[_entity(f)] += 1
    return {layer: dict(sorted(c.items())) for layer, c in sorted(counts.items())}


def _describe(exc: Exception) -> str:
    """Our own errors and the anonymizer's user errors (whose messages never hold the text: anonymize.errors) carry
    safe messages; any other exception's message might quote the text, so only its class is kept."""
    safe = EgressError | CustomerIdError | AnonymizeUserError
    return str(exc) if isinstance(exc, safe) else type(exc).__name__


def _entity(finding: Any) -> str:
    """Entity type of a finding, whatever the detector's field is called."""
    for name in ("entity_type", "kind"):
        value = getattr(finding, name, None)
        if isinstance(value, str) and value:
            return value
    return "UNKNOWN"


class UnavailableAnonymizer:
    """Stands in when the real anonymizer cannot be built, so the failure is refused and logged like any other."""

    policy_version = "unavailable"  # its policy is unknown; every request is refused at the anonymize step anyway

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]:
        raise EgressError(f"the anonymizer is unavailable: {self.problem}")

    def residual(self, text: str) -> list[Any]:
        raise EgressError(f"the anonymizer is unavailable: {self.problem}")


class AnonymizerHome(Protocol):
    config: Any
    engine: Any

    @property
    def pseudonym_key(self) -> Any: ...


def build_home_anonymizer(home: AnonymizerHome) -> Anonymizer:
    """`appliance.privacy.anonymizer.home_anonymizer` for this home (both layers); a failing stand-in if it cannot
    be built."""
    try:
        from appliance.privacy.anonymizer import home_anonymizer  # lazy: NER loads only when egress is used

        return home_anonymizer(home.config.anonymize, home)
    except Exception as exc:  # reported (and logged) as a refusal at the first call
        return UnavailableAnonymizer(f"{type(exc).__name__}: {exc}")
