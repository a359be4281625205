"""Corpus recipe v7 of the learned PII detector (issue 12): the build the v6 ablation pointed to.

The v6 recipe (`synth_decoys`) raised the detector's precision but lost street addresses (86 -> 73-79 % recall on the
hand-written development set). Its ablation showed where the loss came from: dates glued to labelled addresses and
names ("{dob}, {address}") and brands shaped like surnames or towns, both unlabelled and written right next to, or in
the same shapes as, labelled streets and places, taught the model to stop early or not to start. v7 keeps v6's
`scripts`, `chatturns` and `people3` kinds (the @handle templates there now produce texts) and adds:

- `dates7`: dates, weekdays, promotion periods, delivery windows and birth dates as sentences of their own with
  nothing labelled in them (never next to an address or a name inside a template), in numeric formats only (a first
  v7 draft with v6's "{day} {month word}" dates lost number-first street lines: "8 rue ...", "55 water st");
- `brands7`: catalog brands made only of invented syllables and ordinary words, redrawn when the result is a
  surname or a town of any corpus locale (`brand7`), in brand contexts, unlabelled;
- `streets7`: more labelled street lines of the kinds v6 lost, in the formats of each country's postal convention
  (the Universal Postal Union's address-format pages): Japanese chōme-ban-gō lines with building and room, Korean
  road-name addresses with block (동) and unit (호) or floor, Chinese road-number-building-room lines, Taiwanese
  section (段) and floor (樓) lines, Arabic ones with Arabic-Indic digits, floor and flat, Saudi national addresses
  (building and additional number), Thai house/moo/soi lines, Cyrillic "ул./вул. ..., д. ..., кв. ..." lines, and
  Latin ones with a suffix word or a unit after the number: French "27 bis", Belgian "bus 3" / "boîte 2", Austrian
  "88/2/14", Finnish "19 B 27", Polish "12/4" and "m. 5", Spanish "23, 3º izq.", Portuguese "312, 2.º Esq.", Czech
  "1511/230"; each in short texts of its language and in English ones.

Not the shipped model's corpus: two builds of this recipe (seeds 0 and 1) raised char precision by 1-2 points on the
hand-written development set but still lost street addresses there and on the mimesis development sets (figures in
docs/BENCHMARKS.md, "PII detector v7 on development sets"), so `train.py`'s default stays "v5".

`WORLD_V7` is `synth_world.WORLD` with the Korean review template reworded (the v5 one repeated the wording of a
development-set text). Every value comes from Faker (its locale's street, town and name lists) or from the lists
here, written for this project; no evaluation or development text was copied. Draws come from the text's seeded
random stream (Faker instances are re-seeded from it), so a seed gives the same corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from anonymize.detector import synth_decoys, synth_world

# --- brands: invented syllables and ordinary words only ----------------------------------------------------------
BRAND_WORDS = ("Bloom", "Hearth", "Fable", "Saltwater", "Ember", "Honest", "Kind", "Glow", "Daily", "Common",
               "Thread", "Pebble", "Atlas", "Echo", "Juniper", "Clover", "Summit", "Origin", "Pure", "Nomad",
               "Velvet", "Orchard", "Lantern", "Tide", "Nectar", "Anchor", "Canvas", "Quiet", "Bright", "Simple",
               "Sunday", "Cloud", "Mellow", "Honey", "Spark", "Petal", "Breeze", "Crumb", "Tonic", "Ripple",
               "Marble", "Cocoa", "Oat", "Kettle", "Meadowlark", "Lumen", "Prism", "Basil", "Sprout", "Fern")
BRAND_TAILS7 = ("", "", "", " Beauty", " Home", " & Co", " Studio", " Labs", " Kitchen", " Sport", " Cosmetics",
                " Outdoor", " Naturals", " Living", " Audio", " Kids", " Skin", " Goods")


@lru_cache(maxsize=1)
def blocked_brand_words() -> frozenset[str]:
    """Lower-case surnames, first names and towns of every corpus locale (Faker's lists and `synth_world.CITIES`):
    a brand must not have one of these shapes (v6's surname- and town-shaped brands cost street recall)."""
    from faker import Faker

    from anonymize.detector.synth_tables import LOCALES, NAME_ONLY_LOCALES

    words: set[str] = set()
    for locale in (*LOCALES, *NAME_ONLY_LOCALES, "en_US"):
        try:
            fake = Faker(locale)
        except AttributeError:
            continue
        for provider in fake.providers:
            for attr in ("last_names", "first_names", "first_names_male", "first_names_female", "cities",
                         "city_names", "towns"):
                values = getattr(provider, attr, None)
                if isinstance(values, dict):
                    values = list(values)
                if isinstance(values, (list, tuple)):
                    for value in values:
                        for part in str(value).lower().replace("-", " ").split():
                            words.add(part)
    for cities in synth_world.CITIES.values():
        words.update(c.lower() for c in cities)
    return frozenset(words)


def brand7(ctx: Any) -> str:
    """A catalog brand of invented syllables or ordinary words, never a surname, first name or town of the corpus."""
    blocked = blocked_brand_words()
    while True:
        if ctx.chance(0.55):
            word = "".join(ctx.pick(synth_decoys.SYLLABLES) for _ in range(ctx.rng.randint(2, 3)))
            words = [(word + ctx.pick(synth_decoys.SUFFIXES)).capitalize()]
        else:
            words = [ctx.pick(BRAND_WORDS)] + ([ctx.pick(BRAND_WORDS)] if ctx.chance(0.35) else [])
        if not any(w.lower() in blocked for w in words):
            return " ".join(words) + ctx.pick(BRAND_TAILS7)


# --- dates: sentences of their own ------------------------------------------------------------------------------
DATE_SENTENCES = (
    "Sale ends {weekday} {dateany}!", "Promo runs from {dateany} to {dateany}.", "Delivery window: {dateany}.",
    "Ordered on {dateany}, arrived {weekday}.", "Closed on {dateany} for stocktaking.",
    "Last day for returns: {dateany}.",
    "Next restock {dateany}.", "Invoice date {dateany}.", "Opening hours {weekday}-{weekday} 9-18.",
    "Offer valid until {dateany}.", "{dob}.", "Lieferung am {dateany}.", "Livraison prévue le {dateany}.",
    "Entrega el {dateany}.", "Consegna prevista il {dateany}.", "Levering op {dateany}.", "Dostawa {dateany}.",
    "Teslimat {dateany}.", "配達予定日 {dateany}", "배송 예정일 {dateany}", "发货日期 {dateany}", "{dateany} 到货",
    "Aktion bis {dateany}!", "Soldes jusqu'au {dateany} !", "Rebajas hasta el {dateany}.", "Black Friday {dateany}.",
    "Birthday club: members get 10% off in their birth month ({dob}).", "Store event {weekday} {dateany}, 6pm.",
)


def date7(ctx: Any) -> str:
    """A date in a numeric national format. Unlike v6's `date_any`, never "{day} {month word}": the first v7 build,
    with such dates ("le 12 janvier", "el 3 mayo"), lost number-first street lines ("8 rue ...", "55 water st"),
    read as a number and a lower-case word that are not PII."""
    d, m, y = ctx.rng.randint(1, 28), ctx.rng.randint(1, 12), ctx.rng.randint(1950, 2026)
    return ctx.pick((f"{m}/{d}", f"{d:02d}/{m:02d}", f"{d}.{m}.", f"{d:02d}.{m:02d}.{y}", f"{y}-{m:02d}-{d:02d}",
                     f"{m:02d}/{d:02d}/{y}", f"{d}/{m}/{y % 100:02d}", f"{y}年{m}月{d}日", f"{y}.{m:02d}.{d:02d}",
                     f"{d:02d}-{m:02d}-{y}"))


def dob7(ctx: Any) -> str:
    """A birth-date cue and a numeric date: "DOB: 03/14/1979", "geb. 17.11.1958" (never next to an address)."""
    cue = ctx.pick(synth_decoys.DOB_CUES)
    sep = " " if cue.endswith(":") else ctx.pick(("", "：", " ")) if not cue.isascii() else ctx.pick((" ", ": "))
    return f"{cue}{sep}{date7(ctx)}"


def date_sentence(ctx: Any) -> str:
    """One of `DATE_SENTENCES` with its dates, weekdays and birth dates filled in (all unlabelled)."""
    fill = {"dateany": date7, "weekday": lambda c: c.pick(synth_decoys.WEEKDAYS), "dob": dob7}
    return re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)](ctx), ctx.pick(DATE_SENTENCES))


