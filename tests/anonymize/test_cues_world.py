"""Cue rules of more languages (anonymize/recognizers/cues_world.py): order and customer numbers after order words of
more languages and after glued CJK/Arabic cues, values listed after a cued one, identity documents and birth dates
of more countries, grouped card numbers, and the plate shapes that count only near vehicle words. The sentences are
written for this test."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.recognizers.cues_world import (
    ListedIdRecognizer,
    grouped_account_recognizer,
    world_birth_date_recognizer,
    world_cue_recognizers,
    world_id_recognizer,
    world_order_cue_recognizer,
    world_plate_recognizer,
)

FOUND = [  # (recognizer factory, text, value, entity)
    (world_order_cue_recognizer, "Здравствуйте, заказ KX-55012874 так и не пришёл", "KX-55012874", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "Sipariş numarası: 7741209933, kargo nerede?", "7741209933", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "ご注文番号はTK-20260311-0077です。", "TK-20260311-0077", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "订单号：SH99120345 还没到", "SH99120345", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "رقم الطلب QA-77120 متأخر", "QA-77120", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "a rendelésem (BP-4410277) késik", "BP-4410277", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "nomor pesanan 2206118834 belum dikirim", "2206118834", "ORDER_NUMBER"),
    # order words of South Slavic, Bulgarian, Baltic, Hebrew and Arabic written in Latin letters
    (world_order_cue_recognizer, "pišem zbog narudžbe ZG-2025-4410, još nije stigla", "ZG-2025-4410", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "Поръчката SF-77120 закъснява", "SF-77120", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "Tellimus TL-550921 on hilinenud", "TL-550921", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "מספר הזמנה HZ-20931 לא הגיע", "HZ-20931", "ORDER_NUMBER"),
    (world_order_cue_recognizer, "salam, talabiyti raqam AM-33018 ma wasalat", "AM-33018", "ORDER_NUMBER"),
    (world_id_recognizer, "Klant met rijksregisternummer 90.02.14-211.07 belde", "90.02.14-211.07", "ID_DOCUMENT"),
    (world_id_recognizer, "RFC GOMA791204KL2 para la factura", "GOMA791204KL2", "ID_DOCUMENT"),
    (world_id_recognizer, "She showed her driving licence (K77Z12093) at the desk", "K77Z12093", "ID_DOCUMENT"),
    (world_id_recognizer, "本人確認：パスポート番号 TR4481207 を確認済み", "TR4481207", "ID_DOCUMENT"),
    (grouped_account_recognizer, "Kundenkarte Nr. KK 204 771 309 verloren", "KK 204 771 309", "LOYALTY_ID"),
    (grouped_account_recognizer, "a customer (CX-DE-440918) complained", "CX-DE-440918", "LOYALTY_ID"),
    (world_birth_date_recognizer, "生年月日：1979年11月3日", "1979年11月3日", "DATE_OF_BIRTH"),
    (world_birth_date_recognizer, "Jana Dvořáková, nar. 4. 9. 1988, Brno", "4. 9. 1988", "DATE_OF_BIRTH"),
    (world_plate_recognizer, "the van outside is KL-204-B, can you move it?", "KL-204-B", "LICENSE_PLATE"),
    (world_plate_recognizer, "mi coche, matrícula 4821 KTV, está en el parking", "4821 KTV", "LICENSE_PLATE"),
]


@pytest.mark.parametrize(("factory", "text", "value", "entity"), FOUND)
def test_world_cue_finds(factory, text: str, value: str, entity: str) -> None:
    start = text.index(value)
    hits = [(f.entity_type, f.start, f.end) for f in factory().analyze(text) if f.score >= 0.5]
    assert (entity, start, start + len(value)) in hits


NOT_FOUND = [
    "I ran 10 km in 2024 and the order arrived on 12.03.2025.",  # years and dates are not ids
    "The WA 12345 service bus leaves at nine.",  # a plate shape without a vehicle word scores below threshold
    "Model 2400 KTV speaker, 2 for 99 EUR",
    "Our store opens at 9, see you on Monday!",
]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_world_cues_leave_plain_text(text: str) -> None:
    assert [f for r in world_cue_recognizers() for f in r.analyze(text) if f.score >= 0.5] == []


def test_listed_values_after_a_cue_share_its_type_and_shape() -> None:
    text = "Two pedidos: PT5512093 e PT5512094, and also 2025 e 2026 nothing else"
    found = {text[f.start:f.end] for f in ListedIdRecognizer((world_order_cue_recognizer(),)).analyze(text)}
    assert found == {"PT5512094"}  # the cued first value is the cue recognizer's; a different shape stops the list
    text = "orders 5512093, 5512094 and 5512110 are late"
    found = {text[f.start:f.end] for f in ListedIdRecognizer((world_order_cue_recognizer(),)).analyze(text)}
    assert found == {"5512094", "5512110"}


def test_the_anonymizer_runs_the_world_cues() -> None:
    text = "Cliente: i miei ordini sono IT4410277 e IT4410299, grazie"
    masked = Anonymizer(use_ner=False).anonymize(text).text
    assert "IT4410277" not in masked and "IT4410299" not in masked


CJK = [  # (text, value, entity): addresses and names in scripts without spaces, written for this test
    ("配送先 東京都世田谷区桜丘3-12-5。本人(田中様)に確認済み", "東京都世田谷区桜丘3-12-5", "STREET_ADDRESS"),
    ("配送先 東京都世田谷区桜丘3-12-5。本人(田中様)に確認済み", "田中", "PERSON"),
    ("收件人：李文华 | 地址：广州市天河区体育西路88号 3号楼 502室", "广州市天河区体育西路88号 3号楼 502室",
     "STREET_ADDRESS"),
    ("收件人：李文华 | 地址：广州市天河区体育西路88号 3号楼 502室", "李文华", "PERSON"),
    ("받는분: 김민서 | 주소: 부산광역시 해운대구 센텀중앙로 97, 101동 2203호",
     "부산광역시 해운대구 센텀중앙로 97, 101동 2203호", "STREET_ADDRESS"),
    ("박서준 고객님 재방문 예정", "박서준", "PERSON"),
    # the building after a Japanese block number, an estate before Chinese units, a bare room number, a Korean floor
    ("お届け先：名古屋市中区栄3丁目5-12 サンシャイン栄1203号室", "名古屋市中区栄3丁目5-12 サンシャイン栄1203号室",
     "STREET_ADDRESS"),
    ("地址：杭州市西湖区文三路90号 翠苑小区5栋702室，谢谢", "杭州市西湖区文三路90号 翠苑小区5栋702室",
     "STREET_ADDRESS"),
    ("寄到成都市武侯区人民南路四段12号1506，周一送", "成都市武侯区人民南路四段12号1506", "STREET_ADDRESS"),
    ("주소: 대전광역시 유성구 대학로 99, 2층", "대전광역시 유성구 대학로 99, 2층", "STREET_ADDRESS"),
]


@pytest.mark.parametrize(("text", "value", "entity"), CJK)
def test_cjk_addresses_and_names(text: str, value: str, entity: str) -> None:
    from anonymize.recognizers.cjk import CjkRecognizer

    start = text.index(value)
    assert (entity, start, start + len(value)) in [(f.entity_type, f.start, f.end) for f in
                                                   CjkRecognizer().analyze(text)]


@pytest.mark.parametrize("text", ["明日大阪から発送します。", "ご購入ありがとうございます！",
                                  "お客様の注文は3月4日に届きました。", "배송 빨랐어요! 감사합니다",
                                  "今日は晴れです。"])
def test_cjk_prose_is_left_alone(text: str) -> None:
    from anonymize.recognizers.cjk import CjkRecognizer

    assert CjkRecognizer().analyze(text) == []


@pytest.mark.parametrize(("text", "value"), [("the cabin near Kenora, ON. Lovely place", "Kenora, ON"),
                                             ("1200 N Oak St Apt 4, Denver, CO 80203", "Denver, CO"),
                                             ("UNIT 12B | SANTA FE, NM 87501-4419", "SANTA FE, NM"),
                                             ("Gladstone QLD 4680", "Gladstone QLD")])
def test_town_and_region_code(text: str, value: str) -> None:
    from anonymize.recognizers.regions import TownRegionRecognizer

    start = text.index(value)
    assert [(f.start, f.end) for f in TownRegionRecognizer().analyze(text)] == [(start, start + len(value))]


@pytest.mark.parametrize("text", ["Dear Mr Smith, IN the box", "Thanks, OK", "I LIVE IN PARIS, OK", "Hi, CA",
                                  "Paid 40 CAD, ON time", "the store in Portland, OR is nice"])
def test_region_codes_that_are_words_need_a_postcode(text: str) -> None:
    from anonymize.recognizers.regions import TownRegionRecognizer

    assert TownRegionRecognizer().analyze(text) == []


def test_structured_rules_run_each_cue_pattern_once_and_keep_its_name() -> None:
    from anonymize.recognizers import structured_recognizers

    rules = structured_recognizers()
    names = [r.name for r in rules]
    assert "order-cue" not in names and "listed-id" in names  # the order cue runs inside the list recognizer
    text = "Bestellung 300184772 und 300184773 fehlen"
    found = {(text[f.start:f.end], f.recognizer) for r in rules for f in r.analyze(text, None)
             if f.entity_type == "ORDER_NUMBER"}
    assert ("300184772", "order-cue") in found and ("300184773", "listed-id") in found


@pytest.mark.parametrize(("text", "expected"), [
    ("Merci de nous transmettre votre numéro de TVA intracommunautaire (FR61832147759).", ["FR61832147759"]),
    ("Factuur op naam van de stichting, KvK 51182930, btw NL004847219B01.", ["51182930", "NL004847219B01"]),
    ("Seller: Kapoor Textiles, GSTIN 07AAKPB4821L1Z9, pickup from Ludhiana", ["07AAKPB4821L1Z9"]),
    ("Faktura til CVR 48441920, att. indkøb", ["48441920"]),
    ("Invoice to Maple Works, GST/HST 81442 9203 RT0001", ["81442 9203 RT0001"]),
    ("Számlázási adatok: adószám 24418293-2-13", ["24418293-2-13"]),
    ("Rechnung an USt-IdNr. DE123456789", ["DE123456789"]),
    # amounts and rates after the same words are no ids
    ("Price incl. VAT 1234567.00", []),
    ("VAT 20% included in the price", []),
    ("the gst is 15 dollars for order 1234567", []),
])
def test_tax_and_business_registration_numbers(text: str, expected: list[str]) -> None:
    from anonymize.findings import resolve_overlaps
    from anonymize.recognizers.cues_world import world_tax_id_recognizer

    found = resolve_overlaps(world_tax_id_recognizer().analyze(text))
    assert [text[f.start:f.end] for f in found] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi Dana, attached PO PO-UK-00912 for 12 cases", [("ORDER_NUMBER", "PO-UK-00912")]),
    ("please find our LPO LPO-2025-0417 for 40 units", [("ORDER_NUMBER", "LPO-2025-0417")]),
    ("Клиент: поръчката ми BG-55120 още не е пристигнала", [("ORDER_NUMBER", "BG-55120")]),
    ("loyalty card 88120455 and 88120456", [("LOYALTY_ID", "88120455"), ("LOYALTY_ID", "88120456")]),  # listed
    ("poszliśmy po 12345 schodach", []),  # Polish "po" (after): the PO cue is upper case only
])
def test_purchase_orders_and_listed_loyalty_numbers(text: str, expected: list[tuple[str, str]]) -> None:
    from anonymize.findings import resolve_overlaps
    from anonymize.recognizers import structured_recognizers

    listed = next(r for r in structured_recognizers() if isinstance(r, ListedIdRecognizer))
    found = resolve_overlaps(listed.analyze(text))
    assert [(f.entity_type, text[f.start:f.end]) for f in found] == expected


@pytest.mark.parametrize(("text", "found"), [
    ("Remboursement svp. Numéro 92.03.21-114.07. Merci", ["92.03.21-114.07"]),  # Belgian national number
    ("Caller: 900315-10-5542\nAgent: thank you", ["900315-10-5542"]),  # Malaysian NRIC, a date of birth first
    ("Claimed with UMID 0028-1234567-9 yesterday", ["0028-1234567-9"]),  # Philippine UMID reference
    ("SKU 991315-10-5542 restocked", []),  # month 13: no NRIC
    ("Version 12.13.14-263.41 of the app", []),  # month 13: no national number
])
def test_national_numbers_known_by_their_written_shape(text: str, found: list[str]) -> None:
    from anonymize.recognizers.cues_world import NationalIdShapeRecognizer

    assert [text[f.start:f.end] for f in NationalIdShapeRecognizer().analyze(text)] == found


@pytest.mark.parametrize(("text", "value"), [
    ("majiteľ účtu Peter Novák, dátum narodenia 3. 9. 1987.", "3. 9. 1987"),  # Slovak, spaces after the dots
    ("datum rođenja 14.02.1979, Zagreb", "14.02.1979"),
    ("Born 3rd of May 1984 in Leeds", "3rd of May 1984"),  # "of" between day and month
    # written months of more languages, the Thai Buddhist year, digits of other scripts, Hungarian year first
    ("Дата рождения: 12 сентября 1983 г., подарок", "12 сентября 1983 г."),
    ("เกิดวันที่ 5 มีนาคม 2535 ค่ะ", "5 มีนาคม 2535"),
    ("تاريخ الميلاد: ١٥/٠٦/١٩٩٠", "١٥/٠٦/١٩٩٠"),
    ("تاریخ تولد: ۱۳۷۰/۰۵/۱۲", "۱۳۷۰/۰۵/۱۲"),
    ("Születési dátum: 1990. március 5.", "1990. március 5."),
    ("Doğum tarihi: 15 Kasım 1985, siparişim gelmedi", "15 Kasım 1985"),
    ("生年月日：1992年4月18日（平成4年4月18日）", "平成4年4月18日"),  # an era date 16 years back or more
])
def test_birth_dates_after_more_birth_cues(text: str, value: str) -> None:
    from anonymize.engine import Anonymizer

    found = {(f.entity_type, text[f.start:f.end]) for f in Anonymizer(use_ner=False).analyze(text)}
    assert ("DATE_OF_BIRTH", value) in found


@pytest.mark.parametrize("text", [
    "令和5年4月1日に注文しました",  # a recent era date: an order's day
    "Nisan ayında 12 Kasım teslimat dedi",  # month names without a birth cue or year
    "Доставка 12 сентября, спасибо",
])
def test_no_birth_date_without_a_cue_or_an_old_year(text: str) -> None:
    from anonymize.engine import Anonymizer

    assert not [f for f in Anonymizer(use_ner=False).analyze(text) if f.entity_type == "DATE_OF_BIRTH"]


@pytest.mark.parametrize(("text", "found"), [
    ("Car park incident: blue hatchback KMT318 reversed into a bay", ["KMT318"]),  # three letters, three digits
    ("Model ABC1234 in stock", []),  # the same shape with no vehicle word near: below the threshold
])
def test_compact_plates_of_three_letters_and_digits_near_a_vehicle_word(text: str, found: list[str]) -> None:
    from anonymize.recognizers.cues_world import world_plate_recognizer

    assert [text[f.start:f.end] for f in world_plate_recognizer().analyze(text) if f.score >= 0.5] == found


@pytest.mark.parametrize(("text", "found"), [
    ("车牌粤B D12345的车停在门口", ["粤B D12345"]),  # China: province, city letter, five characters
    ("car with plates 京A·12345 parked outside", ["京A·12345"]),
    ("車のナンバー 品川 300 さ 12-34 です", ["品川 300 さ 12-34"]),  # Japan: office, class, hiragana, serial
    ("東京の練馬500あ・・・1", ["練馬500あ・・・1"]),  # a serial padded with dots
    ("번호12가 3456번 차량", ["12가 3456"]),  # Korea: digits, a plate syllable, four digits
    ("사과 12개 3456원", []),  # "개" counts things: no plate syllable
    ("5A2 3391 is the model code", []),
])
def test_east_asian_plates_by_their_national_shapes(text: str, found: list[str]) -> None:
    from anonymize.recognizers.cues_world import east_asian_plate_recognizer

    assert [text[f.start:f.end] for f in east_asian_plate_recognizer().analyze(text)] == found


@pytest.mark.parametrize(("text", "value"), [
    ("nummerplaat 1-ABC-234", "1-ABC-234"), ("rego 1ABC23 on the ute", "1ABC23"),
    ("Rendszám: ABC-123, piros autó", "ABC-123"), ("SPZ 2AB 3456", "2AB 3456"),
])
def test_plate_cues_of_more_languages(text: str, value: str) -> None:
    from anonymize.recognizers.cues import license_plate_recognizer

    assert value in [text[f.start:f.end] for f in license_plate_recognizer().analyze(text)]


@pytest.mark.parametrize(("text", "value"), [
    ("ギフトカード番号：1234-5678-9012-3456", "1234-5678-9012-3456"),  # a cue with its number word, full-width colon
    ("기프트카드 번호 KG-8830-2291-4417", "KG-8830-2291-4417"),
    ("presentkort 5566 7788 9900 1122", "5566 7788 9900 1122"),
    ("подарочный сертификат 7781-2290-4415", "7781-2290-4415"),
])
def test_gift_card_cues_of_more_languages(text: str, value: str) -> None:
    from anonymize.recognizers.cues import gift_cue_recognizer

    assert [text[f.start:f.end] for f in gift_cue_recognizer().analyze(text)] == [value]


@pytest.mark.parametrize(("text", "found"), [
    ("Kundennummer: 4471-22-9", ["4471-22-9"]),  # no calendar date: year 4471, month 22
    ("customer no. 31-12-1999", []),  # a date after the cue is the date recognizers' to judge
    ("customer id 2024/03/12", []),
])
def test_an_id_after_its_cue_unless_it_is_a_calendar_date(text: str, found: list[str]) -> None:
    from anonymize.recognizers.cues import customer_cue_recognizer

    assert [text[f.start:f.end] for f in customer_cue_recognizer().analyze(text)] == found


def test_loyalty_cues_of_cjk_with_their_number_words() -> None:
    from anonymize.recognizers.cues import loyalty_cue_recognizer

    text = "ポイントカード番号 9901 2233 4455 です"
    assert [text[f.start:f.end] for f in loyalty_cue_recognizer().analyze(text)] == ["9901 2233 4455"]
