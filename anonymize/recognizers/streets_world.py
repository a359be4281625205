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
position words ("90 - fundos", "18, baixo"). Romance types written in lower case inside a sentence count before a
capitalised name and a number that closes the clause ("arrivato a via Etnea 402, ..."). Scripts with their own shapes:
Hebrew and Arabic type-name-number lines, Persian street-alley-plate lines, Chinese road numbers with building and room,
Japanese chōme-block-house with the building (also in Latin letters: "3-7-2 Nishi-Shinjuku"); care-of lines ("c/o
Lindqvist"), named business estates and rural localities with their lot ("Polígono Industrial El Pino, nave 14",
"Lieu-dit Le Moulin"), Central American directions from a landmark ("de la iglesia católica 200 metros al sur");
numbered components ("House 19-A, Street 7", Hindi "मकान नं. 112, गली नं. 4"), Indonesian estates with block and
RT/RW, Vietnamese written without diacritics.
`landmark_recognizer` takes the landmark phrases that place an address ("..., near the Sambuddhi Pirivena"). The type
words are the common ones of each language's postal usage, written from those standards, not from any evaluation text.
Every shape needs a house number (a landmark, a named thing after an address part): a street name alone is left to the
learned detector and the place rules, so that "via email" or "rue" in prose never matches.
"""

from __future__ import annotations

import re
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.address import SUFFIXES as ENGLISH_SUFFIXES
from anonymize.recognizers.base import Pattern, RegexRecognizer

# Types written before the street name (case as written in addresses; the lower-case ones are written so).
PREFIX_TYPES = (
    # Italian
    "Via", "Viale", "V.le", "Piazza", "P.zza", "Piazzale", "Corso", "C.so", "Largo", "Vicolo", "Strada", "Contrada",
    "Lungomare", "Borgo", "Salita", "Vico", "Fraz.", "Frazione", "Loc.", "Località",
    # Spanish (Spain and the Americas), Catalan
    "Calle", "C/", "Avenida", "Avda.", "Av.", "Avd.", "Paseo", "Pº", "Plaza", "Pza.", "Camino", "Carrera", "Cra.",
    "Cl.", "Diagonal", "Transversal", "Ronda", "Travesía", "Carretera", "Ctra.", "Jirón", "Jr.", "Pasaje", "Psje.",
    "Calzada", "Callejón", "Carrer", "Passeig", "Avinguda", "Rambla", "Avenija", "Rúa", "Praza", "Camiño", "Rolda",
    "Cerrada", "Cda.", "Privada", "Priv.", "Prolongación", "Prol.", "Andador", "Circuito", "Cto.", "Retorno",
    "Bulevar", "Bvar.", "Bv.", "Manzana", "Mz.",
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
    "булевард", "бр.", "Булевар", "булевар", "Бул.", "Улица", "Трг", "трг", "мкр.", "мкрн.", "микрорайон", "ж.к.",
    "жк", "кв-л", "квартал",
    # Maltese, Albanian, Swahili ("Mtaa wa ...": the street of ...)
    "Triq", "Rruga", "Rr.", "Mtaa",
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
    # Azerbaijani, Uzbek, Kazakh
    "küç.", "küçəsi", "prospekti", "döngəsi", "ko'chasi", "ko‘chasi", "көшесі", "даңғылы",
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
              "di", "du", "des", "la", "le", "les", "van", "der", "den", "al", "el", "e", "y", "i", "von", "am", "wa")

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
# a house-number cue; a kilometre marker stands for the number on highways ("Rodovia BR-116, km 142")
_NYUMBA = rf"[Nn]yumba{_SP}(?:[Nn]a\.?|[Nn]amba|[Nn]ambari)"  # Swahili "house number"
_NO = rf"(?:(?:No\.?|No:|Nº|nº|n\.|n°|Nr\.?|nr\.?|#|д\.|буд\.|číslo|č\.|[Kk]m\.?|{_NYUMBA}){_SP}?)?"
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
              "ап", "вх", "стан", "ბინა", "бл", "корп", "под", "пом", "стр", "mənzil", "pallati", "shk", "hyrja",
              "galpão", "lote", "lt", "qd", "quadra", "conj", "mz", "բն", "բնակարան", "հարկ", "lgh", "lägenhet", "lejl",
              "lejlighed", "leil", "leilighet", "asunto")
_UNIT_WORD = _alternatives(UNIT_WORDS)
_UNITS = (rf"(?:,?{_SP}(?:(?i:{_UNIT_WORD})(?:[.:]|(?![\w])){_SP}?(?:\d\w{{0,4}}|[A-Za-zА-Яа-я]\d{{0,4}}(?![\w]))"
          rf"|\d{{1,2}}\.?[ºª°]\.?[A-Za-z]?"
          rf"(?:{_SP}(?i:izq|izda|dcha|dch|der|dto|esq|centro|andar|frente)\.?)?|\d{{1,2}}(?:st|nd|rd|th){_SP}"
          rf"(?i:floor|fl)\.?"
          # Nordic staircase and flat after the number: "Kalliolanrinne 4 A 12", "Storgatan 5 B 1102"
          rf"|(?<=\d{_SP})[A-H]{_SP}\d{{1,4}})(?![\w])){{0,4}}"
          # Portuguese, Galician and Spanish position words closing the line: "90 - fundos", "18, baixo", "5, bajo"
          rf"(?:,?{_SP}(?:[-–]{_SP})?(?i:fundos|frente|baixo|bajo|cave|sobreloja|r/c|rés-do-chão)(?![\w]))?")
UNITS_AFTER = re.compile(_UNITS)  # the sub-building parts after any street line (refine.with_attached_number)
_MAHALLE = rf"(?:{_CAP}[\w'’.-]*{_SP}(?:Mah\.|Mahallesi|Mh\.),?{_SP})?"  # Turkish: the quarter before the street
_PREFIX = _alternatives(PREFIX_TYPES)
_SUFFIX = _alternatives(SUFFIX_TYPES)
_FUSED = _alternatives(FUSED_TYPES)
# a floor, door, building or staircase written before the street ("5e étage, porte gauche, 18 rue Paul-Bert")
_FRENCH_BEFORE = (rf"(?:(?:\d{{1,2}}(?:e|er|ème|eme){_SP}étage|(?i:porte|bâtiment|bât\.|escalier|esc\.|appartement|"
                  rf"appt\.?|apt\.?){_SP}?[\w]{{1,8}}),{_SP})*")
_FRENCH_TYPES = ("rue", "avenue", "av.", "boulevard", "bd", "chemin", "impasse", "allée", "place", "quai", "route",
                 "cours", "square", "passage", "chaussée", "boul.", "montée", "rang", "côte")  # (Quebec: "1450 boul.")
# as written, capitalised, and in the capitals of a label or a form ("17 AVENUE DU GENERAL LECLERC", "3 ALLEE DES PINS";
# not the types that are English words too: "2 PLACE SETTINGS", "4 ROUTE BARRIERS")
_FRENCH_CAPITALS = ("RUE", "AVENUE", "AV.", "BOULEVARD", "BD", "BOUL.", "CHEMIN", "IMPASSE", "ALLÉE", "ALLEE", "QUAI",
                    "CHAUSSÉE", "CHAUSSEE", "MONTÉE", "MONTEE")
_FRENCH_AFTER_NUMBER = _alternatives(_FRENCH_TYPES + tuple(w.capitalize() for w in _FRENCH_TYPES) + _FRENCH_CAPITALS)
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


# The type in lower case inside a sentence ("arrivato a via Etnea 402", "vivo en la calle Mayor, 12, 2ºB", "c/ Sant
# Pere 41"): the Romance, Maltese, Albanian and Swahili types only, before a capitalised name, and the number must end
# the line or a clause, so that "ordered via Amazon 2 days ago" is prose
_LOWER_PREFIX = _alternatives((
    "via", "viale", "piazza", "corso", "largo", "vicolo", "strada", "contrada", "frazione", "fraz.", "località", "loc.",
    "calle", "c/", "avenida", "avda.", "paseo", "plaza", "camino", "carrera", "carretera", "ctra.", "pasaje", "calzada",
    "callejón", "cerrada", "cda.", "privada", "priv.", "carrer", "passeig", "avinguda", "rúa", "rua", "travessa",
    "praça", "estrada", "rodovia", "alameda", "rue", "avenue", "boulevard", "chemin", "impasse", "allée", "quai",
    "chaussée", "triq", "rruga", "mtaa", "bulevar", "bvar."))
_CLAUSE_END = r"(?=[ \t]*(?:[,.;:!?)\n]|$))"
# Hebrew: the type, the name, the number, then flat, entrance or floor ("רחוב הרצל 88 דירה 12"); a one-letter
# preposition glued before the type ("לרחוב", "ברחוב") stays outside
_HEBREW = (r"(?:(?<![\u05d0-\u05ea])|(?<=(?<![\u05d0-\u05ea])[לבמוהש]))(?:רחוב|רח['׳]|שדרות|שד['׳]|דרך|סמטת|כיכר)"
           rf"{_SP}[\u05d0-\u05ea'׳\"״-]+(?:{_SP}[\u05d0-\u05ea'׳\"״-]+){{0,3}},?{_SP}\d{{1,4}}[\u05d0-\u05ea]?"
           rf"(?:,?{_SP}(?:דירה|דירה{_SP}מס['׳]?|כניסה|קומה){_SP}?\d{{1,3}})*")
# Arabic: the type, the name, an optional number word, the number ("نهج ابن خلدون عدد 14", "شارع الملك فهد 22"), then
# flat, floor, building or villa after a comma
_ARABIC_WORD = r"[\u0621-\u064a\u0671-\u06d3]+"
_ARABIC = (rf"(?<![\w])(?:شارع|نهج|زنقة|طريق|ممر|درب|جادة){_SP}{_ARABIC_WORD}(?:{_SP}{_ARABIC_WORD}){{0,3}}"
           rf"{_SP}(?:(?:عدد|رقم){_SP})?\d{{1,4}}(?![\w])"
           rf"(?:[،,]{_SP}?(?:شقة|الدور|الطابق|عمارة|فيلا|مبنى){_SP}\w+)*"
           # the number first, as Egypt writes it, in either digits ("١٤ شارع جامعة الدول العربية")
           rf"|(?<![\w])\d{{1,4}}{_SP}(?:شارع|طريق|ممر|جادة){_SP}{_ARABIC_WORD}(?:{_SP}{_ARABIC_WORD}){{0,3}}"
           rf"(?=[ \t]*(?:[،,.\n]|$))")
# Mongolian: subdistrict, building and flat numbers ("8-р хороо, 14-р байр, 52 тоот"), or an avenue or street with
# its number, then floor and flat ("Энхтайваны өргөн чөлөө 17, 5 давхар, 52 тоот")
_MONGOLIAN = (rf"(?:{_CAP}[а-яёөү]+(?:{_SP}[а-яёөү]+)?{_SP}(?:өргөн{_SP}чөлөө|гудамж){_SP}\d{{1,4}}"
              rf"|(?<![\w-])\d{{1,3}}-р{_SP}(?:хороо|байр))"
              rf"(?:,?{_SP}(?:\d{{1,3}}-р{_SP}(?:хороо|байр)|\d{{1,4}}{_SP}(?:тоот|давхар)))*(?![\w])")
# Persian: street, alley and plate ("خیابان سرو غربی، کوچه نهم، پلاک ۱۴، واحد ۶"): from the street or alley word to the
# plate number and the unit after it
_PERSIAN = (r"(?<![\w])(?:خیابان|بلوار|کوچه|میدان)[^\n.!?؟]{1,60}?پلاک" + _SP + r"?\d{1,4}"
            + r"(?:" + _SP + r"?[،,]" + _SP + r"?(?:واحد|طبقه)" + _SP + r"?\d{1,3})*")
# Chinese road and number, then building, unit, floor and room ("文三路478号华星大厦12楼",
# "中山北路105号3栋2单元601室"):
# the road's name never takes the city or district before it (no 市, 区, 县, 省 ... inside it)
_HAN_NAME = r"(?:(?![市区區县縣省镇鎮乡鄉村址是在到的])[\u4e00-\u9fff]){1,6}"
_CHINESE = (rf"{_HAN_NAME}(?:路|街|大道|大街|巷|胡同)(?:[一二三四五六七八九十]段)?(?:\d{{1,4}}(?:巷|弄))*"
            r"\d{1,5}(?:号|號)"
            r"(?:[\u4e00-\u9fff]{0,6}?\d{1,4}(?:栋|幢|座|单元|單元|楼|樓|层|層|室|号|號|F))*")
# Japanese chōme, block and house, then the building and room ("大通西15丁目3-8 サンライズ大通502")
_JAPANESE = (r"(?:(?![都道府県市区町村郡])[\u4e00-\u9fff\u30a0-\u30ff]){1,6}\d{1,2}丁目\d{1,4}(?:[-－‐]\d{1,4}){0,2}"
             r"(?:[ \u3000]?[\u30a0-\u30ff\u4e00-\u9fff]{1,12}\d{2,4}(?:号室)?)?")
# House, plot or flat and its street or road as numbered components (South Asia, the Gulf): "House 19-A, Street 7,
# F-10/2", "H.No. 2-14/B, Road No. 3", "Plot 12, Block C"; the Hindi "मकान नं. 112, गली नं. 4"
# Japanese chōme-block-house in Latin letters before the district ("3-7-2 Nishi-Shinjuku", "1-1-2 Oshiage,
# Sumida-ku"): three numbers from 1, the last of at most three digits (so no date or "3-1-0" record reads as one)
_JAPANESE_ROMAJI = (rf"(?<![\w/.-])[1-9]\d?-[1-9]\d?-[1-9]\d{{0,2}}{_SP}{_CAP}[a-zōū]+(?:-{_CAP}?[a-zōū]+)*"
                    rf"(?:,?{_SP}{_CAP}[a-zōū]+-(?:ku|shi|cho|machi|gun))?(?![\w-])")
_COMPONENT_NO = rf"(?:No\.?{_SP}?|#{_SP}?)?"
_COMPONENTS = (rf"(?<![\w])(?:House|H\.{_SP}?No\.?|Plot|Flat|Villa|Building|Bldg\.?){_SP}?{_COMPONENT_NO}"
               rf"\d[\w/-]{{0,8}}"
               rf",?{_SP}(?:Street|St\.?|Road|Rd\.?|Lane|Block|Sector|Gali|Cross|Main){_SP}?{_COMPONENT_NO}\d{{1,4}}[A-Z]?"
               rf"(?![\w])(?:,{_SP}[A-Z]-\d{{1,2}}(?:/\d{{1,2}})?(?![\w]))?")
_HINDI_NO = rf"{_SP}?(?:नं\.?|नंबर|संख्या){_SP}?"
_HINDI = (rf"(?:मकान|फ्लैट|प्लॉट|हाउस|म\.){_HINDI_NO}\d{{1,4}}[\w/-]*"
          rf"(?:,{_SP}?(?:गली|सेक्टर|ब्लॉक|रोड|मार्ग){_HINDI_NO}?\d{{1,4}}[\w/-]*)*")
# Indonesian housing estates: estate name, block, number, neighbourhood units ("Perum Griya Asri Blok F2 No. 17 RT
# 03/RW 08")
_ESTATE = (rf"(?<![\w])(?:Perum|Perumahan|Komplek|Kompleks|Komp\.|Griya|Villa|Cluster){_SP}{_NAME}{_SP}"
           rf"(?:Blok|Blk\.?){_SP}?[A-Z0-9]{{1,3}}\d{{0,2}}{_SP}?(?:No\.?{_SP}?)?\d{{1,4}}[A-Za-z]?"
           rf"(?:,?{_SP}RT\.?{_SP}?\d{{1,3}}{_SP}?/{_SP}?RW\.?{_SP}?\d{{1,3}})?")
# A care-of line: "c/o" (or German "z. Hd.") and the rest of its line, or of its clause when more follows on the line
# ("c/o Lindqvist", "c/o Praxis Lenz, Hinterhaus 2. OG"): who receives the post for the addressee, and where; the name
# after it capitalised ("c/o my sister" is prose)
_CARE_OF = (rf"(?<![\w/])(?i:c/o|c/-|z\.?\s?hd\.?)[ \t]+{_CAP}[^\n.;!?]{{0,60}}?"
            r"(?=[ \t]*(?:[.;!?]?[ \t]*\n|[.;!?]?$|[.;!?][ \t]))")
# A named industrial or business estate, or a named rural locality, with its lot or unit number when one follows
# ("Polígono Industrial El Pino, nave 14", "ZAC des Grands Champs, lot 14", "Gewerbegebiet Nord, Halle 3", "Organize
# Sanayi Bölgesi 4. Cad. No:12", "Lieu-dit Le Moulin"): these stand for the street in business and rural addresses
_AREA_TYPES = _alternatives(("Polígono Industrial", "Polígono", "Pol. Ind.", "P.I.", "Parque Empresarial",
                             "Parque Industrial", "Parque Tecnológico", "Zona Industriale", "Zona Industrial", "ZAC",
                             "ZA", "ZI", "Z.I.", "Z.A.", "Zone Industrielle", "Zone Artisanale", "Zone d'Activités",
                             "Industriegebiet", "Gewerbegebiet", "Gewerbepark", "Industrieterrein", "Bedrijventerrein",
                             "Organize Sanayi Bölgesi", "OSB", "Sanayi Sitesi", "Lieu-dit", "Lieudit",
                             "Industrial Estate", "Business Park", "Trading Estate"))
_AREA = (rf"(?<![\w]){_AREA_TYPES}{_SP}{_NAME}(?:,?{_SP}(?i:nave|lot|lote|parcela|bâtiment|bât\.|halle|hala|"
         rf"capannone|unit|unidad|no\.?|no:){_SP}?\d{{1,4}}[A-Za-z]?(?![\w]))?{_UNITS}")
# A British or Irish house name and the street it stands on, which then needs no number ("The Old Forge, Chapel
# Lane", "ROSE COTTAGE, MILL ROAD"): a house word ends the name, a thoroughfare type the street
_HOUSE_WORDS = ("Cottage", "Cottages", "House", "Farm", "Farmhouse", "Barn", "Lodge", "Mill", "Forge", "Rectory",
                "Vicarage", "Manor", "Hall", "Villa", "Croft", "Grange", "Stables", "Granary", "Oast", "Byre",
                "Schoolhouse", "Coach House", "Bungalow")


def _house(upper: bool) -> str:
    """`_HOUSE` in Title Case, or in capitals (a label written in capitals: "THE OLD FORGE, CHAPEL LANE")."""
    case = str.upper if upper else str.title
    word = r"[A-Z][A-Z'’]*" if upper else r"[A-Z][a-z'’]*"
    return (rf"(?:{case('the')}{_SP})?(?:{word}{_SP}){{0,2}}(?:{'|'.join(map(case, _HOUSE_WORDS))}),{_SP}"
            rf"(?:{word}{_SP}){{1,2}}(?:{'|'.join(map(case, ENGLISH_SUFFIXES))})")


_HOUSE = rf"(?<![\w])(?:{_house(False)}|{_house(True)})(?![\w])"
# Central American directions from a landmark, which stand for the street in Costa Rica and Nicaragua ("de la iglesia
# católica 200 metros al sur y 50 al este", "del Palí 100 m oeste", "costado norte del parque, 75 varas al sur"):
# the landmark after "de"/"del"/"desde" and each distance with its cardinal direction
_DIST = r"\d{2,4}[ \t]?(?:metros|mts?\.?|m|varas|vrs\.?|cuadras|c\.)?"
_CARDINAL = r"(?:al[ \t]+)?(?:norte|sur|este|oeste|noreste|noroeste|sureste|suroeste)(?![\w])"
_DIRECTIONS = (rf"(?<![\w])(?:de|del|desde)[ \t][^,.;:\n\d]{{2,60}}?[ \t],?[ \t]?{_DIST}[ \t]{_CARDINAL}"
               rf"(?:[ \t]?,?[ \t]?(?:y[ \t])?{_DIST}[ \t]{_CARDINAL})*")
# ... and the distances first, the landmark after them ("200 metros sur y 50 este de la plaza de deportes"), to the
# end of the clause
_DIRECTIONS_FIRST = (rf"(?<![\w]){_DIST}[ \t]{_CARDINAL}(?:[ \t]?,?[ \t]?(?:y[ \t])?{_DIST}[ \t]{_CARDINAL})*"
                     rf"[ \t](?:de|del|desde)[ \t][^,.;:\n\d]{{2,60}}?(?=[ \t]*(?:[,.;:\n]|$))")
# Vietnamese written without diacritics, as chats do: "so 7 hem 284 le van sy" (number, lane or street, its name)
_VIETNAMESE_ASCII = (rf"(?<![\w])(?i:so){_SP}\d{{1,4}}[a-z]?(?:/\d{{1,4}})*,?{_SP}(?i:duong|hem|ngo|pho|kiet)"
                     rf"(?:{_SP}\d{{1,4}}(?:/\d{{1,4}})*)?{_SP}[a-z]{{1,7}}(?:{_SP}[a-z]{{1,7}}){{0,3}}"
                     r"(?=[ \t]*(?:[,.;\n]|$))")
# A landmark that places the address, after a comma of the address or a "landmark" cue ("..., near the Sambuddhi
# Pirivena", "Kampala, next to the Shell station", "landmark is behind the old BDA complex", "..., جنب مسجد النور"): the
# preposition and up to seven words, one of them capitalised, to the end of the clause
_LANDMARK_START = (r"(?:(?<=,[ \t])|(?<=،[ \t])|(?<=،)|(?<=landmark is )|(?<=landmark: )|(?<=Landmark: )"
                   r"|(?<=\.[ \t])(?=[A-Z]))")  # or opening the sentence after an address line: ". Opposite ..."
_LANDMARK_WORDS = (r"(?=[^,.;:!?/\n]{0,80}?(?<![\w])[A-Z])(?:the[ \t]+)?[\w'’&-]+(?:[ \t]+[\w'’&-]+){0,6}")
_LANDMARK = (_LANDMARK_START + r"(?:(?i:near|opposite|opp\.|behind|next to|beside|in front of|across from|close to"
             r"|facing|adjacent to)"
             r"|(?i:al lado del?|frente al?|enfrente del?|cerca del?|detrás del?|junto al?|près de|en face de|"
             r"à côté de|perto d[eoa]|ao lado d[eoa]|em frente a[o]?|(?:di[ \t]+)?(?:depan|samping|belakang|sebelah)|"
             r"dekat|seberang))[ \t]+" + _LANDMARK_WORDS + _CLAUSE_END)
_ARABIC_LANDMARK = (_LANDMARK_START + rf"(?:جنب|بجانب|مقابل|خلف|قرب|بجوار|أمام){_SP}{_ARABIC_WORD}"
                    rf"(?:{_SP}{_ARABIC_WORD}){{0,3}}(?=[ \t]*(?:[.،,؛\n]|$))")


class _WorldStreets(RegexRecognizer):
    """The patterns' matches, each span once (the Cyrillic pattern repeats some of the type-name-number ones), and
    none inside another's (a prefixed street after its house number: "3120 boul. Henri-Bourassa, Door 2")."""

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        best: dict[tuple[int, int], Finding] = {}
        for f in super().analyze(text, doc):
            if (f.start, f.end) not in best or f.score > best[f.start, f.end].score:
                best[f.start, f.end] = f
        return [f for f in best.values()
                if not any(o is not f and o.start <= f.start and f.end <= o.end for o in best.values())]


