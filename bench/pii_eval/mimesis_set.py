"""A second independent PII evaluation set, generated with mimesis (not the detector's training generator) from
retail templates written for this set only, in the pii-dev JSONL format (see bench/pii_eval/check.py).

Values come from mimesis 22.2.0 providers in 30 locales (names, streets, cities, postcodes, phones, e-mails, Luhn-valid
card numbers) and from local rules (IBANs with ISO 13616 mod-97 check digits, IPs from the RFC 5737 / RFC 3849
documentation ranges, ID documents in each country's format, order/customer/loyalty/gift-card references). About
15% of the texts carry no PII, and many carry decoys (person- or place-like brand names, shop hotlines, sale dates,
SKUs). Deterministic for a given `--seed`.

Usage:
    python bench/pii_eval/mimesis_set.py --seed 0 --n 1200 --out var/bench/pii_eval/mimesis.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import string
import sys
from collections.abc import Callable
from pathlib import Path

from check import IBAN_LENGTHS, check_records, free_occurrences, iban_complete, luhn_ok, summary
from mimesis import Address, Datetime, Payment, Person
from mimesis.locales import Locale
from templates import BRAND_WORDS, EXT_WORDS, ID_FORMATS, NO_PII, PLACE_WORDS, PRODUCTS, TEMPLATES

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "var" / "bench" / "pii_eval" / "mimesis.jsonl"
# locale -> (ISO country, template language)
LOCALES = {"en": ("US", "en"), "en-gb": ("GB", "en"), "en-au": ("AU", "en"), "en-ca": ("CA", "en"),
           "de": ("DE", "de"), "de-at": ("AT", "de"), "de-ch": ("CH", "de"), "fr": ("FR", "fr"),
           "es": ("ES", "es"), "es-mx": ("MX", "es"), "it": ("IT", "it"), "nl": ("NL", "nl"),
           "nl-be": ("BE", "nl"), "pt": ("PT", "pt"), "pt-br": ("BR", "pt"), "pl": ("PL", "pl"),
           "sv": ("SE", "sv"), "da": ("DK", "en"), "no": ("NO", "en"), "fi": ("FI", "en"), "cs": ("CZ", "en"),
           "hu": ("HU", "en"), "tr": ("TR", "en"), "el": ("GR", "en"), "ja": ("JP", "en"), "ko": ("KR", "en"),
           "uk": ("UA", "en"), "hr": ("HR", "en"), "et": ("EE", "en"), "sk": ("SK", "en")}
DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")  # RFC 5737 documentation ranges
DATE_FORMATS = {"US": "%m/%d/%Y", "GB": "%d/%m/%Y", "DE": "%d.%m.%Y", "AT": "%d.%m.%Y", "CH": "%d.%m.%Y",
                "PL": "%d.%m.%Y", "NL": "%d-%m-%Y", "BE": "%d-%m-%Y", "SE": "%Y-%m-%d", "JP": "%Y/%m/%d"}
SLOT = re.compile(r"\[(\w+)\]")
MAX_TRIES = 50


def fill_mask(rng: random.Random, mask: str) -> str:
    """`#` -> a digit, `A` -> an upper-case letter, anything else kept."""
    return "".join(rng.choice(string.digits) if c == "#" else rng.choice(string.ascii_uppercase) if c == "A" else c
                   for c in mask)


class Providers:
    """One set of mimesis providers per locale, seeded from the set's seed, created on first use."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._by_locale: dict[str, tuple[Person, Address, Payment, Datetime]] = {}

    def of(self, locale: str) -> tuple[Person, Address, Payment, Datetime]:
        if locale not in self._by_locale:
            seed = self.seed * 1_000 + sorted(LOCALES).index(locale)
            self._by_locale[locale] = (Person(Locale(locale), seed=seed), Address(Locale(locale), seed=seed),
                                       Payment(seed=seed), Datetime(seed=seed))
        return self._by_locale[locale]