# --- streets of the kinds v6 lost --------------------------------------------------------------------------------
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
JA_BUILDINGS = ("ハイツ", "コーポ", "レジデンス", "マンション", "ビル", "荘", "パレス", "コート", "メゾン")
JA_STEMS = ("サンライズ", "グリーン", "パーク", "リバーサイド", "ロイヤル", "エスポワール", "桜", "緑", "朝日", "富士")
KO_BUILDINGS = ("아파트", "빌라", "오피스텔", "타워", "스퀘어", "빌딩", "하이츠")
KO_STEMS = ("푸른", "한빛", "새솔", "하늘", "동명", "은하", "현대", "대림", "금강", "청솔")
ZH_BUILDINGS = ("号楼", "栋", "幢")
TW_SECTIONS = ("一", "二", "三", "四", "五")
AR_FLOORS = ("الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس")
AR_STREET_WORDS = ("شارع", "طريق", "ش.")
TH_SOI = ("ซอย", "ซ.")
RU_KINDS = ("ул.", "пр-т", "пер.", "ш.", "б-р", "пр.")
UK_KINDS = ("вул.", "просп.", "пров.", "бульв.")
ES_SIDES = ("izq.", "dcha.", "izda.", "A", "B", "ctro.")
PT_SIDES = ("Esq.", "Dto", "Dt.º", "Frente", "Esq")


