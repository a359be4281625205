"""Street lines in national formats (anonymize/recognizers/streets_world.py): the type before the name, the number
before the type, the type after the name as its own word or fused into it; a house number is always needed, an
address line never runs over a line break, and five digits after a comma are a postcode, not a house number. The
addresses are made up for this test."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.recognizers import structured_recognizers
from anonymize.recognizers.address import street_recognizer
from anonymize.recognizers.streets_world import landmark_recognizer, world_street_recognizer

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
    ("MME AGNES LEROUX\n17 AVENUE DU GENERAL LECLERC\n13008 MARSEILLE", "17 AVENUE DU GENERAL LECLERC"),  # a label
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
    # the type in lower case in a sentence, more types (Mexican cerrada, Uruguayan bulevar, Italian frazione, highway
    # kilometres, Maltese, Albanian, Swahili), units of Bulgarian, Russian and Nordic lines, a floor with its door
    ("il pacco va a via Garibaldi 33, Pisa", "via Garibaldi 33"),
    ("vivo en la calle Olmo, 8, 4ºC, Toledo", "calle Olmo, 8, 4ºC"),
    ("porfa a c/ Major 17, 1º 3ª, Girona", "c/ Major 17, 1º 3ª"),
    ("Entrega: Cda. de los Pinos 9 int. 2, Puebla", "Cda. de los Pinos 9 int. 2"),
    ("Envío: Bvar. España 2201 apto 5, Montevideo", "Bvar. España 2201 apto 5"),
    ("Consegna: Fraz. Saint-Pierre 21, Aosta", "Fraz. Saint-Pierre 21"),
    ("Entrega: Rodovia SP-330, km 98, Galpão 4, Jundiaí", "Rodovia SP-330, km 98, Galpão 4"),
    ("Triq San Pawl 45, Rabat", "Triq San Pawl 45"),
    ("Mpelekee Mtaa wa Uhuru, Nyumba Na. 12, Arusha", "Mtaa wa Uhuru, Nyumba Na. 12"),
    ("Адрес: ж.к. Люлин 5, бл. 312, вх. А, ет. 4, ап. 18, София", "ж.к. Люлин 5, бл. 312, вх. А, ет. 4, ап. 18"),
    ("Астана, мкр. Береке-3, д. 14, кв. 9", "мкр. Береке-3, д. 14, кв. 9"),
    ("Toimitus: Koivukuja 3 B 14, Espoo", "Koivukuja 3 B 14"),
    # Hebrew, Arabic and Persian lines; Chinese roads and Japanese chōme; numbered components of South Asia and the
    # Gulf, Hindi, an Indonesian estate, Vietnamese without its diacritics
    ("משלוח לרחוב ויצמן 21 דירה 4, כפר סבא", "רחוב ויצמן 21 דירה 4"),
    ("التوصيل إلى شارع الجمهورية 45، شقة 3", "شارع الجمهورية 45، شقة 3"),
    ("مشهد، خیابان امام رضا، کوچه دوم، پلاک ۸، واحد ۲. تلفن", "خیابان امام رضا، کوچه دوم، پلاک ۸، واحد ۲"),
    ("收货地址：成都市武侯区人民南路88号2栋1单元302室", "人民南路88号2栋1单元302室"),
    ("住所：福岡市博多区住吉3丁目5-12 グランハイツ305", "住吉3丁目5-12 グランハイツ305"),
    ("Address: House 27-B, Street 11, G-9/3, Islamabad", "House 27-B, Street 11, G-9/3"),
    ("पता: मकान नं. 45, गली नं. 7, जयपुर", "मकान नं. 45, गली नं. 7"),
    ("Perumahan Bumi Indah Blok C3 No. 8 RT 02/RW 05, Sleman", "Perumahan Bumi Indah Blok C3 No. 8 RT 02/RW 05"),
    ("giao hang toi so 12 duong nguyen trai, quan 5", "so 12 duong nguyen trai"),
    ("ship to 3-7-2 Nishi-Shinjuku, Park Tower 12F", "3-7-2 Nishi-Shinjuku"),  # Japanese in Latin letters
    ("1-1-2 Oshiage, Sumida-ku, Tokyo", "1-1-2 Oshiage, Sumida-ku"),
]

LANDMARKS = [  # a landmark after a part of the address and its comma, or after a "landmark" cue
    ("Plot 9, Jinja Road, Mbale, opposite the Stanbic branch. Call me", ["opposite the Stanbic branch"]),
    ("my landmark is behind the Total filling station\nthanks", ["behind the Total filling station"]),
    ("حي الروضة، جدة، بجانب مسجد الرحمة. شكرا", ["بجانب مسجد الرحمة"]),
    ("Flat 2, 14 Kola Street, near the Yaba bus stop", ["near the Yaba bus stop"]),
    ("Deliver to Jinja Road, near the green gate", []),  # a landmark names something (a capitalised word)
    ("I usually shop near the Tesco because it is close to home", []),  # no address part or cue before it
    ("Great blender, next to the Nutribullet it is quiet", []),  # a comma after prose
    ("المنتج ممتاز، بجانب السعر الجيد", []),  # two words of prose before the comma
    # a sentence of its own right after an address line of two parts or more with a number
    ("Ship to House 112, Street 34, G-10/2, Islamabad. Opposite Lal Masjid market. Receiver Ayesha",
     ["Opposite Lal Masjid market"]),
    ("House No. 14, Abotsi Street, Dzorwulu, Accra. Behind the Total filling station. Call me.",
     ["Behind the Total filling station"]),
    ("Argwings Kodhek Road, Block C, Apt 7. Next to Yaya Centre. Ask for Achieng.", ["Next to Yaya Centre"]),
    ("Rue Gouraud, Bldg Maroun, 3rd floor, Gemmayzeh, Beirut. Facing Saint Nicolas stairs.",
     ["Facing Saint Nicolas stairs"]),
    ("Jl. Cempaka Putih Tengah No. 18, Jakarta Pusat, depan warung bu Tini\nPenjual: siap", ["depan warung bu Tini"]),
    # ... not after prose, nor after a sentence without a comma or a number
    ("Great blender, 2 speeds, quiet. Next to the Nutribullet it looks small.", []),
    ("I bought two for Mum in Leeds. Next to the Nutribullet it looks small.", []),
    ("We met in Leeds, by the canal. Opposite the Corn Exchange was busy.", []),
]

# care-of lines, named business estates and rural localities, Central American directions from a landmark
FOUND += [
    ("Ingrid Berg\nc/o Svensson\nStockholm", "c/o Svensson"),
    ("An Herrn Kurt Lang, c/o Kanzlei Roth, Seitenflügel. Danke", "c/o Kanzlei Roth, Seitenflügel"),
    ("Entrega en Polígono Industrial Los Olivos, nave 7, 28906 Getafe", "Polígono Industrial Los Olivos, nave 7"),
    ("Livraison : ZA des Prés Verts, lot 3, 35000 Rennes", "ZA des Prés Verts, lot 3"),
    ("Lieferung: Gewerbegebiet Süd, Halle 4, Ulm", "Gewerbegebiet Süd, Halle 4"),
    ("Adresse : Lieu-dit La Grange, 46100 Figeac", "Lieu-dit La Grange"),
    ("Dirección: del Banco Nacional 150 metros al oeste y 25 al norte, casa azul",
     "del Banco Nacional 150 metros al oeste y 25 al norte"),
    ("Casa verde, 300 metros norte y 75 oeste de la iglesia católica, Heredia",  # the distances first
     "300 metros norte y 75 oeste de la iglesia católica"),
]

# the number before an Arabic street type (Arabic-Indic digits too), Mongolian subdistrict/building/flat numbers and
# avenues
FOUND += [
    ("العنوان: ٢٣ شارع النيل، الدقي", "٢٣ شارع النيل"),
    ("Хаяг: Баянзүрх дүүрэг, 3-р хороо, 12-р байр, 45 тоот", "3-р хороо, 12-р байр, 45 тоот"),
    ("Хаяг: Чингисийн өргөн чөлөө 24, 3 давхар, 18 тоот", "Чингисийн өргөн чөлөө 24, 3 давхар, 18 тоот"),
]

# a prefixed street with the building and flat after a comma, Swahili house numbers, Czech streets named with a
# preposition before a postcode, wards, French floors and doors before the street, British house names
FOUND += [
    ("Adresa: Rruga e Kavajës, Pallati 8, Shk. 1, Ap. 4, Tiranë", "Rruga e Kavajës, Pallati 8, Shk. 1, Ap. 4"),
    ("Mzigo upelekwe Mtaa wa Uhuru, nyumba namba 14. Asante", "Mtaa wa Uhuru, nyumba namba 14"),
    ("Doručit na U Lesa 42, 252 42 Jesenice", "U Lesa 42"),
    ("Deliver to Baneshwor, Ward No. 10, Kathmandu", "Baneshwor, Ward No. 10"),
    ("j'habite au 3e étage, porte droite, 7 rue des Lilas, 69003 Lyon", "3e étage, porte droite, 7 rue des Lilas"),
    ("Send to Ivy Cottage, Mill Lane, Little Haven", "Ivy Cottage, Mill Lane"),
    ("SEND TO THE OLD RECTORY, CHURCH ROAD, ELY", "THE OLD RECTORY, CHURCH ROAD"),
]

NOT_FOUND = [  # prose with type words, numbers after a line break or a comma, and no house number
    "WE HAVE 2 PLACE SETTINGS LEFT",  # a French type that is an English word too, in capitals
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
    "ordered via Amazon 2 days ago",  # a lower-case type needs the number to close the clause
    "it came via DHL 3 weeks late",
    "Deliver to Jinja Road, near the green gate",  # a landmark names something (a capitalised word)
    "I usually shop near the station because it is close to home",  # no address comma or cue before it
    "Can you send it c/o my sister instead?",  # care of someone written in lower case: prose
    "the A/C works great in the ZA region",  # no estate name after the type
    "vivo a 200 metros de la playa",  # a distance without a landmark and a direction
    "Na Zdraví 2 lidi, 150 Kč",  # a preposition, a word and a number, but no postcode after them
    "delivered on 12-03-2024 Monday",  # a date is no chōme-block-house
    "a 3-1-0 Arsenal record",  # numbers from 1 only
    "I love this house, the view is great",  # a house word in lower-case prose
]

UNIT_NOT_TAKEN = [  # a unit designator needs a number or a single letter after it, as a word of its own
    ("Spedire a Via Roma 12, et voilà", "Via Roma 12"),
    ("Envío a Calle Real 5 Madrid", "Calle Real 5"),  # "M" + "adrid" is no unit "m"
]


@pytest.mark.parametrize(("text", "value"), FOUND)
def test_a_street_line_of_each_format_is_found(text: str, value: str) -> None:
    found = [text[f.start:f.end] for f in world_street_recognizer().analyze(text)]
    assert found == [value]


@pytest.mark.parametrize(("text", "expected"), LANDMARKS)
def test_landmarks_after_an_address_part_or_a_cue(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in landmark_recognizer().analyze(text)] == expected


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


@pytest.mark.parametrize(("text", "expected"), [
    ("yeah it's twelve Larchmont Terrace, that's in York", "twelve Larchmont Terrace"),  # not from the "s" of "it's"
    ("Lieferung an Anna-Fred-Raymond-Gasse 13, Wien", "Anna-Fred-Raymond-Gasse 13"),  # the chain from its start
])
def test_a_street_name_starts_at_a_word_not_after_its_apostrophe_or_hyphen(text: str, expected: str) -> None:
    found = [text[f.start:f.end] for r in (street_recognizer(), world_street_recognizer()) for f in r.analyze(text)]
    assert expected in found and not any(v.startswith("s ") or v.startswith("Fred") for v in found)


def test_a_pattern_that_needs_a_script_skips_texts_without_it() -> None:
    from anonymize.recognizers.base import Pattern, RegexRecognizer

    seen = RegexRecognizer("t", "STREET_ADDRESS", [Pattern(r"\d+", 0.8, needs="[\u05d0-\u05ea]")])
    assert seen.analyze("רחוב הרצל 88") != [] and seen.analyze("Main Street 88") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("oui c'est lea point morel arobase example point fr", ["lea point morel arobase example point fr"]),
    ("it's sam underscore okafor at example dot co dot uk", ["sam underscore okafor at example dot co dot uk"]),
    ("scrivi a gianni punto rossi chiocciola example punto it", ["gianni punto rossi chiocciola example punto it"]),
    ("I looked at the dash board of the car", []),  # separator words in prose, no domain after them
])
def test_spelled_emails_with_more_at_and_separator_words(text: str, expected: list[str]) -> None:
    from anonymize.findings import resolve_overlaps
    from anonymize.recognizers.contact import spelled_email_recognizer

    # the patterns may also match the tail of an address ("rossi chiocciola ..."); the engine keeps the longest
    kept = resolve_overlaps(f for f in spelled_email_recognizer().analyze(text) if f.score >= 0.5)
    assert [text[f.start:f.end] for f in kept] == expected


def test_australian_rural_numbers_open_a_street_line() -> None:
    text = "we're at RMB 2210 Wattle Rd, Beechworth VIC 3747"
    assert "RMB 2210 Wattle Rd" in [text[f.start:f.end] for f in street_recognizer().analyze(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("neue Adresse Am Strande 3d, 18055 Rostock", ["Am Strande 3d"]),  # inside a sentence: only a street capitalises
    ("ich wohne jetzt An der Alster 12, Hamburg", ["An der Alster 12"]),
    ("bitte an Im Winkel 4 liefern", ["Im Winkel 4"]),
    ("wir waren Im Sommer 2019, super", []),  # a season, a year
    ("ich komme Am Montag 3 mal vorbei", []),
    ("wir haben am Markt 3 Stände", []),  # a lower-case preposition: prose
])
def test_a_german_street_named_with_a_preposition_inside_a_sentence(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in street_recognizer().analyze(text)] == expected
