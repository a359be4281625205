"""Checksums that turn a pattern match into strong evidence: Luhn (ISO/IEC 7812-1) for payment cards and
ISO 13616 mod-97 for IBANs; plus the field checks of US SSNs (SSA: no 000/666/9xx area, 00 group, 0000 serial).
"""

from __future__ import annotations

import re

IBAN_LENGTHS = {  # ISO 13616: every country of the SWIFT IBAN registry (2025)
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
    # in use outside the registry (national schemes with ISO 13616 check digits: West and Central African banks,
    # the Maghreb, Iran), and the Crown dependencies, which take the GB format under their own code in some forms
    "AO": 25, "BF": 28, "BJ": 28, "CF": 27, "CG": 27, "CI": 28, "CM": 27, "CV": 25, "DZ": 26, "GA": 27, "GQ": 27,
    "GW": 25, "IR": 26, "KM": 27, "MA": 28, "MG": 27, "ML": 28, "MZ": 25, "NE": 28, "SN": 28, "TD": 27, "TG": 28,
    "GG": 22, "IM": 22, "JE": 22,
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


def _compact_iban(value: str) -> str | None:
    """The IBAN without separators, upper case, when it has its country's registered length; else None."""
    iban = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", iban) or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return None
    return iban


def iban_ok(value: str) -> bool:
    """ISO 13616: registered length for the country and (rearranged, letters as 10..35) mod 97 == 1."""
    iban = _compact_iban(value)
    if iban is None:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def iban_print_ok(value: str) -> bool:
    """An IBAN in its print form whatever its check digits (a typo, a made-up example): a registered country code in
    capitals, the registered length, and groups of four apart by one separator, the last group 1-4 long (ISO 13616's
    paper format, "LU28 0019 4006 4475 0000"). Retail ids are not written so, and a mistyped IBAN is still one."""
    if _compact_iban(value) is None or not value[:2].isupper():
        return False
    return re.fullmatch(r"[A-Z]{2}\d{2}(?:[ \u00a0-][A-Za-z0-9]{4})+(?:[ \u00a0-][A-Za-z0-9]{1,3})?", value) is not None


def ssn_ok(value: str) -> bool:
    digits = digits_of(value)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
