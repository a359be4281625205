"""The localities written after a street line (anonymize.recognizers.locality); the addresses are made up in each
country's format (UPU S42), none taken from an evaluation or development set."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.recognizers.locality import address_tail


def _tail(text: str, street: str) -> list[str]:
    start = text.index(street)
    found = address_tail(text, [Finding("STREET_ADDRESS", start, start + len(street), 0.8, "test")])
    assert all(f.entity_type == "LOCATION" and f.recognizer == "address-tail" for f in found)
    return [text[f.start:f.end] for f in found]


@pytest.mark.parametrize(("text", "street", "tail"), [
    ("Entregar na Rua Augusta, 915, Cerqueira César, São Paulo - SP, CEP 01413-000.", "Rua Augusta, 915",
     ["Cerqueira César", "São Paulo - SP"]),  # a district, then the city and its state code; the label "CEP" ends it
    ("Tuma kwa Mtaa wa Uhuru, Nyumba Na. 12, Mwenge, Dar es Salaam. Asante.", "Mtaa wa Uhuru, Nyumba Na. 12",
     ["Mwenge", "Dar es Salaam"]),  # a lower-case particle inside; a full stop after a whole word ends it
    ("Ship to 40 Pine Street, Los Angeles, CA 90012 please", "40 Pine Street", ["Los Angeles", "CA"]),  # a stop word
    # opening a longer name ("Los"); the ZIP after the state stays the postcode's own finding
    ("Kumpol sa Blk 3 Lot 9, Brgy. San Isidro, Antipolo, Rizal", "Blk 3 Lot 9",
     ["Brgy. San Isidro", "Antipolo", "Rizal"]),
    ("Villa 9, Street 22, Al Safa 2, Dubai\nThanks", "Villa 9, Street 22", ["Al Safa", "Dubai"]),  # a district number
    ("Rua do Sol 5/Benfica/Lisboa", "Rua do Sol 5", ["Benfica", "Lisboa"]),  # slashes between the parts
])
def test_each_locality_after_a_street_is_a_place(text: str, street: str, tail: list[str]) -> None:
    assert _tail(text, street) == tail


@pytest.mark.parametrize(("text", "street"), [
    ("Send it to 12 Main St, Thanks!", "12 Main St"),  # a stop word alone
    ("Send it to 12 Main St, Sunday is fine", "12 Main St"),  # prose after the capitalised word
    ("Left at 12 Main St, Springfield and nobody was home", "12 Main St"),  # lower-case prose after a place
    ("Street: 2740 Larch Dr/City/State: Boise", "2740 Larch Dr"),  # form field names between the parts
    ("Deliver to 12 Main St, Tel. 0161 496 0000", "12 Main St"),  # a form label
    ("Calle 5 #12, C.P. 64000", "Calle 5 #12"),  # a postcode label of initials
    ("Deliver to 12 Main St, Mr Jones will sign", "12 Main St"),  # a title and a name before prose
    ("Deliver to 12 Main St. Anna Berg called", "12 Main St"),  # no comma or slash: a new sentence
    ("Deliver to: 12 Main St\nThanks a lot", "12 Main St"),  # the next line: a stop word
    ("Deliver to: 12 Main St\nBlue Widget arrived broken", "12 Main St"),  # the next line holds more than places
    ("Deliver to: 12 Main St, flat 2\nSpringfield", "12 Main St"),  # no line break right after the street
    ("lives at 12 Baker Street, London NW1 6XE", "12 Baker Street"),  # a word with digits is a postcode's: the
    # locality never takes part of one (the postcode and town rules find these)
])
def test_no_place_where_the_words_after_a_street_are_not_localities(text: str, street: str) -> None:
    assert _tail(text, street) == []


@pytest.mark.parametrize(("text", "street", "tail"), [
    ("Rua Tamandaré, 410 - apto 12\nLiberdade, São Paulo - SP\nCEP 01525-000", "Rua Tamandaré, 410 - apto 12",
     ["Liberdade", "São Paulo - SP"]),
    ("Ship to:\n7 Kloof Street\nGardens, Cape Town 8001\nSouth Africa", "7 Kloof Street", ["Gardens", "Cape Town"]),
])
def test_the_next_line_of_an_address_block_when_it_holds_only_localities(text: str, street: str,
                                                                        tail: list[str]) -> None:
    assert _tail(text, street) == tail


def test_only_a_listed_city_in_text_of_one_case() -> None:
    """In ALL-CAPS or all lower-case text capitals say nothing about names: only a listed city (world_places) right
    after the street, with a state code after it, is taken."""
    assert _tail("SHIP TO 12 MAIN ST, PLEASE CALL FIRST, THANK YOU", "12 MAIN ST") == []
    assert _tail("ship to 12 main st, springfield, il", "12 main st") == ["springfield"]
    assert _tail("send it to no. 15 jalan ss2/24, petaling jaya", "15 jalan ss2/24") == ["petaling jaya"]
    assert _tail("ship to 77 rue st-denis app 4, montréal qc", "77 rue st-denis app 4") == ["montréal qc"]
    assert _tail("deliver to 12 main st, thanks a lot", "12 main st") == []


def test_at_most_three_segments_of_four_words() -> None:
    text = "40 Pine Street, Aa, Bb, Cc, Dd"
    assert _tail(text, "40 Pine Street") == ["Aa", "Bb", "Cc"]
    assert _tail("40 Pine Street, Aa Bb Cc Dd Ee, Ff", "40 Pine Street") == []


def test_the_engine_masks_the_locality_after_a_street(rules: Anonymizer) -> None:
    """Through the rule layer (no NER): the street rule finds the street, this one the localities after it; the
    masked text keeps neither."""
    text = "Please deliver to 14 Harbour Road, Kilcoole, Wicklow, A63 X2Y4."
    masked = rules.anonymize(text).text
    for value in ("14 Harbour Road", "Kilcoole", "Wicklow"):
        assert value not in masked
