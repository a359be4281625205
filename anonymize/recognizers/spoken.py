"""Digit strings written out as words, as a call transcript or a voice message renders a phone number, an order
number or an id read aloud ("six one four five five five zero one three two", "vier vier null eins acht zwei",
"cinco tres cuatro cuatro ocho dos uno nueve").

Six or more digit words in a row (separated by spaces, commas or hyphens; "double four" / "doble cuatro" counts as
one), in any mix of the languages below, are one span. Its type is PHONE_NUMBER, what such a string most often is in
a call; an order number or an id read aloud is masked as well, under that type. Six digit words in a row do not occur
in prose, so no context word is needed.

A number read in groups of tens and hundreds, as many languages read phone numbers ("cincuenta y cinco, treinta y
ocho, cuarenta y cuatro, diecinueve, veinte"; "zéro six, quarante-deux, dix-huit, ..."; "восемь девятьсот
шестнадцать, сто восемнадцать, ..."; "toogtyve, otteogfyrre, elleve, syvogtres") is one span too when four groups or
more follow each other and stand for seven digits or more (a digit word one, a ten or teen two, a hundred three; a
group is a hundred, a ten or teen with its unit, or a digit word), at least one of them a ten, teen or hundred: a
price or a quantity is one or two groups. Tens, teens and hundreds are those of English, Spanish, Portuguese,
French, Italian, German, Dutch, the Nordic languages, Polish, Russian and Greek (German, Dutch, Danish and Italian
compounds such as "achtundsechzig", "zevenentwintig", "otteogfyrre", "sekstiåtte", "cinquantacinque" included).

The digit words are the cardinal numbers 0-9 of English, German, French, Spanish, Portuguese, Italian, Dutch,
Polish, Czech, Slovak, Turkish, Russian, Ukrainian, the Nordic languages, Greek, Vietnamese, Arabic (Modern Standard)
and romanised Hindi.
"""

from __future__ import annotations

import re
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer

_BY_LANGUAGE = {
    "en": "zero oh nought one two three four five six seven eight nine",
    "de": "null eins zwei zwo drei vier fünf sechs sieben acht neun",
    "fr": "zéro un une deux trois quatre cinq six sept huit neuf",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve",
    "pt": "zero um uma dois duas três quatro cinco seis sete oito nove",
    "it": "zero uno due tre quattro cinque sei sette otto nove",
    "nl": "nul een één twee drie vier vijf zes zeven acht negen",
    "pl": "zero jeden jedna dwa trzy cztery pięć sześć siedem osiem dziewięć",
    "cs": "nula jedna jedno dva tři čtyři pět šest sedm osm devět",
    "sk": "nula jeden jedna dva dve tri štyri päť šesť sedem osem deväť",
    "tr": "sıfır bir iki üç dört beş altı yedi sekiz dokuz",
    "ru": "ноль нуль один одна два три четыре пять шесть семь восемь девять",
    "uk": "нуль один одна два три чотири п'ять шість сім вісім дев'ять",
    "sv": "noll ett en två tre fyra fem sex sju åtta nio",
    "da/no": "nul null en et to tre fire fem seks syv sju otte åtte ni",
    "el": "μηδέν ένα δύο τρία τέσσερα πέντε έξι επτά εφτά οκτώ οχτώ εννιά εννέα",
    "vi": "không một hai ba bốn năm sáu bảy tám chín",
    "ar": "صفر واحد اثنين اثنان ثلاثة اربعة أربعة خمسة ستة سبعة ثمانية تسعة",
    "hi": "shunya ek do teen char chaar paanch panch chhe chheh saat aath nau",
}
DIGIT_WORDS = frozenset(word for words in _BY_LANGUAGE.values() for word in words.split())
REPEATS = ("double", "triple", "doppel", "doble", "doppio", "dubbel", "dobbel")
MIN_WORDS = 6

_WORD = "(?:" + "|".join(re.escape(w) for w in sorted(DIGIT_WORDS, key=len, reverse=True)) + ")"
_DIGIT = rf"(?:(?:{'|'.join(REPEATS)})\s+)?{_WORD}"
_SEPARATOR = r"(?:\s*[,\-–]\s*|\s+)"
SPOKEN_DIGITS = rf"(?<![\w'’-]){_DIGIT}(?:{_SEPARATOR}{_DIGIT}){{{MIN_WORDS - 1},}}(?![\w'’-])"


