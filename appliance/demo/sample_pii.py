"""Review texts for the synthetic retail sample, some with planted personal data and exact character labels.

Entity names follow Presidio's (PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE) plus STREET_ADDRESS,
POSTCODE and ORDER_NUMBER for what Presidio has no recognizer for. Every planted value is recorded as
`{entity_type, start, end, text}` with `review_text[start:end] == text`; brand mentions that merely look like
names are recorded separately as decoys and are never personal data.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np

from appliance.demo.sample_vocab import (
    ASPECTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    RELATIONS,
    REVIEW_DETAILS,
    REVIEW_OPENERS,
    STREETS,
    SURNAMES,
    TEST_CARDS,
    TOWNS,
)

# Planted sentences: `{slot}` names a value from _slots(); a leading "^" / trailing "$" pins the sentence first / last.
PII_TEMPLATES = (
    "Bought it for my {relation} {first_lower}, it was a hit.",
    "my {relation} {first_lower} says it is the best one yet.",
    "Delivered to {street_number}, {uk_postcode} in two days.",
    "Ask for {first_title} on the help desk, really helpful.",
    "If the seller reads this, call me on {phone}.",
    "Still waiting on a refund for order #{order_short}, email me at {email}.",
    "Order {order_long} arrived with a dent in the box.",
    "Charged twice on my card {card}, not happy.",
    "Paid with {card} and it went through fine.",
    "My neighbour {full_title} on {street_plain} recommended it.",
    "Send the replacement to {full_title}, {street_town} {us_zip} please.",
    "my email is {email_spoken} if you have questions.",
    "Reach me on {phone} or {email}.",
    "Thanks to {initial_name} from customer service.",
    "{full_lower} here, long time customer.",
    "Refund went to {iban} within a week.",
    "- {full_title}$",
    "^{full_upper} - VERIFIED BUYER:",
)


@dataclass
class ReviewText:
    """A review being built: its text so far, planted entity spans and brand decoy spans."""

    text: str = ""
    entities: list[dict] = field(default_factory=list)
    decoys: list[dict] = field(default_factory=list)

    def add_sentence(self, template: str, values: dict[str, tuple[str, str | None]]) -> None:
        """Append one sentence; `values` maps slot -> (text, kind): kind is an entity type, "BRAND" for a
        decoy, or None for plain words."""
        if self.text:
            self.text += " "
        for literal, slot, _spec, _conv in string.Formatter().parse(template):
            self.text += literal
            if slot is None:
                continue
            value, kind = values[slot]
            start = len(self.text)
            self.text += value
            if kind == "BRAND":
                self.decoys.append({"kind": kind, "start": start, "end": len(self.text), "text": value})
            elif kind is not None:
                self.entities.append({"entity_type": kind, "start": start, "end": len(self.text), "text": value})


class Draws:
    """Scalar draws served from blocks of a numpy Generator's output: per-purchase loops stay fast and the whole
    stream still derives from the one seed. Vector draws go to `rng` directly."""

    BLOCK = 8192  # uniforms fetched per refill

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._uniform: list[float] = []
        self._normal: list[float] = []

    def random(self) -> float:
        if not self._uniform:
            self._uniform = self.rng.random(self.BLOCK).tolist()
        return self._uniform.pop()

    def normal(self, loc: float = 0.0, scale: float = 1.0) -> float:
        if not self._normal:
            self._normal = self.rng.standard_normal(self.BLOCK).tolist()
        return loc + scale * self._normal.pop()

    def integers(self, low: int, high: int | None = None) -> int:
        """Uniform integer in [low, high) (or [0, low) with one argument), like Generator.integers."""
        if high is None:
            low, high = 0, low
        return low + min(int(self.random() * (high - low)), high - low - 1)

    def pick(self, options: tuple | list) -> object:
        return options[self.integers(len(options))]

    def permutation(self, n: int) -> list[int]:
        keys = [self.random() for _ in range(n)]
        return sorted(range(n), key=keys.__getitem__)


def _digits(rng: Draws, n: int) -> str:
    return "".join(str(rng.integers(10)) for _ in range(n))


def _person(rng: Draws) -> tuple[str, str]:
    return str(rng.pick(FIRST_NAMES)).capitalize(), str(rng.pick(SURNAMES))


def _phone(rng: Draws) -> str:
    forms = (  # all from ranges reserved for drama/fiction
        lambda: f"+44 20 7946 0{_digits(rng, 3)}",
        lambda: f"+44 (0)20 7946 0{_digits(rng, 3)}",
        lambda: f"07700 900{_digits(rng, 3)}",
        lambda: f"(555) 010-{_digits(rng, 4)}",
        lambda: f"+1 312-555-01{_digits(rng, 2)}",
        lambda: f"+49 30 23125 {_digits(rng, 3)}",
    )
    return forms[rng.integers(len(forms))]()


def _email(rng: Draws, spoken: bool = False) -> str:
    first, last = _person(rng)
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    if rng.random() < 0.5:
        local += _digits(rng, 2)
    domain = str(rng.pick(EMAIL_DOMAINS))
    if spoken:
        return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"
    return f"{local}@{domain}"


def _uk_postcode(rng: Draws) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters exclude C, I, K, M, O, V
    area = str(rng.pick(("LS", "BS", "G", "CF", "NR", "SW", "M", "EH")))
    return f"{area}{rng.integers(1, 20)} {rng.integers(10)}{rng.pick(tuple(letters))}" \
           f"{rng.pick(tuple(letters))}"


def _us_zip(rng: Draws) -> str:
    return _digits(rng, 5) + (f"-{_digits(rng, 4)}" if rng.random() < 0.3 else "")


def _slots(rng: Draws) -> dict[str, tuple[str, str | None]]:
    """Fresh values for every slot of PII_TEMPLATES (one review's worth)."""
    first, last = _person(rng)
    street = str(rng.pick(STREETS))
    flat = f"Flat {rng.integers(1, 12)}, " if rng.random() < 0.15 else ""
    number = f"{flat}{rng.integers(1, 240)} {street}"
    return {
        "relation": (str(rng.pick(RELATIONS)), None),
        "first_lower": (first.lower(), "PERSON"),
        "first_title": (first, "PERSON"),
        "full_title": (f"{first} {last}", "PERSON"),
        "full_lower": (f"{first} {last}".lower(), "PERSON"),
        "full_upper": (f"{first} {last}".upper(), "PERSON"),
        "initial_name": (f"{first} {last[0].upper()}.", "PERSON"),
        "street_number": (number, "STREET_ADDRESS"),
        "street_plain": (street, "STREET_ADDRESS"),
        "street_town": (f"{number}, {rng.pick(TOWNS)}", "STREET_ADDRESS"),
        "uk_postcode": (_uk_postcode(rng), "POSTCODE"),
        "us_zip": (_us_zip(rng), "POSTCODE"),
        "phone": (_phone(rng), "PHONE_NUMBER"),
        "email": (_email(rng), "EMAIL_ADDRESS"),
        "email_spoken": (_email(rng, spoken=True), "EMAIL_ADDRESS"),
        "card": (str(rng.pick(TEST_CARDS)), "CREDIT_CARD"),
        "iban": ("GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),  # the ECBS documentation example IBAN
        "order_short": (f"{rng.pick(tuple('ABCDEFGHKMNPRSTX'))}{_digits(rng, 2)}-{_digits(rng, 7)}",
                        "ORDER_NUMBER"),
        "order_long": (f"ORD-2025-{_digits(rng, 7)}", "ORDER_NUMBER"),
    }


def _plain_sentences(rng: Draws, type_name: str, path: tuple[str, ...], brand: str,
                     rating: int) -> list[tuple[str, dict]]:
    """The review's own 1-3 sentences as (template, values), keyed to product type and rating."""
    mood = "pos" if rating >= 4 else ("mid" if rating == 3 else "neg")
    praise, complaint = ASPECTS.get(path[1], ASPECTS.get(path[0]))
    good, bad = rng.permutation(len(praise)), rng.permutation(len(complaint))

    def values(j: int) -> dict:  # detail sentence j uses aspects 2j and 2j+1, so no aspect repeats
        return {"type": (type_name, None), "brand": (brand, "BRAND"),
                "praise": (praise[good[2 * j]], None), "praise2": (praise[good[2 * j + 1]], None),
                "complaint": (complaint[bad[2 * j]], None), "complaint2": (complaint[bad[2 * j + 1]], None)}

    out = [(str(rng.pick(REVIEW_OPENERS[mood])), values(0))]
    details = REVIEW_DETAILS[mood]
    for j, index in enumerate(rng.permutation(len(details))[: rng.integers(3)]):
        out.append((details[index], values(j)))
    return out


def compose_review(rng: Draws, type_name: str, path: tuple[str, ...], brand: str, rating: int,
                   plant: bool) -> ReviewText:
    """One review; with `plant`, 1-2 sentences of personal data go at random places (or pinned first/last)."""
    sentences = _plain_sentences(rng, type_name, path, brand, rating)
    first, last = [], []
    if plant:
        values = _slots(rng)
        for index in sorted(rng.permutation(len(PII_TEMPLATES))[: 1 + int(rng.random() < 0.3)]):
            template = PII_TEMPLATES[index]
            if template.startswith("^"):
                first.append((template[1:], values))
            elif template.endswith("$"):
                last.append((template[:-1], values))
            else:
                sentences.insert(rng.integers(len(sentences) + 1), (template, values))
    sentences = first + sentences + last
    review = ReviewText()
    for template, values in sentences:
        review.add_sentence(template, values)
    return review