@cache
def _faker(locale: str) -> Any:
    from faker import Faker

    return Faker(locale)


def _f(ctx: Any, locale: str) -> Any:
    """Faker of `locale`, re-seeded from the text's random stream (the same seed gives the same values)."""
    fake = _faker(locale)
    fake.seed_instance(ctx.rng.getrandbits(32))
    return fake


def _n(ctx: Any, lo: int, hi: int) -> int:
    return ctx.rng.randint(lo, hi)


def _clean(value: Any) -> str:
    return " ".join(str(value).split())


def _ja(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, "ja_JP")
    town, chome = _clean(f.town()), _n(ctx, 1, 9)
    nums = ctx.pick((f"{chome}丁目{_n(ctx, 1, 30)}-{_n(ctx, 1, 20)}", f"{chome}-{_n(ctx, 1, 30)}-{_n(ctx, 1, 20)}",
                     f"{chome}丁目{_n(ctx, 1, 30)}番{_n(ctx, 1, 20)}号", f"{chome}丁目{_n(ctx, 1, 30)}番地"))
    building = ctx.pick(("", "", f" {ctx.pick(JA_STEMS)}{ctx.pick(JA_BUILDINGS)}{_n(ctx, 1, 9)}0{_n(ctx, 1, 9)}",
                         f" {ctx.pick(JA_STEMS)}{ctx.pick(JA_BUILDINGS)}{_n(ctx, 1, 12)}0{_n(ctx, 1, 9)}号室",
                         f" {_clean(f.last_name())}{ctx.pick(JA_BUILDINGS)} {_n(ctx, 2, 15)}F"))
    street = f"{town}{nums}{building}"
    if ctx.chance(0.2):  # the ward before the town: "XX区YY町1-2-3"
        ward = _clean(f.city())
        street = (ward[ward.index("市") + 1:] if "市" in ward[:-1] else ward) + street
    return street, _clean(f.prefecture()) + _clean(f.city())


