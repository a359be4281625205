"""Towns of postcode-first locality lines, administrative divisions named with their category word, hyphenated place
names (anonymize.recognizers.regions, refine); the addresses are made up in each country's format (UPU S42)."""

from __future__ import annotations

import pytest

from anonymize.findings import Finding
from anonymize.recognizers.refine import bridge_names
from anonymize.recognizers.regions import LocalityLineRecognizer, SubdivisionRecognizer


@pytest.mark.parametrize(("text", "towns"), [
    ("Adres: Kanaalweg 516, 1706 ME Ravenstein. Tel. 06 1234", ["Ravenstein"]),  # Netherlands, a sentence's stop
    ("Travessa do Carmo 7, 1200-095 Lisboa.", ["Lisboa"]),  # Portugal
    ("ul. Długa 5\n00-950 Warszawa", ["Warszawa"]),  # Poland, its own line
    ("Storgatan 8\n114 55 Stockholm", ["Stockholm"]),  # Sweden
    ("Bahnhofstr. 1, CH-9000 St. Gallen", ["St. Gallen"]),  # a country prefix; an abbreviation's stop stays
    ("Am Markt 1, D-60311 Frankfurt am Main", ["Frankfurt am Main"]),  # a lower-case connector inside
    ("Dorpsstraat 1, 1234 AB Den Haag", ["Den Haag"]),
    ("Lieferung: 3581 KP Utrecht (Zuid)", ["Utrecht"]),  # after a label's colon
    ("Kungsgatan 1, 111 22 Stockholm och sen", ["Stockholm"]),  # prose after the town
    ("Molenstraat 4 bis, 5211 HK 's-Hertogenbosch. Bij geen gehoor", ["'s-Hertogenbosch"]),  # Dutch "'s-"
    # not a locality line
    ("Sale ends, 2024 Black Friday deals", []),  # a bare four-digit number is a year as often as a postcode
    ("Ship to 12-345 Kraków please", []),  # not where an address writes its postcode
    ("Order 1234 AB Thanks", []),
])
def test_locality_lines(text: str, towns: list[str]) -> None:
    assert [text[f.start:f.end] for f in LocalityLineRecognizer().analyze(text)] == towns


@pytest.mark.parametrize(("text", "parts", "joined"), [
    ("7398 Marche-en-Famenne.", ["Marche", "Famenne"], "Marche-en-Famenne"),
    ("We live in Stratford-upon-Avon now", ["Stratford", "Avon"], "Stratford-upon-Avon"),
    ("Sent to Bad-Homburg today", ["Bad", "Homburg"], "Bad-Homburg"),
    ("from Lyon - Paris", ["Lyon", "Paris"], None),  # two places, a dash between them
    ("Thanks from Aix-en-Provence!", ["Aix"], "Aix-en-Provence"),  # the NER cut it at its connector
    ("to Châlons-en-Champagne, 51000", ["Châlons"], "Châlons-en-Champagne"),
    ("in Stratford-upon-Avon.", ["Stratford"], "Stratford-upon-Avon"),
    ("in Paris-en-ligne promo", ["Paris"], None),  # a lower-case word after the connector: no town
])
def test_hyphenated_place_parts_are_joined(text: str, parts: list[str], joined: str | None) -> None:
    found = [Finding("LOCATION", text.index(p), text.index(p) + len(p), 0.85, "ner") for p in parts]
    bridged = {text[f.start:f.end] for f in bridge_names(text, found)} - set(parts)
    assert bridged == ({joined} if joined else set())