_SPLIT = re.compile(r"[\s,\-–]+")

# --- numbers read in groups: tens, teens and hundreds ------------------------------------------------------------
def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TENS = _set("""
twenty thirty forty fifty sixty seventy eighty ninety veinte treinta cuarenta cincuenta sesenta setenta ochenta
noventa vinte trinta quarenta cinquenta sessenta oitenta vingt vingts trente quarante cinquante soixante septante
huitante octante nonante venti trenta quaranta sessanta settanta ottanta novanta zwanzig dreißig dreissig vierzig
fünfzig sechzig siebzig achtzig neunzig twintig dertig veertig vijftig zestig zeventig tachtig negentig tyve tredive
fyrre halvtreds tres halvfjerds firs halvfems tjue tretti førti femti seksti sytti åtti nitti tjugo trettio fyrtio
femtio sextio sjuttio åttio nittio dwadzieścia trzydzieści czterdzieści pięćdziesiąt sześćdziesiąt siedemdziesiąt
osiemdziesiąt dziewięćdziesiąt двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто
είκοσι τριάντα σαράντα πενήντα εξήντα εβδομήντα ογδόντα ενενήντα""")
_TEENS = _set("""
ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen diez once doce trece catorce quince
dieciséis dieciseis diecisiete dieciocho diecinueve veintiuno veintidós veintidos veintitrés veintitres veinticuatro
veinticinco veintiséis veintiseis veintisiete veintiocho veintinueve dez onze doze treze catorze quatorze quinze
dezesseis dezasseis dezessete dezassete dezoito dezenove dezanove dix douze treize seize dieci undici dodici tredici
quattordici quindici sedici diciassette diciotto diciannove zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn
siebzehn achtzehn neunzehn tien twaalf dertien veertien vijftien zestien zeventien achttien negentien ti elleve tolv
tretten fjorten femten seksten sytten atten nitten tio elva tretton fjorton femton sexton sjutton arton dziesięć
jedenaście dwanaście trzynaście czternaście piętnaście szesnaście siedemnaście osiemnaście dziewiętnaście десять
одиннадцать двенадцать тринадцать четырнадцать пятнадцать шестнадцать семнадцать восемнадцать девятнадцать δέκα
έντεκα ένδεκα δώδεκα δεκατρία δεκατέσσερα δεκαπέντε δεκαέξι δεκαεπτά δεκαεφτά δεκαοκτώ δεκαοχτώ δεκαεννιά
δεκαεννέα""")
# unit + "and" + ten written as one word (German, Dutch, Danish), ten + unit (Norwegian, Swedish, Italian)
_COMPOUND_TEN = re.compile(
    r"(?:ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)und(?:zwanzig|dreißig|dreissig|vierzig|fünfzig|sechzig|"
    r"siebzig|achtzig|neunzig)"
    r"|(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen)(?:en|ën)(?:twintig|dertig|veertig|vijftig|zestig|zeventig|"
    r"tachtig|negentig)"
    r"|(?:en|to|tre|fire|fem|seks|syv|otte|ni)og(?:tyve|tredive|fyrre|halvtreds|tres|halvfjerds|firs|halvfems)"
    r"|(?:tjue|tretti|førti|femti|seksti|sytti|åtti|nitti)(?:en|to|tre|fire|fem|seks|sju|syv|åtte|ni)"
    r"|(?:tjugo|trettio|fyrtio|femtio|sextio|sjuttio|åttio|nittio)(?:ett|en|två|tre|fyra|fem|sex|sju|åtta|nio)"
    r"|(?:vent|trent|quarant|cinquant|sessant|settant|ottant|novant)a?(?:uno|due|tré|tre|quattro|cinque|sei|sette|"
    r"otto|nove)")
