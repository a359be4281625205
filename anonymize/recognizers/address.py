"""Street addresses (with and without a house number) and postcodes (UK, US ZIP / ZIP+4, German PLZ, Canada, Dutch,
country-prefixed European codes such as "DK-3626").

Presidio ships no address recognizer. Shapes follow Royal Mail's postcode format (PAF), USPS Publication 28
street suffixes and the German one-word street compounds (-straße, -weg, -platz); a street name without a number
counts after "on"/"at"/"in" or with address context, and a bare five-digit code only in an address line (after
", Town", or before a town after a comma) or with context nearby.
"""

from __future__ import annotations

import re

from anonymize.recognizers.base import Pattern, RegexRecognizer

SUFFIXES = (  # USPS Pub. 28 / Royal Mail thoroughfare types a shopper writes
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "close", "way", "court", "ct",
    "boulevard", "blvd", "place", "pl", "terrace", "crescent", "cres", "gardens", "grove", "square", "sq", "mews",
    "row", "parade", "walk", "highway", "hwy", "parkway", "pkwy", "circle", "cir", "trail", "rise", "hill", "view",
)
_ABBREVIATIONS = ("st", "rd", "ave", "ln", "dr", "ct", "blvd", "pl", "cres", "sq", "hwy", "pkwy", "cir")
# A full stop belongs to an abbreviation ("Baker St."), never to a full word ("... from Hattie Lane.")
_SUFFIX = r"(?:" + "|".join(s + r"\.?" if s in _ABBREVIATIONS else s for s in SUFFIXES) + r")"
_STOP = ("the", "on", "of", "in", "at", "to", "my", "our", "their", "his", "her", "a", "an", "and", "from", "near",
         "off", "by", "live", "lives", "living", "moved", "move", "deliver", "delivered", "send", "sent", "ship",
         "shipped", "address", "is", "was", "i", "we", "it", "this", "that", "for", "with", "just", "round", "down",
         "up", "corner", "end", "top", "bottom", "side", "new", "old", "same", "next", "other", "every", "any")
_WORD = r"(?:(?!(?:" + "|".join(_STOP) + r")\b)[A-Za-z][A-Za-z'’-]*)"
_NAME = rf"{_WORD}(?: {_WORD}){{0,2}}"
# Title Case forms, matched case-sensitively: "Kingsley Close", not "Best trail map"
# (and personal titles: "Frau Dr. Weber" is a doctor, not a Drive)
_TITLE_STOP = "|".join([w.capitalize() for w in _STOP] + ["Frau", "Herr", "Mr", "Mrs", "Ms", "Miss", "Mx", "Prof",
                                                          "Sir", "Dame", "Madame", "Monsieur", "Mme", "Dear"])
_TITLE_WORD = r"(?:(?!(?:" + _TITLE_STOP + r")\b)[A-Z][A-Za-z'’-]*)"
_TITLE_NAME = rf"{_TITLE_WORD}(?: {_TITLE_WORD}){{0,2}}"
_TITLE_SUFFIX = r"(?:" + "|".join(s.capitalize() + (r"\.?" if s in _ABBREVIATIONS else "") for s in SUFFIXES) + r")"
_WAY_STREET = r"[A-Z][a-z]{3,}way"  # one-word English streets: "Queensway", "Kingsway", "Ridgeway"
# German one-word streets: "Lindenstrasse", "Am Lindenweg" (a capitalised stem of 3+ letters before the suffix)
_DE_STREET = r"[A-ZÄÖÜ][a-zäöüß]{2,}(?:strasse|straße|str\.|gasse|allee|platz|weg|damm|ufer|chaussee)"
# German streets named with a preposition, no street type ("Am Anger 3a", "An der Alster 12", "Im Winkel 4"): the
# whole line, or before a comma and the postcode; the name is no weekday, month or time word ("Am Montag 3")
_DE_PREPOSITION = (r"(?:Am|An der|An den|Auf der|Auf dem|Auf den|Im|In der|In den|Zum|Zur|Unter den|Hinter der|"
                   r"Hinter dem|Vor dem|Beim)")
_DE_NOT_STREET = ("Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Wochenende|Januar|Februar|März|"
                  "April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Jahr|Ende|Anfang|Tag|Morgen|Abend")
