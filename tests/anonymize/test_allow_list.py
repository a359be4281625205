"""The catalog allow-list (anonymize.engine `_AllowList`) against the ways a brand is written in real text: a
possessive, hyphens for spaces, another letter case, a letter whose case fold is longer ("ß") elsewhere in the text,
a Latin-script brand glued to Japanese; and that none of them unmasks a person or address that merely contains or
touches a brand. A fake recognizer returns fixed spans, so these test the subtraction, not a detector (issue 12)."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.layers import LayeredAnonymizer


class Spans:
    """A recognizer that finds the given substrings (every occurrence) as `entity`."""

    def __init__(self, *values: str, entity: str = "PERSON", name: str = "fake-ner") -> None:
        self.values, self.entity, self.name, self.entities = values, entity, name, (entity,)

    def analyze(self, text: str, doc: object) -> list[Finding]:
        out, i = [], 0
        for value in self.values:
            i = text.find(value)
            while i != -1:
                out.append(Finding(self.entity, i, i + len(value), 0.85, self.name))
                i = text.find(value, i + 1)
        return out


def masked(text: str, allow: tuple[str, ...], *values: str, entity: str = "PERSON") -> list[str]:
    """What stays masked of `values` (found as `entity`) once the allow-list is applied."""
    engine = Anonymizer(use_ner=False, recognizers=[Spans(*values, entity=entity)], allow_list=allow)
    return [text[f.start:f.end] for f in engine.analyze(text)]


@pytest.mark.parametrize(("text", "allow", "found", "left"), [
    # a possessive: the finding is the term plus "'s" (before: the word "tiffany's" was no term)
    ("I love Tiffany's necklaces", ("Tiffany",), "Tiffany's", []),
    ("I love TIFFANY’S necklaces", ("tiffany",), "TIFFANY’S necklaces", ["necklaces"]),
    ("heidi's bag was lovely", ("Heidi",), "heidi's bag", ["bag"]),
    ("The Carolina Herrera's scent", ("Carolina Herrera",), "Carolina Herrera's scent", ["scent"]),
    # hyphens for spaces, either way round
    ("Mademoiselle-Rose parfum, nice", ("Mademoiselle Rose",), "Mademoiselle-Rose parfum", ["parfum"]),
    ("Ordered Jean Paul Gaultier perfume", ("Jean-Paul Gaultier",), "Jean Paul Gaultier", []),
    # one letter whose fold is longer ("ß" -> "ss") elsewhere in the text used to switch the subtraction off
    ("Die Straße war nass, der Stanley Becher ist super", ("Stanley",), "Stanley Becher", ["Becher"]),
    ("Größe passt, Malmö Kissen top", ("malmö",), "Malmö Kissen", ["Kissen"]),
    # a Latin-script brand written against Japanese without a space
    ("Kyotoシリーズのお茶碗", ("Kyoto",), "Kyotoシリーズのお茶碗", ["シリーズのお茶碗"]),
    ("お茶碗はKyoto", ("Kyoto",), "お茶碗はKyoto", ["お茶碗は"]),
])
def test_a_brand_written_as_customers_write_it_is_not_masked(text: str, allow: tuple[str, ...], found: str,
                                                              left: list[str]) -> None:
    assert masked(text, (), found) == [found]  # without the list the whole span is masked
    assert masked(text, allow, found) == left


@pytest.mark.parametrize(("text", "allow", "found", "left"), [
    ("a gift from Rose Miller", ("Rose",), "Rose Miller", ["Miller"]),  # the other words of a name stay masked
    ("Rose-Marie Dupont ordered it", ("Rose",), "Rose-Marie Dupont", ["Rose-Marie Dupont"]),  # a compound name
    ("thanks Anna-Rose!", ("Rose",), "Anna-Rose", ["Anna-Rose"]),
    ("Stanleyova 12 called", ("Stanley",), "Stanleyova", ["Stanleyova"]),  # a longer word
    ("Roses for Ella Rosen", ("Ella Rose",), "Ella Rosen", ["Ella Rosen"]),
    ("Kyoto-Kowalski ordered", ("Kyoto",), "Kyoto-Kowalski", ["Kyoto-Kowalski"]),
    ("제주도 여행", ("제주",), "제주도", ["제주도"]),  # a CJK term inside a longer CJK word
])
def test_a_name_that_contains_or_touches_a_brand_stays_masked(text: str, allow: tuple[str, ...], found: str,
                                                              left: list[str]) -> None:
    assert masked(text, allow, found) == left


def test_an_address_next_to_a_brand_keeps_its_words() -> None:
    text = "Deliver to Stanley Street 14, Straße 3 (the Stanley's flask)"
    left = masked(text, ("Stanley",), "Stanley Street 14", entity="STREET_ADDRESS")
    assert left == ["Street 14"]  # the brand's characters go, the street line's number and word stay masked


def test_a_finding_that_is_exactly_a_term_is_dropped_in_any_spelling() -> None:
    """A customer called exactly like a brand is not masked: the documented price of the allow-list (policy
    `catalog_allow_list`), unchanged; the spelling variants behave the same."""
    for text, found in [("thanks Rose", "Rose"), ("thanks ROSE!", "ROSE"), ("Rose's order", "Rose's")]:
        assert masked(text, ("Rose",), found) == []


def test_a_hyphenated_name_is_no_pair_of_one_word_terms() -> None:
    """Two one-word terms written apart are dropped (every word a term, as before); joined by a hyphen they are one
    name, which stays masked."""
    assert masked("thanks Rose Marie", ("Rose", "Marie"), "Rose Marie") == []
    assert masked("thanks Rose-Marie", ("Rose", "Marie"), "Rose-Marie") == ["Rose-Marie"]


def test_types_outside_the_allowable_ones_are_never_subtracted() -> None:
    assert masked("mail tiffany@example.com", ("Tiffany",), "tiffany", entity="EMAIL_ADDRESS") == ["tiffany"]


def test_both_egress_layers_and_the_residual_check_apply_the_same_subtraction() -> None:
    """The pair unites what each layer kept, so a brand spelling the fix covers is dropped in each layer alike, in
    `analyze` and in the pre-send `residual` check; a customer's surname beside the brand stays masked in both."""
    allow = ("Mademoiselle Rose", "Tiffany")
    text = "Größe ok. Mademoiselle-Rose parfum and Tiffany's ring for Maria Kowalski"
    primary = Anonymizer(use_ner=False, recognizers=[Spans("Mademoiselle-Rose parfum", "Maria Kowalski")],
                         allow_list=allow)
    check = Anonymizer(use_ner=False, ner_backend="spacy", recognizers=[Spans("Tiffany's ring", name="check-ner")],
                       allow_list=allow)
    pair = LayeredAnonymizer(primary, check)
    assert [text[f.start:f.end] for f in pair.analyze(text)] == ["parfum", "ring", "Maria Kowalski"]
    assert [text[f.start:f.end] for f in pair.residual(text)] == ["parfum", "ring", "Maria Kowalski"]
    out = pair.anonymize(text).text
    assert "Mademoiselle-Rose" in out and "Tiffany's" in out and "Kowalski" not in out


