"""Deterministic synthetic training corpus for the learned PII detector.

Personal data comes from Faker (pinned; 49 locales for names, streets, postcodes, cities, regions, phone numbers and
national identifiers, 8 more for names only, Latin, Cyrillic, Greek, Hangul, kana/kanji, Chinese, Hebrew, Thai,
Georgian and Armenian script), composed by `synth_slots` into each locale's own address order and phone formats,
and embedded in retail texts written as templates: English ones in `synth_templates` (reviews, support chats,
delivery notes, returns forms, order e-mails with signatures, CRM and agent notes, surveys, gift messages, lists,
key: value forms) and, from `synth_intl`, short ones in ten other languages with their greetings, sign-offs and
product nouns as context. Retail distractors (brands, products, SKUs, prices, sizes, dates, e-mail addresses,
IBANs, card numbers, IP addresses) are left unlabelled so the model learns not to tag them; order, gift-card and
customer/loyalty numbers are labelled.

Labels follow the anonymizer's entity names (anonymize/policy.py): PERSON, LOCATION, STREET_ADDRESS (the part of an
address below the locality; one span per line), POSTCODE, PHONE_NUMBER, ID_DOCUMENT, ORDER_NUMBER, GIFT_CARD,
LOYALTY_ID and (v5) LICENSE_PLATE. v5 merges in `synth_more` (addresses with floors/suites/landmarks, ids without
strong cues, plates, shop-prefixed ids, surnames, unlabelled branches and hotlines) and `synth_world` (per-locale
street and locality formats, more locales, short texts in their languages). The output is spaCy `Doc`s whose
entity spans align to tokens (checked with `Doc.char_span(...,
alignment_mode="expand")`: a text whose spans do not align exactly is drawn again). The approach is the
synthetic-data recipe of Presidio's `presidio-research` data generator (templates filled with Faker values), with
every draw from one seeded `random.Random`, so the same seed always gives the same corpus.

v6 (`synth_decoys`, `--recipe v6` of train.py, not the shipped model's corpus): decoy-rich unlabelled context (chat
phrases of 21 languages, brands shaped like words, inventions, surnames and towns, dates, birth dates, SKUs and
tracking numbers) and the name shapes that leaked (@handles, lower-case names, surname lists, "Name | Job title"
signatures); the default recipe "v5" draws exactly the corpus the shipped model was trained on.
v7 (`synth_v7`, `--recipe v7`): v6's `scripts`, `chatturns` and `people3` kinds without its `brands` and `dates`;
dates only as sentences of their own, brands only from invented syllables and ordinary words, more labelled street
lines of the kinds v6 lost (non-Latin scripts, Latin ones with "bis" / "bus 3" / "12/4"), more @handles, and the
v5 Korean review template reworded.
Extra kinds (`kinds=`, `--kinds` of train.py): any kind of `synth_decoys.TEMPLATES` / `synth_v7.TEMPLATES` added one
by one on top of a recipe (e.g. v5 plus `people3` alone), with its own KIND_WEIGHTS entry, to measure what each
kind does; no extra kinds (the default) leaves the recipe's corpus exactly as it was.

Layout: `synth_tables` (locale table, word lists), `synth_slots` (value makers, `{slot}` fillers), `synth_templates`
(templates and kind weights); this module draws locale, language and template per text, renders it and checks that
its spans align. The split kept every random draw in its order: the corpus of a seed is byte-identical to before.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from anonymize.detector import synth_decoys, synth_v7, synth_world
from anonymize.detector.synth_clock import reference_day
from anonymize.detector.synth_intl import LANG_OF_LOCALE, LANGS
from anonymize.detector.synth_intl import TEMPLATES as INTL_TEMPLATES
from anonymize.detector.synth_slots import SLOTS, Segment, SlotContext
from anonymize.detector.synth_tables import FOREIGN_NAME_SHARE, LOCALES, NAME_ONLY_LOCALES
from anonymize.detector.synth_templates import KIND_WEIGHTS, TEMPLATES

__all__ = ["EXTRA_KINDS", "LABELS", "LOCALES", "RECIPES", "SynthGenerator", "SynthText", "aligned", "generate",
           "recipe_templates", "to_docs"]

LABELS = ("PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "ID_DOCUMENT", "ORDER_NUMBER",
          "GIFT_CARD", "LOYALTY_ID", "LICENSE_PLATE")  # v5: LICENSE_PLATE (synth_more)


@dataclass(frozen=True)
class SynthText:
    """One generated text and its labelled character spans (end exclusive; `text[start:end]` is the value)."""

    text: str
    spans: tuple[tuple[int, int, str], ...]
    locale: str
    template: str


RECIPES = ("v5", "v6", "v7")  # v5: the shipped model's corpus (the default); v6 adds the kinds of `synth_decoys`;
# v7: v6's scripts/chatturns/people3 plus `synth_v7` (dates as their own sentences, word brands, more streets)
EXTRA_KINDS = (*synth_decoys.TEMPLATES, *synth_v7.TEMPLATES)  # kinds `kinds=` may add, in this (canonical) order
INTL_LANG_SHARE = 0.75  # share of "intl" texts in the locale's own language (when it has one); else any language
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _render(template: str, ctx: SlotContext, case: str) -> tuple[str, list[tuple[int, int, str]]]:
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    cursor = 0
    pieces = _SLOT_RE.split(template)  # alternating text, slot name, text, ...
    for i, piece in enumerate(pieces):
        segments: list[Segment] = SLOTS[piece](ctx) if i % 2 else [piece]
        for seg in segments:
            label, value = (None, seg) if isinstance(seg, str) else seg
            if case == "lower":
                value = value.lower()
            elif case == "upper":
                value = value.upper()
            if label is not None and value.strip():
                value = value.strip()
                spans.append((cursor, cursor + len(value), label))
            parts.append(value)
            cursor += len(value)
    return "".join(parts), spans


class SynthGenerator:
    """Seeded generator of `SynthText`s; the same seed gives the same texts in the same order."""

    def __init__(self, seed: int, tokenizer: Any | None = None, recipe: str = "v5",
                 kinds: Sequence[str] = ()) -> None:
        from faker import Faker  # optional extra [pii-train]; imported only to build a corpus

        self.templates = recipe_templates(recipe, kinds)
        self.rng = random.Random(seed)
        self.locales = list(LOCALES)
        self.weights = [LOCALES[loc][0] for loc in self.locales]
        self.fakers = {loc: Faker(loc) for loc in self.locales}
        self.name_locales = self.locales + list(NAME_ONLY_LOCALES)
        self.name_fakers = {**self.fakers, **{loc: Faker(loc) for loc in NAME_ONLY_LOCALES}}
        self.english = Faker("en_US")
        self.kinds = [*self.templates, "intl"]
        self.kind_weights = [{**KIND_WEIGHTS, **synth_decoys.KIND_WEIGHTS, **synth_v7.KIND_WEIGHTS}[k]
                             for k in self.kinds]
        self.world = synth_v7.WORLD_V7 if recipe == "v7" else synth_world.WORLD
        self.tokenizer = tokenizer
        self.redrawn = 0  # texts drawn again because a span did not align to tokens

    def _aligned_draw(self) -> SynthText:
        while True:
            item = self._draw()
            if self.tokenizer is None or aligned(self.tokenizer(item.text), item.spans):
                return item
            self.redrawn += 1

    def _template(self, lang: str) -> tuple[str, str]:
        """(template, its name) of a kind drawn by weight; "intl" takes the text's language's templates."""
        kind = self.rng.choices(self.kinds, self.kind_weights)[0]
        if kind == "intl":
            templates = INTL_TEMPLATES[lang if lang in INTL_TEMPLATES else self.rng.choice(LANGS)]
            template = self.rng.choice(templates)
            return template, f"intl-{lang}:{templates.index(template)}"
        template = self.rng.choice(self.templates[kind])
        return template, f"{kind}:{self.templates[kind].index(template)}"

    def _draw(self) -> SynthText:
        rng = self.rng
        locale = rng.choices(self.locales, self.weights)[0]
        own = LANG_OF_LOCALE.get(locale[:2])
        lang = own if own and rng.random() < INTL_LANG_SHARE else rng.choice(LANGS)
        fake = self.fakers[locale]
        fake.seed_instance(rng.getrandbits(32))
        self.english.seed_instance(rng.getrandbits(32))
        names, names_locale = fake, locale
        if rng.random() < FOREIGN_NAME_SHARE:  # a customer from elsewhere: the names come from another locale
            names_locale = rng.choice(self.name_locales)
            names = self.name_fakers[names_locale]
            if names is not fake:
                names.seed_instance(rng.getrandbits(32))
        r = rng.random()
        case = "lower" if r < 0.07 else "upper" if r < 0.11 else "as-is"
        ctx = SlotContext(fake, locale, rng, self.english, names, names_locale, lang)
        world = self.world.get(locale)
        if world and rng.random() < synth_world.WORLD_SHARE:  # v5: the locale's own address shapes and languages
            i = rng.randrange(len(world))
            template, name = world[i], f"world-{locale}:{i}"
        else:
            template, name = self._template(lang)
        text, spans = _render(template, ctx, case)
        if rng.random() < 0.25:  # a second template in the same text: longer texts, more varied context
            template2, name2 = self._template(lang)
            joiner = rng.choice((" ", "\n", "\n\n", " -- "))
            text2, spans2 = _render(template2, ctx, case)
            offset = len(text) + len(joiner)
            text += joiner + text2
            spans += [(s + offset, e + offset, label) for s, e, label in spans2]
            name += f"+{name2}"
        return SynthText(text, tuple(spans), locale, name)

    def one(self) -> SynthText:
        """One text, drawn with Faker's clock at `synth_clock.REFERENCE_DAY` (the same corpus on any day)."""
        with reference_day():
            return self._aligned_draw()

    def __iter__(self) -> Iterator[SynthText]:
        while True:
            yield self.one()

    def take(self, n: int) -> list[SynthText]:
        with reference_day():
            return [self._aligned_draw() for _ in range(n)]


