"""The anonymizer: run every recognizer, apply allow/deny lists and per-entity thresholds, resolve overlaps, and
replace each span with its operator's output. Detection fails closed: any recognizer error raises
`AnonymizerError` and no text is returned (the fail-open behaviour of LLM gateways is what this replaces).

Follows Presidio's analyzer -> `RecognizerResult` -> anonymizer split, with `Finding` as the only shared type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from anonymize.detector.runtime import DetectorModelError, LearnedRecognizer
from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding, gaps, resolve_overlaps
from anonymize.operators import PLACEHOLDER_RE, Generalize, KeyedHash, Operator, OperatorState, Placeholder, Redact
from anonymize.policy import Policy, PolicyError
from anonymize.recognizers import DEFAULT_MODEL, NerRecognizer, NlpLoadError, Recognizer, default_recognizers
from anonymize.recognizers.branches import is_store_branch
from anonymize.recognizers.contact import is_service_line
from anonymize.recognizers.holidays import HOLIDAY_TYPES, holiday_spans
from anonymize.recognizers.labels import is_field_label
from anonymize.recognizers.locality import address_tail
from anonymize.recognizers.ner import one_blas_thread, prose_word
from anonymize.recognizers.organisations import is_organisation
from anonymize.recognizers.recase import single_case
from anonymize.recognizers.refine import (
    bridge_names,
    is_compound_word,
    is_month_in_date,
    is_spelling_word,
    is_stop_word,
    propagate_names,
    refine,
    with_attached_number,
    with_initials,
    without_holidays,
)
from anonymize.recognizers.retail_brands import (
    is_colour_name,
    is_named_product,
    is_product_origin,
    is_promo_code,
    is_retail_brand,
)
from anonymize.recognizers.words import CJK

# An egress token (anonymize.pseudonym, purpose "egress": a keyed HMAC that replaced a customer id) is no personal
# data; masking it would only hide from the model which customer a message is about.
EGRESS_TOKEN_RE = re.compile(r"(?<![\w-])ext-[0-9a-f]{16}-[0-9a-f]{32}(?![\w-])")
_DEFAULT = Policy()  # frozen, so one shared default is safe
DENY_SCORE = 1.0  # deny-listed terms are always masked, whatever the thresholds say
# The types a catalog term can look like (a brand "Ella Rose", a product "Abbey Road"); never a card or an e-mail.
ALLOWABLE_TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS", "URL")
NER_BACKENDS = ("learned", "spacy")  # the learned PII detector (primary layer), or en_core_web_sm (check layer)


class AnonymizerError(AnonymizeUserError, RuntimeError):
    """Detection or transformation failed; nothing was returned (fail closed). The message never holds the text."""


@dataclass(frozen=True)
class AnonymizeResult:
    text: str  # the anonymized text
    findings: list[Finding]  # what was replaced, with offsets into the original text


class Anonymizer:
    """Detect personal data and replace it according to a `Policy`.

    Args:
        allow_list: terms never masked (catalog brands, store names); a finding wholly inside one is dropped,
            unless it is a town after a preposition of place (`placed_by_preposition`: "entrega em Nampula") and no
            longer term holds it ("Nuit à Grasse").
        deny_list: terms always masked (as `CUSTOM`), beating the allow-list.
        use_ner: run the NER backend (without it only the rules run; the "primary" rules find no names).
        ner_backend: "learned" (default): the learned PII detector (anonymize/detector) for names, places, street
            addresses, postcodes, phone numbers and ID documents; "spacy": en_core_web_sm's PERSON/GPE/LOC/FAC.
        hash_key: secret for the keyed_hash operator (>= 32 bytes); required only when the policy uses it.
        nlp_model: the spaCy model package of the "spacy" backend.
        detector_path: the learned detector's model directory (default: the shipped model).
        recognizers: the rule-based recognizer set; None: `default_recognizers("primary")` with the learned backend,
            `default_recognizers("check")` with the spaCy one (tests inject failing ones).
        refine_ner: trim and split the NER backend's spans at words that are never names or addresses
            (anonymize.recognizers.refine); off only to measure what the refinement does.
    """

    # `residual` with the policy's thresholds (threshold None, as the egress step runs it) is `analyze`'s own
    # detection (`_detect`) less the spans on placeholders: a text `analyze` finds nothing in, it finds nothing in
    # either, and the egress step skips that check.
    residual_within_analyze = True

    def __init__(self, policy: Policy = _DEFAULT, *, allow_list: Iterable[str] = (), deny_list: Iterable[str] = (),
                 use_ner: bool = True, ner_backend: str = "learned", hash_key: bytes | None = None,
                 nlp_model: str = DEFAULT_MODEL, detector_path: str | None = None,
                 recognizers: Sequence[Recognizer] | None = None, refine_ner: bool = True) -> None:
        if ner_backend not in NER_BACKENDS:
            raise AnonymizeUserError(f"unknown NER backend {ner_backend!r}; expected one of {', '.join(NER_BACKENDS)}")
        self.policy = policy
        self.allow_list = tuple(sorted({t.strip() for t in allow_list if t.strip()}))
        self.deny_list = tuple(sorted({t.strip() for t in deny_list if t.strip()}))
        self._allow = _AllowList(self.allow_list)
        self._deny_re = _terms_regex(self.deny_list)
        self.ner_backend = ner_backend
        self.refine_ner = refine_ner
        layer = "primary" if ner_backend == "learned" else "check"
        self.recognizers = list(default_recognizers(layer) if recognizers is None else recognizers)
        self.ner: LearnedRecognizer | NerRecognizer | None = None
        if use_ner:
            self.ner = LearnedRecognizer(detector_path) if ner_backend == "learned" else NerRecognizer(nlp_model)
        self._operators = _build_operators(policy, hash_key)

    # --- detection -------------------------------------------------------------------------------------------
    def analyze(self, text: str) -> list[Finding]:
        """Findings above their entity's threshold, allow/deny lists applied, overlaps resolved, sorted by start."""
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str], *, rules: RuleCache | None = None) -> list[list[Finding]]:
        """`analyze` for many texts, with one batched NER pass (`nlp.pipe` of the backend); `rules` shares the
        findings of the recognizers it holds with other anonymizers over the same texts."""
        return self._detect(texts, self.policy.threshold_for, rules)

    def _detect(self, texts: Sequence[str], threshold_for: Callable[[str], float],
                rules: RuleCache | None = None) -> list[list[Finding]]:
        for text in texts:
            if not isinstance(text, str):
                raise AnonymizerError(f"expected text as str, got {type(text).__name__}")
        docs: list[Any] = [None] * len(texts)
        if self.ner is not None:
            try:
                with one_blas_thread():  # reentrant: the spaCy backend's docs() holds it too
                    docs = self.ner.docs(list(texts))
            except Exception as exc:  # a load error says what to install; other messages might quote the text
                known = isinstance(exc, NlpLoadError | DetectorModelError)
                detail = f"{type(exc).__name__}: {exc}" if known else type(exc).__name__
                raise AnonymizerError(f"NER failed ({detail}); nothing was anonymized") from exc
        detectors = [*self.recognizers, *([self.ner] if self.ner is not None else [])]
        return [self._analyze_one(text, doc, threshold_for, detectors, rules)
                for text, doc in zip(texts, docs, strict=True)]

    def _analyze_one(self, text: str, doc: Any | None, threshold_for: Callable[[str], float],
                     detectors: Sequence[Any], rules: RuleCache | None) -> list[Finding]:
        raw: list[Finding] = []
        for recognizer in detectors:
            try:
                if rules is not None and rules.holds(recognizer):
                    found = rules.analyze(recognizer, text)
                else:
                    found = list(recognizer.analyze(text, doc))
            except Exception as exc:
                raise AnonymizerError(f"recognizer {getattr(recognizer, 'name', recognizer)!r} failed "
                                      f"({type(exc).__name__}); nothing was anonymized") from exc
            found = _checked(found, len(text), recognizer)
            if recognizer is self.ner and self.refine_ner:  # statistical spans: trim edges, split at stop words
                single = single_case(text)
                found = [f for f in bridge_names(text, refine(text, found, single))
                         if not prose_word(text, f, single) and not is_field_label(text, f)]
            raw.extend(found)
        kept = [f for f in raw if f.entity_type in self.policy.entities and f.score >= threshold_for(f.entity_type)]
        kept = [with_initials(text, with_attached_number(text, f)) for f in self._not_excluded(text, kept)]
        kept += self._not_excluded(text, propagate_names(text, kept))  # "Reyes" again, or in a list of found names
        if "LOCATION" in self.policy.entities:  # "..., Kariakoo, Dar es Salaam" after a street line
            kept += self._not_excluded(text, address_tail(text, kept))
        kept += [Finding("CUSTOM", s, e, DENY_SCORE, "deny-list") for s, e in _spans(self._deny_re, text)]
        own = [m.span() for m in PLACEHOLDER_RE.finditer(text)] if "<" in text else []
        own += [m.span() for m in EGRESS_TOKEN_RE.finditer(text)] if "ext-" in text else []
        if own:  # our own placeholders and egress tokens are never masked (anonymizing twice equals once)
            kept = [f for f in kept if not any(s <= f.start and f.end <= e for s, e in own)]
        return resolve_overlaps(kept)

    def _not_excluded(self, text: str, findings: list[Finding]) -> list[Finding]:
        """`findings` less what the allow-list and the retail exclusions say is no personal data."""
        kept = [piece for f in findings
                for piece in (self._allow.subtract(text, f) if f.entity_type in ALLOWABLE_TYPES and not (
                    placed_by_preposition(text, f) and not self._allow.inside_longer_term(text, f)) else (f,))]
        kept = [f for f in kept if not is_store_branch(text, f)]  # "the Leeds Trinity branch": a shop's, no person's
        kept = [f for f in kept if not is_organisation(text, f)]  # "Marchal SARL": a company's name, no person's
        kept = [f for f in kept if not is_retail_brand(text, f)]  # "paid with Klarna", "DHL says": brands
        kept = [f for f in kept if not is_product_origin(text, f)]  # "Made in Portugal": a product's origin
        kept = [f for f in kept if not is_colour_name(text, f)]  # "Farbe Dunkelblau": a product's colour
        kept = [f for f in kept if not is_named_product(text, f)]  # "the Denver mattress topper": a product line
        kept = [f for f in kept if not is_promo_code(text, f)]  # "use code SNOWDAY25": the shop's, for everyone
        kept = [f for f in kept if not is_service_line(text, f)]  # "Hotline: 0161 496 0000": the shop's number
        holidays = holiday_spans(text) if any(f.entity_type in HOLIDAY_TYPES for f in kept) else ()
        kept = [piece for f in kept for piece in without_holidays(text, f, holidays)]  # "Boxing Day", "Kurban Bayramı"
        kept = [f for f in kept if not is_spelling_word(text, f)]  # "w as in william": a letter spelled out
        kept = [f for f in kept if f.entity_type not in ("PERSON", "LOCATION")
                or not is_month_in_date(text, f.start, f.end)]  # "June 24", "until June": a date, not a name
        return [f for f in kept if not is_compound_word(text, f)]  # "LOYALTY SIGN-UP": a retail word

    def residual(self, text: str, threshold: float | None = None, *,
                 rules: RuleCache | None = None) -> list[Finding]:
        """Findings left in already-anonymized text (the egress pre-send check), ignoring our own placeholders.

        With `threshold` None the policy's per-entity thresholds apply; otherwise one threshold for every type.
        """
        return self.residual_many([text], threshold, rules=rules)[0]

    def residual_many(self, texts: Sequence[str], threshold: float | None = None, *,
                      rules: RuleCache | None = None) -> list[list[Finding]]:
        """`residual` of each text, with one batched NER pass for all of them (the findings of per-text calls)."""
        limit = self.policy.threshold_for if threshold is None else (lambda _entity: threshold)
        out = []
        for text, found in zip(texts, self._detect(texts, limit, rules), strict=True):
            own = [m.span() for m in PLACEHOLDER_RE.finditer(text)]
            out.append([f for f in found if not any(f.start < e and s < f.end for s, e in own)])
        return out

    # --- transformation --------------------------------------------------------------------------------------
    def anonymize(self, text: str) -> AnonymizeResult:
        return self.anonymize_many([text])[0]

    def anonymize_batch(self, texts: Sequence[str]) -> list[AnonymizeResult]:
        """Anonymize independent texts (one request each, numbering restarts) with one batched NER pass."""
        return [AnonymizeResult(self._replace(text, findings, OperatorState()), findings)
                for text, findings in zip(texts, self.analyze_many(texts), strict=True)]

    def anonymize_many(self, texts: Sequence[str]) -> list[AnonymizeResult]:
        """Anonymize the texts of one request; `<PERSON_1>` means the same person in all of them. Numbering goes on
        after placeholders already in the texts (`<CUSTOMER_ID_1>` put there by the egress id replacement)."""
        state = continued_state(texts)
        results = []
        for text, findings in zip(texts, self.analyze_many(texts), strict=True):
            results.append(AnonymizeResult(self._replace(text, findings, state), findings))
        return results

    def _replace(self, text: str, findings: list[Finding], state: OperatorState) -> str:
        parts, cursor = [], 0
        for f in findings:  # sorted and non-overlapping
            operator = self._operators[self.policy.operator_for(f.entity_type)]
            try:
                replacement = operator.apply(text[f.start:f.end], f.entity_type, state)
            except Exception as exc:
                raise AnonymizerError(f"operator {operator.name!r} failed ({type(exc).__name__})") from exc
            parts += [text[cursor:f.start], replacement]
            cursor = f.end
        parts.append(text[cursor:])
        return "".join(parts)