class Values:
    """Draws the values of one text's slots for one locale; a slot drawn twice in a text keeps its value."""

    def __init__(self, locale: str, rng: random.Random, providers: Providers) -> None:
        self.locale, self.rng = locale, rng
        self.country, self.lang = LOCALES[locale]
        self.person, self.address, self.payment, self.dates = providers.of(locale)
        self.drawn: dict[str, tuple[str, str]] = {}

    def get(self, slot: str) -> tuple[str, str]:
        """(value, type) of `slot`; the type is "" for plain filler text that is not labelled."""
        if slot not in self.drawn:
            self.drawn[slot] = self._draw(slot)
        return self.drawn[slot]

    def _draw(self, slot: str) -> tuple[str, str]:
        draw: dict[str, Callable[[], tuple[str, str]]] = {
            "name": lambda: (self._full_name(), "PERSON"), "first": lambda: (self._first(), "PERSON"),
            "agent": lambda: (self._name_part(self.person.first_name), "PERSON"),
            "last": lambda: (self._name_part(self.person.last_name), "PERSON"),
            "street": lambda: (self.address.address(), "STREET_ADDRESS"), "city": lambda: (self._city(), "LOCATION"),
            "state": lambda: (self.address.state(), "LOCATION"),
            "zip": lambda: (self.address.postal_code(), "POSTCODE"),
            "phone": lambda: (self.person.telephone(), "PHONE_NUMBER"), "phone_ext": self._phone_ext,
            "email": lambda: (self._email(), "EMAIL_ADDRESS"), "email_obf": self._email_obfuscated,
            "card": self._card, "iban": self._iban, "ip": self._ip, "dob": self._dob, "iddoc": self._iddoc,
            "idword": lambda: (ID_FORMATS.get(self.country, ID_FORMATS["*"])[0], ""),
            "order": lambda: (fill_mask(self.rng, self.rng.choice(["#######", "AA-######", "##-#####-##"])),
                              "ORDER_NUMBER"),
            "cust": lambda: (fill_mask(self.rng, self.rng.choice(["C########", "###-###-###", "KD#######"])),
                             "CUSTOMER_ID"),
            "loyalty": lambda: (fill_mask(self.rng, self.rng.choice(["#### #### ####", "LY-########"])), "LOYALTY_ID"),
            "gift": lambda: (fill_mask(self.rng, self.rng.choice(["GC-AAAA-####-AAAA", "#### #### #### ####"])),
                             "GIFT_CARD"),
            # brands take their own name and city draw: a catalog brand is nobody's name in this text
            "brand": lambda: (f"{self._name_part(self.person.first_name)} {self.rng.choice(BRAND_WORDS)}", "DECOY"),
            "place_brand": lambda: (f"{self.address.city()} {self.rng.choice(PLACE_WORDS)}", "DECOY"),
            "product": lambda: (self.rng.choice(PRODUCTS[self.lang]), ""),
            "hotline": lambda: (fill_mask(self.rng, self.rng.choice(["0800 ### ####", "1-800-###-####"])), "DECOY"),
            "date": lambda: (self.dates.date(start=2023, end=2025).strftime(self._date_format()), "DECOY"),
            "sku": lambda: (fill_mask(self.rng, "SKU-AA####"), "DECOY"),
        }
        return draw[slot]()

    def _name_part(self, fn: Callable[[], str]) -> str:
        # Latin names of 1-2 letters ("Al") also occur as words of a template; CJK names are often 1-2 characters.
        value = fn()
        while " " in value or not (len(value) >= 3 or any(ord(c) > 0x2E7F for c in value)):
            value = fn()
        return value

    def _first(self) -> str:
        if "first" not in self.drawn:
            self.drawn["first"] = (self._name_part(self.person.first_name), "PERSON")
        return self.drawn["first"][0]

    def _full_name(self) -> str:
        first, last = self._first(), self._name_part(self.person.last_name)
        name = f"{last} {first}" if self.country in ("JP", "KR", "HU") else f"{first} {last}"
        style = self.rng.random()
        return name.upper() if style < 0.06 else name.lower() if style < 0.12 else name

    def _city(self) -> str:
        if "city" not in self.drawn:
            self.drawn["city"] = (self.address.city(), "LOCATION")
        return self.drawn["city"][0]

    def _email(self) -> str:
        if "email" not in self.drawn:
            self.drawn["email"] = (self.person.email(), "EMAIL_ADDRESS")
        return self.drawn["email"][0]

    def _email_obfuscated(self) -> tuple[str, str]:
        user, domain = self.person.email().split("@")
        return f"{user} at {domain.replace('.', ' dot ')}", "EMAIL_ADDRESS"

    def _phone_ext(self) -> tuple[str, str]:
        return f"{self.person.telephone()} {EXT_WORDS[self.lang]} {self.rng.randint(2, 999)}", "PHONE_NUMBER"

    def _card(self) -> tuple[str, str]:
        number = self.payment.credit_card_number()
        while not luhn_ok(number):
            number = self.payment.credit_card_number()
        return (number if self.rng.random() < 0.7 else number.replace(" ", "")), "CREDIT_CARD"

    def _iban(self) -> tuple[str, str]:
        country = self.country if self.country in IBAN_LENGTHS else "DE"
        letters = "AAAA" if country in ("GB", "IE", "NL") else ""
        bban = fill_mask(self.rng, letters + "#" * (IBAN_LENGTHS[country] - 4 - len(letters)))
        iban = iban_complete(country, bban)
        grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        return (grouped if self.rng.random() < 0.6 else iban), "IBAN_CODE"

    def _ip(self) -> tuple[str, str]:
        if self.rng.random() < 0.2:
            return f"2001:db8:{self.rng.randint(1, 0xffff):x}::{self.rng.randint(1, 0xfff):x}", "IP_ADDRESS"
        return f"{self.rng.choice(DOC_NETS)}{self.rng.randint(1, 254)}", "IP_ADDRESS"

    def _date_format(self) -> str:
        return DATE_FORMATS.get(self.country, "%d/%m/%Y" if self.lang in ("fr", "es", "it", "pt") else "%Y-%m-%d")

    def _dob(self) -> tuple[str, str]:
        day = self.dates.date(start=1940, end=2006)
        if self.lang == "en" and self.rng.random() < 0.4:
            return f"{day.day} {day.strftime('%B')} {day.year}", "DATE_OF_BIRTH"
        return day.strftime(self._date_format()), "DATE_OF_BIRTH"

    def _iddoc(self) -> tuple[str, str]:
        word, mask = ID_FORMATS.get(self.country, ID_FORMATS["*"])
        value = fill_mask(self.rng, mask)
        if self.country == "ES":  # DNI: the letter is the number mod 23 (Real Decreto 1553/2005)
            value = value[:8] + "TRWAGMYFPDXBNJZSQVHLCKE"[int(value[:8]) % 23]
        self.drawn["idword"] = (word, "")
        return value, "ID_DOCUMENT"


