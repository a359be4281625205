"""Named administrative areas after their type word, as Indonesian, Vietnamese, Thai, Filipino and Irish addresses write
them: "Kel. Sukamaju, Kec. Cilodong", "xã Hòa Phước, huyện Hòa Vang", "Phường 7, Quận 3", "ต.คลองสาม อ.คลองหลวง
จ.ปทุมธานี", "Brgy. San Isidro", "Co. Galway".

The type words are the administrative divisions of each country's postal address (UPU S42 address components: the
locality, district and province elements, and each country's published address format): Indonesian and Malay
kelurahan/desa, kecamatan, kabupaten, kota, provinsi; Vietnamese xã, phường, thị trấn, quận, huyện, thị xã, thành phố,
tỉnh, thôn, ấp; Thai tambon (ต.), amphoe (อ.), changwat (จ.), khwaeng and khet; the Philippine barangay; the Irish
county. The span is the type word with the name after it (one to four capitalised words, a district number, or, in
Thai, the run of Thai letters), a LOCATION. One-letter Vietnamese abbreviations ("P.", "Q.") count only before a
district number ("P.7", "Q. 10"), and the Irish "Co." only before a county's name, so that "P. Smith" and "& Co."
are left alone.
"""

from __future__ import annotations

import re

from anonymize.recognizers.base import Pattern, RegexRecognizer

_SP = "[ \t\u00a0]"
_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ŽẠ-Ỹ][\w'’-]*"  # a capitalised word, Vietnamese capitals with their tone marks included
_NAMED = (  # type words before a capitalised name (or a district number)
    "Kel.", "Kelurahan", "Desa", "Ds.", "Kec.", "Kecamatan", "Kab.", "Kabupaten", "Kota", "Prov.", "Provinsi",
    "Kampung", "Kp.", "Dusun",
    "xã", "Xã", "phường", "Phường", "thị trấn", "Thị trấn", "quận", "Quận", "huyện", "Huyện", "thị xã", "Thị xã",
    "thành phố", "Thành phố", "TP.", "Tp.", "tỉnh", "Tỉnh", "thôn", "Thôn", "ấp", "Ấp",
    "Brgy.", "Barangay", "Bgy.",
)
# Cyrillic city and village abbreviations before a capitalised name ("г. Минск", "м. Київ", "гр. София", "с. Ивановка",
# "пгт Урюпинск"; not after a year: "в 2023 г. Мы ..."), and Arabic "city of" / district / governorate words before
# a name ("مدينة نصر", "حي النرجس")
_CYRILLIC_NAMED = ("г.", "м.", "гр.", "с.", "пгт", "пос.", "смт")
_CYRILLIC_WORD = r"[А-ЯЁІЇЄҐЂЈЉЊЋЏ][\u0400-\u04ff'’-]+"
_ARABIC_NAMED = ("مدينة", "حي", "محافظة", "ولاية")
_ARABIC_WORD = r"[\u0621-\u064a\u0671-\u06d3]{2,}"
# Vietnamese written without its diacritics, as chats often are: "phuong 14 quan 3 tp hcm"
_ASCII_VIETNAMESE = (r"(?i:phuong|quan|huyen)" + _SP + r"\d{1,2}(?![\d\w])|(?i:tp\.?)" + _SP
                     + r"?(?i:hcm|ho chi minh)(?![\w])")
_NUMBERED = ("P.", "Q.", "F.")  # Vietnamese ward and district abbreviations, only before a number ("F." = phường)
_IRISH_COUNTIES = (
    "Antrim", "Armagh", "Carlow", "Cavan", "Clare", "Cork", "Derry", "Donegal", "Down", "Dublin", "Fermanagh",
    "Galway", "Kerry", "Kildare", "Kilkenny", "Laois", "Leitrim", "Limerick", "Londonderry", "Longford", "Louth",
    "Mayo", "Meath", "Monaghan", "Offaly", "Roscommon", "Sligo", "Tipperary", "Tyrone", "Waterford", "Westmeath",
    "Wexford", "Wicklow",
)
_THAI_TYPES = ("ต.", "ตำบล", "อ.", "อำเภอ", "จ.", "จังหวัด", "แขวง", "เขต")


def _alternatives(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(w).replace("\\ ", _SP) for w in sorted(words, key=len, reverse=True)) + ")"


ADMIN_AREA = (
    rf"(?<![\w.]){_alternatives(_NAMED)}{_SP}?(?:{_WORD}(?:{_SP}{_WORD}){{0,3}}|\d{{1,2}}(?![\d\w]))"
    rf"|(?<![\w.]){_alternatives(_NUMBERED)}{_SP}?\d{{1,2}}(?![\d\w])"
    rf"|(?<![&\w]{_SP})(?<![\w.])(?:Co\.|County){_SP}{_alternatives(_IRISH_COUNTIES)}(?![\w])"
    rf"|(?<![\w.]){_alternatives(_THAI_TYPES)}{_SP}?[\u0e00-\u0e7f]{{2,}}"
    rf"|(?<![\w.])(?<!(?:19|20)\d\d{_SP})(?<!\d){_alternatives(_CYRILLIC_NAMED)}{_SP}?{_CYRILLIC_WORD}(?:-{_CYRILLIC_WORD})?(?![\w])"
    rf"|(?<![\w])(?:Sector|sector|Sectorul|sectorul){_SP}[1-6](?![\w])"  # Bucharest's six sectors
    rf"|(?<![\w]){_alternatives(_ARABIC_NAMED)}{_SP}{_ARABIC_WORD}(?:{_SP}(?!و){_ARABIC_WORD})?(?![\w])"
    rf"|(?<![\w]){_ASCII_VIETNAMESE}")


def admin_area_recognizer() -> RegexRecognizer:
    """LOCATION spans of named administrative areas after their type word (see the module docstring)."""
    return RegexRecognizer("admin-area", "LOCATION", [Pattern(ADMIN_AREA, 0.8, flags=0)])