def _ko(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, "ko_KR")
    road = _clean(f.road_name()) if hasattr(f, "road_name") else _clean(f.street_name())
    base = ctx.pick((f"{road}{ctx.pick(('로', '길', '대로'))} {_n(ctx, 1, 600)}",
                     f"{road}로{_n(ctx, 1, 90)}번길 {_n(ctx, 1, 80)}",
                     f"{road}{ctx.pick(('로', '길'))} {_n(ctx, 1, 300)}-{_n(ctx, 1, 30)}"))
    unit = ctx.pick((f", {_n(ctx, 101, 412)}동 {_n(ctx, 101, 2304)}호",
                     f", {ctx.pick(KO_STEMS)}{ctx.pick(KO_BUILDINGS)} {_n(ctx, 101, 215)}동 {_n(ctx, 101, 1804)}호",
                     f", {ctx.pick(KO_STEMS)}{ctx.pick(KO_BUILDINGS)} {_n(ctx, 2, 25)}층",
                     f" {ctx.pick('ABCDEN')}동 {_n(ctx, 2, 12)}층", f" {_n(ctx, 101, 1204)}호", ""))
    return base + unit, _clean(f.city())


def _zh(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, "zh_CN")
    road = _clean(f.street_name())
    unit = ctx.pick((f" {_n(ctx, 1, 30)}{ctx.pick(ZH_BUILDINGS)} {_n(ctx, 101, 2806)}室",
                     f"{_n(ctx, 1, 30)}栋{_n(ctx, 1, 6)}单元{_n(ctx, 101, 2806)}室", f" {_n(ctx, 101, 2806)}室", ""))
    return f"{road}{_n(ctx, 1, 2999)}号{unit}", _clean(f.city())


def _tw(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, "zh_TW")
    road = _clean(f.street_name()).rstrip("路街") + ctx.pick(("路", "街", "南路", "北路", "東路"))
    section = ctx.pick((f"{ctx.pick(TW_SECTIONS)}段", ""))
    lane = ctx.pick(("", f"{_n(ctx, 1, 300)}巷", f"{_n(ctx, 1, 300)}巷{_n(ctx, 1, 30)}弄"))
    tail = ctx.pick((f"{_n(ctx, 2, 20)}樓", f"{_n(ctx, 2, 20)}樓之{_n(ctx, 1, 9)}", ""))
    return f"{road}{section}{lane}{_n(ctx, 1, 500)}號{tail}", _clean(f.city())


def _ar(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, ctx.pick(("ar_SA", "ar_EG", "ar_AA")))
    name = _clean(f.first_name())
    if ctx.chance(0.35):  # Saudi national address: district, street, building and additional number
        street = (f"حي {ctx.pick(synth_world.DISTRICTS['ar_SA'])}، {ctx.pick(AR_STREET_WORDS)} {name}، "
                  f"مبنى {_n(ctx, 1000, 9999)}{ctx.pick(('', f'، رقم إضافي {_n(ctx, 1000, 9999)}'))}")
        city = ctx.pick(synth_world.CITIES["ar_SA"])
    else:
        street = (f"{_n(ctx, 1, 120)} {ctx.pick(AR_STREET_WORDS)} {name}"
                  f"{ctx.pick(('', f'، الدور {ctx.pick(AR_FLOORS)}', f'، الدور {ctx.pick(AR_FLOORS)}، شقة {_n(ctx, 1, 30)}', f'، شقة {_n(ctx, 1, 30)}'))}")  # noqa: E501
        city = ctx.pick(synth_world.CITIES["ar_EG"] + synth_world.CITIES["ar_SA"])
    if ctx.chance(0.5):
        street = street.translate(ARABIC_DIGITS)
    return street, city