class RuleCache:
    """The findings of some rule recognizers, per text, for every anonymizer that runs those same recognizer objects
    over the same texts: the two layers of anonymize.layers share their structured rules, so each rule runs once per
    text instead of once per layer. A shared recognizer is called without a NER doc (the structured rules never read
    one), which keeps its findings independent of either layer's model. One cache serves one call: texts are keys.
    """

    def __init__(self, recognizers: Iterable[Any]) -> None:
        self._shared = {id(r) for r in recognizers}
        self._found: dict[tuple[int, str], list[Finding]] = {}

    def holds(self, recognizer: Any) -> bool:
        return id(recognizer) in self._shared

    def analyze(self, recognizer: Any, text: str) -> list[Finding]:
        key = (id(recognizer), text)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = list(recognizer.analyze(text, None))
        return found


_NUMBERED = re.compile(r"<([A-Z][A-Z_]*?)_(\d+)>")


def continued_state(texts: Sequence[str]) -> OperatorState:
    """An `OperatorState` whose numbering per entity type starts after the highest `<TYPE_n>` already in `texts`."""
    state = OperatorState()
    for text in texts:
        for m in _NUMBERED.finditer(text):
            state.counts[m.group(1)] = max(state.counts.get(m.group(1), 0), int(m.group(2)))
    return state


