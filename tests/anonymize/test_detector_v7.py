"""Corpus recipe v7 of the learned PII detector (anonymize/detector/synth_v7.py): dates only in sentences of their
own, brands never shaped like a surname or a town, labelled street lines of the kinds v6 lost, @handles, and the
default recipe left as it was."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

pytest.importorskip("faker")  # the generator needs the [pii-train] (or dev) extra

from anonymize.detector.synth import generate

_DATE = r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{4}年\d{1,2}月\d{1,2}日)"
DATE = re.compile(_DATE)
DATE_BEFORE = re.compile(_DATE + r"[\s,;:]*$")  # a date, then only spaces or punctuation up to the span
DATE_AFTER = re.compile(r"[\s,;:]*" + _DATE)


@pytest.fixture(scope="module")
def v7() -> list[Any]:
    import spacy

    return generate(3000, seed=21, nlp=spacy.blank("en"), recipe="v7")


def _kind(item: Any) -> str:
    return item.template.split(":")[0]


def _dates_glued_to_streets(items: list[Any]) -> int:
    """Street spans with a numeric date right before or after them (only spaces or punctuation between)."""
    glued = 0
    for item in items:
        for start, end, label in item.spans:
            if label != "STREET_ADDRESS":
                continue
            before, after = item.text[max(0, start - 14):start], item.text[end:end + 14]
            if DATE_BEFORE.search(before) or DATE_AFTER.match(after):
                glued += 1
    return glued


def test_v7_has_its_kinds_and_not_v6s_brands_and_dates(v7: list[Any]) -> None:
    kinds = {_kind(item) for item in v7}
    assert {"scripts", "chatturns", "people3", "streets7", "dates7", "brands7", "people7"} <= kinds
    assert not {"brands", "dates"} & kinds
    default = {_kind(item) for item in generate(800, seed=21)}  # the shipped model's recipe has none of them
    assert not {"scripts", "streets7", "dates7", "brands7", "people7"} & default


def test_v7_dates_stand_alone_and_never_touch_a_street() -> None:
    import spacy

    from anonymize.detector import synth_decoys
    from anonymize.detector.synth_decoys import MONTHS

    nlp = spacy.blank("en")
    v7 = generate(2500, seed=22, nlp=nlp, recipe="v7")
    dated = [item for item in v7 if item.template.startswith("dates7:") and "+" not in item.template]
    assert len(dated) > 12 and sum(bool(DATE.search(item.text)) for item in dated) > 5
    assert all(not item.spans for item in dated)  # a date sentence carries nothing labelled
    # numeric dates only: "{day} {month word}" read like "8 rue ...", and the first v7 build lost such streets
    months = "|".join(re.escape(m) for m in MONTHS)
    assert not any(re.search(rf"\b\d{{1,2}}\.? (?:{months})\b", item.text) for item in dated)
    assert any(re.search(rf"\b\d{{1,2}}\.? (?:{months})\b", synth_decoys.date_any(_ctx(i))) for i in range(200))
    assert _dates_glued_to_streets(v7) == 0
    # the check can fail: v6 wrote "{dob}, {address}" and "{dob}, {street}" shapes
    assert _dates_glued_to_streets(generate(2500, seed=22, nlp=nlp, recipe="v6")) > 0


def _ctx(seed: int) -> Any:
    from faker import Faker

    from anonymize.detector.synth_slots import SlotContext

    return SlotContext(Faker("en_US"), "en_US", random.Random(seed), Faker("en_US"))


def _sample_names_and_towns() -> set[str]:
    from faker import Faker

    words: set[str] = set()
    for locale in ("en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "pl_PL", "sv_SE", "pt_BR",
                   "en_AU", "cs_CZ", "da_DK", "fi_FI", "tr_TR", "en_IE"):
        fake = Faker(locale)
        fake.seed_instance(5)
        for _ in range(300):
            words.update(w.lower() for w in re.split(r"[\s-]+", fake.last_name()) if len(w) > 2)
            words.update(w.lower() for w in re.split(r"[\s-]+", fake.city()) if len(w) > 3)
    return words


def _brands(make: Any, n: int) -> list[str]:
    from faker import Faker

    from anonymize.detector.synth_slots import SlotContext

    rng = random.Random(3)
    out = []
    for i in range(n):
        locale = ("en_US", "de_DE", "fr_FR", "nl_NL", "pl_PL", "en_GB")[i % 6]
        fake = Faker(locale)
        fake.seed_instance(i)
        out.append(make(SlotContext(fake, locale, rng, Faker("en_US"))))
    return out


def test_v7_brands_are_never_a_surname_or_a_town() -> None:
    from anonymize.detector import synth_decoys, synth_v7

    real = _sample_names_and_towns()
    tails = {w.lower() for t in synth_v7.BRAND_TAILS7 for w in t.split()}

    def hits(brands: list[str]) -> set[str]:
        return {w for b in brands for w in b.lower().split() if w in real and w not in tails}

    brands = _brands(synth_v7.brand7, 1200)
    assert len(set(brands)) > 600  # many distinct inventions and word pairs
    assert hits(brands) == set()
    assert hits(_brands(synth_decoys.brand, 1200))  # v6's brands did take surnames and towns


def test_v7_labels_street_lines_of_the_kinds_v6_lost(v7: list[Any]) -> None:
    streets = [item.text[s:e] for item in v7 if item.template.startswith("streets7:")
               for s, e, label in item.spans if label == "STREET_ADDRESS"]
    assert len(streets) > 100

    def count(pattern: str) -> int:
        return sum(bool(re.search(pattern, s)) for s in streets)

    assert count("丁目|[0-9]-[0-9]+-[0-9]") > 5  # Japanese chōme-ban-gō
    assert count("동 [0-9]+호|[0-9]+층") > 5  # Korean block and unit, or floor
    assert count("[号號]") > 5  # Chinese and Taiwanese house numbers
    assert count("[\u0600-\u06ff]") > 5 and count("[\u0660-\u0669]") > 0  # Arabic, also with Arabic-Indic digits
    assert count("[\u0e00-\u0e7f]") > 3  # Thai
    assert count("[\u0400-\u04ff]") > 5  # Cyrillic "ул. ..., д. ..., кв. ..."
    assert count(r"\b(bis|ter|bus|boîte|bte)\b|\d+/\d+|\bm\. \d") > 10  # Latin suffix words and units
    # every street line is one whole span: the suffix word or unit is inside it, never left out
    for item in v7:
        for m in re.finditer(r"\d+ (?:bus|boîte|bte) \d+", item.text):
            assert any(s <= m.start() and m.end() <= e for s, e, label in item.spans if label == "STREET_ADDRESS")


def test_v7_writes_handles_with_their_at_sign(v7: list[Any]) -> None:
    handles = [item.text[s:e] for item in v7 if _kind(item) in ("people3", "people7")
               for s, e, label in item.spans if label == "PERSON" and item.text[s] == "@"]
    assert len(handles) > 15 and all(re.fullmatch(r"@\S+", h) for h in handles)


def test_v7_rewords_the_korean_review_template() -> None:
    from anonymize.detector import synth_v7, synth_world

    old = set(synth_world.WORLD["ko_KR"])
    new = set(synth_v7.WORLD_V7["ko_KR"])
    assert len(new) == len(old) and len(old - new) == 1
    ((gone,), (added,)) = old - new, new - old
    assert "이틀" in gone
    assert "{wcity}" in added and "이틀" not in added
    items = generate(4000, seed=23, recipe="v7")
    assert not any("이틀 걸렸어요" in item.text for item in items)
