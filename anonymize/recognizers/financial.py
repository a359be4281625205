"""Payment cards (Luhn), IBANs (ISO 13616 mod-97) and US social security numbers.

Card numbers are matched with spaces or dashes between digit groups, as customers type them. An IBAN is one when its
check digits hold, or, with wrong ones, when it is written in ISO 13616's print form (groups of four, the registered
length of its country): a mistyped or made-up IBAN is still someone's account written down. A match the validator
rejects is cut back at its separators (the pattern's last group may have taken the next word along).
"""

from __future__ import annotations

from anonymize.recognizers.base import Pattern, RegexRecognizer
from anonymize.recognizers.validators import card_ok, iban_ok, iban_print_ok, ssn_ok


def card_recognizer() -> RegexRecognizer:
    return RegexRecognizer("credit-card", "CREDIT_CARD", [
        Pattern(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", 0.9, 1.0),
    ], context=("(?<!gift )card", "visa", "mastercard", "amex", "credit", "debit", "paid", "payment", "charged"),
        validator=card_ok, cut_at=" -")


# groups of four apart by a space, a no-break space or a hyphen ("DE89-3704-0044-0532-0130-00"), any case
_IBAN = r"\b[A-Z]{2}\d{2}(?:[ \u00a0-]?[A-Z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Z0-9]{1,3})?\b"


def iban_recognizer() -> RegexRecognizer:
    return RegexRecognizer("iban", "IBAN_CODE", [Pattern(_IBAN, 0.95)], validator=iban_ok, cut_at=" \u00a0-")


def iban_print_recognizer() -> RegexRecognizer:
    """IBANs in print form whose check digits fail (those that pass are `iban_recognizer`'s)."""
    return RegexRecognizer("iban-print", "IBAN_CODE", [Pattern(_IBAN, 0.9)],
                           validator=lambda v: iban_print_ok(v) and not iban_ok(v), cut_at=" \u00a0-")


def ssn_recognizer() -> RegexRecognizer:
    return RegexRecognizer("us-ssn", "US_SSN", [
        Pattern(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])", 0.55, 0.95),
        Pattern(r"(?<!\d)\d{9}(?!\d)", 0.1, 0.7),  # nine bare digits are an SSN only when called one
    ], context=("ssn", "social security", "social"), validator=ssn_ok)
