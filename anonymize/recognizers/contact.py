"""E-mail addresses, URLs, IP addresses and phone numbers.

Phones are found and validated by libphonenumber (Google's metadata, Python port `phonenumbers`) for the regions a
UK/EU/US retailer meets, as Presidio's `PhoneRecognizer` does; IPs are validated with the stdlib `ipaddress`.
E-mail checking needs no public-suffix list, so nothing is ever fetched (Presidio's tldextract would try).
Spelled-out addresses ("jo dot smith at example dot com", "jo [at] example [dot] com"), the usual dodge of
review-site filters, are found when they end in a common top-level domain: bracketed forms on their own, "at"/"dot"
written as words when the local part has a dot or digit in it or an e-mail word ("email", "contact") is near.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import phonenumbers

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer

PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "IE", "ES", "IT", "NL")  # national formats we parse
_DOT = r"(?:\s*\.\s*|\s+dot\s+|\s*[\[({<]\s*dot\s*[\])}>]\s*)"  # ".", " dot ", "[dot]", "(dot)"
_AT_WORD = r"\s+at\s+"
_AT_BRACKET = r"\s*(?:[\[({<]\s*at\s*[\])}>]|@)\s*"
_LABEL = r"[a-z0-9][a-z0-9_%+-]{0,62}"  # bounded (RFC 5321: 64-octet local part, 63-octet labels): linear time
_TLD = r"(?:com|org|net|edu|gov|co|uk|de|fr|nl|ie|io|info|biz|me|us|ca|au|eu|es|it)"
_SPELLED_DOMAIN = rf"{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}{_DOT}{_TLD}\b"
EMAIL_CONTEXT = ("email", "e-mail", "mail", "contact", "reach", "write", "address", "message", "drop me")
PHONE_CONTEXT = ("phone", "call", "tel", "telephone", "mobile", "cell", "text", "whatsapp", "number", "ring", "contact")


def email_recognizer() -> RegexRecognizer:
    return RegexRecognizer("email", "EMAIL_ADDRESS", [
        Pattern(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b", 0.95),
    ])


def spelled_email_recognizer() -> RegexRecognizer:
    """E-mail addresses written out to dodge filters; a plain "x@y.com" is `email_recognizer`'s."""
    # "jo dot smith" or "jo79": a local part an ordinary word is not
    local_dotted = rf"{_LABEL}(?:{_DOT}{_LABEL}){{1,4}}|[a-z][a-z_%+-]{{0,40}}\d[a-z0-9_%+-]{{0,40}}"
    return RegexRecognizer("spelled-email", "EMAIL_ADDRESS", [
        Pattern(rf"(?<![\w.@])(?:{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}){_AT_BRACKET}{_SPELLED_DOMAIN}", 0.9),  # "[at]"
        Pattern(rf"(?<![\w.@])(?:{local_dotted}){_AT_WORD}{_SPELLED_DOMAIN}", 0.7, 0.9),
        Pattern(rf"(?<![\w.@]){_LABEL}{_AT_WORD}{_SPELLED_DOMAIN}", 0.3, 0.8),  # "looked at amazon dot com"
    ], context=EMAIL_CONTEXT)


def url_recognizer() -> RegexRecognizer:
    trailing = r"(?<![.,;:!?)\]'\"])"  # a sentence's full stop or a closing bracket is not part of the URL
    tlds = r"(?:com|net|org|io|co\.uk|org\.uk|uk|de|fr|nl|ie|me|info|blog|shop|store|app|dev)"
    return RegexRecognizer("url", "URL", [
        Pattern(r"\b(?:https?://|www\.)[^\s<>\"']+" + trailing, 0.8),
        Pattern(r"(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\." + tlds + r"(?:/[^\s<>\"']*" + trailing + r")?\b",
                0.5),
    ])


def _ip_ok(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_recognizer() -> RegexRecognizer:
    return RegexRecognizer("ip", "IP_ADDRESS", [
        Pattern(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)", 0.6, 0.9),
        Pattern(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", 0.7, 0.9),
    ], context=("ip", "address", "server", "login", "logged", "router", "vpn"), validator=_ip_ok)


_CONTEXT = RegexRecognizer("phone-context", "PHONE_NUMBER", [], context=PHONE_CONTEXT)


@dataclass
class PhoneRecognizer:
    """libphonenumber's matcher per region; a number parsed in several regions is reported once."""

    name: str = "phone"
    regions: tuple[str, ...] = PHONE_REGIONS
    score: float = 0.75  # a number libphonenumber calls valid is good evidence on its own
    context_score: float = 0.95

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PHONE_NUMBER",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        if sum(ch.isdigit() for ch in text) < 7:  # fast path: no phone number has fewer digits
            return []
        spans: set[tuple[int, int]] = set()
        for region in self.regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                spans.add((match.start, match.end))
        return [Finding("PHONE_NUMBER", s, e, self.context_score if _CONTEXT.has_context(text, s, e) else self.score,
                        self.name) for s, e in sorted(spans)]
