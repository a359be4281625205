"""Store branches: a town or mall named as the location of a shop ("the Leeds Trinity branch", "at your Boulder
store", "store #0417 El Paso East", "la tienda de Gran Vía", "Magasin de Lille Euralille") is the retailer's public
address, not the customer's personal data, and masking it hides from the model which branch a message is about.

A filter on findings rather than a recognizer: a PERSON or LOCATION span right before a store word (with at most two
more capitalised words between: the branch's own name) or right after a store word of a language whose store words
take the branch after them ("tienda de", "Filiale", "butiken på"), or after an English store word with its number
("store #0417"), is dropped, and so is a shopping mall's name ("Keene Colony Mall", "Sarit Centre", "Galerii
Mokotów", "Mall of Scandinavia"); a STREET_ADDRESS only in the numbered shape ("Store #2214 Cardiff Queen St") or as
a mall's name without a house number.
English "store/shop in X" is left alone: "I shop in Leeds" says where the customer is. This is the branch part of
the catalog-decoy handling of issue 12 (brand names are the allow-list's, anonymize.engine._AllowList); the word
lists are written from each language's ordinary words for a shop, not from any evaluation text.
"""

from __future__ import annotations

import re

from anonymize.findings import Finding

# Shopping malls: a retailer's site as well ("Keene Colony Mall", "the Houston Galleria store")
_MALL_WORDS = ("mall", "galleria", "galeria", "galerii", "galerię", "galerie", "avm", "einkaufszentrum",
               "shopping centre", "shopping center", "centro comercial", "centre commercial", "retail park")
# Words for a shop or a retailer's site, in the languages of the cue lists; a place right before one is a branch.
STORE_WORDS = (
    "store", "stores", "shop", "branch", "outlet", "hub", "depot", "warehouse", "showroom", "superstore", "megastore",
    "flagship", "boutique", "filiale", "laden", "markt", "niederlassung", "zweigstelle", "magasin", "succursale",
    "agence", "tienda", "sucursal", "almacén", "negozio", "punto vendita", "loja", "filial", "winkel", "vestiging",
    "filiaal", "butik", "butiken", "butikken", "varuhus", "sklep", "oddział", "prodejna", "pobočka", "mağaza",
    "şube", "şubesi", "магазин", "филиал",
    *_MALL_WORDS,
)
# Store words after which the branch's name follows, with the linking word of their language ("tienda de X").
_STORE_BEFORE = ("filiale", "niederlassung", "zweigstelle", "magasin", "succursale", "agence", "tienda", "sucursal",
                 "almacén", "negozio", "punto vendita", "loja", "filial", "winkel", "vestiging", "filiaal", "butik",
                 "butiken", "butikken", "varuhus", "sklep", "oddział", "prodejna", "pobočka", "mağaza", "магазин",
                 "филиал")
_LINKS = r"(?:de|del|de la|di|della|du|des|da|do|en|in|im|am|på|i|w|в|на)"  # not "van": "winkel van Jan"
_WORDS = "|".join(re.escape(w) for w in sorted(STORE_WORDS, key=len, reverse=True))
_AFTER = re.compile(r"(?:[ \t]+[A-Z][\w'’.-]*){0,2}[ \t]+(?i:" + _WORDS + r")(?![\w-])")  # on the same line
_BEFORE = re.compile(r"(?i:(?<![\w-])(?:" + "|".join(re.escape(w) for w in _STORE_BEFORE) + r"))"
                     r"(?:[ \t]+#?[ \t]*\d+)?(?:[ \t]+(?i:" + _LINKS + r"))?[ \t]+$")
_NUMBERED = re.compile(r"(?i:(?<![\w-])(?:" + _WORDS + r"))[ \t]*(?:#|no\.?|nr\.?|n°)[ \t]*(?:\d+[ \t]+)?$")
# A span that starts with the store word itself ("Magasin de Lille Euralille", "Filiale Köln-Ehrenfeld")
_LEADING = re.compile(r"(?i:(?:" + "|".join(re.escape(w) for w in _STORE_BEFORE) + r"))(?:[ \t]+(?i:" + _LINKS
                      + r"))?[ \t]+[A-ZÀ-Þ]")
