"""Deterministic synthetic training corpus for the learned PII detector.

Personal data comes from Faker (pinned; 49 locales for names, streets, postcodes, cities, regions, phone numbers and
national identifiers, 8 more for names only, Latin, Cyrillic, Greek, Hangul, kana/kanji, Chinese, Hebrew, Thai,
Georgian and Armenian script), composed by this module into each locale's own address order and phone formats, and
embedded in retail texts written here as templates: English ones (reviews, support chats, delivery notes, returns
forms, order e-mails with signatures, CRM and agent notes, surveys, gift messages, lists, key: value forms) and, from
`synth_intl`, short ones in ten other languages with their greetings, sign-offs and product nouns as context. Retail
distractors (brands, products, SKUs, prices, sizes, dates, e-mail addresses, IBANs, card numbers, IP addresses) are
left unlabelled so the model learns not to tag them; order, gift-card and customer/loyalty numbers are labelled.

Labels follow the anonymizer's entity names (anonymize/policy.py): PERSON, LOCATION, STREET_ADDRESS (the part of an
address below the locality; one span per line), POSTCODE, PHONE_NUMBER, ID_DOCUMENT, ORDER_NUMBER, GIFT_CARD,
LOYALTY_ID and (v5) LICENSE_PLATE. v5 merges in `synth_more` (addresses with floors/suites/landmarks, ids without
strong cues, plates, shop-prefixed ids, surnames, unlabelled branches and hotlines) and `synth_world` (per-locale
street and locality formats, more locales, short texts in their languages). The output is spaCy `Doc`s whose
entity spans align to tokens (checked with `Doc.char_span(...,
alignment_mode="expand")`: a text whose spans do not align exactly is drawn again). The approach is the
synthetic-data recipe of Presidio's `presidio-research` data generator (templates filled with Faker values), with
every draw from one seeded `random.Random`, so the same seed always gives the same corpus.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from anonymize.detector import synth_more, synth_world
from anonymize.detector.synth_intl import BYE, HELLO, LANG_OF_LOCALE, LANGS
from anonymize.detector.synth_intl import PRODUCTS as INTL_PRODUCTS
from anonymize.detector.synth_intl import TEMPLATES as INTL_TEMPLATES

LABELS = ("PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "ID_DOCUMENT", "ORDER_NUMBER",
          "GIFT_CARD", "LOYALTY_ID", "LICENSE_PLATE")  # v5: LICENSE_PLATE (synth_more)

# locale -> (weight, phone country code, locality order). Order codes: "PC CITY", "CITY PC", "CITY, ST PC",
# "CITY\nPC" (UK), "PC CITY (ST)" (Italy), "PC CITY - ST" (Brazil), "CITY - PC" (India).
LOCALES: dict[str, tuple[float, str, str]] = {
    "en_US": (3.0, "1", "CITY, ST PC"), "en_GB": (3.0, "44", "CITY\nPC"), "en_IE": (1.5, "353", "CITY PC"),
    "en_AU": (1.5, "61", "CITY ST PC"), "en_IN": (1.5, "91", "CITY - PC"), "en_CA": (1.5, "1", "CITY, ST PC"),
    "en_NZ": (1.0, "64", "CITY PC"), "de_DE": (2.0, "49", "PC CITY"), "de_AT": (1.0, "43", "PC CITY"),
    "de_CH": (1.0, "41", "PC CITY"), "fr_FR": (2.0, "33", "PC CITY"), "fr_CH": (0.7, "41", "PC CITY"),
    "it_IT": (1.5, "39", "PC CITY (ST)"), "es_ES": (1.5, "34", "PC CITY"), "es_MX": (1.0, "52", "CITY, ST PC"),
    "pt_PT": (1.0, "351", "PC CITY"), "pt_BR": (1.0, "55", "PC CITY - ST"), "nl_NL": (1.5, "31", "PC CITY"),
    "nl_BE": (0.8, "32", "PC CITY"), "pl_PL": (1.5, "48", "PC CITY"), "cs_CZ": (1.2, "420", "PC CITY"),
    "sk_SK": (0.7, "421", "PC CITY"), "sv_SE": (1.0, "46", "PC CITY"), "da_DK": (1.0, "45", "PC CITY"),
    "no_NO": (1.0, "47", "PC CITY"), "fi_FI": (1.0, "358", "PC CITY"), "tr_TR": (0.8, "90", "PC CITY"),
    "id_ID": (0.8, "62", "CITY, ST PC"), "vi_VN": (0.6, "84", "CITY"), "en_PH": (0.8, "63", "CITY PC"),
    "ro_RO": (1.0, "40", "PC CITY"), "hu_HU": (1.0, "36", "PC CITY"), "hr_HR": (0.6, "385", "PC CITY"),
    "sl_SI": (0.5, "386", "PC CITY"),
    # v4: non-Latin scripts and more of the Americas (names, places and addresses of customers abroad)
    "ko_KR": (0.5, "82", "CITY PC"), "ja_JP": (0.5, "81", "PC CITY"), "zh_CN": (0.4, "86", "CITY PC"),
    "zh_TW": (0.3, "886", "CITY PC"), "ru_RU": (0.6, "7", "PC CITY"), "uk_UA": (0.5, "380", "PC CITY"),
    "el_GR": (0.5, "30", "PC CITY"), "he_IL": (0.3, "972", "CITY PC"), "th_TH": (0.3, "66", "CITY PC"),
    "ka_GE": (0.2, "995", "PC CITY"), "hy_AM": (0.2, "374", "PC CITY"), "es_AR": (0.5, "54", "PC CITY"),
    "es_CO": (0.5, "57", "CITY"), "es_CL": (0.4, "56", "PC CITY"), "fr_CA": (0.5, "1", "CITY, ST PC"),
}
LOCALES.update(synth_world.NEW_LOCALES)  # v5: Arabic, East/West/South African locales (cities from synth_world)
# v4: locales used only for names (their Faker addresses are English placeholders); any text may carry a name from
# any locale (a Korean customer writing to a German shop), see _Ctx.names
NAME_ONLY_LOCALES = ("bg_BG", "et_EE", "lt_LT", "lv_LV", "is_IS", "hi_IN", "az_AZ", "tw_GH")
FOREIGN_NAME_SHARE = 0.15
FAMILY_FIRST = {"hu_HU", "vi_VN", "ko_KR", "ja_JP", "zh_CN", "zh_TW"}  # locales that write the family name first
NO_SPACE_NAMES = {"zh_CN": 1.0, "zh_TW": 1.0, "ko_KR": 0.7, "ja_JP": 0.3}  # share of names written without a space
PARTICLES = {
    "nl_NL": ("van", "van der", "van den", "de", "ter", "van 't"), "nl_BE": ("van", "de", "van den", "Vande"),
    "de_DE": ("von", "von der", "zu", "vom"), "de_AT": ("von",), "de_CH": ("von",), "fr_FR": ("de", "du", "de la"),
    "fr_CH": ("de",), "it_IT": ("di", "de", "del", "della", "d'"), "es_ES": ("de", "del", "de la", "de los"),
    "es_MX": ("de", "de la", "del"), "pt_PT": ("da", "dos", "de"), "pt_BR": ("da", "dos", "de"),
    "en_IE": ("O'", "Mac", "Mc"), "en_GB": ("Mac", "O'", "De"), "en_US": ("Mc", "O'", "Van", "De", "La"),
}
TITLES = ("Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Dr", "Dr.", "Prof.", "Herr", "Frau", "M.", "Mme",
          "Sr.", "Sra.", "Pan", "Pani", "Dhr.", "Mevr.", "Sig.", "Sig.ra", "Mx")
# everyday street types per language, as (type, format): Faker's own lists favour rare ones
COMMON_STREETS = {
    "es": tuple((k, f) for k in ("Calle", "Avenida", "Plaza", "Paseo", "Calle de", "Camino")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}", "{kind} {name} nº {n}")),
    "it": tuple((k, f) for k in ("Via", "Viale", "Piazza", "Corso", "Via dei", "Largo")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}")),
    "pt": tuple((k, f) for k in ("Rua", "Avenida", "Travessa", "Praça", "Rua Dr.", "Largo")
                for f in ("{kind} {name} {n}", "{kind} {name}, {n}", "{kind} {name}, nº {n}")),
    "fr": tuple((k, f) for k in ("rue", "avenue", "boulevard", "place", "rue de la", "chemin")
                for f in ("{n} {kind} {name}", "{n}, {kind} {name}", "{n} bis {kind} {name}")),
}
PO_BOX = ("PO Box", "P.O. Box", "Postfach", "BP", "Apartado", "Caixa Postal", "Postbus", "Box", "Skrytka pocztowa")
FLATS = ("Flat", "Apt", "Apt.", "Apartment", "Suite", "Unit", "Wohnung", "App.", "Piso", "m.", "Studio", "Floor")
ID_CUES = {
    "dl": ("driver's licence", "driving licence no.", "driver's license #", "DL number", "licence number",
           "Führerschein-Nr.", "permis de conduire", "DL", "driving licence"),
    "passport": ("passport", "passport no.", "passport number", "Reisepass", "passeport", "pasaporte"),
    "natid": ("national ID", "ID card", "ID number", "personal number", "SSN", "PESEL", "BSN", "NIE", "DNI",
              "personnummer", "codice fiscale", "CPF", "CNP", "rodné číslo", "henkilötunnus", "Aadhaar", "TC kimlik",
              "NIF", "ID no."),
}
BRANDS = ("Nordvik", "Kettlebrook", "Aurelle", "Stonewick", "Larkspur & Co", "Velora", "Brightfield", "Oakhurst",
          "Moonreef", "Tidewell", "Ferncastle", "Quillon", "Ardent Home", "Polarline", "Bramblewood", "Cinderleaf",
          "Halvorsen Outdoor", "Marlowe Kitchen", "Sundew", "Corvane", "Heritage Loom", "Pinecrest", "Zephyrine",
          "Wrenfold", "Glasshouse Botanics", "Northstar Denim", "Lumen Audio", "Copperpot", "Ivybridge Linen")
PRODUCTS = ("merino crew-neck jumper", "cast iron skillet", "Chelsea boots", "Oxford shirt", "Boston fern",
            "Victoria sponge tin", "linen duvet cover", "espresso machine", "running shoes", "waterproof jacket",
            "ceramic teapot", "wireless earbuds", "yoga mat", "denim jacket", "scented candle", "Panama hat",
            "Windsor chair", "Cambridge satchel", "Berlin tote", "Milano sofa", "Camden sneakers",
            "Devon cream tea set",
            "Kyoto knife", "Alaska parka", "Jersey dress", "Aspen throw", "Sierra backpack", "Madison lamp",
            "Florence vase", "Oslo side table", "Brooklyn loafers", "Vienna coffee grinder", "Hudson bookcase",
            "Savannah sandals", "bamboo toothbrush set", "leather wallet", "silk scarf", "garden hose")
COLOURS = ("navy", "black", "sage green", "oatmeal", "rust", "charcoal", "ivory", "burgundy", "sky blue", "white")
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "UK 8", "UK 10", "EU 42", "EU 38", "US 9", "size 12", "500 ml", "2 L",
         "28 cm", "king size", "double", "one size")
CURRENCIES = ("£{}", "${}", "€{}", "{} EUR", "{} €", "{} zł", "{} kr", "CHF {}", "{} Kč", "A${}", "R$ {}")

Segment = str | tuple[str, str]  # plain text, or (label, value)


@dataclass(frozen=True)
class SynthText:
    """One generated text and its labelled character spans (end exclusive; `text[start:end]` is the value)."""

    text: str
    spans: tuple[tuple[int, int, str], ...]
    locale: str
    template: str


class _Ctx:
    """What one text's slot fillers share: its locale, a Faker seeded for this text, the random stream, the Faker
    (and locale) its names come from, and the language of its templates."""

    def __init__(self, fake: Any, locale: str, rng: random.Random, english: Any, names: Any | None = None,
                 names_locale: str | None = None, lang: str = "en") -> None:
        self.fake, self.locale, self.rng, self.english = fake, locale, rng, english
        self.names, self.names_locale = names or fake, names_locale or locale
        self.lang = lang

    def name_call(self, method: str) -> str:
        """`method` ("first_name", "last_name") of the names Faker, one line, never empty."""
        value = " ".join(str(getattr(self.names, method)()).split())
        return value or " ".join(str(getattr(self.english, method)()).split())

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def call(self, *methods: str, fallback: Callable[[], str] | None = None) -> str:
        """The first Faker method this locale has that returns a non-empty one-line value."""
        for method in methods:
            try:
                value = str(getattr(self.fake, method)())
            except (AttributeError, TypeError, ValueError):
                continue
            value = " ".join(value.split())
            if value:
                return value
        return fallback() if fallback is not None else ""


# --- values ----------------------------------------------------------------------------------------------------
def _case(value: str, ctx: _Ctx, lower: float = 0.1, upper: float = 0.05) -> str:
    r = ctx.rng.random()
    return value.lower() if r < lower else value.upper() if r < lower + upper else value


def _first(ctx: _Ctx) -> str:
    return ctx.name_call("first_name").split()[0]


def _last(ctx: _Ctx) -> str:
    last = ctx.name_call("last_name")
    particles = PARTICLES.get(ctx.names_locale)
    if particles and ctx.chance(0.25):
        particle = ctx.pick(particles)
        last = particle + last if particle.endswith(("'", "Mc", "Mac")) else f"{particle} {last}"
    if ctx.chance(0.08):
        last = f"{last}-{ctx.name_call('last_name').split()[-1]}"
    return last


def _full_name(ctx: _Ctx) -> str:
    first, last = _first(ctx), _last(ctx)
    r = ctx.rng.random()
    if ctx.names_locale in FAMILY_FIRST and r < 0.7:
        return f"{last}{'' if ctx.chance(NO_SPACE_NAMES.get(ctx.names_locale, 0.0)) else ' '}{first}"
    if r < 0.62:
        return f"{first} {last}"
    if r < 0.72:
        return f"{first} {_first(ctx)} {last}"
    if r < 0.82:
        return f"{first[0]}. {last}"
    if r < 0.87:
        return f"{first[0]}.{_first(ctx)[0]}. {last}"
    if r < 0.93:
        return f"{first} {ctx.pick('ABCDEFGHJKLMNPRSTW')}. {last}"
    return f"{first}-{_first(ctx)} {last}"


def _street(ctx: _Ctx) -> str:
    if ctx.locale == "ja_JP":  # Faker's ja_JP street_address is an English placeholder; town + chome-ban-gou
        return ctx.call("town") + ctx.call("chome") + ctx.call("ban") + ctx.call("gou")
    if ctx.locale in synth_world.STREETS and (ctx.locale in synth_world.NEW_LOCALES or ctx.chance(0.3)):
        return synth_world.STREETS[ctx.locale](ctx)  # v5: the shapes people type (floors, blocks, landmarks)
    common = COMMON_STREETS.get(ctx.locale[:2])
    if common and ctx.chance(0.4):  # Faker favours rare street types ("Callejón", "Rotonda"); add the everyday ones
        kind, order = ctx.pick(common)
        name = _last(ctx) if ctx.chance(0.6) else f"{_first(ctx)} {_last(ctx)}"
        return order.format(kind=kind, name=name, n=ctx.rng.randint(1, 250))
    return ctx.call("street_address")


def _flat(ctx: _Ctx) -> str:
    secondary = ctx.call("secondary_address") if ctx.locale in ("en_US", "en_CA") and ctx.chance(0.5) else ""
    return secondary or f"{ctx.pick(FLATS)} {ctx.rng.randint(1, 120)}{ctx.pick(('', '', 'B', 'a', '/2'))}"


def _po_box(ctx: _Ctx) -> str:
    return f"{ctx.pick(PO_BOX)} {ctx.rng.randint(10, 99999)}"


def _region(ctx: _Ctx, abbr: bool = False) -> str:
    if abbr:
        return ctx.call("state_abbr", "administrative_unit", "state", "city")
    return ctx.call("state", "administrative_unit", "region", "province", "city")


def _phone(ctx: _Ctx) -> str:
    national = ctx.call("phone_number", fallback=lambda: f"0{ctx.rng.randint(200000000, 999999999)}")
    code = LOCALES[ctx.locale][1]
    r = ctx.rng.random()
    if r < 0.45 or national.startswith("+"):
        number = national
    else:
        digits = re.sub(r"\D", "", national.split("x")[0])
        digits = digits.lstrip("0") or digits
        if code == "1" and digits.startswith("1"):
            digits = digits[1:]
        sep = ctx.pick((" ", " ", "-", ".", ""))
        groups, i = [], 0
        while i < len(digits):
            width = ctx.pick((2, 3, 3, 4))
            groups.append(digits[i:i + width])
            i += width
        body = sep.join(groups)
        prefix = ctx.pick((f"+{code} ", f"+{code} ", f"00{code} ", f"+{code}", f"+{code}-", f"({'+' + code}) "))
        number = prefix + body
    if "x" in number.lower() and ctx.chance(0.7):
        number = re.split(r"x", number, flags=re.IGNORECASE)[0]
    if ctx.chance(0.08):
        number += ctx.pick((" ext. ", " ext ", " x", " extension ", " Durchwahl ", " poste ")) + str(
            ctx.rng.randint(2, 9999))
    return number.strip()


def _driving_licence(ctx: _Ctx) -> str:
    rng = ctx.rng
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"

    def chars(pool: str, n: int) -> str:
        return "".join(rng.choice(pool) for _ in range(n))

    shapes = (
        lambda: chars(letters, 1) + chars("0123456789", 7),
        lambda: f"{chars(letters, 1)}{chars('0123456789', 3)}-{chars('0123456789', 4)}-{chars('0123456789', 4)}",
        lambda: (re.sub(r"[^A-Z]", "", _last(ctx).upper()) + "99999")[:5] + chars("0123456789", 6)
        + chars(letters, 2) + chars("0123456789", 1) + chars(letters, 2),
        lambda: chars(letters, 1) + chars("0123456789", 3) + chars(letters + "0123456789", 6) + chars("0123456789", 1),
        lambda: chars("0123456789", 2) + chars(letters, 2) + chars("0123456789", 5),
        lambda: chars("0123456789", 9),
        lambda: f"{chars(letters, 2)} {chars('0123456789', 6)}",
    )
    return ctx.pick(shapes)()


def _passport(ctx: _Ctx) -> str:
    value = ctx.call("passport_number")
    if not value or ctx.chance(0.4):
        value = "".join(ctx.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(ctx.rng.randint(1, 2)))
        value += "".join(ctx.rng.choice("0123456789") for _ in range(ctx.rng.randint(6, 8)))
    return value


def _national_id(ctx: _Ctx) -> str:
    return ctx.call("ssn", fallback=lambda: str(ctx.rng.randint(10**8, 10**11)))


def _price(ctx: _Ctx) -> str:
    amount = f"{ctx.rng.randint(2, 480)}.{ctx.pick(('00', '99', '49', '95'))}"
    return ctx.pick(CURRENCIES).format(amount if ctx.chance(0.7) else amount.replace(".", ","))


def _sku(ctx: _Ctx) -> str:
    rng = ctx.rng
    shapes = (f"SKU-{rng.randint(10000, 99999)}-{ctx.pick(('BL', 'RD', 'XL', 'M', 'GR'))}",
              f"{ctx.pick('ABCDEFGHKMNPRSTW')}{ctx.pick('ABCDEFGHKMNPRSTW')}{rng.randint(1000, 9999)}",
              f"ART {rng.randint(100000, 999999)}", f"#{rng.randint(100000, 999999)}",
              f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}")
    return ctx.pick(shapes)


def _order(ctx: _Ctx) -> str:
    rng = ctx.rng
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    prefix = "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
    return ctx.pick((f"ORD-{rng.randint(2019, 2026)}-{rng.randint(1000000, 9999999)}", f"{rng.randint(10000, 999999)}",
                     f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}",
                     f"W{rng.randint(100000000, 999999999)}", f"RMA{rng.randint(10000, 99999)}",
                     f"{prefix}-{rng.randint(10**4, 10**8)}", f"{prefix}{rng.randint(10**5, 10**9)}",
                     f"{rng.randint(10**5, 10**8)}", f"{rng.randint(10, 9999)}-{rng.randint(10**3, 10**6)}",
                     f"{rng.randint(2019, 2026)}/{rng.randint(10**4, 10**7)}",
                     f"{rng.randint(10, 999)}-{rng.randint(10**3, 10**6)}-{rng.randint(10, 9999)}"))


def _email(ctx: _Ctx) -> str:
    user = re.sub(r"[^a-z0-9.]", "", _first(ctx).lower()) or "info"
    return f"{user}{ctx.pick(('', '.', '_'))}{ctx.rng.randint(1, 99)}@{ctx.pick(('example.com', 'mail.test'))}"


def _date(ctx: _Ctx) -> str:
    rng = ctx.rng
    month = ctx.pick(("January", "March", "May", "July", "September", "November", "Feb", "Oct", "Dec"))
    return ctx.pick((f"{rng.randint(1, 28)} {month}", f"{month} {rng.randint(1, 28)}",
                     f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2020, 2026)}", "yesterday",
                     "last Tuesday", f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))


def _gift(ctx: _Ctx) -> str:
    rng = ctx.rng
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"

    def group(n: int, pool: str) -> str:
        return "".join(rng.choice(pool) for _ in range(n))

    sep = ctx.pick(("-", " ", ""))
    return ctx.pick((f"GIFT-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                     group(16, letters + "0123456789"), group(12, letters + "0123456789"),
                     sep.join(group(4, "0123456789") for _ in range(ctx.pick((3, 4, 4, 5)))),
                     sep.join(group(4, letters + "0123456789") for _ in range(ctx.pick((3, 4)))),
                     f"{group(2, letters)}-{group(4, letters)}-{group(4, '0123456789')}-{group(4, letters)}",
                     f"GC{rng.randint(10**7, 10**8 - 1)}"))


def _custid(ctx: _Ctx) -> str:
    """A customer, member or loyalty-card number (labelled LOYALTY_ID: the policy's type for account numbers)."""
    rng = ctx.rng
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    prefix = "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
    return ctx.pick((f"CUST-{rng.randint(10000, 999999)}", f"{prefix}{rng.randint(10**6, 10**8)}",
                     f"{prefix}-{rng.randint(10**6, 10**8)}", f"{rng.randint(10**7, 10**10)}",
                     f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
                     " ".join(str(rng.randint(1000, 9999)) for _ in range(3)), f"LOY{rng.randint(10**5, 10**7)}"))


def _lproduct(ctx: _Ctx) -> str:
    products = INTL_PRODUCTS.get(ctx.lang)
    return ctx.pick(products) if products and ctx.chance(0.8) else ctx.pick(PRODUCTS)


# --- slots: each returns segments ------------------------------------------------------------------------------
def _words(ctx: _Ctx) -> str:
    """Unlabelled filler in the text's own language: Faker's per-locale word lists (German nouns capitalised, Dutch,
    French, Polish, Czech... and Latin where a locale has none). It teaches that capitalised words of any language
    at a sentence start or inside it are not names or places by themselves."""
    source = ctx.fake if ctx.chance(0.75) else ctx.english
    words = source.sentence(nb_words=ctx.rng.randint(3, 9))
    return words if ctx.chance(0.8) else words.rstrip(".")


def _locality(ctx: _Ctx, country: bool = False) -> list[Segment]:
    """The locality line in the locale's order: postcode, city and region, each its own span."""
    order = LOCALES[ctx.locale][2]
    city = ("LOCATION", synth_world.city(ctx))
    pc = ("POSTCODE", ctx.call("postcode"))
    if order == "PC CITY":
        segs: list[Segment] = [pc, " ", city]
    elif order == "CITY PC":
        segs = [city, ctx.pick((" ", ", ")), pc]
    elif order == "CITY\nPC":
        segs = [city, ctx.pick(("\n", ", ", " ")), pc]
    elif order in ("CITY, ST PC", "CITY ST PC"):
        segs = [city, ctx.pick((", ", " ") if order == "CITY ST PC" else (", ",)),
                ("LOCATION", _region(ctx, abbr=ctx.chance(0.7))), " ", pc]
    elif order == "PC CITY (ST)":
        segs = [pc, ctx.pick((" ", ", ")), city, " (", ("LOCATION", ctx.call("state_abbr")), ")"]
    elif order == "PC CITY - ST":
        segs = [pc, " ", city, " - ", ("LOCATION", ctx.call("state_abbr"))]
    elif order == "CITY - PC":
        segs = [city, ctx.pick((" - ", " ", ", ")), pc]
    else:
        segs = [city]
    if not pc[1]:
        segs = [s for s in segs if s != pc]
    if country:
        segs += [ctx.pick((", ", " ", "\n")), ("LOCATION", ctx.english.country() if ctx.chance(0.7)
                                                 else ctx.call("country"))]
    return segs


def _address(ctx: _Ctx, multiline: bool) -> list[Segment]:
    """A whole address: street line (with or without a flat), locality, sometimes a country."""
    lines: list[list[Segment]] = []
    r = ctx.rng.random()
    if r < 0.08:
        lines.append([("STREET_ADDRESS", _po_box(ctx))])
    elif r < 0.3:
        flat, street = _flat(ctx), _street(ctx)
        if multiline and ctx.chance(0.5):
            lines += [[("STREET_ADDRESS", flat)], [("STREET_ADDRESS", street)]]
        else:
            joined = f"{flat}, {street}" if ctx.chance(0.5) else f"{street}, {flat}"
            lines.append([("STREET_ADDRESS", joined)])
    else:
        lines.append([("STREET_ADDRESS", _street(ctx))])
    locality = _locality(ctx, country=ctx.chance(0.25))
    if multiline:
        flat_locality = [s if not isinstance(s, str) else s.replace("\n", "\n") for s in locality]
        lines.append(flat_locality)
        out: list[Segment] = []
        for i, line in enumerate(lines):
            out += ([] if i == 0 else ["\n"]) + line
        return out
    out = []
    for i, line in enumerate(lines):
        out += ([] if i == 0 else [ctx.pick((", ", ", ", " "))]) + [s.replace("\n", ", ") if isinstance(s, str)
                                                                    else s for s in line]
    return out


def _name_slot(ctx: _Ctx) -> list[Segment]:
    return [("PERSON", _case(_full_name(ctx), ctx))]


def _titled(ctx: _Ctx) -> list[Segment]:
    name = _last(ctx) if ctx.chance(0.6) else _full_name(ctx)
    return [ctx.pick(TITLES) + " ", ("PERSON", _case(name, ctx, 0.06, 0.04))]


def _names_list(ctx: _Ctx) -> list[Segment]:
    n = ctx.rng.randint(2, 4)
    out: list[Segment] = []
    for i in range(n):
        if i:
            out.append(" and " if i == n - 1 else ", ")
        out.append(("PERSON", _case(_full_name(ctx) if ctx.chance(0.7) else _first(ctx), ctx, 0.05, 0.03)))
    return out


SLOTS: dict[str, Callable[[_Ctx], list[Segment]]] = {
    "name": _name_slot,
    "first": lambda c: [("PERSON", _case(_first(c), c, 0.15, 0.04))],
    "last": lambda c: [("PERSON", _case(_last(c), c, 0.08, 0.06))],
    "titled": _titled,
    "names": _names_list,
    "street": lambda c: [("STREET_ADDRESS", _case(_street(c), c, 0.08, 0.05))],
    "address": lambda c: _address(c, multiline=False),
    "address_ml": lambda c: _address(c, multiline=True),
    "locality": lambda c: _locality(c),
    "city": lambda c: [("LOCATION", _case(synth_world.city(c), c, 0.15, 0.05))],
    "region": lambda c: [("LOCATION", _case(_region(c), c, 0.1, 0.05))],
    "country": lambda c: [("LOCATION", _case(c.english.country() if c.chance(0.8) else c.call("country"), c,
                                             0.12, 0.05))],
    "postcode": lambda c: [("POSTCODE", c.call("postcode"))],
    "phone": lambda c: [("PHONE_NUMBER", _phone(c))],
    "dl": lambda c: [c.pick(ID_CUES["dl"]) + c.pick((" ", ": ", " no. ", " ")), ("ID_DOCUMENT", _driving_licence(c))],
    "passport": lambda c: [c.pick(ID_CUES["passport"]) + c.pick((" ", ": ", " ")), ("ID_DOCUMENT", _passport(c))],
    "natid": lambda c: [c.pick(ID_CUES["natid"]) + c.pick((" ", ": ", " ")), ("ID_DOCUMENT", _national_id(c))],
    "brand": lambda c: [c.pick(BRANDS)],  # fixed invented brands: surname-made ones cost recall (v4 notes)
    "hello": lambda c: [c.pick(HELLO.get(c.lang, HELLO["en"]))],
    "bye": lambda c: [c.pick(BYE.get(c.lang, BYE["en"]))],
    "lproduct": lambda c: [_lproduct(c)],
    "iban": lambda c: [c.call("iban") if c.chance(0.6) else c.english.iban()],
    "card": lambda c: [c.english.credit_card_number()],
    "ip": lambda c: [c.english.ipv4_public() if c.chance(0.7) else c.english.ipv6()],
    "gift": lambda c: [("GIFT_CARD", _gift(c))],
    "custid": lambda c: [("LOYALTY_ID", _custid(c))],
    "product": lambda c: [c.pick(PRODUCTS)],
    "colour": lambda c: [c.pick(COLOURS)],
    "size": lambda c: [c.pick(SIZES)],
    "price": lambda c: [_price(c)],
    "sku": lambda c: [_sku(c)],
    "order": lambda c: [("ORDER_NUMBER", _order(c))],
    "email": lambda c: [_email(c)],
    "date": lambda c: [_date(c)],
    "n": lambda c: [str(c.rng.randint(2, 14))],
    "words": lambda c: [_words(c)],
}
SLOTS.update(synth_more.slots(sys.modules[__name__]))  # v5 value shapes; they reuse this module's helpers
SLOTS.update(synth_world.slots(sys.modules[__name__]))

TEMPLATES: dict[str, tuple[str, ...]] = {
    "review": (
        "Bought the {brand} {product} for my husband {first} and he loves it. Size {size} fits perfectly.",
        "Great {product}! My neighbour {name} recommended it. Arrived in {city} within {n} days.",
        "The {colour} {product} from {brand} is lovely but the strap broke after a week. {price} is too much.",
        "I live in {city} and the delivery was quick. Five stars for {brand}.",
        "{product} in {colour}, size {size}. Comfortable and warm. Would buy again.",
        "Ordered this as a gift for {first} in {country}; shipping took {n} days but worth it.",
        "Absolutely love my new {product}. {brand} never disappoints. Paid {price}.",
        "Not happy. The {product} ({sku}) arrived damaged. Reviewed by {name}, {city}.",
        "we moved from {city} to {city} and this {product} survived the trip. thanks {brand}!",
        "Meh. The {brand} {product} looks cheaper than in the photos. {price} for this?",
        "My daughter {first} wears the {size} {product} every day. Bought at the {branch}.",
        "Sturdy {product}, good value at {price}. Delivered to {region} without problems.",
        "Review from {titled}: the {product} stopped working after {n} weeks.",
        "I bought two {product}s, one for me and one for my sister {first} who lives near {city}, {country}.",
    ),
    "chat": (
        "Customer: hi, this is {name}, my order {order} never arrived\nAgent: Sorry {first}! Can you confirm the "
        "delivery address?\nCustomer: {address}",
        "Agent: Thanks for contacting {brand} support, my name is {first}.\nCustomer: hello {first}, I need to change "
        "my phone number to {phone}",
        "[{date}] {first}: the parcel went to {street} instead of my place\n[{date}] support: we'll check with the "
        "courier in {city}",
        "Customer: can you call me back on {phone}? ask for {titled}.",
        "Customer: for the age check, my {dl}\nAgent: thanks {first}, verified.",
        "Agent: I just need your {natid} please\nCustomer: ok, and my name is {name}",
        "hey its {first} again, still waiting on the {product}. my number is {phone} if easier",
        "Agent ({first}): I've updated the address to {address}. Anything else?\nCustomer: no thanks, bye",
        "CUSTOMER: I PAID {price} FOR THE {product} AND IT IS BROKEN. CALL ME ON {phone}.",
        "Customer: hi, I'm {name} from {city}. The {product} ({sku}) in {colour} is missing a part.",
        "User: my husband {name} placed the order, can I pick it up in {city} instead?",
        "Chat transcript - customer {name}, phone {phone}, issue: wrong size ({size}) {product}.",
        "Agent: Hi, {first} here from {brand}. How can I help?\nCustomer: my {product} has not arrived",
        "Agent: Hello, you're speaking with {first}. Could you give me the order number?\nCustomer: {order}",
        "@{first} thanks so much for the lovely review!",
        "{first} here - quick question about order {order}.",
        "Agent {first}: your refund is approved.\nCustomer: thanks {first}, bye!",
        "Customer: hi, this is {first}. The {product} is the wrong colour.",
        "Support ({first}): We have re-sent the parcel. Anything else?",
        "cc {first} - can you check the stock in {city}?",
    ),
    "delivery": (
        "Deliver to:\n{name}\n{address_ml}\nTel: {phone}",
        "Delivery note for order {order}. Recipient: {name}, {address}. Leave with neighbour at {street} if out.",
        "Ship to: {titled}, {address}. Phone {phone}. Items: {n} x {product} ({sku}).",
        "Courier instructions: ring {phone} on arrival. {name}\n{address_ml}",
        "Please leave the parcel with {first} at number {n}, {street}, {locality}.",
        "DELIVERY ADDRESS: {address}. CONTACT: {name} {phone}",
        "Recipient {name}\nc/o {brand}\n{address_ml}",
        "Parcel for {name}, {address} - signed for by {first} on {date}.",
    ),
    "returns": (
        "RETURNS FORM\nName: {name}\nAddress: {address}\nPhone: {phone}\nOrder: {order}\nItem: {product} ({sku})\n"
        "Reason: wrong size",
        "Return request from {name} ({email}). Item {sku}, {price}. Collect from {street}, {locality}.",
        "I would like to return the {colour} {product}. Refund to {name}. Pick-up address: {address}.",
        "Return label for {titled}, {address_ml}",
        "Name: {name}\nPostcode: {postcode}\nReason: damaged {product}\nContact number: {phone}",
        "Returned item {sku} received at our {branch}; customer {name} refunded {price}.",
    ),
    "email": (
        "Hello,\n\nmy order {order} has not arrived yet. Could you check?\n\nKind regards,\n{name}\n{address_ml}\n"
        "{phone}",
        "Hi team, please update my address to {address}. Thanks, {first}",
        "Dear {titled},\n\nThank you for your order of the {brand} {product} ({price}). It will ship to {city} "
        "tomorrow.\n\nBest,\n{first}\n{brand} Customer Care",
        "Subject: Order {order}\n\nHi, it's {name}. The {product} arrived but the {size} is too small. Can I exchange "
        "it?\n\nCheers\n{first}\nMob: {phone}",
        "Good morning, I am writing on behalf of my mother, {name}, who lives at {address}. She never received the "
        "{product}.\n--\n{name}\n{phone}",
        "Bonjour, je m'appelle {name}. Mon adresse: {address}. Tel. {phone}. Merci!",
        "Hallo, hier ist {name} aus {city}. Meine Telefonnummer: {phone}. Danke!",
        "Hola, soy {name}, vivo en {city}. Mi teléfono es {phone}.",
        "Thanks,\n{name}\nHead of Purchasing, {brand}\n{address_ml}\nT {phone}",
        "From: {name} <{email}>\nTo: orders@example.com\nPlease cancel order {order}. I moved to {city}.",
    ),
    "crm": (
        "CRM note {date}: spoke with {name} (tel {phone}) about a late delivery to {city}. Offered {price} voucher.",
        "Customer {name} called from {country}. Verified identity with {dl}. Address on file: {address}.",
        "Account holder {name}; ID checked: {passport}. Prefers contact by phone {phone}.",
        "Note: {first} {last} asked us to send invoices to {street}, {locality} from now on.",
        "Verified {natid} for {name} before releasing the refund of {price}.",
        "Escalation: {titled} ({phone}) reports the {product} ({sku}) overheated. Lives in {region}.",
        "VIP customer {name}, {city}. Birthday gift sent. Loyalty tier gold.",
        "Caller gave {dl} and {passport}; name {name}, postcode {postcode}.",
        "KYC check passed for {name}: {natid}, {passport}.",
        "Age verification for {first}: {dl} (expires {date}).",
        "Customer supplied {natid} and phone {phone}; address {address}.",
        "follow up with {last} re order {order}; she moved to {city}, {country}.",
        "Complaint logged for {name}. Courier left parcel at {street}. Customer reachable on {phone}.",
    ),
    "gift": (
        "Gift message: Happy birthday {first}! Love from {first} and {first} xx",
        "To {name}, congratulations on the new home in {city}! From all of us at number {n}.",
        "Dear {first}, enjoy the {product}! Hugs, {first}",
        "Merry Christmas {first} & {first} - see you in {city} soon!",
        "for {first}, with love from auntie {first}",
        "Gift for {titled} - please don't include the receipt ({price}).",
    ),
    "list": (
        "founders: {names}",
        "Team on shift today: {names}.",
        "Attendees: {names} (all from the {branch})",
        "Referred friends: {names}",
        "Signed by {names} on {date}.",
        "Winners of the {brand} giveaway: {names}!",
    ),
    "form": (
        "Name: {name}\nStreet: {street}\nCity: {city}\nPostcode: {postcode}\nCountry: {country}\nPhone: {phone}",
        "first name: {first}\nlast name: {last}\naddress: {address}\nphone: {phone}",
        "Full name = {name}; phone = {phone}; city = {city}",
        "NAME {name} | TEL {phone} | ADDRESS {address}",
        "Billing address\n{name}\n{address_ml}\n\nShipping address\n{name}\n{address_ml}",
        "Customer: {name}\nID: {natid}\nDOB: {date}\nPhone: {phone}",
        "Name: {name}\nDocument: {passport}\nNationality: {country}",
        "ID type: {dl}\nHolder: {name}\nAddress: {address_ml}",
        "Applicant {name}, {dl}, residing at {address}.",
        "Contact person: {titled}\nMobile: {phone}\nRegion: {region}",
    ),
    "prose": (
        "We spent the summer in {city} and then drove down to {region}.",
        "She grew up in {country} but has lived in {city} for ten years.",
        "shipping to {country} takes about {n} working days.",
        "Do you deliver to {city}? I'm near {city}, {region}.",
        "{first} said the store in {city} had the {product} in stock.",
        "My brother {first} recommended your shop; he lives in {country}.",
        "Our friend {last} from {city} bought one too.",
        "I'm staying with {name} in {city} until {date}.",
        "Can {first} pick up the order? Her number is {phone}.",
        "The package was delivered to {street} in {city} by mistake.",
    ),
    "subject": (  # a person as the subject of a sentence, at the start of a text or mid-sentence, before a verb
        "{name} ordered two of the {product}s last week.",
        "{name} called about the {product} again.",
        "{first} loves the {colour} {product}, thank you!",
        "{name} returned the {product} because it was too small.",
        "{first} and {first} bought matching {product}s.",
        "{titled} rang to ask when the {product} will arrive.",
        "Yesterday {name} wrote to say the parcel was damaged.",
        "When {first} opened the box the {product} was broken.",
        "{last} paid {price} and received the wrong size.",
        "I think {name} already has one, so I got {first} the {product} instead.",
        "{name} lives at {address} and wants a refund.",
        "{name} from {city} says the {product} is excellent.",
        "{first} {last} wants to know if we ship to {country}.",
        "Apparently {name} never got the confirmation e-mail.",
        "{first} says hi and asks whether the {product} comes in {size}.",
        "{name} will collect the order from the {branch} tomorrow.",
        "{first}'s order arrived but {first}'s {product} did not.",
        "{name} can be reached on {phone} most evenings.",
        "Our driver {first} left it with {name} next door.",
        "{name} ({email}) asked us to cancel order {order}.",
    ),
    "object": (  # a person or place as the object of a verb or preposition, mid-sentence
        "Please call {name} on {phone} about the {product}.",
        "call {first} on {phone} if nobody answers",
        "Could you email {name} about the refund?",
        "I spoke to {first} yesterday and she said it had shipped.",
        "I spoke to {name} on the phone and he promised a replacement.",
        "Met {name} at the {branch} last week.",
        "We sent {name} a replacement {product} on {date}.",
        "Can you ring {titled} back before five?",
        "Please let {first} know the {product} is ready.",
        "I gave the {product} to {name} for her birthday.",
        "Tell {first} thanks for the quick reply!",
        "Visiting {first} in {city} next week, can it arrive before then?",
        "Is there a store in {city}?",
        "Do you have a shop near {city} or anywhere in {region}?",
        "I was in {city} on {date} and the {brand} shop had none left.",
        "My order was sent to {city} instead of {city}.",
        "Ask {first} or {first} at the front desk for the {product}.",
        "We are moving to {country} in spring; can I still use my account there?",
        "the driver gave it to {name} at {street} instead of me",
        "Is it OK if {first} signs for it while I'm in {city}?",
        "Refund issued to {name}. Next step: call {first} on {phone}.",
        "Thanks again to {first} in your {branch}.",
        "Forwarded the complaint from {name} to the {branch}.",
        "Our friend {name} told us about you.",
    ),
    "local": (  # the locale's own words around the values: not every capitalised foreign word is a name
        "{words} {name} {words}",
        "{words}\n{words}\n{name}",
        "{words} {city}. {words}",
        "{words} {phone}. {words}",
        "{words}: {address}\n{words}",
        "{words} {first}, {words}",
        "{words} {order}. {words} {words}",
        "{words}\n\n{words}\n{titled}",
        "{name}: {words}",
        "{words} ({brand} {product}). {words}",
    ),
    "none": (
        "{words}",
        "{words} {words}",
        "{words}\n{words}",
        "{words} {product}, {words}",
        "The {product} from {brand} is great value at {price}. Size {size}.",
        "Arrived quickly, well packaged, fits true to size ({size}).",
        "{brand} {product}, {colour}, {sku}: back in stock next week.",
        "Order {order} shipped on {date}. Tracking available in your account.",
        "Five stars. The {colour} {product} looks even better than in the photos.",
        "Returned the {product} ({sku}) because the {size} was too big; refund of {price} received.",
        "Is the {brand} {product} dishwasher safe?",
        "Price drop: {brand} {product} now {price} (was {price}).",
        "Please send the invoice for order {order} to {email}.",
        "Stock check: {sku} x {n}, {sku} x {n}, {sku} x {n}.",
        "Is there a discount on the {product} this week?",
        "Met my expectations. The {product} is sturdy and there are {n} colours to choose from.",
        "Could you email me the invoice? Thanks.",
        "Please call me back about the {product}.",
        "Great fit, bought the {size} for my son.",
        "Love the {product}! The {colour} one sold out though.",
        "Question about {product}: does it come in {size}?",
        "THE {product} IS AMAZING, BEST PURCHASE THIS YEAR.",
        "the {brand} {product} broke after {n} days. not impressed.",
    ),
    "survey": (  # v4: feedback forms and questionnaires, mostly without personal data
        "Q: How did you hear about us? A: Instagram.\nQ: Would you shop again? A: Yes, if shipping were cheaper.",
        "Q: What went well? A: Quick checkout and friendly staff. Q: What went wrong? A: Nothing really.",
        "Rating: 4/5. Comments: the {product} is lovely but took ages to arrive. Recyclable packaging please!",
        "Feedback: staff member {first} at the {branch} was really helpful with sizes.",
        "Q: Anything we could improve? A: More colours for the {product}, and a loyalty discount.",
        "Survey response {n}: recommend us to a friend? Probably. Reason: Good value, slow delivery.",
        "How likely are you to recommend {brand}? 9. Why? Great Customer Service and easy Returns.",
        "Poll: Which colour next season? Sage Green, Dusty Pink or Navy? Vote below!",
    ),
    "notes": (  # v4: agent notes full of identifiers that are not names or places (the rules cover those)
        "{hello}, refund of {price} to IBAN {iban} confirmed. Reference {order}. {bye}",
        "Payment card {card} declined twice; customer {custid} asked to use another card.",
        "Login from {ip} for account {custid}; password reset e-mail sent. No further action.",
        "Gift card {gift} has a balance of {price}. Expires in {n} months.",
        "Ticket {order}: hotline number given for follow-ups. Status: waiting on warehouse.",
        "Stock note: {sku} ({brand} {product}) low, reorder before the sale on {date}.",
        "Agent: What's the e-mail on the account?\nCustomer: {email}\nAgent: Thanks, a new code is on its way.",
        "Call summary: caller {name} confirmed the delivery slot. Customer number {custid}. Callback agreed.",
        "{hello},\nthe {brand} {product} you ordered is back in stock. Questions? Call us on {hotline}.\n{bye}",
        "{hello} {first},\nthank you for getting in touch. Your refund for order {order} is on its way.\n{bye},\n"
        "{first} ({brand} Customer Care)",
        "{hello}, I have moved house. Please use {address} from now on. {bye}, {name}",
        "New customer account: {name}, customer no. {custid}, card ending {n}{n}, loyalty tier silver.",
        "Refund to the card I paid with please, order {order}. {bye}",
        "Loyalty card: {custid}\nPoints: {n}00\nTier: bronze",
        "member no. {custid} - please add the points for order {order}",
        "My club card number is {custid}, can you check my points?",
        "Voucher code {gift} doesn't work at checkout.",
        "Redeem your e-gift card {gift} by {date}. Balance: {price}.",
        "Account {custid}: invoice {order} paid by card {card}.",
        "Ref: {order}\nCustomer ID: {custid}\nAgent: {first}",
    ),
}
TEMPLATES.update(synth_more.TEMPLATES)  # v5: addresses+, ids, plates, retail ids, surnames, decoys
KIND_WEIGHTS = {**synth_more.KIND_WEIGHTS, "review": 1.2, "chat": 1.2, "delivery": 1.0, "returns": 0.8, "email": 1.2,
                "crm": 1.0, "gift": 0.6,
                "list": 0.5, "form": 1.0, "prose": 1.0, "subject": 1.2, "object": 1.3, "local": 0.8, "none": 1.0,
                "survey": 0.5, "notes": 1.0, "intl": 2.5}
INTL_LANG_SHARE = 0.75  # share of "intl" texts in the locale's own language (when it has one); else any language
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _render(template: str, ctx: _Ctx, case: str) -> tuple[str, list[tuple[int, int, str]]]:
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    cursor = 0
    pieces = _SLOT_RE.split(template)  # alternating text, slot name, text, ...
    for i, piece in enumerate(pieces):
        segments: list[Segment] = SLOTS[piece](ctx) if i % 2 else [piece]
        for seg in segments:
            label, value = (None, seg) if isinstance(seg, str) else seg
            if case == "lower":
                value = value.lower()
            elif case == "upper":
                value = value.upper()
            if label is not None and value.strip():
                value = value.strip()
                spans.append((cursor, cursor + len(value), label))
            parts.append(value)
            cursor += len(value)
    return "".join(parts), spans


class SynthGenerator:
    """Seeded generator of `SynthText`s; the same seed gives the same texts in the same order."""

    def __init__(self, seed: int, tokenizer: Any | None = None) -> None:
        from faker import Faker  # optional extra [pii-train]; imported only to build a corpus

        self.rng = random.Random(seed)
        self.locales = list(LOCALES)
        self.weights = [LOCALES[loc][0] for loc in self.locales]
        self.fakers = {loc: Faker(loc) for loc in self.locales}
        self.name_locales = self.locales + list(NAME_ONLY_LOCALES)
        self.name_fakers = {**self.fakers, **{loc: Faker(loc) for loc in NAME_ONLY_LOCALES}}
        self.english = Faker("en_US")
        self.kinds = [*TEMPLATES, "intl"]
        self.kind_weights = [KIND_WEIGHTS[k] for k in self.kinds]
        self.tokenizer = tokenizer
        self.redrawn = 0  # texts drawn again because a span did not align to tokens

    def one(self) -> SynthText:
        while True:
            item = self._draw()
            if self.tokenizer is None or aligned(self.tokenizer(item.text), item.spans):
                return item
            self.redrawn += 1

    def _template(self, lang: str) -> tuple[str, str]:
        """(template, its name) of a kind drawn by weight; "intl" takes the text's language's templates."""
        kind = self.rng.choices(self.kinds, self.kind_weights)[0]
        if kind == "intl":
            templates = INTL_TEMPLATES[lang if lang in INTL_TEMPLATES else self.rng.choice(LANGS)]
            template = self.rng.choice(templates)
            return template, f"intl-{lang}:{templates.index(template)}"
        template = self.rng.choice(TEMPLATES[kind])
        return template, f"{kind}:{TEMPLATES[kind].index(template)}"

    def _draw(self) -> SynthText:
        rng = self.rng
        locale = rng.choices(self.locales, self.weights)[0]
        own = LANG_OF_LOCALE.get(locale[:2])
        lang = own if own and rng.random() < INTL_LANG_SHARE else rng.choice(LANGS)
        fake = self.fakers[locale]
        fake.seed_instance(rng.getrandbits(32))
        self.english.seed_instance(rng.getrandbits(32))
        names, names_locale = fake, locale
        if rng.random() < FOREIGN_NAME_SHARE:  # a customer from elsewhere: the names come from another locale
            names_locale = rng.choice(self.name_locales)
            names = self.name_fakers[names_locale]
            if names is not fake:
                names.seed_instance(rng.getrandbits(32))
        r = rng.random()
        case = "lower" if r < 0.07 else "upper" if r < 0.11 else "as-is"
        ctx = _Ctx(fake, locale, rng, self.english, names, names_locale, lang)
        world = synth_world.WORLD.get(locale)
        if world and rng.random() < synth_world.WORLD_SHARE:  # v5: the locale's own address shapes and languages
            i = rng.randrange(len(world))
            template, name = world[i], f"world-{locale}:{i}"
        else:
            template, name = self._template(lang)
        text, spans = _render(template, ctx, case)
        if rng.random() < 0.25:  # a second template in the same text: longer texts, more varied context
            template2, name2 = self._template(lang)
            joiner = rng.choice((" ", "\n", "\n\n", " -- "))
            text2, spans2 = _render(template2, ctx, case)
            offset = len(text) + len(joiner)
            text += joiner + text2
            spans += [(s + offset, e + offset, label) for s, e, label in spans2]
            name += f"+{name2}"
        return SynthText(text, tuple(spans), locale, name)

    def __iter__(self) -> Iterator[SynthText]:
        while True:
            yield self.one()

    def take(self, n: int) -> list[SynthText]:
        return [self.one() for _ in range(n)]


def aligned(doc: Any, spans: Sequence[tuple[int, int, str]]) -> bool:
    """Every span maps to whole tokens exactly (expanding it to token boundaries changes nothing)."""
    for start, end, label in spans:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or span.start_char != start or span.end_char != end:
            return False
    return True


def to_docs(items: Sequence[SynthText], nlp: Any) -> list[Any]:
    """spaCy reference `Doc`s with the spans as entities (raises if one does not align: the generator redraws those)."""
    docs = []
    for item in items:
        doc = nlp.make_doc(item.text)
        ents = [doc.char_span(s, e, label=lab, alignment_mode="expand") for s, e, lab in item.spans]
        if any(ent is None or (ent.start_char, ent.end_char) != (s, e) for ent, (s, e, _) in
               zip(ents, item.spans, strict=True)):
            raise ValueError(f"synthetic text {item.template} has a span that does not align to tokens")
        doc.ents = ents
        docs.append(doc)
    return docs


def generate(n: int, seed: int, nlp: Any | None = None) -> list[SynthText]:
    """`n` texts from seed `seed`; with `nlp`, texts whose spans do not align to its tokenizer are redrawn."""
    return SynthGenerator(seed, nlp.tokenizer if nlp is not None else None).take(n)
