"""The locality after a street line: the district, town and state written after a found street address, on its line.

Why: an address line names its street, then comma-separated localities ("Rua Augusta, 915, Cerqueira César, São Paulo
- SP", "Mtaa wa Uhuru, Nyumba Na. 12, Mwenge, Dar es Salaam"). The place recognizers need a listed name or a place
word before a town, and the statistical layers often find the first locality and read the next as a name ("São
<PERSON> - <PERSON>"): a locality left readable beside a masked street is most of the address's location. The UPU's
addressing standard (S42) and the national formats it collects put the locality after the thoroughfare, on the same
line or the next one.

Rule: after each `STREET_ADDRESS` finding, in normally cased text, up to three segments that follow a comma, an
Arabic or CJK comma or a slash, each of at most four capitalised words (place particles such as "es", "de", "do"
between them, a state code such as "- SP" after them), are each a `LOCATION` (the separators stay readable). A
segment ends the run unless the end of the text or line, a comma, a full stop, a semicolon, a bracket, a slash or a
postcode-like number follows it (a number stays its own finding, and prose may follow it); a lower-case word after it
means prose ("..., Antipolo, please call"); a stop word, form label or field name ("Thanks", "CEP", "City") is never a
locality. When a street ends its line, the next line counts only when it holds nothing but localities and perhaps a
postcode ("7 Kloof Street\nGardens, Cape Town 8001"); a greeting, a name or prose follows a street line there as often.
In a text of one letter case, where capitals say nothing, only the segment right after the street that is a listed
city of `world_places` (GeoNames, 50,000 people or more), with a state code after it, is taken ("..., petaling
jaya", "..., montréal qc").
"""

from __future__ import annotations

import re

from anonymize.findings import Finding
from anonymize.recognizers.recase import single_case
from anonymize.recognizers.refine import LABEL_WORDS, PLACE_CONNECTORS, is_stop_word

# Lower-case words that join the words of a place name: refine's connectors ("Santo Domingo de Guzmán", "Frankfurt am
# Main", "Stratford upon Avon") and a few more ("Dar es Salaam", "Bergen op Zoom", "Isle of Wight").
PARTICLES = PLACE_CONNECTORS | frozenset({"es", "of", "op", "aan", "bij", "em"})
# Stop words that open place names ("São Paulo", "El Alto", "Los Angeles", "Le Havre").
PLACE_OPENERS = frozenset({"são", "sao", "san", "santa", "santo", "saint", "st.", "st", "le", "la", "les", "los", "las",
                           "el", "al"})
# Address-form field names written between the parts of an address line ("2740 Larch Dr/City/State: Boise"), and
# street words: a street part the street finding left out is no locality.
FIELD_WORDS = frozenset("""
city town state province county country region district suburb zip postcode postal area village municipality
street straße strasse str road rd rue calle rua avenue ave avenida via weg gasse cp cep plz pin
""".split())  # noqa: SIM905 (a word list)
_SEPARATOR = re.compile(r"[ \t]*[,،、，/][ \t]*")
# a word of letters only ("NW1" is none), with inner hyphens and apostrophes, and an abbreviation's full stop
_WORD = re.compile(r"[ \t]*([^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_])){0,40})(?![\w'’-])(\.?)")
_STATE = re.compile(r"[ \t]*[-–][ \t]*[A-Z]{2,3}\b")  # "São Paulo - SP"
_NUMBER = re.compile(r"[ \t]+\d[\dA-Z-]{0,9}\b")  # a postcode or district number: what follows may be prose
_NEXT_LINE = re.compile(r"[ \t,]*\r?\n[ \t]*")  # a street that ends its line, then the locality line
_LINE_END = re.compile(r"[ \t.,]*(?:$|\r?\n)|[ \t]+\d")  # the locality line holds nothing else (a postcode may follow)
_END = re.compile(r"[ \t]*(?:$|[\r\n,.;)(/،、，])")
_MAX_SEGMENTS = 3
_MAX_WORDS = 4
_ABBREVIATION = 4  # letters of a word a full stop abbreviates ("Brgy.", "Co."); after a longer word it ends a sentence


