"""Street lines in national formats (anonymize/recognizers/streets_world.py): the type before the name, the number
before the type, the type after the name as its own word or fused into it; a house number is always needed, an
address line never runs over a line break, and five digits after a comma are a postcode, not a house number. The
addresses are made up for this test."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.recognizers import structured_recognizers
from anonymize.recognizers.address import street_recognizer
from anonymize.recognizers.streets_world import world_street_recognizer

FOUND = [  # (text, the street line)
    ("Spedire a Via dei Tigli 14, scala B, Torino", "Via dei Tigli 14, scala B"),
    ("Spedire a Via dell'Artigianato 9/B, Verona", "Via dell'Artigianato 9/B"),  # an elided article, a letter unit
    ("Adresse : Rue d'Orléans 12, Namur", "Rue d'Orléans 12"),
    ("Envío a Calle Almendro, 5, 3º izq.", "Calle Almendro, 5, 3º izq."),
    ("dirección: Calle 3 de Abril #212, Oaxaca", "Calle 3 de Abril #212"),
    ("Entregar na Rua das Camélias 27, Porto", "Rua das Camélias 27"),
    ("Adres: ul. Jaworowa 7/3, 30-001 Kraków", "ul. Jaworowa 7/3"),
    ("Доставка: ул. Садовая, д. 15, кв. 4", "ул. Садовая, д. 15, кв. 4"),
    ("вул. Лісова 22, Київ", "вул. Лісова 22"),
    ("kirim ke Jl. Kenanga No. 10, Bandung", "Jl. Kenanga No. 10"),
    ("Livrer au 12 bis rue des Capucines, Lyon", "12 bis rue des Capucines"),
    ("Szállítás: Kossuth Lajos utca 5, Pécs", "Kossuth Lajos utca 5"),
    ("Naslov: Tržaška cesta 56, Ljubljana", "Tržaška cesta 56"),
    ("Pristatyti: Žalgirio g. 9-4, Kaunas", "Žalgirio g. 9-4"),
    ("Aadress: Pärnu mnt 7-12, Tallinn", "Pärnu mnt 7-12"),
    ("Teslimat: Lale Sok. No: 7/3, İzmir", "Lale Sok. No: 7/3"),
    ("Bezorgen op Prinsengracht 112 graag", "Prinsengracht 112"),
    ("Skicka till Storgatan 5, Umeå", "Storgatan 5"),
    ("Toimitus: Hämeenkatu 7, Tampere", "Hämeenkatu 7"),
    ("Leveres til Karl Johans gate 22, Oslo", "Karl Johans gate 22"),
    ("Lieferung an Fred-Raymond-Gasse 13, Wien", "Fred-Raymond-Gasse 13"),
    # sub-building parts after the number: floor and door, flat, staircase, Turkish daire; the quarter before a street
    ("Envío a C/ Almendro, 23, 3º izq. Madrid", "C/ Almendro, 23, 3º izq."),
    ("Entregar na Rua Padre Anchieta, 415, ap 702, Curitiba", "Rua Padre Anchieta, 415, ap 702"),
    ("Доставка: ул. Витоша 22, ет. 3, София", "ул. Витоша 22, ет. 3"),
    ("Adres: ul. Polna 7 m. 3, Warszawa", "ul. Polna 7 m. 3"),
    ("Calle Real 5, esc. B, 2º dcha", "Calle Real 5, esc. B, 2º dcha"),
    ("Teslimat: Cumhuriyet Mah. Lale Sok. No: 7/3 D:5, Bornova", "Cumhuriyet Mah. Lale Sok. No: 7/3 D:5"),
    # names in quotes, Serbian boulevards with lower-case words, Georgian, Vietnamese, Quebec, Galician, Iberian
    # position words
    ("Адрес: ул. „Цар Симеон“ 41, ет. 2, ап. 6, Пловдив", "ул. „Цар Симеон“ 41, ет. 2, ап. 6"),
    ("Достава: Булевар деспота Стефана 17, стан 8", "Булевар деспота Стефана 17, стан 8"),
    ("Доставка: ул. 9 мая 31, Тверь", "ул. 9 мая 31"),
    ("მისამართი: აღმაშენებლის გამზ. 64, ბინა 9", "აღმაშენებლის გამზ. 64, ბინა 9"),
    ("giao đến số 27 đường số 9, phường 4", "số 27 đường số 9"),
    ("Livraison au 3120 boul. Henri-Bourassa, Door 2, Montréal", "3120 boul. Henri-Bourassa, Door 2"),
    ("Enviar á Rúa Galeras 11, baixo, Santiago", "Rúa Galeras 11, baixo"),
    ("Entregar na Rua Jequitibá, 310 - fundos", "Rua Jequitibá, 310 - fundos"),
]

NOT_FOUND = [  # prose with type words, numbers after a line break or a comma, and no house number
    "I sent it via email 3 days ago",
    "Please put 3 items in the bag",
    "Place 2 orders and save",
    "the Rue is a lovely street",
    "Via Garibaldi is closed for repairs",
    "Colgate 2 tubes for the price of one",
    "Spedire a Via Verdi, 00184 Roma",  # a postcode after the comma, not a house number
    "Ewa Nowak\nul.\n7",  # never across line breaks
    "улица и дом 5 лет не ремонтировали",  # a lower-case type and word: prose
    "были на пл. мира 2 раза",
]

UNIT_NOT_TAKEN = [  # a unit designator needs a number or a single letter after it, as a word of its own
    ("Spedire a Via Roma 12, et voilà", "Via Roma 12"),
    ("Envío a Calle Real 5 Madrid", "Calle Real 5"),  # "M" + "adrid" is no unit "m"
]


@pytest.mark.parametrize(("text", "value"), FOUND)
def test_a_street_line_of_each_format_is_found(text: str, value: str) -> None:
    found = [text[f.start:f.end] for f in world_street_recognizer().analyze(text)]
    assert found == [value]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_prose_and_numbers_that_are_not_house_numbers_are_not_streets(text: str) -> None:
    assert world_street_recognizer().analyze(text) == []


def test_the_structured_rules_of_both_layers_hold_it_and_the_engine_masks_the_line() -> None:
    assert "street-world" in {r.name for r in structured_recognizers()}
    result = Anonymizer(use_ner=False).anonymize("Bitte an Keizersgracht 12 liefern, danke")
    assert "Keizersgracht" not in result.text and "<STREET_ADDRESS_1>" in result.text


@pytest.mark.parametrize(("text", "value"), UNIT_NOT_TAKEN)
def test_words_after_the_number_that_are_no_unit_stay_out(text: str, value: str) -> None:
    assert [text[f.start:f.end] for f in world_street_recognizer().analyze(text)] == [value]


def test_no_before_the_house_number_of_an_english_street() -> None:
    text = "please deliver to No. 7 Okpara Road, Enugu"
    assert any(text[f.start:f.end] == "No. 7 Okpara Road" for f in street_recognizer().analyze(text))