def _build_operators(policy: Policy, hash_key: bytes | None) -> dict[str, Operator]:
    operators: dict[str, Operator] = {"placeholder": Placeholder(), "redact": Redact(), "generalize": Generalize()}
    uses_hash = "keyed_hash" in (policy.operator, *(o for _, o in policy.operators))
    if uses_hash and hash_key is None:
        raise PolicyError("the keyed_hash operator needs a secret key (hash_key); none was given")
    if hash_key is not None:
        try:
            operators["keyed_hash"] = KeyedHash(hash_key)
        except ValueError as exc:
            raise PolicyError(str(exc)) from None
    return operators


def placed_by_preposition(text: str, finding: Finding) -> bool:
    """A listed town right after a preposition of motion or position or a postcode, and not before goods or a
    capitalised word ("entrega rápida em Nampula", "sent from Zomba tomorrow", "71000 Sarajevo"): a town where
    someone is, even when a catalog names a product line after it ("the Nampula basket"), so the allow-list does
    not keep it (`world_places.PREPOSITION_BEFORE` and `POSTCODE_BEFORE_END`, `retail_brands` goods words)."""
    if finding.entity_type != "LOCATION":
        return False
    from anonymize.recognizers.places import CITIES
    from anonymize.recognizers.retail_brands import is_goods_word
    from anonymize.recognizers.world_places import POSTCODE_BEFORE_END, PREPOSITION_BEFORE, cities

    window = max(0, finding.start - 16)
    if (PREPOSITION_BEFORE.search(text, window, finding.start) is None
            and POSTCODE_BEFORE_END.search(text, window, finding.start) is None):
        return False
    town = text[finding.start:finding.end].lower()
    if town not in cities() and town not in CITIES:
        return False  # a listed town only: "Selected lines from Ted Baker" names a brand
    after = re.match(r"[ \t]+([^\W\d_]+)", text[finding.end:finding.end + 40])
    # a capitalised word after it continues a longer name ("Expected more from Homestead Basics": a brand)
    return after is None or not (is_goods_word(after.group(1).lower()) or after.group(1)[0].isupper())


