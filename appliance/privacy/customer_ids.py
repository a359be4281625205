"""Customer ids in outgoing text: find them and replace them before anything is anonymized or sent.

Three sources, one replacement pass: store pseudonyms (`usr-...` tokens) and ids the caller names become egress
tokens (keyed HMACs, anonymize.pseudonym); any other word of the text whose keyed store pseudonym is a stored user
(normalised as ingest normalises customer ids: Unicode NFC, UAX #15; tried as written, upper- and lower-case)
becomes an egress token too; matches of the admin's `egress.customer_id_patterns` become `<CUSTOMER_ID_n>`.
No raw id is kept, logged or put in an error message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from anonymize.pseudonym import pseudonymize
from appliance.data.keys import PseudonymKey
from appliance.data.store import User
from appliance.errors import UserError

STORE_TOKEN = re.compile(r"(?<![\w-])usr-[0-9a-f]{16}-[0-9a-f]{32}(?![\w-])")  # anonymize.pseudonym store tokens
MAX_PIECES = 6  # an id spans at most this many letter/digit runs joined by punctuation ("cust-2024-eu-00042")
LOOKUP_CHUNK = 5_000  # pseudonyms per SELECT: far below SQLite's 32,766 bound parameters; a 32 KiB request fits once
_CHUNK = re.compile(r"\S+")
_PIECE = re.compile(r"[^\W_]+")  # letters and digits: "_" and punctuation split candidates ("C036007_" -> C036007)
_ALNUM_EDGE = r"[^\W_]"  # what must not touch an id on either side for it to count as a whole word


class CustomerIdError(UserError, ValueError):
    """Customer ids cannot be replaced (no pseudonym key); the message never holds an id."""


@dataclass(frozen=True)
class EgressPseudonyms:
    """Maps customer ids to egress tokens: raw id -> store pseudonym (the Home's single mapping) -> egress token.

    Egress tokens are HMACs under the current pseudonym key with purpose "egress", so they cannot be joined with
    the store's ids without the key, and change when the key is rotated. `known` (when set) says which store
    pseudonyms are stored users, so that ids written in the text are found without the caller naming them.
    """

    key: PseudonymKey
    store_pseudonym: Callable[[str], str]
    known: Callable[[Collection[str]], set[str]] | None = None

    def token(self, store_token: str) -> str:
        return pseudonymize(store_token, key=self.key.secret, key_id=self.key.key_id, purpose="egress")


def stored_users(engine: Engine) -> Callable[[Collection[str]], set[str]]:
    """`EgressPseudonyms.known` for a store: which of the given pseudonyms are users (one SELECT per chunk)."""

    def known(pseudonyms: Collection[str]) -> set[str]:
        wanted, found = sorted(pseudonyms), set()
        with engine.connect() as conn:
            for i in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[i:i + LOOKUP_CHUNK]
                found.update(conn.scalars(select(User.pseudonym).where(User.pseudonym.in_(chunk))))
        return found

    return known


def normalise_id(raw: str) -> str:
    """A customer id as ingest stores it (appliance.data.fields._id): Unicode NFC."""
    return raw if raw.isascii() else unicodedata.normalize("NFC", raw)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    replacement: str
    rank: int  # lower wins a tie in length: a store token, then a named id, then a stored id, then a pattern


def replace_customer_ids(texts: Sequence[str], pseudonyms: EgressPseudonyms | None, customer_ids: Sequence[str],
                         patterns: Sequence[re.Pattern[str]]) -> tuple[list[str], int]:
    """Replace every customer id found in `texts` (see the module docstring); returns (texts, ids replaced).

    Raises CustomerIdError when the texts hold store tokens or `customer_ids` are given but there is no key.
    """
    if pseudonyms is None and (any(c for c in customer_ids) or any(STORE_TOKEN.search(t) for t in texts)):
        raise CustomerIdError("the text holds customer ids but the gateway has no pseudonym key")
    spans = [list(_pattern_spans(t, patterns)) for t in texts]
    if pseudonyms is not None:
        named = _named_patterns(customer_ids, pseudonyms)
        stored = _stored_ids(texts, pseudonyms)
        for text, found in zip(texts, spans, strict=True):
            found += [_Span(*m.span(), pseudonyms.token(m.group(0)), 0) for m in STORE_TOKEN.finditer(text)]
            found += [_Span(*m.span(), token, 1) for rx, token in named for m in rx.finditer(text)]
            found += [_Span(s, e, token, 2) for s, e, token in _stored_spans(text, stored)]
    out, total = [], 0
    numbers: dict[str, int] = {}  # pattern matches: the same id (any case) gets the same number in one request
    for text, found in zip(texts, spans, strict=True):
        kept = _non_overlapping(found)
        total += len(kept)
        out.append(_apply(text, kept, numbers))
    return out, total


def _pattern_spans(text: str, patterns: Sequence[re.Pattern[str]]) -> Iterator[_Span]:
    for rx in patterns:
        for m in rx.finditer(text):
            if m.end() > m.start():
                yield _Span(m.start(), m.end(), "", 3)  # "" = numbered placeholder, filled in by _apply


def _named_patterns(customer_ids: Sequence[str], pseudo: EgressPseudonyms) -> list[tuple[re.Pattern[str], str]]:
    """Ids the caller names: matched in any case, as whole words where "_" and punctuation end a word."""
    ids = sorted({normalise_id(c) for c in customer_ids if c}, key=len, reverse=True)
    return [(re.compile(rf"(?<!{_ALNUM_EDGE}){re.escape(raw)}(?!{_ALNUM_EDGE})", re.IGNORECASE),
             pseudo.token(pseudo.store_pseudonym(raw))) for raw in ids]


def candidates(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every word-like run that could be an id: each maximal letter/digit run and every run of up
    to MAX_PIECES of them joined by the punctuation between them inside one whitespace-free chunk."""
    for chunk in _CHUNK.finditer(text):
        pieces = [m.span() for m in _PIECE.finditer(chunk.group())]
        for i, (start, _) in enumerate(pieces):
            for _, end in pieces[i:i + MAX_PIECES]:
                yield chunk.start() + start, chunk.start() + end


def _forms(candidate: str) -> tuple[str, ...]:
    value = normalise_id(candidate)
    return tuple(dict.fromkeys((value, value.upper(), value.lower())))  # as written first, then the case forms


def _stored_ids(texts: Sequence[str], pseudo: EgressPseudonyms) -> dict[str, str]:
    """Candidate form -> egress token, for every form whose store pseudonym is a stored user (one lookup)."""
    if pseudo.known is None:
        return {}
    forms = {form for text in texts for s, e in candidates(text) for form in _forms(text[s:e])}
    if not forms:
        return {}
    by_pseudonym = {pseudo.store_pseudonym(form): form for form in forms}
    return {by_pseudonym[p]: pseudo.token(p) for p in pseudo.known(set(by_pseudonym))}


def _stored_spans(text: str, stored: dict[str, str]) -> Iterator[tuple[int, int, str]]:
    if not stored:
        return
    for start, end in candidates(text):
        token = next((stored[f] for f in _forms(text[start:end]) if f in stored), None)
        if token is not None:
            yield start, end, token


def _non_overlapping(spans: list[_Span]) -> list[_Span]:
    kept: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, s.rank, s.start)):  # longest first
        if not any(span.start < k.end and k.start < span.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def _apply(text: str, spans: list[_Span], numbers: dict[str, int]) -> str:
    parts, cursor = [], 0
    for span in spans:
        replacement = span.replacement
        if not replacement:
            key = normalise_id(text[span.start:span.end]).casefold()
            replacement = f"<CUSTOMER_ID_{numbers.setdefault(key, len(numbers) + 1)}>"
        parts += [text[cursor:span.start], replacement]
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)
