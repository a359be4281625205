"""Named administrative areas after their type word (anonymize/recognizers/admin_areas.py): Indonesian, Vietnamese,
Thai, Philippine and Irish address parts, and the look-alikes left alone; postcodes after Japan's postal mark, after
the postcode labels of Chinese, Japanese and Korean forms, and Argentina's CPA. Made-up addresses."""

from __future__ import annotations

import pytest

from anonymize.findings import resolve_overlaps
from anonymize.recognizers import structured_recognizers
from anonymize.recognizers.address import postcode_recognizer
from anonymize.recognizers.admin_areas import admin_area_recognizer


@pytest.mark.parametrize(("text", "expected"), [
    ("Jl. Mawar 3, Kel. Cempaka, Kec. Cibeunying, Kota Bandung", ["Kel. Cempaka", "Kec. Cibeunying", "Kota Bandung"]),
    ("Desa Sukamaju, Kabupaten Bogor", ["Desa Sukamaju", "Kabupaten Bogor"]),
    ("số 3, xã Phú Lâm, huyện Tiên Du, Bắc Ninh", ["xã Phú Lâm", "huyện Tiên Du"]),
    ("88 Hai Bà Trưng, Phường 6, Quận 3, TP. Hồ Chí Minh", ["Phường 6", "Quận 3", "TP. Hồ Chí Minh"]),
    ("12/4 Lý Thường Kiệt, P.14, Q.10", ["P.14", "Q.10"]),
    ("55 หมู่ 2 ต.ท่าทราย อ.เมือง จ.สมุทรสาคร 74000", ["ต.ท่าทราย", "อ.เมือง", "จ.สมุทรสาคร"]),
    ("Unit 4, Brgy. Poblacion, Makati", ["Brgy. Poblacion"]),
    ("The Old Forge, Ballyvary, Co. Mayo", ["Co. Mayo"]),
    ("кв. 12, 220030 г. Гродно", ["г. Гродно"]),
    ("Доставка у м. Житомир, вул. Лісова 3", ["м. Житомир"]),
    ("Str. Lalelelor 4, București, sector 2", ["sector 2"]),
    ("أنا ساكن في مدينة نصر والمندوب اتصل", ["مدينة نصر"]),
    ("giao toi phuong 7 quan 10 tp hcm nhe", ["phuong 7", "quan 10", "tp hcm"]),
    # look-alikes
    ("В 2023 г. Мы переехали", []),  # a year's "г." before a sentence
    ("sector 9 of the warehouse", []),  # Bucharest has six sectors
    ("Ask P. Okafor at the desk", []),  # an initial, no district number
    ("Murphy & Co. Galway office", []),  # a firm's "& Co."
    ("we met in the old town quarter", []),
    ("di kota ini semua murah", []),  # a lower-case "kota" in prose
])
def test_admin_areas(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in admin_area_recognizer().analyze(text)] == expected


def test_both_layers_run_it_with_the_structured_rules() -> None:
    assert any(r.name == "admin-area" and r.entities == ("LOCATION",) for r in structured_recognizers())


@pytest.mark.parametrize(("text", "expected"), [
    ("お届け先：〒604-8005 京都市中京区", ["604-8005"]),
    ("郵便番号 1000001 東京都千代田区", ["1000001"]),
    ("收件人：王芳\n邮编：310012\n手机：138 0000 0000", ["310012"]),
    ("우편번호 06236 서울특별시 강남구", ["06236"]),
    ("Av. Santa Fe 2100, piso 3\nC1123AAN CABA", ["C1123AAN"]),
    ("SKU B1234XYZ in stock", []),  # a product code: no town after it
])
def test_postcodes_of_cjk_forms_and_argentina(text: str, expected: list[str]) -> None:
    found = resolve_overlaps(postcode_recognizer().analyze(text))
    assert [text[f.start:f.end] for f in found] == expected


def test_a_romanian_county_abbreviation_is_a_subdivision() -> None:
    from anonymize.recognizers.regions import SubdivisionRecognizer

    text = "Cluj-Napoca, jud. Cluj, 400001"
    assert [text[f.start:f.end] for f in SubdivisionRecognizer().analyze(text)] == ["jud. Cluj"]