def _segment(text: str, pos: int) -> tuple[list[str], int, int]:
    """The words of the segment starting at `pos`, where its name ends (after a state code) and where the segment
    ends (after a postcode or district number that follows the name, which stays its own finding)."""
    words: list[str] = []
    end = pos
    while len(words) <= 2 * _MAX_WORDS:
        m = _WORD.match(text, end)
        if m is None:
            break
        word, dot = m.group(1), m.group(2)
        if dot and len(word) <= _ABBREVIATION:
            words.append(word + dot)
            end = m.end()
            continue
        words.append(word)
        end = m.end(1)
        if dot:
            break  # a full stop after a whole word ends the sentence
    state = _STATE.match(text, end)
    name_end = state.end() if state is not None else end
    number = _NUMBER.match(text, name_end)
    return words, name_end, number.end() if number is not None else name_end


def _locality(words: list[str]) -> bool:
    """Capitalised words (at most four), joined by particles, starting and ending with a capitalised one."""
    named = [w for w in words if w not in PARTICLES]
    if not named or len(named) > _MAX_WORDS or words[0] in PARTICLES or words[-1] in PARTICLES:
        return False
    if not all(w[:1].isupper() and w.lower().rstrip(".") not in LABEL_WORDS for w in named):
        return False
    if "".join(named).replace(".", "").lower() in FIELD_WORDS:  # "City", "Street", "C.P." alone; "Cape Town" is one
        return False
    # a stop word may be part of a longer name ("Santo Domingo", "Los Angeles") but never opens one on its own; a
    # particle written with a capital opens a town ("Van", "Den Haag")
    first = named[0]
    return (not is_stop_word(first) or first.lower() in PARTICLES
            or (len(named) > 1 and first.lower() in PLACE_OPENERS))


def address_tail(text: str, findings: list[Finding]) -> list[Finding]:
    """A `LOCATION` for each locality written after a street address of `findings`, on its line or the next (see
    module)."""
    streets = [f for f in findings if f.entity_type == "STREET_ADDRESS"]
    if not streets:
        return []
    if single_case(text):  # letter case says nothing: only a listed city, as its own segment, and its state code
        return [f for street in streets for f in _listed_city_after(text, street)]
    out: list[Finding] = []
    for street in streets:
        same_line = _run(text, street, _SEPARATOR)
        next_line = [] if same_line else _run(text, street, _NEXT_LINE)  # the next line of an address block
        if next_line and _LINE_END.match(text, next_line[-1].end) is None:
            next_line = []  # that line holds more than localities (and a postcode)
        out += same_line + next_line
    return out


# a listed city after a street line in a text of one letter case, and a state code after it ("..., petaling jaya",
# "..., montréal qc", "..., RENO NV")
_CITY_SEGMENT = re.compile(r"[ \t]*[,،、，/][ \t]*([^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,3}?)"
                           r"(?:[ \t]+[A-Za-z]{2})?(?=[ \t]*(?:$|[\r\n,.;)(/]|[ \t]\d))")


def _listed_city_after(text: str, street: Finding) -> list[Finding]:
    from anonymize.recognizers.world_places import cities  # world_places imports nothing of this module

    m = _CITY_SEGMENT.match(text, street.end)
    if m is None or " ".join(m.group(1).lower().split()) not in cities():
        return []
    return [Finding("LOCATION", m.start(1), m.end(), street.score, "address-tail")]


def _run(text: str, street: Finding, first: re.Pattern[str]) -> list[Finding]:
    """The localities after `street`, the first one after `first` (a separator or a line break), the others after a
    separator on the same line."""
    found: list[Finding] = []
    pos, separator = street.end, first
    for _ in range(_MAX_SEGMENTS):
        sep = separator.match(text, pos)
        if sep is None:
            break
        words, name_end, pos = _segment(text, sep.end())
        if not _locality(words) or (pos == name_end and _END.match(text, pos) is None):
            break
        found.append(Finding("LOCATION", sep.end(), name_end, street.score, "address-tail"))
        separator = _SEPARATOR
    return found