_HUNDREDS = _set("""
cien ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos ochocientos novecientos cem cento
duzentos trezentos quatrocentos quinhentos seiscentos setecentos oitocentos novecentos duecento trecento quattrocento
cinquecento seicento settecento ottocento novecento einhundert sto dwieście trzysta czterysta pięćset sześćset
siedemset osiemset dziewięćset сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот εκατό
εκατόν διακόσια τριακόσια τετρακόσια πεντακόσια εξακόσια επτακόσια εφτακόσια οκτακόσια οχτακόσια εννιακόσια
εννεακόσια""")
_HUNDRED_AFTER_DIGIT = _set("hundred cent cents hundert honderd hundrede hundre hundra")  # "two hundred"
_JOINERS = _set("y e et und og och and")  # "cuarenta y cuatro", "one hundred and twelve"
_NUMBER_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_GROUP_GAP = re.compile(r"[\s,\-–]*")  # what may stand between the words of a number read in groups
MIN_GROUPS, MIN_GROUP_DIGITS = 4, 7


def _kind(word: str) -> str:
    """"D" a digit word, "T" a ten, "E" a teen or a two-digit word, "H" a hundred, "M" a hundred after a digit, "J" a
    joiner, "" any other word."""
    if word in _TENS:
        return "T"
    if word in _TEENS or _COMPOUND_TEN.fullmatch(word):
        return "E"
    if word in _HUNDREDS:
        return "H"
    if word in _HUNDRED_AFTER_DIGIT:
        return "M"
    if word in DIGIT_WORDS:
        return "D"
    return "J" if word in _JOINERS else ""


def grouped_numbers(text: str) -> list[tuple[int, int]]:
    """Spans of numbers read in groups of tens and hundreds (module docstring): MIN_GROUPS groups or more in a row
    standing for MIN_GROUP_DIGITS digits or more, one of them a ten, teen or hundred."""
    words = [(m.start(), m.end(), _kind(m.group().lower())) for m in _NUMBER_TOKEN.finditer(text)]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        groups = digits = 0
        big = False
        start, end = words[i][0], words[i][1]
        j = i
        while j < len(words) and words[j][2] not in ("", "J", "M"):
            if j > i and not _GROUP_GAP.fullmatch(text, words[j - 1][1], words[j][0]):
                break
            kind = words[j][2]
            j += 1
            if kind == "D" and j < len(words) and words[j][2] == "M":  # "two hundred"
                kind, j = "H", j + 1
            size = {"D": 1, "T": 2, "E": 2, "H": 3}[kind]
            if kind in "HT":  # a hundred or a ten takes its tens and units: "novecientos dieciséis", "forty four"
                k = j + 1 if j < len(words) and words[j][2] == "J" else j
                follow = ("T", "E", "D") if kind == "H" else ("E", "D")
                if k < len(words) and words[k][2] in follow:
                    j = k + 1
                    if kind == "H" and words[k][2] == "T":
                        k = j + 1 if j < len(words) and words[j][2] == "J" else j
                        if k < len(words) and words[k][2] == "D":
                            j = k + 1
            groups, digits, big = groups + 1, digits + size, big or kind in "HTE"
            end = words[j - 1][1]
        if groups >= MIN_GROUPS and digits >= MIN_GROUP_DIGITS and big:
            out.append((start, end))
        i = max(j, i + 1)
    return out


class SpokenDigitsRecognizer(RegexRecognizer):
    """The pattern, run only on a text holding at least MIN_WORDS digit words (a set lookup per word, far cheaper
    than the pattern's alternation at every position)."""

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        words = [w.strip(".!?;:()") for w in _SPLIT.split(text.lower())]
        numbers = sum(w in DIGIT_WORDS for w in words)
        out = super().analyze(text, doc) if numbers >= MIN_WORDS else []
        if numbers + sum(_kind(w) in ("T", "E", "H") for w in words) >= MIN_GROUPS:
            out += [Finding(self.entity, s, e, self._compiled[0][1].score, self.name) for s, e in grouped_numbers(text)
                    if not any(f.start <= s and e <= f.end for f in out)]
        return out


def spoken_digits_recognizer() -> RegexRecognizer:
    """Six or more digit words in a row, as a PHONE_NUMBER (see the module docstring)."""
    return SpokenDigitsRecognizer("spoken-digits", "PHONE_NUMBER", [Pattern(SPOKEN_DIGITS, 0.6)])