@pytest.mark.parametrize(("text", "places"), [
    ("Mustvee, Tartu maakond 18606", ["Tartu maakond"]),  # Estonian county, the category word after the name
    ("Олешки, Черкаська область 248433", ["Черкаська область"]),
    ("Ústí nad Labem, Ústecký kraj", ["Ústecký kraj"]),
    ("Buchholz, Landkreis Harburg", ["Landkreis Harburg"]),  # the category word before the name
    ("Warszawa, województwo mazowieckie", ["województwo mazowieckie"]),  # Polish voivodeships are adjectives
    ("Ennis, Co. Clare V95 X2Y3", ["Co. Clare"]),  # the Eircode is no part of the county
    ("Osaka Prefecture 530-0001", ["Osaka Prefecture"]),
    # no division
    ("Le rayon frais est fermé", []),  # "rayon" is a shop's aisle, not a Russian district
    ("the county fair was fun", []),  # a category word without a capitalised name
    ("Nimenunua ili nipate zawadi", []),  # Swahili "ili" (so that), not the Turkish province word
])
def test_subdivisions(text: str, places: list[str]) -> None:
    assert [text[f.start:f.end] for f in SubdivisionRecognizer().analyze(text)] == places


@pytest.mark.parametrize(("text", "place", "whole"), [
    ("Ship to 4250 rue Saint-Denis, app. 7, Montréal (QC) H2J 2K8.", "Montréal", "Montréal (QC)"),
    ("Localidad: Hondarribia (Gipuzkoa)\nCP: 20280", "Hondarribia", "Hondarribia (Gipuzkoa)"),
    ("Spedire a 80121 Napoli (NA), grazie", "Napoli", "Napoli (NA)"),
    ("I moved to Lyon (my hometown) last year", "Lyon", "Lyon"),  # a remark in brackets is no region
])
def test_a_region_in_brackets_joins_its_place(text: str, place: str, whole: str) -> None:
    from anonymize.recognizers.refine import with_attached_number

    start = text.index(place)
    found = with_attached_number(text, Finding("LOCATION", start, start + len(place), 0.85, "ner"))
    assert text[found.start:found.end] == whole


@pytest.mark.parametrize(("text", "street", "whole"), [
    ("Адрес: ул. Шипка № 12, ет. 3, ап. 9, 4000 Пловдив", "ул. Шипка № 12", "ул. Шипка № 12, ет. 3, ап. 9"),
    ("Livrare la Str. Lungă nr. 5, bl. C4, sc. B, ap. 22, Brașov", "Str. Lungă nr. 5",
     "Str. Lungă nr. 5, bl. C4, sc. B, ap. 22"),  # a block written as letter and digit ("C4")
    ("I live at 4 Elm Road, 2nd floor, thanks", "4 Elm Road", "4 Elm Road, 2nd floor"),
    ("Send to 12 Main Street, we love it", "12 Main Street", "12 Main Street"),  # no sub-building part after it
    # a street line found without its number takes the number after a house-number cue; one with a number does not
    ("Deliver to Kindaruma Road, Hse No 12, Nairobi", "Hse", "Hse No 12"),
    ("Deliver to Kindaruma Road No. 7 please", "Kindaruma Road", "Kindaruma Road No. 7"),
    ("Send to 12 Main Street #4 please", "12 Main Street", "12 Main Street"),
])
def test_a_street_line_takes_the_sub_building_parts_after_it(text: str, street: str, whole: str) -> None:
    from anonymize.recognizers.refine import with_attached_number

    start = text.index(street)
    found = with_attached_number(text, Finding("STREET_ADDRESS", start, start + len(street), 0.85, "ner"))
    assert text[found.start:found.end] == whole


@pytest.mark.parametrize(("text", "places"), [
    ("new one is 2290 Kietzke Ln unit 114 reno nv 89502 thanks", ["reno nv"]),  # the last word before the code
    ("deliver to 1208 w. carmen ave #3, chicago il 60640. buzzer", ["chicago il"]),
    ("ship to 12 main st, las vegas nv 89101", ["las vegas nv"]),  # a gazetteer city of two words
    ("it arrives in 60640 days lol", []),  # "in" is a word before a number, not Indiana
    ("my code is ab 12345", []),  # Alberta has no five-digit ZIP: only US state codes in lower case
])
def test_a_lower_case_town_and_state_before_a_zip(text: str, places: list[str]) -> None:
    from anonymize.recognizers.regions import TownRegionRecognizer

    assert [text[f.start:f.end] for f in TownRegionRecognizer().analyze(text)] == places
