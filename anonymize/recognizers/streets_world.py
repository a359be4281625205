"""Street lines in the national formats of about forty countries: the thoroughfare type, the street name and the
house number in each country's own order.

Shapes follow the Universal Postal Union's postal addressing standards (UPU S42, "International postal address
components and templates", and the per-country address formats the UPU publishes): the type before the name
("Via Roma 12", "Calle Mayor, 5", "ul. Długa 7", "ул. Ленина, д. 5", "Jl. Merdeka No. 10"), the number before the
type ("12 bis rue des Lilas"), the type after the name as a word of its own ("Andrássy út 12", "Slovenska cesta 5",
"Gedimino pr. 9", "Atatürk Cad. No: 4") or fused into one word ("Keizersgracht 12", "Storgatan 5", "Mannerheimintie
7", "Nørrebrogade 3"); Georgian writes the type after the name too ("რუსთაველის გამზ. 12"), Vietnamese the house
number first ("số 12 đường số 7"), Quebec the number before "boul."; Cyrillic names may keep lower-case words after
a capitalised type ("Булевар краља Александра 214") or open with a number ("ул. 8 марта 14"), and names of any
script may stand in quotes ("ул. „Цар Симеон“ 41"). After the number come sub-building parts and the Iberian
position words ("90 - fundos", "18, baixo"). The type words are the common ones of each language's postal usage,
written from those standards, not from any evaluation text. Every shape needs a house number: a street name alone
is left to the learned detector and the place rules, so that "via email" or "rue" in prose never matches.
"""

from __future__ import annotations

from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer

# Types written before the street name (case as written in addresses; the lower-case ones are written so).
PREFIX_TYPES = (
    # Italian
    "Via", "Viale", "V.le", "Piazza", "P.zza", "Piazzale", "Corso", "C.so", "Largo", "Vicolo", "Strada", "Contrada",
    "Lungomare", "Borgo", "Salita", "Vico",
    # Spanish (Spain and the Americas), Catalan
    "Calle", "C/", "Avenida", "Avda.", "Av.", "Avd.", "Paseo", "Pº", "Plaza", "Pza.", "Camino", "Carrera", "Cra.",
    "Cl.", "Diagonal", "Transversal", "Ronda", "Travesía", "Carretera", "Ctra.", "Jirón", "Jr.", "Pasaje", "Psje.",
    "Calzada", "Callejón", "Carrer", "Passeig", "Avinguda", "Rambla", "Avenija", "Rúa", "Praza", "Camiño", "Rolda",
    # Portuguese (Portugal, Brazil)
    "Rua", "Travessa", "Tv.", "Praça", "Pç.", "Estrada", "Rodovia", "Rod.", "Alameda", "Beco", "Ladeira",
    # French (Belgium, Switzerland, Canada write the number after: "Rue de la Loi 16")
    "Rue", "Avenue", "Boulevard", "Bd", "Chemin", "Ch.", "Impasse", "Allée", "Place", "Quai", "Route", "Cours",
    "Chaussée", "Boul.", "boul.", "Montée", "Rang",
    # Polish, Czech, Slovak, Croatian, Serbian, Slovene, Romanian, Bulgarian (Latin script)
    "ul.", "ulica", "Ul.", "al.", "Al.", "aleja", "Aleja", "os.", "Os.", "pl.", "plac", "Plac", "Rynek", "nám.",
    "náměstí", "nábřeží", "tř.", "třída", "Str.", "Strada", "Bd.", "Bulevardul", "Calea", "Aleea", "Șos.",
    "Șoseaua", "Piața", "Splaiul", "Bul.", "bul.", "Bulevar", "Trg", "Ulica",
    # Cyrillic: Russian, Ukrainian, Bulgarian, Serbian
    "ул.", "улица", "Ул.", "пр.", "пр-т", "просп.", "проспект", "пер.", "переулок", "бул.", "бульвар", "ш.",
    "шоссе", "наб.", "набережная", "пл.", "площадь", "вул.", "вулиця", "Вул.", "пров.", "провулок", "площа",
    "булевард", "бр.", "Булевар", "булевар", "Бул.", "Улица", "Трг", "трг",
    # Greek
    "Οδός", "οδός", "Λεωφ.", "Λεωφόρος", "Πλ.", "Πλατεία",
    # Indonesian, Malay, Filipino, Vietnamese
    "Jl.", "Jln.", "Jalan", "Gang", "Gg.", "Lorong", "Lrg.", "Persiaran", "Lebuh", "Lebuhraya", "Taman",
    "Đường", "đường", "Phố", "phố", "ngõ", "Ngõ", "hẻm", "Hẻm",
    # Hebrew and Arabic streets written in Latin letters
    "Rehov", "Rechov", "Derech", "Sderot", "Shari", "Sharia", "Shareh", "Sharia'",
)
# Types written after the street name as a word of their own.
SUFFIX_TYPES = (
    # Hungarian
    "utca", "u.", "út", "útja", "tér", "köz", "körút", "krt.", "fasor", "sétány", "lejtő", "lépcső",
    # Slovene, Croatian, Serbian (Latin)
    "cesta", "ulica", "ul.", "trg", "nabrežje", "obala",
    # Lithuanian, Latvian, Estonian
    "g.", "gatvė", "pr.", "prospektas", "alėja", "iela", "bulvāris", "gatve", "prospekts", "tn",
    "tänav", "mnt", "maantee", "pst", "puiestee", "põik",
    # Turkish
    "Sok.", "Sokak", "Sokağı", "Sk.", "Cad.", "Caddesi", "Cd.", "Bulvarı", "Blv.", "Bulv.",
    # Dutch, German, Scandinavian written apart ("Van Baerlestraat" is fused; "Oude Gracht" is apart)
    "Straße", "Strasse", "Gasse", "Weg", "Allee", "Platz", "Gracht", "Kade", "Laan", "Straat", "Plein",
    "Gade", "Vej", "Allé", "Gata", "Gate", "Vägen", "Gatan", "gate", "gata", "vei", "veien", "vej", "gade", "gatan",
    "vägen",
)
# Types fused into the street name ("Keizersgracht", "Storgatan", "Mannerheimintie"), by language.
FUSED_TYPES = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk", "steeg", "hof", "dreef", "markt",  # Dutch
    "gatan", "vägen", "gränd", "torget", "stigen", "backen", "allén", "gata",  # Swedish
    "gade", "vej", "stræde", "allé", "torv", "plads", "boulevard",  # Danish
    "gata", "veien", "vegen", "plassen", "bakken", "stien",  # Norwegian
    "katu", "tie", "kuja", "polku", "tori", "väylä", "rinne", "kaari", "raitti",  # Finnish
    "gata", "stræti", "vegur", "braut", "stígur", "tröð",  # Icelandic
    "strasse", "straße", "gasse", "allee", "platz", "weg", "ring", "damm", "ufer", "steig", "stieg", "chaussee",
    "str.",  # German (also hyphenated: "Fred-Raymond-Gasse")
)
# Particles and connecting words inside street names ("Rua das Flores", "Via dei Mille", "Calle de la Paz").
_PARTICLES = ("de", "da", "do", "dos", "das", "del", "de la", "de las", "de los", "della", "delle", "dei", "degli",
              "di", "du", "des", "la", "le", "les", "van", "der", "den", "al", "el", "e", "y", "i", "von", "am")

_SP = "[ \t\u00a0]"  # a space inside one line: an address line never runs across a line break
_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁІЇЄҐΑ-ΩΆ-Ώ]"  # an upper-case letter (Latin, Cyrillic, Greek)
# An elided article or preposition before a capitalised word is part of it ("dell'Industria", "de l'Église").
_ELIDED = r"(?:d|l|dell|dall|nell|sull|all|degl)['’]"
_NAME_WORD = rf"(?:[„«\"]?(?:{_ELIDED})?{_CAP}[\w'’.-]*[“”»\"]?|" + "|".join(
    sorted((p.replace(" ", _SP) for p in _PARTICLES), key=len, reverse=True)) + ")"
# A name may open with a number or an ordinal when words follow ("Calle 5 de Mayo", "4. Cadde"), never end with one:
# the number after the name is the house number.
_NAME = rf"(?:\d{{1,3}}(?:\.|º|ª|st|nd|rd|th)?{_SP})?{_NAME_WORD}(?:{_SP}{_NAME_WORD}){{0,4}}"
_BEFORE_TYPE = r"[\w'’.-]+"  # one more word of a name before a type written after it ("Kossuth Lajos utca")
_NO = rf"(?:(?:No\.?|No:|Nº|nº|n\.|n°|Nr\.?|nr\.?|#|д\.|буд\.|číslo|č\.){_SP}?)?"  # a house-number cue
# A house number has at most four digits: five after a comma are a postcode ("Via Roma, 00184").
_NUMBER = rf"{_NO}\d{{1,4}}[A-Za-z]?(?:{_SP}?[-/]{_SP}?(?:\d{{1,4}}[A-Za-z]?|[A-Za-z]))?(?![\w])"  # 7/3, 9/B