class _AllowList:
    """Terms never masked. A finding is allowed when its text is a term, every word of it is a one-word term, or
    it lies inside an occurrence of a longer term ("Charlotte" inside the brand "Charlotte Tilbury"); a finding that
    only overlaps an occurrence loses the term's characters, and what is left stays a finding only when it still
    holds a word that is not a stop word or particle ("La Audric Rose" -> nothing; "Brünhild Rose Kaffeemaschine"
    -> "Kaffeemaschine"). Indexed by word, so a catalog of thousands of brands costs a dictionary lookup per
    finding, not a giant regex.

    Mentions are matched as a catalog writes and a customer types them: case-insensitively (offsets kept when a
    letter folds to two, as "ß" -> "ss" does, so one such letter anywhere does not switch the list off), with a
    possessive "'s" ("Tiffany's"), with spaces or hyphens between a term's words ("Mademoiselle-Rose",
    "Jean Paul Gaultier" for "Jean-Paul Gaultier"), and where a Latin-script term meets kana, ideographs or Hangul
    without a space ("Kyotoシリーズ"). A hyphenated compound is one word: "Rose" is no occurrence in "Rose-Marie",
    so a name that merely contains a term keeps it masked."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.spellings: dict[str, set[str]] = {}  # canonical words -> the folded spellings the regexes match
        for term in terms:
            key = " ".join(_words(term))
            if key:
                self.spellings.setdefault(key, set()).add(" ".join(_fold(term).split()))
        self.terms = set(self.spellings)
        self.words = {t for t in self.terms if " " not in t}
        self.by_word: dict[str, list[str]] = {}
        for term in self.terms - self.words:
            for word in set(term.split()):
                self.by_word.setdefault(word, []).append(term)

    def _occurrences(self, folded: str, terms: Iterable[str]) -> list[tuple[int, int]]:
        return [m.span() for term in terms for spelling in self.spellings[term]
                for m in _term_regex(spelling).finditer(folded)]

    def inside_longer_term(self, text: str, finding: Finding) -> bool:
        """`finding` lies inside an occurrence of a term longer than it ("Grasse" in the perfume "Nuit à Grasse")."""
        words = _words(text[finding.start:finding.end]) if self.terms else []
        terms = {t for w in words for t in self.by_word.get(w, ())}
        return any(start <= finding.start and finding.end <= end and end - start > finding.end - finding.start
                   for start, end in self._occurrences(_fold(text), terms)) if terms else False

    def subtract(self, text: str, finding: Finding) -> list[Finding]:
        """`finding` minus the characters of allow-listed terms in `text` (see the class docstring)."""
        value = text[finding.start:finding.end]
        words = _words(value) if self.terms else []
        terms = {t for w in words for t in self.by_word.get(w, ())} | {w for w in words if w in self.terms}
        if not terms:  # no word of any term in it (nor, so, a whole term)
            return [finding]
        if " ".join(words) in self.terms or all(w in self.words for w in _words(value, compounds=True)):
            return []
        occurrences = self._occurrences(_fold(text), terms)
        if any(start <= finding.start and finding.end <= end for start, end in occurrences):
            return []  # inside a longer term ("Charlotte" in "Charlotte Tilbury")
        cuts = sorted((start, end) for start, end in occurrences if start < finding.end and finding.start < end)
        if not cuts:
            return [finding]
        out = []
        for start, end in gaps(finding.start, finding.end, cuts):
            value = text[start:end]
            opens = finding.entity_type in _NAME_TYPES and start == finding.start
            if opens and _names_a_product(value, end < finding.end):
                continue  # "Kurtka Zakopane", "Kopi Toraja": the word before a catalog term names what it is
            if any(not is_stop_word(w) for w in re.findall(r"\w[\w'’-]*", value)):
                lead = len(value) - len(value.lstrip(" \t\n,;:-&|/()."))
                trail = len(value) - len(value.rstrip(" \t\n,;:-&|/()"))
                out.append(Finding(finding.entity_type, start + lead, end - trail, finding.score, finding.recognizer))
        return out


_NAME_TYPES = ("PERSON", "LOCATION")  # the types whose findings a product word can open
_PRODUCT_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*")


def _names_a_product(value: str, term_follows: bool) -> bool:
    """`value`, the part of a name finding before an allow-listed term, is one word that says what the product is
    ("Kurtka" in "Kurtka Zakopane", "Kopi" in "Kopi Toraja", "Crema" in "Crema Transilvania"): letters only, joined
    to the term by spaces, and neither a listed given name nor a surname, so a customer's name beside a brand ("Anna
    Heidi"; "Nowak Zakopane" with the surname listed) stays masked."""
    from anonymize.recognizers.recase import listed_name

    word = value.rstrip(" \t")
    return term_follows and word != value and _PRODUCT_WORD.fullmatch(word) is not None and not listed_name(word)


