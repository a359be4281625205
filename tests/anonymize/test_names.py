"""The first-name / surname gazetteer: the names spaCy misses in lower case and ALL CAPS, and the words it must not
take for names."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer

FOUND = [  # (text, the name span that must be a PERSON finding)
    ("my husband dave loved it", "dave"),
    ("MY HUSBAND DAVE LOVED IT", "DAVE"),
    ("JOHN SMITH ORDERED TWO", "JOHN SMITH"),
    ("sarah okafor recommended it", "sarah okafor"),
    ("Bought for Priya Okonkwo last week", "Priya Okonkwo"),
    ("ask for mrs patel at the till", "patel"),
    ("MR JONES WAS RUDE", "JONES"),
    ("my daughter rose adores it", "rose"),
    ("will smith bought the same", "will smith"),
    ("thanks, kieran", "kieran"),
    ("gemma, my sister, loved the shade", "gemma"),
    ("my sister saoirse loves it", "saoirse"),  # not in the gazetteer: found by the kinship word alone
    ("for my wife, thandiwe, who", "thandiwe"),
    ("thanks keanu at the store", "keanu"),
    ("it was dave's idea", "dave"),
    ("Great gift, my son tyler loved it", "tyler"),
    ("Ella Rose gloss: my sister ella loves it, sam too", "sam"),  # lower case in English prose
    ("I met ben at the Leeds store", "ben"),  # "met" is Dutch "with" too, and English
    ("Refund as per dan's email", "dan"),
    ("hallo ben, wie gehts?", "ben"),  # a greeting of another language addresses a person
    ("Dear Dr Ng, thanks for the call", "Ng"),
]
NOT_FOUND = [  # (text, a word that must not become a PERSON)
    ("will do, thanks", "will"),
    ("bought it in may 2024", "may"),
    ("smells of rose and amber", "rose"),
    ("my husband will love it", "will"),
    ("a gift for her", "her"),
    ("june 2023 was the last order", "june"),
    ("my friend recommended it", "recommended"),
    ("my husband gave it five stars", "gave"),
    ("my mum never uses anything else", "never"),
    ("I love lipstick", "lipstick"),
    ("thanks again for the help", "again"),
    # a listed first name in lower case right after a function word of another language, with nothing beside it
    # that makes it a name, is a word of that language: Croatian "day", Dutch and Serbian "am"
    ("Operater: Dobar dan, izvolite. Kupac: Dobar dan, zovem zbog narudžbe.", "dan"),
    ("Beste, ik ben verhuisd naar Utrecht.", "ben"),
    ("Dobar dan, ja sam Nemanja Stojanović", "sam"),
    # a title used as a noun, a title on the line before, hellos that open a chat turn
    ("Sir please don't give negative feedback", "please"),
    ("Shift handover: the lady from flat 2 called again", "from"),
    ("Dear Sir/Madam, I am writing to complain", "Sir"),
    ("Reply to lupita@mail-ejemplo.mx\nAgente: Listo, veo el pedido", "Agente"),
    ("Kunde: Grüezi, ich hab die Rechnung doppelt bekommen", "Grüezi"),
    ("Klient: Tere, minu tellimus on hilinenud.", "Tere"),
    ("Client: Moien, meng Bestellung ass net komm.", "Moien"),
    ("Customer: Howzit, my order says delivered", "Howzit"),
]


@pytest.mark.parametrize(("text", "name"), FOUND)
def test_gazetteer_finds(rules: Anonymizer, text: str, name: str) -> None:
    persons = [text[f.start:f.end] for f in rules.analyze(text) if f.entity_type == "PERSON"]
    assert name in persons, persons


@pytest.mark.parametrize(("text", "word"), NOT_FOUND)
def test_gazetteer_ignores(rules: Anonymizer, text: str, word: str) -> None:
    persons = [text[f.start:f.end] for f in rules.analyze(text) if f.entity_type == "PERSON"]
    assert not any(word in p.split() for p in persons), persons


@pytest.mark.parametrize(("text", "expected"), [
    ("Customer rang Nwachukwu twice about the refund.", ["Nwachukwu"]),  # an unlisted surname after a contact verb
    ("Agent phoned back Tshabalala at 3pm, no answer.", ["Tshabalala"]),
    ("Emailed Oyelaran the return label.", ["Oyelaran"]),
    ("I rang Monday morning and again on Friday.", []),  # a weekday is no one
    ("I emailed Customer Service twice.", []),  # common words
    ("She rang back later.", []),  # no capitalised word after the cue
    # a listed name before a note's verb at a sentence start, in the languages of the cue list
    ("Brigitte ruft morgen nochmal an wegen der Lieferung.", ["Brigitte"]),
    ("Gaetano ha chiamato, vuole parlare del preventivo.", ["Gaetano"]),
    ("Paket geliefert. Kasım Yılmaz aradı, iade istiyor.", ["Kasım Yılmaz"]),
    ("Monteur komt donderdag.", []),  # an unlisted word there is as often a noun
    ("Will called back twice.", []),  # a common word
    ("She called twice.", []),  # a pronoun
])
def test_a_capitalised_name_after_a_contact_verb_is_a_person(text: str, expected: list[str]) -> None:
    from anonymize.recognizers import NameCueRecognizer

    assert [text[f.start:f.end] for f in NameCueRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("cc: Tamika Reyes, Olusegun Bankole, Ji-woo Han\nre: returns backlog", ["Tamika Reyes", "Olusegun Bankole",
                                                                            "Ji-woo Han"]),  # a list of people
    ("To: Harriet Osei\nCc: Rhys ap Gwilym\nSubject: Q4 stock count", ["Harriet Osei", "Rhys ap Gwilym"]),
    ("To: Store Managers, Harriet Osei", ["Harriet Osei"]),  # a team is no one
    ("To: Customer Service\nSubject: refund", []),
    ("Da: Servizio Clienti", []),
])
def test_the_people_of_an_email_header_line(text: str, expected: list[str]) -> None:
    from anonymize.recognizers import NameCueRecognizer

    assert sorted({text[f.start:f.end] for f in NameCueRecognizer().analyze(text)}) == sorted(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("Sorry about that! The store manager will call you back today. ^AB", ["AB"]),  # a support agent's initials
    ("cada pieza es distinta 💙 ^Memo", ["Memo"]),
    ("Price is 2^10 units", []),
    ("Refund sent.\n\nAnnika, Kundtjänst", ["Annika"]),  # a name and a department on a signature line
    ("Thanks\nMarco | Customer Care", ["Marco"]),
    ("Colours: Navy, Black, Grey", []),
])
def test_signatures_of_support_agents(text: str, expected: list[str]) -> None:
    from anonymize.recognizers import NameCueRecognizer

    assert sorted({text[f.start:f.end] for f in NameCueRecognizer().analyze(text)}) == sorted(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("Ersatz verschickt. Sachbearbeiterin: Monika.", ["Monika"]),  # a staff label closing a note
    ("Refund approved. Handled by Tanvir.", ["Tanvir"]),  # "handled by" takes an unlisted name, as "served by"
    ("Agent: Sure.", []),  # a chat turn after the same label
    ("Parcel re-sent with a new label. Sophie", ["Sophie"]),  # a listed name alone closing a text
    ("Great product. Recommended.", []),
    ("Salamat po, si Lorna ito.", ["Lorna"]),  # Tagalog personal articles
    ("Pakibigay na lang po kay Danilo.", ["Danilo"]),
    ("Je ne sais pas si Amazon livre demain.", []),  # French "si" (if)
    ("ni Amazon ni eBay", []),  # Spanish "ni" (nor)
    # a name and the number to call closing a text; a name and the writer's town; staff initials
    ("Pay by transfer. Rashida - 0803 555 1290", ["Rashida"]),
    ("Fits perfectly, better than the last pair. Tom from Leeds", ["Tom"]),
    ("Refund issued. Agent TW.", ["TW"]),
    ("Callback done 14:20. /jk", ["jk"]),
    ("Shipped by DHL.", []),
    ("Printer made by HP.", []),  # a bare "by" names a maker, not a member of staff
    ("max 50 km/h", []),
    # the person to call, before or after the number; the person a card greets
    ("Please ring Tendai on 0772 555 018 when close", ["Tendai"]),
    ("Kui ei mahu, helistage 5555 4410 (Marek).", ["Marek"]),
    ("meine Bestellung 3401878 (Wintermantel) ist beschädigt", []),  # a cased word in brackets must be listed
    ("Call Monday 0800 123 4567", []),
    ("Happy retirement Gwen! Enjoy the garden.", ["Gwen"]),
    ("Happy birthday Mum!", []),  # a kinship word
    ("Χρόνια πολλά Νίκο! Να είσαι καλά", ["Νίκο"]),  # greetings of more languages and scripts
    ("Захиалга MN-55120. Б.Сарнай", ["Б.Сарнай"]),  # a Cyrillic initial and a name
    ("Доставка в г.Москва, ул. Ленина 5", []),  # lower-case abbreviations are no initials
])
def test_staff_labels_closing_names_and_tagalog_articles(text: str, expected: list[str]) -> None:
    from anonymize.recognizers import NameCueRecognizer

    assert sorted({text[f.start:f.end] for f in NameCueRecognizer().analyze(text)}) == sorted(expected)