def _th(ctx: Any) -> tuple[str, str]:
    f = _f(ctx, "th_TH")
    soi = _thai_road(f)
    house = ctx.pick((f"{_n(ctx, 1, 999)}/{_n(ctx, 1, 99)}", str(_n(ctx, 1, 999))))
    street = ctx.pick((f"{house} หมู่ {_n(ctx, 1, 15)} {ctx.pick(TH_SOI)}{soi} {_n(ctx, 1, 60)}",
                       f"{house} {ctx.pick(TH_SOI)}{soi} {_n(ctx, 1, 60)} ถนน{_thai_road(f)}",
                       f"{house} หมู่ {_n(ctx, 1, 15)} ตำบล{_clean(f.tambon())}"))
    return street, _clean(f.amphoe())


def _thai_road(fake: Any) -> str:
    return _clean(fake.street_name()).removeprefix("ถนน").removeprefix("ถ.").strip()


def _cyr(ctx: Any) -> tuple[str, str]:
    if ctx.chance(0.65):
        f = _f(ctx, "ru_RU")
        name = _clean(f.street_title()) if hasattr(f, "street_title") else _clean(f.last_name())
        kind, house, flat = ctx.pick(RU_KINDS), "д.", "кв."
        city = _clean(f.city_name()) if hasattr(f, "city_name") else _clean(f.city())
    else:
        f = _f(ctx, "uk_UA")
        name = _clean(f.street_name()).split()[-1]
        kind, house, flat = ctx.pick(UK_KINDS), ctx.pick(("буд.", "б.")), "кв."
        city = _clean(f.city()).removeprefix("місто ")
    block = ctx.pick(("", f", корп. {_n(ctx, 1, 5)}", f"/{_n(ctx, 1, 9)}"))
    street = f"{kind} {name}, {house} {_n(ctx, 1, 180)}{block}"
    unit = ctx.pick((f", {flat} {_n(ctx, 1, 300)}", f", {flat} {_n(ctx, 1, 300)}, эт. {_n(ctx, 1, 16)}", ""))
    return street + unit, city


def _latin(ctx: Any) -> tuple[str, str]:
    kind = ctx.pick(("fr", "be", "at", "fi", "pl", "es", "pt", "cz", "nl"))
    n = _n(ctx, 1, 240)
    if kind == "fr":
        f = _f(ctx, "fr_FR")
        street = f"{n} {ctx.pick(('bis', 'ter', 'bis', 'B'))} {_clean(f.street_name())}"
    elif kind == "be":
        f = _f(ctx, "nl_BE")
        street = f"{_clean(f.street_name())} {n} {ctx.pick(('bus', 'bus', 'boîte', 'bte'))} {_n(ctx, 1, 40)}"
    elif kind == "at":
        f = _f(ctx, "de_AT")
        name = _clean(f.street_name())
        street = ctx.pick((f"{name} {n}/{_n(ctx, 1, 9)}/{_n(ctx, 1, 30)}", f"{name} {n}/Top {_n(ctx, 1, 30)}",
                           f"{name} {n}/{_n(ctx, 1, 30)}"))
    elif kind == "fi":
        f = _f(ctx, "fi_FI")
        street = f"{_clean(f.street_name())} {n} {ctx.pick('ABCDEF')} {_n(ctx, 1, 60)}"
    elif kind == "pl":
        f = _f(ctx, "pl_PL")
        street = ctx.pick((f"ul. {_clean(f.street_name())} {n}/{_n(ctx, 1, 80)}",
                           f"ul. {_clean(f.street_name())} {n} m. {_n(ctx, 1, 80)}",
                           f"al. {_clean(f.street_name())} {n}{ctx.pick(('A', 'B', ''))}/{_n(ctx, 1, 80)}"))
    elif kind == "es":
        f = _f(ctx, "es_ES")
        street = (f"{ctx.pick(('C/', 'Calle', 'Avda.', 'Pza.'))} {_clean(f.last_name())}, {n}, {_n(ctx, 1, 9)}º "
                  f"{ctx.pick(ES_SIDES)}")
    elif kind == "pt":
        f = _f(ctx, "pt_PT")
        street = f"{_clean(f.street_name())} {n}, {_n(ctx, 1, 9)}.º {ctx.pick(PT_SIDES)}"
    elif kind == "cz":
        f = _f(ctx, "cs_CZ")
        street = f"{_clean(f.street_name())} {_n(ctx, 100, 3000)}/{n}"
    else:
        f = _f(ctx, "nl_NL")
        street = f"{_clean(f.street_name())} {n}{ctx.pick((' bis', '-bis', ' huis', '-2hg', ' zwart'))}"
    return street, _clean(f.city())