def world_street_recognizer() -> RegexRecognizer:
    """STREET_ADDRESS lines in national formats, each with a house number (see the module docstring)."""
    end = r"(?![\w])"
    return _WorldStreets("street-world", "STREET_ADDRESS", [
        # type, name, number: "Via dei Mille 14", "Calle Mayor, 5", "ul. Długa 7/3", "Jl. Merdeka No. 10"
        Pattern(rf"(?<![\w]){_PREFIX}{_SP}{_NAME},?{_SP}{_NUMBER}{_UNITS}", 0.8, 0.9, flags=0),
        # ... or with the building and flat after a comma instead of a house number ("Rruga e Durrësit, Pallati 14,
        # Shk. 2, Ap. 9")
        Pattern(rf"(?<![\w]){_PREFIX}{_SP}{_NAME}(?=,{_SP}(?i:{_UNIT_WORD})[.:]?{_SP}?\d){_UNITS}", 0.8, 0.9, flags=0),
        # Czech and Slovak streets named with a preposition ("Na Výsluní 1187", "U Lesa 12/3", "Pod Vinicí 5") before
        # a Czech or Slovak postcode, which tells them from a phrase
        Pattern(rf"(?<![\w])(?:Na|U|K|Pod|Nad|Za|Před|Pri|Ku){_SP}{_CAP}[\w]+(?:{_SP}[\w]+)?{_SP}\d{{1,4}}(?:/\d{{1,4}})?"
                rf"[a-z]?(?=,?{_SP}\d{{3}}{_SP}?\d{{2}}(?![\d]))", 0.8, 0.9, flags=0),
        # a locality and its ward, as Nepal, India and Bangladesh write it ("Jhamsikhel, Ward No. 3")
        Pattern(rf"(?<![\w'’-]){_CAP}[\w'’-]+(?:{_SP}{_CAP}[\w'’-]+)?,?{_SP}(?:Ward|Wada)(?:{_SP}No\.?)?{_SP}?\d{{1,3}}"
                rf"(?![\w])", 0.8, 0.9, flags=0),
        # number, type, name (French): "12 bis rue des Lilas", "3, impasse des Genêts"
        Pattern(rf"(?<![\w\d]){_FRENCH_BEFORE}\d{{1,4}}(?:{_SP}?(?:bis|ter|[A-Da-d]))?,?{_SP}{_FRENCH_AFTER_NUMBER}"
                rf"{_SP}{_NAME}{end}{_UNITS}", 0.8, 0.9, flags=0),
        # name, type word, number: "Andrássy út 12", "Gedimino pr. 9-4", "Atatürk Cad. No: 4"
        Pattern(rf"(?<![\w'’.-]){_MAHALLE}{_CAP}[\w'’.-]*(?:{_SP}{_BEFORE_TYPE})?{_SP}{_SUFFIX}{_SP}{_NUMBER}{_UNITS}",
                0.8, 0.9, flags=0),
        # fused name+type, number: "Keizersgracht 12", "Storgatan 5 B", "Fred-Raymond-Gasse 13"
        Pattern(rf"(?<![\w'’-])(?:{_CAP}[\w'’]*-)*{_CAP}[\w'’]{{2,}}(?i:{_FUSED}){_SP}{_NUMBER}{_UNITS}", 0.8, 0.9,
                flags=0),
        # hyphenated names ending in the type: "Fred-Raymond-Gasse 13", "Jean-Jaurès-Straße 2"
        Pattern(rf"(?<![\w'’-])(?:{_CAP}[\w'’]*-)+(?i:{_FUSED}){_SP}{_NUMBER}", 0.8, 0.9, flags=0),
        Pattern(_GEORGIAN + _UNITS, 0.8, 0.9, flags=0, needs="[\u10d0-\u10ff]"),
        Pattern(_CYRILLIC + _UNITS, 0.8, 0.9, flags=0, needs="[\u0400-\u04ff]"),
        Pattern(_VIETNAMESE, 0.8, 0.9, flags=0, needs="(?i:số)"),
        Pattern(rf"(?<![\w]){_LOWER_PREFIX}{_SP}(?:{_ELIDED})?{_CAP}[\w'’.-]*(?:{_SP}{_NAME_WORD}){{0,4}},?{_SP}{_NUMBER}"
                rf"{_UNITS}{_CLAUSE_END}", 0.8, 0.9, flags=0),
        Pattern(_HEBREW, 0.8, 0.9, flags=0, needs="[\u05d0-\u05ea]"),
        Pattern(_ARABIC, 0.8, 0.9, flags=0, needs="[\u0621-\u064a]"),
        Pattern(_MONGOLIAN, 0.8, 0.9, flags=0, needs="(?:хороо|байр|тоот|давхар|гудамж|өргөн)"),
        Pattern(_PERSIAN, 0.8, 0.9, flags=0, needs="پلاک"),
        Pattern(_CHINESE, 0.8, 0.9, flags=0, needs="[号號]"),
        Pattern(_JAPANESE, 0.8, 0.9, flags=0, needs="丁目"),
        Pattern(_JAPANESE_ROMAJI, 0.8, 0.9, flags=0),
        Pattern(_COMPONENTS, 0.8, 0.9, flags=0),
        Pattern(_HINDI, 0.8, 0.9, flags=0, needs="[\u0900-\u097f]"),
        Pattern(_ESTATE, 0.8, 0.9, flags=0),
        Pattern(_CARE_OF, 0.8, 0.9, flags=0, needs="(?i:c/o|c/-|z\\.?\\s?hd)"),
        Pattern(_AREA, 0.8, 0.9, flags=0),
        Pattern(_DIRECTIONS, 0.8, 0.9, needs=r"(?i:norte|sur|este|oeste)"),
        Pattern(_DIRECTIONS_FIRST, 0.8, 0.9, needs=r"(?i:norte|sur|este|oeste)"),
        Pattern(_HOUSE, 0.8, 0.9, flags=0),
        Pattern(_VIETNAMESE_ASCII, 0.75, 0.9, flags=0),
    ])


