"""Payment methods are brands, not people or places (anonymize.recognizers.payment_brands); made-up sentences."""

from __future__ import annotations

import pytest

from anonymize.findings import Finding
from anonymize.recognizers.payment_brands import is_payment_brand


@pytest.mark.parametrize(("text", "value", "entity", "brand"), [
    ("I paid with Klarna yesterday", "Klarna", "PERSON", True),
    ("Pagué con Mercado Pago y no llegó", "Mercado Pago", "PERSON", True),  # a brand with its generic word
    ("Apple Pay failed again", "Apple Pay", "STREET_ADDRESS", True),
    ("Betaald met iDEAL", "iDEAL", "LOCATION", True),
    ("my VISA CARD was charged", "VISA CARD", "PERSON", True),
    ("TWINT Zahlung abgelehnt", "TWINT", "PERSON", True),
    # people and places stay
    ("Maya Klein paid with Klarna", "Maya Klein", "PERSON", False),  # "Maya" is a given name, not PayMaya
    ("Elo Santos called", "Elo Santos", "PERSON", False),
    ("Ask Diana at the Visa desk", "Diana", "PERSON", False),
    ("Visa Street 12", "Visa Street 12", "STREET_ADDRESS", False),  # a street named after it is still a street
    ("Card: Klarna", "Klarna", "ORDER_NUMBER", False),  # names, places and streets only
])
def test_payment_brands(text: str, value: str, entity: str, brand: bool) -> None:
    start = text.index(value)
    assert is_payment_brand(text, Finding(entity, start, start + len(value), 0.85, "t")) is brand


def test_payment_methods_are_not_masked_at_egress() -> None:
    """Through the egress pair: the learned detector and spaCy took these for people before the filter (the battery
    that showed it: 'Klarna', 'Giropay', 'Venmo', 'Amex' as PERSON); the customer's name is still masked."""
    from anonymize.layers import default_layered

    text = "Hi, Dana Whitfield here: I paid with Klarna, then by Amex, and Giropay failed too."
    found = [(f.entity_type, text[f.start:f.end]) for f in default_layered().analyze(text)]
    assert found == [("PERSON", "Dana Whitfield")]