def render(template: str, values: Values) -> tuple[str, list[dict]]:
    """The text of `template` with its slots filled, and the labelled spans (decoys included)."""
    parts, spans, pos = [], [], 0
    for m in SLOT.finditer(template):
        value, kind = values.get(m.group(1))
        parts.append(template[pos:m.start()])
        start = sum(map(len, parts))
        if kind:
            spans.append({"type": kind, "start": start, "end": start + len(value), "value": value})
        parts.append(value)
        pos = m.end()
    parts.append(template[pos:])
    return "".join(parts), spans


def _is_clean(text: str, spans: list[dict]) -> bool:
    """No PII value occurs anywhere it was not put (a name that is also a word of the template, a city in a brand)."""
    for s in spans:
        if s["type"] != "DECOY":
            placed = sum(1 for t in spans if t["value"] == s["value"])
            if len(list(free_occurrences(text, s["value"]))) != placed:
                return False
    starts = sorted((s["start"], s["end"]) for s in spans)
    return all(a[1] <= b[0] for a, b in itertools.pairwise(starts))


def generate_one(rng: random.Random, index: int, providers: Providers) -> tuple[dict, list[str]]:
    """One record (id mim-NNNNN) and the brand decoys it uses."""
    for _ in range(MAX_TRIES):
        locale = rng.choice(sorted(LOCALES))
        country, lang = LOCALES[locale]
        clean = rng.random() < 0.15
        kind, template = rng.choice(NO_PII[lang] if clean else TEMPLATES[lang])
        values = Values(locale, rng, providers)
        text, spans = render(template, values)
        if _is_clean(text, spans):
            brands = [values.drawn[k][0] for k in ("brand", "place_brand") if k in values.drawn]
            record = {"id": f"mim-{index + 1:05d}", "kind": kind, "country": country, "text": text, "spans": spans}
            return record, brands
    raise RuntimeError(f"no clean text after {MAX_TRIES} tries for text {index}")


def generate(seed: int, n: int) -> tuple[list[dict], list[str]]:
    """`n` records and the sorted brand allow-list, the same for the same seed."""
    rng, providers = random.Random(seed), Providers(seed)
    records, brands = [], set()
    for i in range(n):
        record, found = generate_one(rng, i, providers)
        records.append(record)
        brands.update(found)
    return records, sorted(brands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--n", type=int, default=1200, help="number of texts (default 1200)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL; brands go to <out>.brands.txt")
    args = parser.parse_args(argv)
    records, brands = generate(args.seed, args.n)
    problems = check_records(records)
    if problems:
        print("\n".join(problems[:20]), file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    args.out.with_suffix(".brands.txt").write_text("".join(b + "\n" for b in brands), encoding="utf-8")
    print(f"wrote {args.out}\n{summary(records)}\nbrands {len(brands)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