# Kana, CJK ideographs and Hangul: scripts written without spaces, so a Latin-script term may touch them.
_CJK = CJK
_CJK_RE = re.compile(f"[{_CJK}]")
_HYPHENS = "\u2010\u2011-"  # the hyphens that join two words into one compound (last: literal in a [...] class)
_SEPARATOR = f"[\\s{_HYPHENS}]+"  # between a term's words
_SCRIPT_CHANGE = re.compile(f"(?<=[^\\W{_CJK}])(?=[{_CJK}])|(?<=[{_CJK}])(?=[^\\W{_CJK}])")
_EDGE = " \t\n\"'“”‘’«»()[]{}<>.,;:!?*/" + _HYPHENS


def _fold(text: str) -> str:
    """`text` case-folded, of the same length (offsets stay valid): a letter whose fold is longer ("ß" -> "ss")
    is lower-cased instead, or kept."""
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    return "".join(f if len(f := c.casefold()) == 1 else c.lower() if len(c.lower()) == 1 else c for c in text)


def _words(value: str, compounds: bool = False) -> list[str]:
    """The words of a term or finding as the allow-list compares them: folded, split at spaces, hyphens and where
    Latin-script letters meet CJK ones, with surrounding punctuation and a possessive "'s" stripped
    ("Mademoiselle-Rose's" -> ["mademoiselle", "rose"], "Kyotoシリーズ" -> ["kyoto", "シリーズ"]); with `compounds`
    a hyphenated compound stays one word ("Rose-Marie" is no pair of one-word terms "Rose" and "Marie")."""
    out = []
    for word in re.split(r"\s+" if compounds else _SEPARATOR, _SCRIPT_CHANGE.sub(" ", _fold(value))):
        word = word.strip(_EDGE)
        if len(word) > 2 and word[-2] in "'’" and word[-1] == "s":
            word = word[:-2].strip(_EDGE)
        if word:
            out.append(word)
    return out