@pytest.mark.parametrize(("text", "allow", "found", "left"), [
    # the word before a catalog term says what the product is: no name is left once the term goes
    ("Kurtka Zakopane świetnie trzyma ciepło.", ("Zakopane",), "Kurtka Zakopane", []),
    ("Kopi Toraja aromanya mantap", ("Toraja",), "Kopi Toraja", []),
    ("Crema Transilvania cu miere", ("Transilvania",), "Crema Transilvania", []),
    # ... but a listed given name or surname before the term is a customer's, and so is anything not joined by spaces
    ("Anna Zakopane called", ("Zakopane",), "Anna Zakopane", ["Anna"]),
    ("thanks Kowalski Zakopane", ("Zakopane",), "Kowalski Zakopane", ["Kowalski"]),
    ("Pospíšil, Zakopane", ("Zakopane",), "Pospíšil, Zakopane", ["Pospíšil"]),
    ("Gheorghiță-Zakopane", ("Zakopane",), "Gheorghiță-Zakopane", ["Gheorghiță-Zakopane"]),
    # two words before the term, or a word after it, stay masked as before
    ("Ilse Brandt Zakopane", ("Zakopane",), "Ilse Brandt Zakopane", ["Ilse Brandt"]),
    ("Heidi Sommer", ("Heidi",), "Heidi Sommer", ["Sommer"]),
])
def test_a_product_word_before_a_catalog_term_is_no_name(text: str, allow: tuple[str, ...], found: str,
                                                         left: list[str]) -> None:
    assert masked(text, allow, found) == left


def test_the_product_word_rule_keeps_addresses() -> None:
    """Only PERSON and LOCATION findings: a street line opening with a word before the term keeps that word."""
    assert masked("Ship to Lipowa Zakopane", ("Zakopane",), "Lipowa Zakopane", entity="STREET_ADDRESS") == ["Lipowa"]


@pytest.mark.parametrize(("text", "found", "left"), [
    ("Obrigado pela entrega rápida em Nampula!", "Nampula", ["Nampula"]),  # a town where someone is
    ("sent by courier from Zomba tomorrow", "Zomba", ["Zomba"]),
    ("Your Zomba basket left today", "Zomba", []),  # the catalog's product line
    ("sent from Zomba basket stock", "Zomba", []),  # goods after it: still the product
    ("Le savon de Zomba est top", "Zomba", []),  # "de" also makes a product's origin: the allow-list applies
    ("Le parfum « Nuit à Zomba » tient bien", "Zomba", []),  # inside a longer catalog term
    ("Ulica 5, 71000 Zomba. Selma", "Zomba", ["Zomba"]),  # after a postcode: an address's town
])
def test_an_allow_listed_town_after_a_preposition_of_place_stays_masked(text: str, found: str,
                                                                        left: list[str]) -> None:
    """A catalog term that is also a town is a place when a preposition of motion or position stands before it and
    no goods after it (LOCATION findings only)."""
    assert masked(text, ("Zomba", "Nampula", "Nuit à Zomba"), found, entity="LOCATION") == left


def test_an_allow_listed_brand_after_a_preposition_is_no_town() -> None:
    assert masked("Selected lines from Ted Baker, up to 50%", ("Ted Baker",), "Ted Baker", entity="LOCATION") == []
