"""Cities written in their own script, traditional-character addresses, and the label, role and product words that
are no names (issue 12)."""

from __future__ import annotations

import pytest

from anonymize.findings import Finding
from anonymize.recognizers import structured_recognizers
from anonymize.recognizers.cjk import CjkRecognizer
from anonymize.recognizers.names import NameRecognizer
from anonymize.recognizers.native_places import NativePlaceRecognizer
from anonymize.recognizers.refine import is_stop_word, refine


def _places(text: str) -> list[str]:
    return [text[f.start:f.end] for f in NativePlaceRecognizer().analyze(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("배송 빨랐어요! 부산까지 이틀 걸렸어요.", ["부산"]),
    ("서울특별시에서 보냈어요", ["서울특별시"]),
    ("ご購入ありがとうございます！明日札幌から発送します。", ["札幌"]),
    ("大阪府に住んでいます", ["大阪府"]),
    ("東京都のお店", ["東京都"]),  # Tokyo-to, not the "京都" (Kyoto) inside it
    ("我住在北京。", ["北京"]),
    ("寄到上海的包裹还没到", ["上海"]),
    ("מוצר מעולה, הגיע מהר לחיפה. ממליצה!", ["חיפה"]),  # without the attached preposition
    ("أنا سامي من صفاقس", ["صفاقس"]),
    ("وصل الغسالة لعنا بـإربد وطلعها", ["إربد"]),  # a preposition written on with the tatweel
    ("وصلت الطلبية لين صلالة في ثلاث أيام", ["صلالة"]),
    ("قم بتحديث العنوان حولي في العقبة القادمة", []),  # "do", "around me", "the obstacle": not listed
    ("Заказывала в Новосибирск, дошло за неделю", ["Новосибирск"]),
    ("Привет из Москвы", ["Москвы"]),
    ("Відправила у відділення в Львові", ["Львові"]),
    ("Παραλήπτης στην Πάτρα", ["Πάτρα"]),
    ("ส่งไปเชียงใหม่ค่ะ", ["เชียงใหม่"]),
    ("وصل الطلب إلى الرياض، شكراً", ["الرياض"]),  # before an Arabic comma (a punctuation mark, not a letter)
    ("تهران، خیابان ولیعصر", ["تهران"]),  # Persian spelling
    ("पार्सल मुंबई। धन्यवाद", ["मुंबई"]),  # before a danda, the Devanagari full stop
    ("גרה בתל־אביב", ["תל־אביב"]),  # a maqaf, the Hebrew hyphen, inside the name
    ("给在成都上大学的表妹买的", ["成都"]),  # a preposition of place before the city, a Han character after it
    ("帮成都的朋友买的", ["成都"]),  # a possessive after the city
    ("ბათუმში ორ დღეში მოვიდა", ["ბათუმში"]),  # Georgian: "in Batumi"
    ("მისამართი: თბილისი, ვაკე", ["თბილისი"]),
    ("Երևանում ենք ապրում", ["Երևանում"]),  # Armenian: "in Yerevan"
    ("በአዲስ አበባ ደርሷል", ["አዲስ አበባ"]),  # Amharic, without the attached preposition
    ("Улаанбаатар хот", ["Улаанбаатар"]),  # Mongolian Cyrillic
    ("Қарағандыға тез жетті", ["Қарағандыға"]),  # Kazakh, with a Kazakh case ending
])
def test_cities_in_their_own_script_are_places(text: str, expected: list[str]) -> None:
    assert _places(text) == expected


@pytest.mark.parametrize("text", [
    "北京ダックが美味しい",  # Peking duck: no particle after the city
    "대구탕 맛있어요",  # cod soup, not Daegu
    "тулуп тёплый",  # lower case: a coat, not Tula
    "Сочный вкус",  # "Соч-" is no stem of Sochi (indeclinable)
    "Delivered to Busan in two days",  # Latin script is the learned detector's
    "很长沙发很舒服",  # a long sofa: "长沙" (Changsha) inside two words, nothing of place around it
    "东西安全到达",  # "the things arrived safely": "西安" (Xi'an) across two words
    "გორგალი",  # a word that starts like a city's stem
])
def test_words_that_hold_a_city_name_are_not_places(text: str) -> None:
    assert _places(text) == []