class _Landmarks(RegexRecognizer):
    """Landmark phrases that place an address: after a "landmark" cue, or after a comma that closes a part of the
    address: capitalised words only ("Nugegoda, near ...", "Kampala, next to ..."), a part with a number ("Plot 9,
    Jinja Road, opposite ...", "فيلا 12، جنب ..."), or one word of a caseless script ("جدة، بجانب ..."); a comma
    after prose ("Great blender, next to the Nutribullet ...") is no address's."""

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        return [f for f in super().analyze(text, doc) if _after_address_part(text, f.start)]


def _after_address_part(text: str, start: int) -> bool:
    before = text[max(0, start - 200):start].rstrip()  # an address part is far shorter than 200 characters
    if before.endswith("."):  # a sentence of its own: the one before must be an address line of two parts or more
        sentence = re.split(r"[.!?\n]", before[:-1])[-1]
        if sentence.count(",") < 1 or not any(ch.isdigit() for ch in sentence):
            return False
        before = sentence + ","
    if not before.endswith((",", "،")):
        return True  # the "landmark is" cue
    part = re.split(r"[,،\n.;:!?]", before[:-1])[-1].strip()
    if any(ch.isdigit() for ch in part):
        return True
    words = part.split()
    if not words:
        return False
    if all(not ch.isalpha() or not (ch.isupper() or ch.islower()) for ch in part):
        return len(words) == 1  # a caseless script: one word, a town's name
    return len(words) <= 4 and all(w[:1].isupper() for w in words)


def landmark_recognizer() -> RegexRecognizer:
    """STREET_ADDRESS landmark phrases after an address or a "landmark" cue (see `_Landmarks`)."""
    return _Landmarks("landmark", "STREET_ADDRESS", [
        Pattern(_LANDMARK, 0.7, 0.85, flags=0),
        Pattern(_ARABIC_LANDMARK, 0.7, 0.85, flags=0, needs="[\u0621-\u064a]"),
    ])