def recipe_templates(recipe: str, kinds: Sequence[str] = ()) -> dict[str, tuple[str, ...]]:
    """Templates by kind of corpus `recipe` plus the extra `kinds` (appended in `EXTRA_KINDS` order, so "a,b" and
    "b,a" draw the same corpus); an unknown recipe and unknown, repeated or already-included kinds are errors."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown corpus recipe {recipe!r}; expected one of {RECIPES}")
    extra: dict[str, tuple[str, ...]] = {}
    if recipe == "v6":
        extra = synth_decoys.TEMPLATES
    elif recipe == "v7":
        extra = {**{k: synth_decoys.TEMPLATES[k] for k in synth_v7.V6_KINDS_KEPT}, **synth_v7.TEMPLATES}
    return {**TEMPLATES, **extra, **_extra_kinds(kinds, already=(*TEMPLATES, *extra), recipe=recipe)}


def _extra_kinds(kinds: Sequence[str], *, already: Sequence[str], recipe: str) -> dict[str, tuple[str, ...]]:
    """The templates of the extra `kinds`, in `EXTRA_KINDS` order; errors rather than silently ignored kinds."""
    unknown = [k for k in kinds if k not in EXTRA_KINDS]
    if unknown:
        raise ValueError(f"unknown extra kind(s) {unknown}; expected some of {EXTRA_KINDS}")
    repeated = sorted({k for k in kinds if list(kinds).count(k) > 1})
    if repeated:
        raise ValueError(f"extra kind(s) {repeated} given more than once")
    included = [k for k in kinds if k in already]
    if included:
        raise ValueError(f"recipe {recipe} already has kind(s) {included}")
    pool = {**synth_decoys.TEMPLATES, **synth_v7.TEMPLATES}
    return {k: pool[k] for k in EXTRA_KINDS if k in kinds}


def aligned(doc: Any, spans: Sequence[tuple[int, int, str]]) -> bool:
    """Every span maps to whole tokens exactly (expanding it to token boundaries changes nothing)."""
    for start, end, label in spans:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or span.start_char != start or span.end_char != end:
            return False
    return True


def to_docs(items: Sequence[SynthText], nlp: Any) -> list[Any]:
    """spaCy reference `Doc`s with the spans as entities (raises if one does not align: the generator redraws those)."""
    docs = []
    for item in items:
        doc = nlp.make_doc(item.text)
        ents = [doc.char_span(s, e, label=lab, alignment_mode="expand") for s, e, lab in item.spans]
        if any(ent is None or (ent.start_char, ent.end_char) != (s, e) for ent, (s, e, _) in
               zip(ents, item.spans, strict=True)):
            raise ValueError(f"synthetic text {item.template} has a span that does not align to tokens")
        doc.ents = ents
        docs.append(doc)
    return docs


def generate(n: int, seed: int, nlp: Any | None = None, recipe: str = "v5",
             kinds: Sequence[str] = ()) -> list[SynthText]:
    """`n` texts from seed `seed`; with `nlp`, texts whose spans do not align to its tokenizer are redrawn.
    `kinds`: extra kinds (of `EXTRA_KINDS`) on top of the recipe's."""
    return SynthGenerator(seed, nlp.tokenizer if nlp is not None else None, recipe, kinds).take(n)