# maker name -> (street/city maker, wrappers in its languages: {S} street line, {C} its city, {N} a name)
MAKERS: dict[str, tuple[Callable[[Any], tuple[str, str]], tuple[str, ...]]] = {
    "ja": (_ja, ("お届け先\n{N} 様\n{C} {S}", "住所： {C} {S}", "{S} までお願いします。", "配送先: {S}",
                 "{N}\n{S}\n{C}")),
    "ko": (_ko, ("받는 분: {N}\n주소: {C} {S}", "주소 {S} 으로 보내주세요", "{C} {S} 문 앞에 놔주세요", "배송지: {S}")),
    "zh": (_zh, ("收货地址： {C} {S}", "收件人 {N}\n{C} {S}", "请送到 {S} 谢谢", "地址: {S}")),
    "tw": (_tw, ("收件地址： {C} {S}", "寄到 {S} 謝謝", "{N}\n{C} {S}")),
    "ar": (_ar, ("العنوان: {S}، {C}", "المستلم: {N}\n{S}\n{C}", "التوصيل إلى {S}، {C} من فضلك", "{S}")),
    "th": (_th, ("ที่อยู่ {S} {C}", "ผู้รับ {N}\n{S}\n{C}", "ส่งที่ {S} นะคะ")),
    "cyr": (_cyr, ("Адрес: {S}, {C}", "Получатель: {N}\n{S}\n{C}", "Доставьте на {S}, пожалуйста", "{S}")),
    "latin": (_latin, ("{S}, {C}", "{N}\n{S}\n{C}", "Adresse: {S}, {C}", "Dirección: {S}, {C}", "Adres: {S}, {C}",
                       "Morada: {S}, {C}", "{S}")),
}
ENGLISH_WRAPPERS = ("Ship to: {N}\n{S}\n{C}", "my new address is {S}, {C}", "Please deliver to {S}, {C}.",
                    "Address: {S}", "the courier left it at {S} instead of my place", "{N}, {S}, {C}",
                    "Customer: the address is {S}\nAgent: thanks, updated", "return from {S}, {C} please")


def _maker(ctx: Any) -> str:
    """The text's street maker: its locale's script when there is one (60 %), else any."""
    chosen = getattr(ctx, "v7_maker", None)
    if chosen is None:
        own = {"ja": "ja", "ko": "ko", "zh": "tw" if ctx.locale == "zh_TW" else "zh", "ar": "ar", "th": "th",
               "ru": "cyr", "uk": "cyr", "bg": "cyr"}.get(ctx.locale[:2])
        chosen = own if own and ctx.chance(0.6) else ctx.pick(tuple(MAKERS))
        ctx.v7_maker = chosen
    return chosen