# A span ending in a mall word is the mall ("Keene Colony Mall", "Altmarkt-Galerie" as "Altmarkt Galerie"), and so is
# one ending in "Centre"/"Center" ("Sarit Centre", "Rideau Centre") unless a town's or city's centre ("Leeds City
# Centre" places someone); a span right after "Mall of" names the mall ("Mall of Scandinavia")
_MALL_END = re.compile(r"(?i:(?<![\w])(?:" + "|".join(re.escape(w) for w in _MALL_WORDS) + r"))$"
                       r"|(?<![\w])(?<!City )(?<!Town )(?:Centre|Center)$")
# ... or starting with the mall word of a language that names it first ("Galerii Mokotów", "Centro Comercial Andino")
_MALL_START = re.compile(r"(?i:galeria|galerii|galerię|centro comercial|centrum handlowe|centre commercial)[ \t]+\S")
# ... unless it is a landmark that locates an address ("Near Al Khail Mall", "next to Yaya Centre"): the preposition
# before it, or opening the span
_LANDMARK_WORDS = (r"(?:near|nearby|next to|opposite|opp\.?|behind|beside|close to|across from|in front of|facing|"
                   r"cerca de|frente a|enfrente de|junto a|près de|en face de|derrière|à côté de|neben|gegenüber|"
                   r"hinter|naast|tegenover|achter|perto de|em frente a|ao lado de|vicino a|di fronte a|dietro|"
                   r"accanto a|karibu na|nyuma ya|mkabala na|dekat|depan|samping|belakang)")
_LANDMARK_BEFORE = re.compile(r"(?i:(?<![\w-])" + _LANDMARK_WORDS + r"(?:[ \t]+(?:the|el|la|le|les|der|die|das|dem|den|"
                              r"de|do|da|o|a|il|lo))?)[ \t]*$")
_LANDMARK_START = re.compile(r"(?i:" + _LANDMARK_WORDS + r")[ \t]")
_MALL_OF = re.compile(r"(?<![\w-])(?i:mall)[ \t]+of[ \t]+$")
BRANCH_TYPES = frozenset({"PERSON", "LOCATION", "STREET_ADDRESS"})


def is_store_branch(text: str, finding: Finding) -> bool:
    """True when `finding` (a PERSON, LOCATION or STREET_ADDRESS span of `text`) names a store branch, as the
    module docstring says."""
    if finding.entity_type not in BRANCH_TYPES or text[finding.start - 1:finding.start] == "@":
        return False  # a handle ("@tuan.ng shop gửi ..." is someone, not the "tuan.ng shop")
    before = text[max(0, finding.start - 40):finding.start]
    numbered = _NUMBERED.search(before)
    if numbered and (numbered.group().rstrip()[-1].isdigit() or text[finding.start].isdigit()):
        return True  # "store #0417 El Paso", and "Store #2214 Cardiff Queen St" (the store's number leads the span)
    if finding.entity_type == "STREET_ADDRESS":  # a mall's name with no house number in it
        value = text[finding.start:finding.end]
        return (not any(ch.isdigit() for ch in value) and _LANDMARK_BEFORE.search(before) is None
                and _names_a_mall(value))
    return (_AFTER.match(text, finding.end) is not None or _BEFORE.search(before) is not None
            or _LEADING.match(text, finding.start, finding.end) is not None
            or (_LANDMARK_BEFORE.search(before) is None and (_names_a_mall(text[finding.start:finding.end])
                                                                or _MALL_OF.search(before) is not None)))


def _names_a_mall(value: str) -> bool:
    """`value` is two or more words ending in a mall word, not a listed given name before a surname that is one
    ("Keene Colony Mall" is a mall; "Anna Mall" a person)."""
    words = value.split()
    if len(words) < 2 or (_MALL_END.search(value.strip()) is None and _MALL_START.match(value) is None):
        return False
    if _LANDMARK_START.match(value):
        return False  # "Near Al Khail Mall": the landmark of an address
    from anonymize.recognizers.recase import listed_name  # lazy: recase loads the name lists

    return not (len(words) == 2 and listed_name(words[0]))