def _alternatives(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(sorted((_escape(w) for w in set(words)), key=len, reverse=True)) + ")"


def _escape(word: str) -> str:
    return "".join("\\" + ch if ch in ".-/'" else ch for ch in word)


# Sub-building parts after the house number (UPU S42's "sub-building" elements): ", 3º izq.", ", ap 702", ", dpto 301",
# ", кв. 84", " D:5", ", Bldg 4", ", esc. B", ", 2nd floor": a designator word, then a number or one letter.
UNIT_WORDS = ("ap", "apt", "apto", "apartamento", "apartment", "app", "appartement", "dpto", "depto", "departamento",
              "piso", "pta", "puerta", "int", "interior", "sc", "scala", "esc", "escalera", "bl", "bloco", "bloque",
              "blok", "lok", "lokal", "m", "kv", "кв", "ет", "эт", "оф", "офис", "daire", "kat", "d", "dto", "esq",
              "andar", "sala", "casa", "et", "étage", "bât", "bat", "whg", "wohnung", "fl", "flat", "unit", "suite",
              "ste", "bldg", "building", "floor", "stiege", "top", "stock", "bus", "boîte", "bte", "door", "lot",
              "ап", "вх", "стан", "ბინა")
_UNIT_WORD = _alternatives(UNIT_WORDS)
_UNITS = (rf"(?:,?{_SP}(?:(?i:{_UNIT_WORD})(?:[.:]|(?![\w])){_SP}?(?:\d\w{{0,4}}|[A-Za-z](?![\w]))|\d{{1,2}}\.?[ºª°]\.?"
          rf"(?:{_SP}(?i:izq|izda|dcha|dch|der|dto|esq|centro|andar|frente)\.?)?|\d{{1,2}}(?:st|nd|rd|th){_SP}"
          rf"(?i:floor|fl)\.?)(?![\w])){{0,2}}"
          # Portuguese, Galician and Spanish position words closing the line: "90 - fundos", "18, baixo", "5, bajo"
          rf"(?:,?{_SP}(?:[-–]{_SP})?(?i:fundos|frente|baixo|bajo|cave|sobreloja|r/c|rés-do-chão)(?![\w]))?")
_MAHALLE = rf"(?:{_CAP}[\w'’.-]*{_SP}(?:Mah\.|Mahallesi|Mh\.),?{_SP})?"  # Turkish: the quarter before the street
_PREFIX = _alternatives(PREFIX_TYPES)
_SUFFIX = _alternatives(SUFFIX_TYPES)
_FUSED = _alternatives(FUSED_TYPES)
_FRENCH_AFTER_NUMBER = _alternatives(("rue", "avenue", "av.", "boulevard", "bd", "chemin", "impasse", "allée",
                                      "place", "quai", "route", "cours", "square", "passage", "chaussée", "Rue",
                                      "Avenue", "Boulevard", "Chemin", "Impasse", "Allée", "Place", "Quai", "Route",
                                      "boul.", "Boul.", "montée", "rang", "côte"))  # (Quebec: "1450 boul. ...")
# Georgian writes the type after the name, in a script without case: "რუსთაველის გამზ. 12", "... ქ. 5, ბინა 3"
_GEORGIAN = (r"(?<![\w])[\u10d0-\u10ff]{2,}(?:" + _SP + r"[\u10d0-\u10ff]{2,})?" + _SP
             + r"(?:ქუჩა|ქ\.|გამზირი|გამზ\.|შესახვევი|ჩიხი|მოედანი|ხეივანი|დასახლება)" + _SP + r"?\d{1,4}[ა-ჰ]?")
# Cyrillic street names keep their lower-case words after the type ("Булевар краља ...", "ул. 8 марта"): type,
# one to four words, house number
# (a lower-case first word only after a capitalised type: "улица и дом 5 лет", "пл. мира 2 раза" are prose)
_CYRILLIC_TYPE = _alternatives(tuple(t for t in PREFIX_TYPES if "\u0400" <= t[0] <= "\u04ff"))
_CYRILLIC_WORD = r"[„«\"]?[\u0400-\u04ff\d][\u0400-\u04ff\d'’.-]*[“”»\"]?"
_CYRILLIC_FIRST = r"[„«\"]?(?:[А-ЯЁІЇЄҐЂЈЉЊЋЏ]|\d)[\u0400-\u04ff\d'’.-]*[“”»\"]?"
_CYRILLIC = (rf"(?<![\w])(?:(?=[А-ЯЁІЇЄҐЂЈЉЊЋЏ]){_CYRILLIC_TYPE}{_SP}{_CYRILLIC_WORD}"
             rf"|{_CYRILLIC_TYPE}{_SP}{_CYRILLIC_FIRST})"
             rf"(?:{_SP}{_CYRILLIC_WORD}){{0,3}},?{_SP}(?:д\.|буд\.|бр\.)?{_SP}?\d{{1,4}}[а-яА-Я]?(?:/\d{{1,4}})?(?![\w])")
# Vietnamese writes the house number first: "số 12 đường số 7", "số 8 phố Hàng Bạc"
_VIETNAMESE = (rf"(?<![\w])(?i:số){_SP}\d{{1,4}}[A-Za-z]?(?:/\d{{1,4}})*,?{_SP}(?:đường|Đường|phố|Phố|ngõ|Ngõ|hẻm|Hẻm)"
               rf"{_SP}(?:(?i:số){_SP}\d{{1,4}}|{_NAME})")


class _WorldStreets(RegexRecognizer):
    """The patterns' matches, each span once (the Cyrillic pattern repeats some of the type-name-number ones)."""

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        best: dict[tuple[int, int], Finding] = {}
        for f in super().analyze(text, doc):
            if (f.start, f.end) not in best or f.score > best[f.start, f.end].score:
                best[f.start, f.end] = f
        return list(best.values())


def world_street_recognizer() -> RegexRecognizer:
    """STREET_ADDRESS lines in national formats, each with a house number (see the module docstring)."""
    end = r"(?![\w])"
    return _WorldStreets("street-world", "STREET_ADDRESS", [
        # type, name, number: "Via dei Mille 14", "Calle Mayor, 5", "ul. Długa 7/3", "Jl. Merdeka No. 10"
        Pattern(rf"(?<![\w]){_PREFIX}{_SP}{_NAME},?{_SP}{_NUMBER}{_UNITS}", 0.8, 0.9, flags=0),
        # number, type, name (French): "12 bis rue des Lilas", "3, impasse des Genêts"
        Pattern(rf"(?<![\w\d])\d{{1,4}}(?:{_SP}?(?:bis|ter|[A-Da-d]))?,?{_SP}{_FRENCH_AFTER_NUMBER}{_SP}{_NAME}"
                rf"{end}{_UNITS}", 0.8, 0.9, flags=0),
        # name, type word, number: "Andrássy út 12", "Gedimino pr. 9-4", "Atatürk Cad. No: 4"
        Pattern(rf"(?<![\w]){_MAHALLE}{_CAP}[\w'’.-]*(?:{_SP}{_BEFORE_TYPE})?{_SP}{_SUFFIX}{_SP}{_NUMBER}{_UNITS}",
                0.8, 0.9, flags=0),
        # fused name+type, number: "Keizersgracht 12", "Storgatan 5 B", "Fred-Raymond-Gasse 13"
        Pattern(rf"(?<![\w])(?:{_CAP}[\w'’]*-)*{_CAP}[\w'’]{{2,}}(?i:{_FUSED}){_SP}{_NUMBER}{_UNITS}", 0.8, 0.9,
                flags=0),
        # hyphenated names ending in the type: "Fred-Raymond-Gasse 13", "Jean-Jaurès-Straße 2"
        Pattern(rf"(?<![\w])(?:{_CAP}[\w'’]*-)+(?i:{_FUSED}){_SP}{_NUMBER}", 0.8, 0.9, flags=0),
        Pattern(_GEORGIAN + _UNITS, 0.8, 0.9, flags=0),
        Pattern(_CYRILLIC + _UNITS, 0.8, 0.9, flags=0),
        Pattern(_VIETNAMESE, 0.8, 0.9, flags=0),
    ])