@functools.lru_cache(maxsize=4096)
def _term_regex(spelling: str) -> re.Pattern[str]:
    """Occurrences of one folded spelling of a term: its words joined by any run of spaces or hyphens, an optional
    possessive "'s", not inside a longer word or hyphenated compound; a Latin-script edge may touch CJK text."""
    body = _SEPARATOR.join(map(re.escape, re.split(_SEPARATOR, spelling)))
    before = f"(?<![{_CJK}])" if _CJK_RE.match(spelling[0]) else f"(?<![^\\W{_CJK}])(?<!\\w[{_HYPHENS}])"
    after = f"(?![{_CJK}])" if _CJK_RE.match(spelling[-1]) else f"(?![^\\W{_CJK}])(?![{_HYPHENS}]\\w)"
    return re.compile(before + body + "(?:['’]s)?" + after)


def _terms_regex(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.IGNORECASE)


def _spans(regex: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    return [] if regex is None else [m.span() for m in regex.finditer(text)]


def _checked(findings: list[Finding], length: int, recognizer: Any) -> list[Finding]:
    for f in findings:
        if not (isinstance(f, Finding) and 0 <= f.start < f.end <= length):
            raise AnonymizerError(f"recognizer {getattr(recognizer, 'name', recognizer)!r} returned an invalid span")
    return findings