def _wrapped(ctx: Any, synth: Any, english: bool) -> list[Any]:
    key = _maker(ctx)
    make, wrappers = MAKERS[key]
    street, city = make(ctx)
    wrapper = ctx.pick(ENGLISH_WRAPPERS if english else wrappers)
    out: list[Any] = []
    for piece in wrapper.replace("{", "\x00{").replace("}", "}\x00").split("\x00"):
        if piece == "{S}":
            out.append(("STREET_ADDRESS", street))
        elif piece == "{C}":
            out.append(("LOCATION", city) if city else "")
        elif piece == "{N}":
            out.append(("PERSON", synth._full_name(ctx)))
        elif piece:
            out.append(piece)
    return out


def slots(synth: Any) -> dict[str, Callable[[Any], list[Any]]]:
    """The slot fillers of this module, given `synth` (the `synth_slots` module, whose helpers they reuse)."""

    def street_only(c: Any) -> list[Any]:
        return [("STREET_ADDRESS", MAKERS[_maker(c)][0](c)[0])]

    return {
        "x7addr": lambda c: _wrapped(c, synth, english=False),
        "x7en": lambda c: _wrapped(c, synth, english=True),
        "x7street": street_only,
        "brand7": lambda c: [brand7(c)],
        "date7": lambda c: [date_sentence(c)],
    }


TEMPLATES: dict[str, tuple[str, ...]] = {
    "streets7": (  # street lines of the kinds v6 lost, in their own languages and in English texts
        "{x7addr}", "{x7addr}", "{x7en}", "{x7en}", "{x7addr}\n{phone}", "{x7addr} {first}",
        "Customer: {x7street}\nAgent: {dphrase}", "{hello} {x7addr}. {bye}", "{x7en}. Thanks, {first}",
        "order {orderid}: {x7street}",
    ),
    "dates7": (  # dates as sentences of their own; nothing labelled in these templates
        "{date7}", "{date7} {date7}", "{lphrase}. {date7}", "{date7}\n{lphrase}", "{brand7} {bproduct}: {date7}",
        "{date7} {tail}",
    ),
    "brands7": (  # brands of invented syllables and ordinary words in brand contexts: unlabelled
        "the {brand7} {bproduct} is a dupe of the {brand7} one", "{brand7}'s new {bproduct} is finally out!!",
        "new {bproduct} by {brand7}, only {price}", "{brand7} x {brand7} collab {bproduct} sold out in minutes",
        "Is the {brand7} {bproduct} vegan?", "{brand7} {bproduct} ({colour}) - back in stock",
        "I prefer {brand7} over {brand7} for {bproduct}s.",
        "Our {brand7} range: {bproduct}, {bproduct} and {bproduct}.",
        "Bought the {brand7} {bproduct} for {first}, she loves it.",
        "Shop the {brand7} edit: {bproduct}s from {price}.",
        "the {bproduct} from {brand7} broke, {tail}", "{brand7} {bproduct} vs {brand7} {bproduct}: which one?",
    ),
    "people7": (  # more @handles and user names, in other languages too
        "merci {handle} pour le conseil !", "danke {handle} für den Tipp", "gracias {handle} por la recomendación",
        "grazie {handle}!!", "obrigada {handle} pela dica", "dank je {handle}", "{handle} さんありがとう",
        "{handle} 감사합니다", "via {handle}", "cc {handle} {handle}", "Verkäufer {uname} antwortet nicht",
        "el vendedor {uname} no contesta", "pseudo : {uname}", "user {uname} left a 1-star review",
    ),
}
KIND_WEIGHTS = {"streets7": 1.2, "dates7": 0.4, "brands7": 0.35, "people7": 0.35}
V6_KINDS_KEPT = ("scripts", "chatturns", "people3")  # v6's kinds v7 keeps (not `brands` and `dates`)

WORLD_V7 = {**synth_world.WORLD, "ko_KR": (
    synth_world.WORLD["ko_KR"][0], "{wcity}에서 잘 받았습니다. 포장도 깔끔하고 색도 사진이랑 같아요.",
    synth_world.WORLD["ko_KR"][2])}
