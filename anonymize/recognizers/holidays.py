"""Named holidays, festivals and shopping days ("Boxing Day", "Kurban Bayramı", "Semana Santa", "quà Tết",
"Black Friday", "中秋節"): dates of a calendar, not people or places.

Where a text names a holiday (`holiday_spans`); `anonymize.recognizers.refine.without_holidays` is the filter on
findings, like `anonymize.recognizers.retail_brands`: the part of a PERSON, LOCATION or STREET_ADDRESS finding that
lies in an occurrence of a holiday's name is dropped, and what is left stays only when it still holds a word that is
not a stop word ("Eve" of "Christmas Eve", "St Patrick" of "St Patrick's Day", "Día de la Independencia" go whole).
This module imports nothing of refine's, so refine reads the holidays too (opening hours after a holiday).
The list holds the public holidays, religious feasts and retail days of the countries the cue languages are spoken
in, as each calendar names them (national public-holiday calendars; the retail days Black Friday, Cyber Monday,
Singles' Day, Buen Fin, Hot Sale, Golden Week). Names that are also given names or surnames ("Noël", "Natale",
"Pasqua") count only after a wish or a preposition and before no capitalised word, so "Natale Rossi", "Noël Dupont"
and "thanks Noel" stay masked ("Natal", a city, and "Ramadan", a surname, are not listed); names that are given
names alone ("Valentine", "Nikolaus", "Reyes") count only inside their holiday's phrase ("Valentine's Day",
"Nikolaustag", "Día de Reyes"). Without it the learned detector and spaCy called many holidays a PERSON or LOCATION
(development set dev4: "Boxing Day", "Holi", "Tết", "Πάσχα", "Kurban Bayramı", "Quarta-feira de Cinzas").
"""

from __future__ import annotations

import functools
import re

HOLIDAY_TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS")

HOLIDAYS = """
christmas|christmas eve|christmas day|xmas|boxing day|new year|new year's|new year's eve|new year's day|easter
easter sunday|easter monday|good friday|holy week|thanksgiving|black friday|black week|cyber monday|cyber week|prime day
singles' day|singles day|memorial day|labor day|labour day|independence day|canada day|australia day|anzac day
waitangi day|st patrick's day|st. patrick's day|saint patrick's day|paddy's day|valentine's day|valentines day
mother's day|mothers day|father's day|fathers day|halloween|bonfire night|guy fawkes night|hogmanay|juneteenth
bank holiday|veterans day|presidents' day|presidents day|remembrance day|victoria day|family day|diwali|deepavali
holi|navratri|durga puja|onam|pongal|raksha bandhan|eid|eid al-fitr|eid al-adha|eid ul-fitr|eid ul-adha|eid mubarak
hari raya|lebaran|idul fitri|idul adha|chinese new year|lunar new year|mid-autumn festival|golden week|songkran
loy krathong|vesak|tết|tet nguyên đán|hanukkah|chanukah|rosh hashanah|yom kippur|passover|purim|sukkot|nowruz
midsummer|midsommar|midsommarafton|juhannus|vappu|sankthans|st. hans|koningsdag|sinterklaas|pakjesavond
bevrijdingsdag|weihnachten|heiligabend|heiligen abend|silvester|ostern|karfreitag|ostermontag|pfingsten|pfingstmontag
fronleichnam|nikolaustag|fasching|karneval|oktoberfest|tag der deutschen einheit|réveillon|pâques|toussaint
fête nationale|fête des mères|fête des pères|chandeleur|navidad|nochebuena|nochevieja|semana santa|día de reyes
reyes magos|día de muertos|día de los muertos|día de la independencia|día de la madre|día del padre|buen fin|hot sale
san valentín|vigilia di natale|capodanno|pasquetta|ferragosto|befana|epifania|festa della repubblica|carnevale
carnaval|páscoa|dia das mães|dia dos pais|dia dos namorados|quarta-feira de cinzas|sexta-feira santa|festa junina
boże narodzenie|wigilia|wielkanoc|andrzejki|święto niepodległości|mikołajki|velikonoce|vánoce|štědrý den|karácsony
húsvét|crăciun|paște|paşte|рождество|пасха|масленица|новый год|різдво|великдень|χριστούγεννα|πάσχα|πρωτοχρονιά
kurban bayramı|ramazan bayramı|şeker bayramı|cumhuriyet bayramı|julafton|julaften|joulu|jõulud|skjærtorsdag
skærtorsdag|skärtorsdag|langfredag|långfredag|påskafton|påskeaften|påskedag|påskdagen|annandag påsk|annen påskedag
2. påskedag|annandag jul|første juledag|andre juledag|nyttårsaften|nyårsafton|kristi himmelfartsdag|pinse|pingst
pitkäperjantai|pääsiäinen|春节|春節|中秋节|中秋節
端午节|端午節|国庆节|國慶節|双十一|雙十一|元旦|圣诞节|聖誕節|お正月|ゴールデンウィーク|お盆|クリスマス|バレンタインデー|설날|추석
크리스마스|어린이날|สงกรานต์|ลอยกระทง|ปีใหม่|عيد الفطر|عيد الأضحى|اليوم الوطني|חנוכה|פסח|ראש השנה|יום כיפור
"""
# Also given names or surnames: a holiday only after a wish or a preposition ("Buon Natale", "à Noël", "di Pasqua"),
# and before no capitalised word ("Natale Rossi" is a person). Not "Natal" (a Brazilian city), "Ramadan" (a surname).
AMBIGUOUS = ("noël", "noel", "natale", "pasqua")
_AMBIGUOUS_AFTER = frozenset(re.findall(r"\S+", """joyeux joyeuses bon bonne buon buona buone happy merry feliz
felices frohe frohes à a au de di du d' del della pour per avant après prima dopo for at until before after since
jusqu'à fino da sotto"""))

