"""Organisations: a name or place span that is part of a company's registered name ("Coastal Cafés Pty Ltd",
"Metzgerei Amstutz AG", "Mercadinho Bom Preço LTDA", "株式会社山田製作所") names a legal person, not a natural one.

A filter on findings, like `anonymize.recognizers.branches`: a PERSON or LOCATION span is dropped when a legal-form
designation ends it or follows it on the same line after at most three more words of the name ("Marchal SARL",
"Yıldız Gıda Ltd. Şti.", "Bom Preço LTDA"), or when a legal form written before the name (Japanese 株式会社, Korean
주식회사, Russian ООО) opens it or comes right before it. The designations are the abbreviations of the ISO 20275
Entity Legal Forms code list (GLEIF's ELF list) for the jurisdictions of the cue lists, plus the written-out English
ones; two-letter forms that are also region codes a place may carry ("SA" South Australia, "CO" Colorado, "NV"
Nevada, "AB" Alberta, "SE" Sergipe, "ME" Maine) are left out, so "Adelaide SA" stays a place. Upper-case forms match
in their own case only ("AG", "KG"), so a word such as "ag" or "bv" in prose is no designation. A span of two or more
words that a business's head noun ends or, in the Romance languages, opens ("Riverbend Dental Group", "Shree Balaji
Traders", "Distribuidora Alvarez") is a firm's name too, and so is a street span without a number that one of these
rules marks (the learned detector types "Karoo Farm Stall (Pty) Ltd" as a street); a name right before such a head
noun is the firm's as well ("GIG Logistics", "Aras Kargo", carriers the cue languages' customers name).

Why: the learned detector and spaCy's English model take company names for people or places (a sole trader's firm
named after its owner is the exception the text itself marks as a firm); masking them cost precision at egress and
hid from the model which supplier or business customer a message is about. Measured on the development sets only
(docs/BENCHMARKS.md "Organisations at egress").
"""

from __future__ import annotations

import re

from anonymize.findings import Finding

ORGANISATION_TYPES = ("PERSON", "LOCATION")

# Designations written after the name. Compared in lower case, but a word must be written as a designation is:
# capitalised or upper case ("Ltd", "LTDA", "Limited"), or with its dots or slash ("e.K.", "s.r.o.", "a/s");
# "limited edition" in prose is no company.
_SUFFIXES = frozenset((
    # English-speaking jurisdictions (UK, IE, US, CA, AU, NZ, IN, ZA, SG, MY, PH, NG, KE)
    "ltd", "limited", "plc", "llc", "l.l.c.", "llp", "pllc", "inc", "incorporated", "corp", "corporation", "pty",
    "pvt", "pte", "bhd", "sdn", "tbk",
    # German-speaking
    "gmbh", "mbh", "ggmbh", "e.k.", "e.v.", "kgaa",
    # French, Spanish, Italian, Portuguese, Romanian
    "sarl", "s.a.r.l.", "s.a.s.", "sasu", "eurl", "s.a.", "s.l.", "s.l.u.", "s.p.a.", "s.r.l.", "s.r.l.s.",
    "s.n.c.", "ltda", "eireli", "s/a",
    # Dutch, Belgian, Nordic
    "b.v.", "n.v.", "bvba", "v.o.f.", "a/s", "oyj", "ehf", "hf.",
    # Central and Eastern Europe, Turkey, Greece
    "sp.", "s.r.o.", "a.s.", "v.o.s.", "kft", "zrt", "nyrt", "d.o.o.", "şti", "a.ş.", "α.ε.", "ε.π.ε.", "ι.κ.ε.",
))
# Designations that are ordinary words or names in other spellings: matched exactly as written here.
_EXACT = frozenset(("AG", "KG", "OHG", "UG", "GbR", "BV", "Oy", "OY", "AS", "ASA", "ApS", "SAS", "SNC",
                    "SCI", "SpA", "SPA", "Srl", "SRL", "Lda", "LDA", "EPP", "CIC", "DAC", "SRO", "ΑΕ", "ΕΠΕ", "ΙΚΕ"))
# Written before the name (and sometimes after it: "サンプル商事株式会社").
_PREFIXES = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "㈱", "(株)", "（株）", "㈲", "(有)", "（有）",
             "주식회사", "(주)", "（주）", "유한회사")
_PREFIX_WORDS = frozenset(("ооо", "оао", "зао", "пао", "тов", "ао"))  # Russian/Ukrainian, a word of its own
_CJK_SUFFIXES = ("有限公司", "株式会社", "有限会社", "合同会社", "公司")
_JOINERS = frozenset(("&", "+", "and", "und", "et", "y", "e", "en", "og", "och", "i", "a", "co", "co.", "&co."))
# Roles between a person's name and a firm's: the name is the person's ("Anna Berg CEO Berg GmbH").
_ROLES = frozenset(("ceo", "cfo", "coo", "cto", "md", "gf", "vp", "director", "manager", "owner", "founder",
                    "partner", "inhaber", "inhaberin", "geschäftsführer", "geschäftsführerin", "gérant", "gérante",
                    "directeur", "directrice", "directora", "direttore", "diretor", "diretora", "eigenaar",
                    "prezes", "właściciel", "jednatel"))
