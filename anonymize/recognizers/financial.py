"""Payment cards (Luhn), IBANs (ISO 13616 mod-97) and US social security numbers.

Card numbers are matched with spaces or dashes between digit groups, as customers type them.
"""

from __future__ import annotations

from anonymize.recognizers.base import Pattern, RegexRecognizer
from anonymize.recognizers.validators import card_ok, iban_ok, ssn_ok


def card_recognizer() -> RegexRecognizer:
    return RegexRecognizer("credit-card", "CREDIT_CARD", [
        Pattern(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", 0.9, 1.0),
    ], context=("(?<!gift )card", "visa", "mastercard", "amex", "credit", "debit", "paid", "payment", "charged"),
        validator=card_ok)


def iban_recognizer() -> RegexRecognizer:
    return RegexRecognizer("iban", "IBAN_CODE", [
        # groups of four apart by a space, a no-break space or a hyphen ("DE89-3704-0044-0532-0130-00"), any case
        Pattern(r"\b[A-Z]{2}\d{2}(?:[ \u00a0-]?[A-Z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Z0-9]{1,3})?\b", 0.95),
    ], validator=iban_ok)


def ssn_recognizer() -> RegexRecognizer:
    return RegexRecognizer("us-ssn", "US_SSN", [
        Pattern(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])", 0.55, 0.95),
        Pattern(r"(?<!\d)\d{9}(?!\d)", 0.1, 0.7),  # nine bare digits are an SSN only when called one
    ], context=("ssn", "social security", "social"), validator=ssn_ok)
