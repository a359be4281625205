"""Checksums that turn a pattern match into strong evidence: Luhn (ISO/IEC 7812-1) for payment cards and
ISO 13616 mod-97 for IBANs; plus the field checks of US SSNs (SSA: no 000/666/9xx area, 00 group, 0000 serial).
"""

from __future__ import annotations

import re

IBAN_LENGTHS = {  # ISO 13616 registry lengths of the countries a European retailer meets most
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TR": 26,
}
CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6(?:011|5|4[4-9]|2)|35)")  # Visa, MC, Amex, ...


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value)


def luhn_ok(number: str) -> bool:
    """Luhn check digit (mod 10) of a digit string; separators are ignored."""
    digits = digits_of(number)
    if not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_ok(value: str) -> bool:
    """13-19 digits, a known issuer prefix and a valid Luhn digit."""
    digits = digits_of(value)
    return 13 <= len(digits) <= 19 and CARD_PREFIX.match(digits) is not None and luhn_ok(digits)


def iban_ok(value: str) -> bool:
    """ISO 13616: registered length for the country and (rearranged, letters as 10..35) mod 97 == 1."""
    iban = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", iban) or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def ssn_ok(value: str) -> bool:
    digits = digits_of(value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