_DE_PREPOSITION_STREET = (rf"(?<![\w])(?:^|(?<=\n)|(?<=: )|(?<=, )){_DE_PREPOSITION} (?!(?:{_DE_NOT_STREET})\b)"
                          r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜa-zäöüß]+)?(?: [A-ZÄÖÜ][a-zäöüß]+)? \d{1,4}[a-z]?"
                          r"(?=[ \t]*(?:$|\n|,[ \t]*(?:[A-Z]{1,2}-)?\d{4,5}\b))")
# ... or inside a sentence, where only a street's name capitalises the preposition ("neue Adresse Am Strande 3d, ...",
# "ich wohne jetzt An der Alster 12, Hamburg", "bitte an Im Winkel 4 liefern"): after a lower-case word, a house
# number of up to three digits, then a comma, a full stop, the line's end or a lower-case word
_DE_NOT_STREET_MID = _DE_NOT_STREET + "|Frühling|Sommer|Herbst|Winter|Moment|Glück|Prinzip|Grunde|Vergleich|Laufe"
_DE_PREPOSITION_STREET_MID = (rf"(?<=[a-zäöüß] ){_DE_PREPOSITION} (?!(?:{_DE_NOT_STREET_MID})\b)"
                              r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜa-zäöüß]+)?(?: [A-ZÄÖÜ][a-zäöüß]+)? \d{1,3}[a-z]?"
                              r"(?![\w/.-]\w)(?=[ \t]*(?:$|\n|[,;.)]|[ \t][a-zäöüß]))")
_PLACE_CUE = r"\b(?:[Oo]n|[Aa]t|[Ii]n|[Oo]ff|[Aa]long|[Nn]ear|[Vv]ia)\s+"  # "on Kingsley Close", "at Elm Grove"
_UNIT = r"(?:(?i:flat|apt|apartment|unit|suite)\s*\d+[A-Za-z]?,?\s+)?"
_UNIT_AFTER = r"(?:,? (?i:flat|apt|apartment|unit|suite|ste)\.? ?#?\d{1,5}[A-Za-z]?(?![\w]))?"  # "1600 Fulton St Apt 3"
ADDRESS_CONTEXT = ("live", "lives", "living", "moved", "address", "deliver", "delivered", "delivery", "ship",
                   "shipped", "send", "sent", "post", "posted", "house", "home", "door", "flat")
POSTCODE_CONTEXT = ("zip", "zipcode", "postcode", "post code", "postal", "address", "deliver", "delivery", "ship",
                    "shipping", "live", "lives", "area")
# A town in an address line: one to three capitalised words ("Hamburg", "Milton Keynes", "St Albans")
_TOWN = r"[A-ZÄÖÜ][A-Za-zäöüß'’-]+(?: [A-Z][A-Za-z'’-]+){0,2}"
_COUNTRY_PREFIX = "|".join(("A", "B", "CH", "D", "DE", "DK", "E", "F", "FI", "FIN", "H", "I", "L", "N", "NL", "P", "S",
                             "SE", "SF", "AT", "BE", "FR", "IT", "ES", "PT", "NO", "LU", "CZ", "SK", "SI", "HR"))
