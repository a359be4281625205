"""Slot fillers of the learned PII detector's synthetic corpus (split out of `synth`): `SLOTS` maps each `{slot}`
to Faker values shaped in the locale's formats (names, addresses, phones, ids, retail ids), as segments of text or
(label, value), every draw from the text's seeded `random.Random` (the presidio-research template recipe)."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from anonymize.detector import synth_decoys, synth_more, synth_v7, synth_world
from anonymize.detector.synth_intl import BYE, HELLO
from anonymize.detector.synth_intl import PRODUCTS as INTL_PRODUCTS
from anonymize.detector.synth_tables import (
    BRANDS,
    COLOURS,
    COMMON_STREETS,
    CURRENCIES,
    FAMILY_FIRST,
    FLATS,
    ID_CUES,
    LOCALES,
    NO_SPACE_NAMES,
    PARTICLES,
    PO_BOX,
    PRODUCTS,
    SIZES,
    TITLES,
)

Segment = str | tuple[str, str]  # plain text, or (label, value)


class SlotContext:
    """What one text's slot fillers share: its locale, a Faker seeded for this text, the random stream, the Faker
    (and locale) its names come from, and the language of its templates."""

    def __init__(self, fake: Any, locale: str, rng: random.Random, english: Any, names: Any | None = None,
                 names_locale: str | None = None, lang: str = "en") -> None:
        self.fake, self.locale, self.rng, self.english = fake, locale, rng, english
        self.names, self.names_locale = names or fake, names_locale or locale
        self.lang = lang
        self.chat_lang: str | None = None  # v6 (synth_decoys): the language of a text's chat phrases, once drawn

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
def _case(value: str, ctx: SlotContext, lower: float = 0.1, upper: float = 0.05) -> str:
    r = ctx.rng.random()
    return value.lower() if r < lower else value.upper() if r < lower + upper else value


def _first(ctx: SlotContext) -> str:
    return ctx.name_call("first_name").split()[0]


def _last(ctx: SlotContext) -> str:
    last = ctx.name_call("last_name")
    particles = PARTICLES.get(ctx.names_locale)
    if particles and ctx.chance(0.25):
        particle = ctx.pick(particles)
        last = particle + last if particle.endswith(("'", "Mc", "Mac")) else f"{particle} {last}"
    if ctx.chance(0.08):
        last = f"{last}-{ctx.name_call('last_name').split()[-1]}"
    return last


def _full_name(ctx: SlotContext) -> str:
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


def _street(ctx: SlotContext) -> str:
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


def _flat(ctx: SlotContext) -> str:
    secondary = ctx.call("secondary_address") if ctx.locale in ("en_US", "en_CA") and ctx.chance(0.5) else ""
    return secondary or f"{ctx.pick(FLATS)} {ctx.rng.randint(1, 120)}{ctx.pick(('', '', 'B', 'a', '/2'))}"


def _po_box(ctx: SlotContext) -> str:
    return f"{ctx.pick(PO_BOX)} {ctx.rng.randint(10, 99999)}"


def _region(ctx: SlotContext, abbr: bool = False) -> str:
    if abbr:
        return ctx.call("state_abbr", "administrative_unit", "state", "city")
    return ctx.call("state", "administrative_unit", "region", "province", "city")


def _phone(ctx: SlotContext) -> str:
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


def _driving_licence(ctx: SlotContext) -> str:
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


def _passport(ctx: SlotContext) -> str:
    value = ctx.call("passport_number")
    if not value or ctx.chance(0.4):
        value = "".join(ctx.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(ctx.rng.randint(1, 2)))
        value += "".join(ctx.rng.choice("0123456789") for _ in range(ctx.rng.randint(6, 8)))
    return value


def _national_id(ctx: SlotContext) -> str:
    return ctx.call("ssn", fallback=lambda: str(ctx.rng.randint(10**8, 10**11)))


def _price(ctx: SlotContext) -> str:
    amount = f"{ctx.rng.randint(2, 480)}.{ctx.pick(('00', '99', '49', '95'))}"
    return ctx.pick(CURRENCIES).format(amount if ctx.chance(0.7) else amount.replace(".", ","))


def _sku(ctx: SlotContext) -> str:
    rng = ctx.rng
    shapes = (f"SKU-{rng.randint(10000, 99999)}-{ctx.pick(('BL', 'RD', 'XL', 'M', 'GR'))}",
              f"{ctx.pick('ABCDEFGHKMNPRSTW')}{ctx.pick('ABCDEFGHKMNPRSTW')}{rng.randint(1000, 9999)}",
              f"ART {rng.randint(100000, 999999)}", f"#{rng.randint(100000, 999999)}",
              f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}")
    return ctx.pick(shapes)


def _order(ctx: SlotContext) -> str:
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


def _email(ctx: SlotContext) -> str:
    user = re.sub(r"[^a-z0-9.]", "", _first(ctx).lower()) or "info"
    return f"{user}{ctx.pick(('', '.', '_'))}{ctx.rng.randint(1, 99)}@{ctx.pick(('example.com', 'mail.test'))}"


def _date(ctx: SlotContext) -> str:
    rng = ctx.rng
    month = ctx.pick(("January", "March", "May", "July", "September", "November", "Feb", "Oct", "Dec"))
    return ctx.pick((f"{rng.randint(1, 28)} {month}", f"{month} {rng.randint(1, 28)}",
                     f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2020, 2026)}", "yesterday",
                     "last Tuesday", f"{rng.randint(2020, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"))


def _gift(ctx: SlotContext) -> str:
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


def _custid(ctx: SlotContext) -> str:
    """A customer, member or loyalty-card number (labelled LOYALTY_ID: the policy's type for account numbers)."""
    rng = ctx.rng
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    prefix = "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
    return ctx.pick((f"CUST-{rng.randint(10000, 999999)}", f"{prefix}{rng.randint(10**6, 10**8)}",
                     f"{prefix}-{rng.randint(10**6, 10**8)}", f"{rng.randint(10**7, 10**10)}",
                     f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
                     " ".join(str(rng.randint(1000, 9999)) for _ in range(3)), f"LOY{rng.randint(10**5, 10**7)}"))


def _lproduct(ctx: SlotContext) -> str:
    products = INTL_PRODUCTS.get(ctx.lang)
    return ctx.pick(products) if products and ctx.chance(0.8) else ctx.pick(PRODUCTS)


# --- slots: each returns segments ------------------------------------------------------------------------------
def _words(ctx: SlotContext) -> str:
    """Unlabelled filler in the text's own language: Faker's per-locale word lists (German nouns capitalised, Dutch,
    French, Polish, Czech... and Latin where a locale has none). It teaches that capitalised words of any language
    at a sentence start or inside it are not names or places by themselves."""
    source = ctx.fake if ctx.chance(0.75) else ctx.english
    words = source.sentence(nb_words=ctx.rng.randint(3, 9))
    return words if ctx.chance(0.8) else words.rstrip(".")


def _locality(ctx: SlotContext, country: bool = False) -> list[Segment]:
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


def _address(ctx: SlotContext, multiline: bool) -> list[Segment]:
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


def _name_slot(ctx: SlotContext) -> list[Segment]:
    return [("PERSON", _case(_full_name(ctx), ctx))]


def _titled(ctx: SlotContext) -> list[Segment]:
    name = _last(ctx) if ctx.chance(0.6) else _full_name(ctx)
    return [ctx.pick(TITLES) + " ", ("PERSON", _case(name, ctx, 0.06, 0.04))]


def _names_list(ctx: SlotContext) -> list[Segment]:
    n = ctx.rng.randint(2, 4)
    out: list[Segment] = []
    for i in range(n):
        if i:
            out.append(" and " if i == n - 1 else ", ")
        out.append(("PERSON", _case(_full_name(ctx) if ctx.chance(0.7) else _first(ctx), ctx, 0.05, 0.03)))
    return out


SLOTS: dict[str, Callable[[SlotContext], list[Segment]]] = {
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
SLOTS.update(synth_decoys.slots(sys.modules[__name__]))  # v6: decoy context, handles, signatures, name lists
SLOTS.update(synth_v7.slots(sys.modules[__name__]))  # v7: streets of the kinds v6 lost, word brands, date sentences
