"""Deterministic labelled corpus of retail texts with planted personal data, for scoring PII detectors.

Review and customer-service messages built from templates; every planted value is a labelled span (entity type,
start, end). The hard cases of issue 4 are deliberate: lower-case and ALL-CAPS names, first names alone,
"my husband dave", international phone formats, card numbers with spaces, addresses without a house number, and
brand names that look like people (labelled as nothing: masking them is a false positive). Names are drawn from
lists written for this corpus, independently of the anonymizer's gazetteer, and about half are not in it.

Usage: .venv/bin/python bench/pii_corpus.py [--texts 700] [--seed 0] [--out var/bench/pii_corpus.jsonl]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _words("Dave Sarah Emma James Olivia Tom Priya Mohammed Grace Liam Hannah Kieran Aisha Chloe Ben Fatima "
               "Jack Megan Oluwaseun Bartholomew Ingrid Rhiannon Xavier Imogen Thandiwe Magnus Esther Florence "
               "Rupert Hamish Saoirse Anya Yara Nikolai Beatrix Cormac Leticia Dolores Ignatius Wren Ottilie "
               "Tobias Ezra Delphine Jasper Marisol Kwabena Svetlana Callum Niamh Ravi Agnieszka Bronwen Keanu "
               "Soraya Lorcan")
LAST = _words("Smith Jones Patel Taylor Brown Wilson Okafor Khan Murphy Walsh Davies Evans Hughes Clarke Singh "
              "Nguyen Thornbury Achterberg Ferreira Kowalczyk Okonkwo Balogun Lindqvist Fairweather Pemberton "
              "Castellano Abernathy Vasquez Holloway Mbeki Rosenthal Delacroix Kavanagh Oyelaran Sutherland "
              "Whitcombe")
RELATIONS = _words("husband wife son daughter mum dad sister brother friend partner girlfriend boyfriend nan "
                   "colleague neighbour")
BRANDS = ("Ella Rose", "Charlotte Tilbury", "Kate Somerville", "Laura Mercier", "Bobbi Brown", "Jo Malone",
          "Tom Ford", "Sunday Riley", "Marc Jacobs", "Molton Brown", "Ted Baker", "Ben Sherman", "Paula Grace",
          "Emma Hardie", "Nails Inc", "Tracie Martyn")  # look like people; the catalog allow-list knows them
PRODUCTS = ("moisturiser", "serum", "lipstick", "palette", "eye cream", "face mask", "shampoo", "hair oil",
            "body lotion", "foundation", "cleanser", "toner", "night cream", "perfume", "nail polish")
CITIES = ("Leeds", "Manchester", "Bristol", "Glasgow", "Cardiff", "Chicago", "Boston", "Dublin", "Paris", "Berlin",
          "Edinburgh", "Liverpool", "Seattle", "Toronto", "Brighton", "Norwich")
STREETS = ("Baker", "Elm", "Mill", "Church", "Victoria", "Maple", "Station", "Park", "Queens", "Kingsley", "Oak",
           "Cherry Tree", "Willow", "Harbour", "Orchard", "Chapel")
SUFFIXES = ("Street", "Road", "Avenue", "Lane", "Close", "Drive", "Way", "Crescent", "Court", "Terrace", "St", "Rd")
MONTHS = _words("January February March April May June July August September October November December")
UK_AREAS = ("LS", "M", "BS", "G", "CF", "SW", "NW", "E", "EH", "L", "BN", "NR", "B", "OX", "CB", "YO")
US_STATES = (("IL", "Chicago"), ("MA", "Boston"), ("WA", "Seattle"), ("CA", "Oakland"), ("NY", "Albany"),
             ("TX", "Austin"))

# One template per line: {SLOT} is a labelled value (or a decoy), everything else is literal review text.
TEMPLATES = """
Bought the {PRODUCT} for my {REL} {FIRST_LOWER} and {PRONOUN} loves it.
my {REL} {FIRST_LOWER} says the {PRODUCT} smells amazing, will buy again
Great {PRODUCT}! Delivered to {STREET}, {CITY} {POSTCODE_UK} in two days.
Please update my address to {STREET}, {CITY}, {POSTCODE_UK}. Thanks, {FULL}
{FULL_UPPER} HERE. MY ORDER {ORDER} NEVER ARRIVED. CALL ME ON {PHONE}.
The {BRAND} {PRODUCT} is lovely, {FIRST} recommended it to me.
I love {BRAND}, but this {PRODUCT} broke me out. Email me at {EMAIL} about a refund.
Refund to my card {CARD} please, order {ORDER}.
Can you refund to IBAN {IBAN} instead of the card? Regards, {FULL}
my gift card {GIFT} did not work at checkout, {FIRST_LOWER}
Voucher code {GIFT} was rejected twice. Ring me on {PHONE_INTL}.
My loyalty number is {LOYALTY} but the points never showed up.
Logged in from {IP} and the basket was empty again.
I live on {STREET_NONUM} in {CITY}, could the courier leave it with my neighbour?
we moved to {STREET_NONUM_LOWER} last month so please update it
Ship to {STREET_US}, {CITY_US}, {STATE_ZIP} please.
My ZIP is {ZIP4}, the tracking page says otherwise.
It arrived on {DATE}, a week late, for my {REL}'s birthday.
Born {DATE}, so the age check should pass. SSN {SSN} was asked for, why?
Here is my blog post about the {PRODUCT}: {URL}
The {PRODUCT} is great value. My {REL} {FIRST} and I share it.
{FULL} from {CITY} wrote this review for the {BRAND} {PRODUCT}.
MRS {SURNAME_UPPER} FROM {CITY_UPPER} SAYS THE {PRODUCT_UPPER} IS TOO GREASY.
ask for mrs {SURNAME_LOWER} at the till, she sorted my return of order {ORDER}.
my api key for your partner portal is {SECRET_KEY} - can you check why it fails?
The account password is {PASSWORD} in case support needs it.
Paid with {CARD} on {DATE}; the {PRODUCT} was out of stock anyway.
Call {FIRST} on {PHONE} or text {PHONE_INTL} after six.
{FIRST_LOWER} {SURNAME_LOWER} here, order {ORDER} came damaged, contact me at {EMAIL}
Sent as a gift to {FULL}, {STREET}, {CITY} {POSTCODE_UK}.
The {BRAND} range is my favourite, the {PRODUCT} lasts all day.
Lovely {PRODUCT}, smells like roses and amber, five stars.
Shade 12 suits my skin, size 200ml lasts about 3 months.
Not for sensitive skin. Bought it in March and it is almost finished.
The {PRODUCT} from {BRAND} was a birthday present from {FIRST}.
{FIRST_UPPER} {SURNAME_UPPER} ORDERED THIS FOR ME, LOVE IT
thanks {FIRST_LOWER} at the {CITY} store for the advice on the {PRODUCT}
My rewards card {LOYALTY} and my email {EMAIL} are on the account.
Please cancel order {ORDER} and refund {IBAN}.
""".strip().splitlines()


@dataclass
class Text:
    parts: list[str] = field(default_factory=list)
    spans: list[dict[str, object]] = field(default_factory=list)
    decoys: list[dict[str, object]] = field(default_factory=list)  # brand names: masking one is a false positive
    length: int = 0

    def add(self, value: str, entity: str | None = None) -> None:
        if entity == "DECOY":
            self.decoys.append({"start": self.length, "end": self.length + len(value), "value": value})
        elif entity is not None:
            self.spans.append({"entity_type": entity, "start": self.length, "end": self.length + len(value)})
        self.parts.append(value)
        self.length += len(value)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = sum(int(d) if i % 2 == 0 else (2 * int(d) - 9 if int(d) > 4 else 2 * int(d))
                    for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable: one check digit always works")


def _card(rng: random.Random) -> str:
    digits = _luhn_complete(rng.choice(("4", "51", "55", "22")), 16, rng)
    sep = rng.choice((" ", " ", "-", ""))
    return sep.join(digits[i:i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice((("GB", lambda: rng.choice(("WEST", "NWBK", "BARC")) + _digits(rng, 14)),
                                ("DE", lambda: _digits(rng, 18)), ("NL", lambda: "ABNA" + _digits(rng, 10)),
                                ("FR", lambda: _digits(rng, 23))))
    body = bban()
    check = 98 - int("".join(str(int(c, 36)) for c in body + country + "00")) % 97
    iban = f"{country}{check:02d}{body}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.7 else iban


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _phone(rng: random.Random, international: bool) -> str:
    if not international:
        return rng.choice((f"07{rng.randint(400, 999)} {_digits(rng, 6)}", f"020 7{_digits(rng, 3)} {_digits(rng, 4)}",
                           f"({rng.choice(('415', '212', '312', '617'))}) {rng.randint(200, 999)}-{_digits(rng, 4)}"))
    return rng.choice((f"+44 7{rng.randint(400, 999)} {_digits(rng, 6)}", f"+1 415 {rng.randint(200, 999)} "
                       f"{_digits(rng, 4)}", f"+49 30 {_digits(rng, 7)}", f"+33 6 {_digits(rng, 2)} {_digits(rng, 2)} "
                       f"{_digits(rng, 2)} {_digits(rng, 2)}", f"+91 9{_digits(rng, 4)} {_digits(rng, 5)}",
                       f"+61 4{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}",
                       f"+353 85 {_digits(rng, 3)} {_digits(rng, 4)}"))


def _postcode_uk(rng: random.Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{rng.choice(UK_AREAS)}{rng.randint(1, 19)} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _date(rng: random.Random) -> str:
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2025)
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
    return rng.choice((f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {d}{suffix}, {y}", f"{y}-{m:02d}-{d:02d}",
                       f"{d:02d}/{m:02d}/{y}", f"{d}{suffix} of {MONTHS[m - 1]} {y}"))


def _secret(rng: random.Random) -> str:
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return rng.choice((
        "sk-proj-" + "".join(rng.choice(alnum) for _ in range(32)), "sk_live_" + "".join(rng.choice(alnum) for _ in
                                                                                            range(24)),
        "AKIA" + "".join(rng.choice(alnum[:26] + "0123456789") for _ in range(16)),
        "ghp_" + "".join(rng.choice(alnum) for _ in range(36))))


def _slot(name: str, rng: random.Random, text: Text, person: tuple[str, str]) -> None:
    first, last = person
    alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    simple = {
        "FIRST": (first, "PERSON"), "FIRST_LOWER": (first.lower(), "PERSON"), "FIRST_UPPER": (first.upper(), "PERSON"),
        "FULL": (f"{first} {last}", "PERSON"), "FULL_UPPER": (f"{first} {last}".upper(), "PERSON"),
        "SURNAME_UPPER": (last.upper(), "PERSON"), "SURNAME_LOWER": (last.lower(), "PERSON"),
        "EMAIL": (f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(('gmail.com', 'outlook.com', 'btinternet.com', 'yahoo.co.uk'))}", "EMAIL_ADDRESS"),  # noqa: E501
        "PHONE": (_phone(rng, False), "PHONE_NUMBER"), "PHONE_INTL": (_phone(rng, True), "PHONE_NUMBER"),
        "CARD": (_card(rng), "CREDIT_CARD"), "IBAN": (_iban(rng), "IBAN_CODE"),
        "IP": (rng.choice((f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                           f"2001:db8:{rng.randint(1, 9999):x}::{rng.randint(1, 9999):x}")), "IP_ADDRESS"),
        "SSN": (f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}", "US_SSN"),
        "URL": (rng.choice((f"https://www.instagram.com/{first.lower()}_{last.lower()}",
                            f"https://{first.lower()}{last.lower()}.wordpress.com/reviews",
                            f"www.tiktok.com/@{first.lower()}{rng.randint(1, 99)}")), "URL"),
        "DATE": (_date(rng), "DATE_TIME"), "CITY": (rng.choice(CITIES), "LOCATION"),
        "CITY_UPPER": (rng.choice(CITIES).upper(), "LOCATION"),
        "STREET": (f"{rng.randint(1, 240)}{rng.choice(('', '', 'A', 'B'))} {rng.choice(STREETS)} "
                   f"{rng.choice(SUFFIXES)}", "STREET_ADDRESS"),
        "STREET_NONUM": (f"{rng.choice(STREETS)} {rng.choice(SUFFIXES[:10])}", "STREET_ADDRESS"),
        "STREET_NONUM_LOWER": (f"{rng.choice(STREETS)} {rng.choice(SUFFIXES[:10])}".lower(), "STREET_ADDRESS"),
        "STREET_US": (f"{rng.randint(100, 9999)} {rng.choice(STREETS)} {rng.choice(('Avenue', 'Street', 'Drive'))}",
                      "STREET_ADDRESS"),
        "POSTCODE_UK": (_postcode_uk(rng), "POSTCODE"), "ZIP4": (f"{_digits(rng, 5)}-{_digits(rng, 4)}", "POSTCODE"),
        "ORDER": (rng.choice((f"ORD-{rng.randint(2019, 2025)}-{_digits(rng, 6)}", f"#{_digits(rng, 7)}",
                              f"{_digits(rng, 3)}-{_digits(rng, 7)}-{_digits(rng, 7)}")), "ORDER_NUMBER"),
        "GIFT": (rng.choice(("-".join("".join(rng.choice(alnum) for _ in range(4)) for _ in range(4)),
                             " ".join(_digits(rng, 4) for _ in range(4)))), "GIFT_CARD"),
        "LOYALTY": (rng.choice((f"LOY-{_digits(rng, 8)}", f"{rng.randint(10_000_000, 99_999_999)}")), "LOYALTY_ID"),
        "SECRET_KEY": (_secret(rng), "SECRET"),
        "PASSWORD": (rng.choice(("Summer2024!", "hunter2", "Tr0ub4dor&3", "qwerty123", "P@ssw0rd99")), "SECRET"),
        "BRAND": (rng.choice(BRANDS), "DECOY"), "PRODUCT": (rng.choice(PRODUCTS), None),
        "PRODUCT_UPPER": (rng.choice(PRODUCTS).upper(), None), "REL": (rng.choice(RELATIONS), None),
        "PRONOUN": (rng.choice(("she", "he", "they")), None),
    }
    if name == "STATE_ZIP":
        state, _ = rng.choice(US_STATES)
        text.add(state + " ")
        text.add(_digits(rng, 5), "POSTCODE")
    elif name == "CITY_US":
        text.add(rng.choice(US_STATES)[1], "LOCATION")
    elif name == "ORDER" and (value := simple["ORDER"][0]).startswith("#"):
        text.add("#")
        text.add(value[1:], "ORDER_NUMBER")  # the '#' is punctuation, the number is the identifier
    else:
        value, entity = simple[name]
        text.add(value, entity)


def generate(n_texts: int = 700, seed: int = 0) -> list[dict[str, object]]:
    """`n_texts` labelled records `{"id", "text", "spans": [{"entity_type", "start", "end"}], "decoys"}`."""
    rng = random.Random(seed)
    records = []
    for i in range(n_texts):
        template = TEMPLATES[i % len(TEMPLATES)]
        person = (rng.choice(FIRST), rng.choice(LAST))
        text = Text()
        for j, piece in enumerate(re.split(r"\{(\w+)\}", template)):
            if j % 2 == 0:
                text.add(piece)
            else:
                _slot(piece, rng, text, person)
        records.append({"id": f"pii-{i:04d}", "text": "".join(text.parts), "spans": text.spans,
                        "decoys": text.decoys})
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=700)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/bench/pii_corpus.jsonl"))
    args = parser.parse_args()
    records = generate(args.texts, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    spans = sum(len(r["spans"]) for r in records)  # type: ignore[arg-type]
    print(f"wrote {len(records)} texts with {spans} labelled spans to {args.out}")


if __name__ == "__main__":
    main()