# Head nouns of a business's name when it carries no legal form: ending it in English and German ("Midwest
# Hospitality Group", "Shree Balaji Traders", "Müller Handel"), opening it in the Romance languages ("Distribuidora
# Alvarez", "Grupo Lozano"). No given name or surname is one of them.
_HEADS = frozenset((
    "group", "holdings", "traders", "trading", "enterprises", "industries", "supplies", "services", "solutions",
    "associates", "consulting", "consultants", "logistics", "systems", "technologies", "partners", "distributors",
    "wholesale", "wholesalers", "imports", "exports", "ventures", "foods", "motors", "electronics", "laboratories",
    "pharmaceuticals", "gruppe", "handel", "handelsgesellschaft", "couriers", "freight", "shipping", "spedition",
    "kargo", "lojistik", "logistik", "logistique", "logística", "logistica",
))
_LEADING_HEADS = frozenset(("grupo", "gruppo", "groupe", "distribuidora", "distribuidor", "comercial",
                            "comercializadora", "importadora", "exportadora", "industrias", "indústrias"))
_WORD = re.compile(r"\S+")
_CLOSES = ",;:|/()[]{}<>!?\"“”«»"


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch.isupper() for ch in letters) > 0.8 * len(letters)


def _designation(word: str, text: str) -> bool:
    """`word` is a legal-form designation; in upper-case `text` only one that is no word in any case ("LTD",
    "GMBH", but not "AS", "AG", "OY")."""
    bare = word.strip(",;:()[]{}\"'“”«»")
    if not bare:
        return False
    if (bare in _EXACT or bare.rstrip(".") in _EXACT) and not _shouting(text):
        return True
    written = bare[0].isupper() or "." in bare or "/" in bare
    low = bare.lower()
    dotted = "." in low and low + "." in _SUFFIXES  # "S.L" whose full stop ends the sentence after the span
    return written and (low in _SUFFIXES or low.rstrip(".") in _SUFFIXES or dotted)


def _head(word: str, heads: frozenset[str]) -> bool:
    """`word` is a capitalised head noun of a business's name ("Group" of "Riverbend Dental Group")."""
    bare = word.strip(",;:()[]{}\"'“”«».")
    return bare[:1].isupper() and bare.lower() in heads


def _prefix_before(text: str, start: int) -> bool:
    before = text[max(0, start - 12):start].rstrip(" \u3000「«\"“")
    if before.endswith(_PREFIXES):
        return True
    words = before.split()
    return bool(words) and words[-1].lower() in _PREFIX_WORDS and len(before) < len(text[max(0, start - 12):start])


def is_organisation(text: str, finding: Finding) -> bool:
    """True when `finding` (a PERSON or LOCATION span of `text`) is part of a company's name, as the module
    docstring says."""
    value = text[finding.start:finding.end]
    if finding.entity_type not in ORGANISATION_TYPES and not (
            finding.entity_type == "STREET_ADDRESS" and not any(ch.isdigit() for ch in value)):
        return False  # a street line without a number may be a firm's name ("Karoo Farm Stall (Pty) Ltd")
    if any(s in value for s in _CJK_SUFFIXES) or value.startswith(_PREFIXES) or _prefix_before(text, finding.start):
        return True
    first = value.split()[0] if value.split() else ""
    if first.lower() in _PREFIX_WORDS and first != value:
        return True  # "ООО Ромашка"
    words = value.split()
    if any(_designation(w, text) for w in words[1:]):
        return True  # "Boulangerie Marchal SARL": the designation is inside the span (never its only word)
    if len(words) >= 2 and (_head(words[-1], _HEADS) or _head(words[0], _LEADING_HEADS)):
        return True  # "Riverbend Dental Group", "Distribuidora Alvarez": a business's head noun
    line_end = text.find("\n", finding.end)
    after = text[finding.end:line_end if line_end >= 0 else len(text)][:60]
    if after[:1] and after[:1] not in " \t\u00a0":
        return False  # "Smith's", "Anna/GmbH": the name does not go on
    for i, m in enumerate(_WORD.finditer(after)):
        word = m.group()
        if _designation(word, text):
            return True  # "Marchal SARL"
        if i == 0 and _head(word, _HEADS) and text.count(value) == 1:
            return True  # a head noun right after the span ("GIG Logistics"), unless the name stands elsewhere in
            # the text too: "ni Otieno wa Otieno Electronics" names the owner, whose name the firm's would leak
        if i >= 3 or word[-1] in _CLOSES or word[0] in _CLOSES or (word[-1] == "." and len(word) > 3):
            return False
        if not (word[:1].isupper() or word.lower() in _JOINERS or word[0] in "&+") or word.lower() in _ROLES:
            return False  # "Anna Berg CEO Berg GmbH": a person, then her role and her firm
    return False