US_STATES = (  # USPS two-letter codes
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ"
    "|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)


def street_recognizer() -> RegexRecognizer:
    return RegexRecognizer("street-address", "STREET_ADDRESS", [
        # "12 Baker Street", "Flat 3 12 Baker Street", "No. 7 Ogui Road" (the "No." of West African and Indian use),
        # Australian and New Zealand rural numbers ("RMB 4410 Brooks Rd", "RSD 12 ...", "Lot 7 ...")
        Pattern(rf"\b{_UNIT}(?:No\.? ?|(?:RMB|RSD|Lot) )?\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,5}})?,? {_NAME} "
                rf"{_SUFFIX}(?![\w]){_UNIT_AFTER}", 0.85, 0.95),
        Pattern(r"\b(?:p\.?\s?o\.?\s?box|postbox)\s*\d{1,6}\b", 0.85),
        Pattern(rf"\b{_UNIT}\d{{1,5}}[A-Za-z]?,? ({_DE_STREET})(?![\w])", 0.85, 0.95, flags=0),  # "84 Lindenweg"
        Pattern(rf"\b({_DE_STREET})\s\d{{1,4}}[a-z]?\b", 0.85, 0.95, flags=0),  # "Lindenstrasse 5"
        Pattern(_DE_PREPOSITION_STREET, 0.85, 0.95, flags=re.MULTILINE),  # "Am Anger 3a"
        Pattern(_DE_PREPOSITION_STREET_MID, 0.8, 0.95, flags=re.MULTILINE),  # "... Adresse Am Strande 3d, ..."
        Pattern(rf"{_PLACE_CUE}({_TITLE_NAME} (?i:{_SUFFIX}))(?![\w])", 0.8, 0.9, group=1, flags=0),  # "on Elm Grove"
        Pattern(rf"{_PLACE_CUE}({_DE_STREET})(?![\w])", 0.8, 0.9, group=1, flags=0),  # "on Lindenstrasse"
        Pattern(rf"\b{_UNIT}\d{{1,5}}[A-Za-z]?,? {_WAY_STREET}(?![\w])", 0.6, 0.9, flags=0),  # "12 Queensway"
        Pattern(rf"\b(?:[Oo]n|[Oo]ff|[Aa]long) ({_WAY_STREET})(?![\w])", 0.6, 0.8, group=1, flags=0),
        Pattern(rf"(?<![\w'’-]){_TITLE_NAME} {_TITLE_SUFFIX}(?![\w])", 0.5, 0.75, flags=0),  # "Baker Street"
        Pattern(rf"(?<![\w]){_DE_STREET}(?![\w])", 0.45, 0.75, flags=0),  # "Lindenstrasse": needs context
        Pattern(rf"(?<![\w'’-]){_NAME} {_SUFFIX}(?![\w])", 0.2, 0.6),  # "baker street": needs context
    ], context=ADDRESS_CONTEXT)


def postcode_recognizer() -> RegexRecognizer:
    return RegexRecognizer("postcode", "POSTCODE", [
        Pattern(r"\b(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})\b", 0.85, 0.95),  # UK with its space
        Pattern(r"\b[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}\b", 0.45, 0.85),  # UK without the space
        Pattern(r"(?<![\d-])\d{5}-\d{4}(?![\d-])", 0.7, 0.95),  # ZIP+4
        Pattern(r"(?<![\d-])\d{5}-\d{3}(?![\d-])", 0.6, 0.95),  # Brazil's CEP "98314-039" (Correios: 5 + 3 digits)
        Pattern(rf"\b(?:{US_STATES}),? (\d{{5}})(?![\d-])", 0.8, 0.9, group=1, flags=0),  # "CA 94105"
        # "..., Hamburg 07669", "..., Portland 97201-1234": above a phone reading of the same digits (0.75)
        Pattern(rf",\s+{_TOWN} (\d{{5}}(?:-\d{{4}})?)(?![\d-])", 0.8, 0.9, group=1, flags=0),
        Pattern(rf",\s+(\d{{5}}) {_TOWN}\b", 0.75, 0.9, group=1, flags=0),  # German PLZ: "..., 10115 Berlin"
        Pattern(r"(?<![\d-])\d{5}(?![\d-])", 0.15, 0.7),  # bare ZIP only with context
        Pattern(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b", 0.7, 0.9),  # Canada
        # Dutch "1105 MW" (PostNL: four digits, not starting with 0, two capitals; SA/SD/SS are never issued)
        Pattern(r"(?<![\w-])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w-])", 0.6, 0.85, flags=0),
        # A country prefix before the code, as European forms and old envelopes write it: "DK-3626", "D-10115"
        Pattern(rf"(?<![\w-])(?:{_COUNTRY_PREFIX})-\d{{4,5}}(?![\w-])", 0.75, 0.9, flags=0),
        # Japan's postal mark before its code ("〒530-0012"), and the postcode labels of Chinese, Japanese and Korean
        # forms before theirs ("邮编：518057", "우편번호 04524")
        Pattern(r"〒\s?(\d{3}-?\d{4})(?!\d)", 0.9, group=1, flags=0),
        Pattern(r"(?:邮编|邮政编码|郵編|郵遞區號|郵便番号|우편번호)\s*[:：]?\s*(\d{3}-\d{4}|\d{7}|\d{5,6})(?!\d)", 0.9,
                group=1, flags=0),
        # Argentina's CPA (a province letter, four digits, three letters) before its town: "C1193AAF CABA"
        Pattern(r"(?<![\w-])[A-HJ-NP-Z]\d{4}[A-Z]{3}(?=[ \t]+[A-ZÀ-Ý])", 0.7, 0.9, flags=0),
    ], context=POSTCODE_CONTEXT)