def test_native_places_run_in_both_layers() -> None:
    assert any(isinstance(r, NativePlaceRecognizer) for r in structured_recognizers())


# spaces inside a Chinese road number; a Korean road with a side street and a floor
@pytest.mark.parametrize(("text", "address"), [
    ("地址：杭州市西湖区文一路 128 号星光大厦 1203 室，谢谢", "杭州市西湖区文一路 128 号星光大厦 1203 室"),
    ("수거는 서울시 마포구 성미산로 17길 42, 2층에서 해주세요", "서울시 마포구 성미산로 17길 42, 2층"),
])
def test_cjk_addresses_with_spaces_and_side_streets(text: str, address: str) -> None:
    found = [text[f.start:f.end] for f in CjkRecognizer().analyze(text) if f.entity_type == "STREET_ADDRESS"]
    assert address in found


def test_traditional_character_addresses_with_road_sections() -> None:
    text = "地址是台北市大安區復興南路一段390號5樓。我是陳怡君。"
    found = [(f.entity_type, text[f.start:f.end]) for f in CjkRecognizer().analyze(text)]
    assert ("STREET_ADDRESS", "台北市大安區復興南路一段390號5樓") in found  # the label "地址是" left out
    text = "收件人：王建国/地址：上海市浦东新区张杨路1500号 4号楼 1203室"
    assert ("STREET_ADDRESS", "上海市浦东新区张杨路1500号 4号楼 1203室") in [
        (f.entity_type, text[f.start:f.end]) for f in CjkRecognizer().analyze(text)]


@pytest.mark.parametrize(("text", "names"), [
    ("お客様：080-1234-5678、小松です", ["小松"]),  # a listed surname before the copula of a self-introduction
    ("読みはヤマダです。漢字は山田 花子です。", ["山田 花子"]),  # after a particle, with the given name
    ("高橋一郎と申します。よろしくお願いします。", ["高橋一郎"]),  # given name of two characters, written together
    ("色が違いました。\n石井 真由\n電話：03-1234-5678", ["石井 真由"]),  # alone on its line: a signature
    ("とても大丈夫です", []), ("中山道です", []),  # a word before the copula, a road named after a surname
])
def test_japanese_surnames_before_the_copula_or_as_a_signature(text: str, names: list[str]) -> None:
    assert [text[f.start:f.end] for f in CjkRecognizer().analyze(text) if f.entity_type == "PERSON"] == names


@pytest.mark.parametrize("word", ["Prénom", "Apellidos", "Cognome", "Voornaam", "Příjmení", "Фамилия", "Faktura",
                                  "Bestellnr", "Gerente", "Responsable", "Projectmanager", "Sales", "Akkoord",
                                  "Kaffeemaschine", "Laufschuhe"])
def test_form_labels_roles_replies_and_product_nouns_are_no_names(word: str) -> None:
    assert is_stop_word(word)
    text = f"{word} Vermeulen"
    assert [text[f.start:f.end] for f in refine(text, [Finding("PERSON", 0, len(text), 0.85, "ner")])] == [
        "Vermeulen"]


@pytest.mark.parametrize("word", ["Bravo", "Claudia", "Hartung", "Sales-Pérez"])
def test_surnames_and_given_names_stay_names(word: str) -> None:
    assert not is_stop_word(word)


def test_a_birth_label_ends_a_street_span() -> None:
    text = "Unit 4, Harbour Rd, bday 1988-01-30"
    pieces = refine(text, [Finding("STREET_ADDRESS", 0, 35, 0.85, "ner")])
    assert [text[f.start:f.end] for f in pieces] == ["Unit 4, Harbour Rd"]


def test_name_gazetteer_reads_words_with_letters_beyond_ascii_whole() -> None:
    text = "Die Roan Rose Bettwäsche ist super."
    spans = [text[f.start:f.end] for f in NameRecognizer().analyze(text)]
    assert not any("Bettw" in s for s in spans)  # was "Roan Rose Bettw": cut at "ä", then taken as a surname


def test_a_packstation_stays_an_address() -> None:
    text = "Bitte an Packstation 105, 10117 Berlin"
    found = refine(text, [Finding("STREET_ADDRESS", 9, 24, 0.85, "ner")])
    assert [text[f.start:f.end] for f in found] == ["Packstation 105"]
