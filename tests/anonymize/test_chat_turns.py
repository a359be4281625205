"""Precision rules of the chat-turn and sentence-case round (issue 12): interjections opening a chat turn (places as
well as names, speakers of several words), sentence-case prose that is not "lower-case text", Title-Cased sentences
of the recased pass, lower-case gazetteer hits in cased text, Chinese and Japanese sentences read as streets, an
honorific or "I'm" alone. Each rule on texts it must change and on look-alikes it must leave alone; made-up texts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from anonymize.findings import Finding
from anonymize.recognizers.names import NameRecognizer
from anonymize.recognizers.recase import recased_persons, sentence_case, single_case
from anonymize.recognizers.refine import is_stop_word, refine


def _refined(text: str, value: str, entity: str = "PERSON") -> list[str]:
    start = text.index(value)
    found = refine(text, [Finding(entity, start, start + len(value), 0.85, "test-ner")], single_case(text))
    return [text[f.start:f.end] for f in found]


@pytest.mark.parametrize(("text", "value", "entity", "expected"), [
    # a capitalised place-like word opening a chat turn: "!" or a comma before a lower-case word is an interjection
    ("Kunde: Prima! Dann warte ich.", "Prima", "LOCATION", []),
    ("Asiakas: Kiitti, tulen huomenna.", "Kiitti", "LOCATION", []),
    ("Klient: Warszawa, ul. Długa 7", "Warszawa", "LOCATION", ["Warszawa"]),  # a capital after the comma: an answer
    ("Cliente: Tarragona.", "Tarragona", "LOCATION", ["Tarragona"]),  # a full stop: a one-word answer
    ("Agent: Leeds! Lovely.", "Leeds", "LOCATION", ["Leeds"]),  # a listed city
    # a speaker of several capitalised words, or with a bracketed name
    ("Agent Tomasz: Jasne, sprawdzam.", "Jasne", "PERSON", []),
    ("Obsługa (Ola): Dzięki! Już wysłane.", "Dzięki", "PERSON", []),
    ("Liste du lundi : Okafor, Brun et Petit.", "Okafor", "PERSON", ["Okafor"]),  # a heading, not a speaker
    ("Name: Okonkwa.", "Okonkwa", "PERSON", ["Okonkwa"]),  # a form's name field, not a chat turn
    ("Empfänger: Yalçınkaya.", "Yalçınkaya", "PERSON", ["Yalçınkaya"]),
    # caseless scripts are not judged by this rule: a Korean name answering keeps its span
    ("고객: 박서준이고요, 확인 부탁해요", "박서준이고요", "PERSON", ["박서준이고요"]),
    # an honorific alone, "I'm" alone
    ("ご注文ありがとうございます。様", "様", "PERSON", []),
    ("Agent: I'm afraid not.", "I'm", "PERSON", []),
    # role and retail words of more languages are no names
    ("Operátorka: Dobrý den, jak mohu pomoci?", "Operátorka", "PERSON", []),
    ("Betreff: Newsletter abbestellen", "Newsletter", "PERSON", []),
])
def test_chat_turn_and_stop_word_rules(text: str, value: str, entity: str, expected: list[str]) -> None:
    assert _refined(text, value, entity) == expected


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("你好，我想问一下退款什么时候到账", "你好，我想问一下退款什么时候到账", []),  # a sentence, no address character
    ("发货地址：上海市徐汇区漕溪北路88号", "上海市徐汇区漕溪北路88号", ["上海市徐汇区漕溪北路88号"]),
    ("お届け先：東京都港区芝公園4丁目2-8", "東京都港区芝公園4丁目2-8", ["東京都港区芝公園4丁目2-8"]),
    ("新住所：静岡県 410-0022", "静岡県 410-0022", ["静岡県 410-0022"]),  # a prefecture and its postcode
    ("Flat 3, Harbour View 香港", "Flat 3, Harbour View 香港", ["Flat 3, Harbour View 香港"]),  # Latin words in it
])
def test_han_and_kana_streets_need_an_address_character(text: str, value: str, expected: list[str]) -> None:
    assert _refined(text, value, "STREET_ADDRESS") == expected


def test_i_am_is_a_stop_word_for_the_cue_rules() -> None:
    assert is_stop_word("I'm") and is_stop_word("I’m,") and not is_stop_word("Imre")


@pytest.mark.parametrize(("text", "sentence", "single"), [
    ("Çok güzel bir ürün. Paketleme özenliydi. Kargo biraz gecikti. Teşekkürler.", True, False),
    ("the lamp arrived broken. tried calling twice. nobody picks up.", False, True),
    ("Ok so the parcel never came and nobody answers the phone at all", False, True),  # one capital: a keyboard's
    ("THE BOX WAS OPEN AND THE LID IS CRACKED. NOT HAPPY. SEND A NEW ONE.", False, True),
])
def test_sentence_case_prose_is_not_single_case(text: str, sentence: bool, single: bool) -> None:
    assert sentence_case(text) is sentence
    assert single_case(text) is single


def _recased(text: str, value: str) -> SimpleNamespace:
    start = text.index(value)
    return SimpleNamespace(ents=[SimpleNamespace(label_="PERSON", start_char=start, end_char=start + len(value))])


def test_recased_pass_drops_spans_of_five_words() -> None:
    text = "paket gelmedi ama maria kalan gitti ve"  # "maria" is a listed first name inside a sentence
    assert recased_persons(text, _recased(text, "gelmedi ama maria kalan gitti"), "ner") == []
    short = "ask for maria lopez at the desk"
    found = recased_persons(short, _recased(short, "maria lopez"), "ner")
    assert [short[f.start:f.end] for f in found] == ["maria lopez"]


@pytest.mark.parametrize(("text", "expected"), [
    ("The parcel came on time. It was fine but kevin never picked it up. Thanks.", []),  # sentence-case prose
    ("the parcel came but kevin never picked it up", ["kevin"]),  # a lower-case text: the gazetteer's to find
    ("I met kevin at the Leeds store", ["kevin"]),  # one sentence: nothing says its writer capitalises names
    ("The lamp is fine. My husband kevin set it up. Thanks.", ["kevin"]),  # a relation word before it
    ("Thanks for the reply! Write to me at @maria.k anytime.", ["maria"]),  # a handle is written in lower case
    ("Das Paket kam, aber Maria hat es nicht abgeholt.", ["Maria"]),
])
def test_lower_case_gazetteer_hits_in_sentence_case_prose_need_context(text: str, expected: list[str]) -> None:
    assert [text[f.start:f.end] for f in NameRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Fast delivery, sturdy box. — Lwazi N.", ["Lwazi N."]),  # an initial after it
    ("Arrived on time. Ref QX-20931. /Sunniva", ["Sunniva"]),  # a listed given name
    ("Works well.\n- Okafor", ["Okafor"]),  # the dash opens its line
    ("Great lamp - Sarah", ["Sarah"]),
    ("5 stars - Amazing", []),  # an ordinary word
    ("Works. - Excellent", []),  # no initial, not listed, not on its own line
    ("see page 3 - Summary", []),
    ("Love it - Thanks", []),  # a stop word
])
def test_a_dash_signature_ending_the_text_is_a_name(text: str, expected: list[str]) -> None:
    from anonymize.recognizers.cues import IntroNameRecognizer

    found = IntroNameRecognizer()._dash_signature(text)
    assert [text[f.start:f.end] for f in found] == expected


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("Ship to W. M. Dilani Perera please", "Dilani Perera", "W. M. Dilani Perera"),
    ("Ask for Lwazi N. at the till", "Lwazi", "Lwazi N."),
    ("J.K. Okafor signed for it", "Okafor", "J.K. Okafor"),
    ("Ask for Lwazi at the till", "Lwazi", "Lwazi"),  # no initials: unchanged
    ("We stock the U.S. Polo range", "Polo", "U.S. Polo"),  # the price of the rule: a dotted abbreviation joins it
])
def test_initials_join_a_name(text: str, value: str, expected: str) -> None:
    from anonymize.recognizers.refine import with_initials

    start = text.index(value)
    found = with_initials(text, Finding("PERSON", start, start + len(value), 0.85, "test"))
    assert text[found.start:found.end] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Asesora: listo, señor de la Cruz", ["de la Cruz"]),  # a surname with its particles after a title
    ("Agent: and is that Mrs ap Rhys?", ["ap Rhys"]),
    ("Thanks Mr van der Linde.", ["van der Linde"]),
    ("Υπάλληλος: ευχαριστώ κύριε Παπαδόπουλε", ["Παπαδόπουλε"]),  # titles of more languages
    ("الموظف: شكراً أستاذ فهد", ["فهد"]),
    ("Hola señora de la tienda", []),  # a particle before an ordinary word
    ("Hola, soy de Madrid y el pedido no llegó", []),  # after a self-introduction "de" says where one is from
    ("bitte an Fr. Pichler liefern", ["Pichler"]),  # abbreviated and Slovene, Croatian, Malay, Thai titles
    ("Spoštovani gosp. Kranjc, vračilo je odobreno", ["Kranjc"]),
    ("Catatan CRM: Bu Sri Wahyuningsih tanya batik", ["Sri Wahyuningsih"]),
    ("Rider note: Khun Somsak asked to leave it at 7-Eleven", ["Somsak"]),
    ("Preis: Fr. 25.- inkl. MwSt.", []),  # Swiss francs
])
def test_titles_of_more_languages_and_particle_surnames(text: str, expected: list[str]) -> None:
    from anonymize.recognizers.cues import IntroNameRecognizer

    assert [text[f.start:f.end] for f in IntroNameRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("お客様：届いていません\n担当鈴木：申し訳ございません。", ["鈴木"]),  # a role glued to the speaker's name
    ("买家：在吗\n客服阿丽：您好～", ["阿丽"]),
    ("고객: 문의드려요\n상담원 박지은: 네 고객님", ["박지은"]),
    ("担当者：確認いたします", []),  # the role alone
    ("オペレーター：お名前をお願いします", []),
])
def test_cjk_speakers_glued_to_their_role(text: str, expected: list[str]) -> None:
    from anonymize.recognizers.cues import IntroNameRecognizer

    assert [text[f.start:f.end] for f in IntroNameRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Bien reçu, le livreur Mamadou a sonné deux fois.", ["Mamadou"]),  # couriers, neighbours, relatives, roles
    ("Si no estoy, dejarlo con Conchi en la portería.", ["Conchi"]),
    ("Entregar na portaria, perguntar por Janaína.", ["Janaína"]),
    ("Reklamaci vyřídil pan Dvořák na prodejně Brno a vše proběhlo rychle.", ["Dvořák"]),
    ("Ostaviti kod susjede Marice na prvom katu.", ["Marice"]),
    ("Halo kak, sy Rudi dari toko sebelah.", ["Rudi"]),
    ("Our courier was late and the driver is new.", []),  # a role word before prose
    ("la vecina de arriba recogió el paquete", []),  # lower case: no name
    ("Bom produto mas Chegou riscado.", []),  # Portuguese "mas" (but) and Javanese "mas" (brother): no cue
])
def test_couriers_neighbours_and_roles_of_more_languages(text: str, expected: list[str]) -> None:
    from anonymize.recognizers.cues import IntroNameRecognizer

    assert [text[f.start:f.end] for f in IntroNameRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("オペレーター（佐々木）：ご住所をお願いします。", ["佐々木"]),  # a bracketed speaker name
    ("Agent (Lerato): thanks for waiting", ["Lerato"]),
    ("Note (internal): check the stock", []),  # a lower-case remark in brackets
    ("الموظفة مريم: مرحبا، كيف أساعدك؟", ["مريم"]),  # an Arabic role and name before the colon
    ("แอดมินพลอย: สวัสดีค่ะ", ["พลอย"]),  # a Thai role glued to the name
    ("담당자: 김도윤 대리 (02-555-0147)", ["김도윤"]),  # a Korean name before its job title
    ("我是买家陈静怡，想问一下发货时间", ["陈静怡"]),  # a Chinese role, a common surname and the given name
    ("我是第一次买，很满意", []),  # no surname after the role word
    ("客服小周态度很好，马上补发了", ["小周"]),  # the familiar "little" with a surname, after a role word
    ("ลูกค้า คุณมาลี ใจดี แจ้งว่าได้รับของแล้ว", ["มาลี ใจดี"]),  # the Thai honorific on a given name and surname
    ("คุณภาพดี มาก ส่งไว", []),  # "คุณภาพ" is quality
    ("客戶陳美玲投訴分店職員態度差", ["陳美玲"]),  # traditional characters: 客戶 (customer)
    ("სახელი: ნანა ბერიძე. შეკვეთა: GE-1102.", ["ნანა ბერიძე"]),  # the Georgian "name" label
])
def test_speakers_and_roles_of_scripts_without_case(text: str, expected: list[str]) -> None:
    from anonymize.recognizers.cues import IntroNameRecognizer

    assert [text[f.start:f.end] for f in IntroNameRecognizer().analyze(text)] == expected


@pytest.mark.parametrize(("text", "value"), [
    ("연락처 031-555-7710 내선 23", "031-555-7710 내선 23"),  # extension words of more languages
    ("هاتف 013 555 8820 تحويلة 14", "013 555 8820 تحويلة 14"),
    ("電話 0755-8663 2291 转 812", "0755-8663 2291 转 812"),
])
def test_extensions_of_more_languages_join_the_number(text: str, value: str) -> None:
    from anonymize.recognizers.refine import with_attached_number

    start = text.index(value)
    end = start + len(value.rsplit(" ", 2)[0])  # the number as the phone rule finds it, without "내선 23"
    found = with_attached_number(text, Finding("PHONE_NUMBER", start, end, 0.8, "test"))
    assert text[found.start:found.end] == value


@pytest.mark.parametrize(("text", "value", "entity"), [
    ("Прошу оформить возврат по заказу RU-55102938.", "RU-55102938", "ORDER_NUMBER"),  # inflected Russian cue
    ("Pedido de compra PC-2024-0771. Entrega", "PC-2024-0771", "ORDER_NUMBER"),
    ("Sono il venditore IT-SEL-55120, il reso", "IT-SEL-55120", "CUSTOMER_ID"),  # a seller's marketplace id
    ("店铺ID CN-66120937，请处理", "CN-66120937", "CUSTOMER_ID"),
])
def test_order_and_seller_cues_of_more_languages(text: str, value: str, entity: str) -> None:
    from anonymize.engine import Anonymizer

    found = [(f.entity_type, text[f.start:f.end]) for f in Anonymizer(use_ner=False).analyze(text)]
    assert (entity, value) in found


@pytest.mark.parametrize("word", ["Temsilci", "Ma'am", "Nachbar", "Nachbarn", "Gott", "Grüß", "Servus"])
def test_chat_roles_honorifics_and_greetings_are_stop_words(word: str) -> None:
    assert is_stop_word(word)  # refine trims them from name spans: "Temsilci Elif" -> "Elif", "Grüß Gott" -> none


def test_a_role_word_is_trimmed_from_a_speaker_span() -> None:
    text = "Temsilci Burak: Merhaba"
    kept = refine(text, [Finding("PERSON", 0, len("Temsilci Burak"), 0.85, "test")], False)
    assert [text[f.start:f.end] for f in kept] == ["Burak"]