# scripts written without spaces: a holiday's name may touch the next word ("中秋節送禮", "추석에", "สงกรานต์นี้")
_CASELESS = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _alternatives(names: list[str]) -> str:
    """One regex alternation of `names`, longest first: words joined by any spaces or hyphens, apostrophes typed
    either way."""
    return "|".join(r"[\s-]+".join(re.escape(w).replace("'", "['’]") for w in re.split(r"[\s-]+", name))
                    for name in sorted(names, key=len, reverse=True))


@functools.cache
def _holiday_regex() -> re.Pattern[str]:
    """Occurrences of the names: whole words (a possessive "'s" included) for names in cased scripts, anywhere for
    names in scripts without spaces; group 1 is an ambiguous name, checked by `holiday_spans`."""
    names = {n.strip() for n in HOLIDAYS.replace("\n", "|").split("|") if n.strip()}
    cased = [n for n in names if not _CASELESS.search(n)]
    caseless = [n for n in names if _CASELESS.search(n)]
    return re.compile(rf"(?i:(?<![\w'’-])(?:{_alternatives(cased)})(?:['’]s)?(?![\w'’-])"
                      rf"|(?<![\w'’-])({_alternatives(list(AMBIGUOUS))})(?![\w'’-])|{_alternatives(caseless)})")


def holiday_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where `text` names a holiday (see the module docstring). The engine asks once per text and passes the spans to
    `refine.without_holidays` for each finding (no cache: a cache keyed by text would keep customers' texts in
    memory)."""
    out = []
    for m in _holiday_regex().finditer(text):
        if m.group(1) is not None:
            before = re.search(r"([\w'’]+)[ \t]*$", text[max(0, m.start() - 24):m.start()])
            after = re.match(r"[ \t]+(\w)", text[m.end():m.end() + 4])
            if before is None or before.group(1).lower().replace("’", "'") not in _AMBIGUOUS_AFTER or (
                    after is not None and after.group(1).isupper()):
                continue
        out.append(m.span())
    return tuple(out)
