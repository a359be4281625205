"""Holiday names are no names or places (anonymize.recognizers.holidays), and a person or place that shares a word
with a holiday stays masked. Fake recognizers return fixed spans, so these test the filter, not a detector."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.recognizers.holidays import holiday_spans
from anonymize.recognizers.refine import without_holidays


class Spans:
    def __init__(self, *values: str, entity: str = "PERSON") -> None:
        self.values, self.entity, self.name, self.entities = values, entity, "fake-ner", (entity,)

    def analyze(self, text: str, doc: object) -> list[Finding]:
        return [Finding(self.entity, text.index(v), text.index(v) + len(v), 0.85, self.name) for v in self.values]


def masked(text: str, *values: str, entity: str = "PERSON") -> list[str]:
    engine = Anonymizer(use_ner=False, recognizers=[Spans(*values, entity=entity)])
    return [text[f.start:f.end] for f in engine.analyze(text)]


@pytest.mark.parametrize(("text", "found", "entity"), [
    ("Closed on Christmas Eve and on Boxing Day.", "Eve", "PERSON"),
    ("Closed on Christmas Eve and on Boxing Day.", "Boxing Day", "PERSON"),
    ("Grand for St Patrick's Day in the rain", "St Patrick", "PERSON"),
    ("Kurban Bayramı boyunca kargo durdurulacak.", "Kurban Bayramı", "PERSON"),
    ("Sẽ mua thêm làm quà Tết cho gia đình.", "Tết", "PERSON"),
    ("Entregas retomadas na Quarta-feira de Cinzas.", "Quarta-feira de Cinzas", "PERSON"),
    ("El 16 de septiembre, Día de la Independencia, abrimos", "Día de la Independencia", "STREET_ADDRESS"),
    ("Θα ξαναπαραγγείλω για το Πάσχα.", "Πάσχα", "LOCATION"),
    ("中秋節送禮很有面子", "中秋節", "PERSON"),
    ("Ho regalato il panettone per Natale, con l'uvetta", "Natale", "PERSON"),
])
def test_a_holiday_is_no_name_or_place(text: str, found: str, entity: str) -> None:
    assert masked(text, found, entity=entity) == []


@pytest.mark.parametrize(("text", "found", "left"), [
    ("Natale Rossi ha ordinato due borse", "Natale", ["Natale"]),  # a given name before a surname
    ("thanks Noel, see you", "Noel", ["Noel"]),  # no wish or preposition before it
    ("Joyeux Noël Marie !", "Marie", ["Marie"]),
    ("moro em Natal desde 2019", "Natal", ["Natal"]),  # a city, not listed
    ("Sent on Boxing Day by Gareth Pryce", "Boxing Day by Gareth Pryce", ["Gareth Pryce"]),  # the rest stays
    ("Holiday greetings from Eve Carter", "Eve Carter", ["Eve Carter"]),  # "Eve" only in "Christmas Eve"
    ("Valentine Okafor ordered it", "Valentine Okafor", ["Valentine Okafor"]),
    ("Eidson Street 4", "Eidson Street 4", ["Eidson Street 4"]),  # not inside a longer word
])
def test_a_name_that_shares_a_word_with_a_holiday_stays_masked(text: str, found: str, left: list[str]) -> None:
    assert masked(text, found) == left


def test_only_names_places_and_streets_are_filtered() -> None:
    text = "Order EID-4471 for Eid"
    assert without_holidays(text, Finding("ORDER_NUMBER", 6, 14, 0.9, "t")) == [Finding("ORDER_NUMBER", 6, 14, 0.9,
                                                                                        "t")]
    assert holiday_spans(text) == ((19, 22),)
