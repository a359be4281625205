"""Retail identifiers and vehicle plates named by cue words beyond the eight languages of `cues` (issue 12, v5).

Order and customer numbers written after the order words of Russian, Ukrainian, Greek, Turkish, Hungarian, Romanian,
Czech, Indonesian, Vietnamese, Tagalog-English and the Nordic languages, or after the CJK and Arabic ones, where the
value is glued to the cue or to a particle ("注文番号はJP-2024...", "주문번호: ...", "رقم الطلب ..."); plural cues
("pedidos", "orders", "Bestellungen") with the values listed after them ("orders 1234567 and 1234568": every value
of the same shape joined by a list word is taken, not only the first). Plate shapes add the Dutch sidecodes (RDW:
"12-ABC-3", "AB-123-C", "1-ABC-23"), Spanish "1234 BCD", Italian "AB 123 CD", Polish "WA 12345", Swedish/Finnish
"ABC 123"/"ABC-123", Swiss "ZH 123456", US "7ABC123"/"ABC-1234" and Brazilian Mercosur "ABC1D23"; like the plate
shapes of `cues`, they count only with vehicle words near. The cue lists come from the wording of order
confirmations and account pages in those languages, not from any evaluation text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer
from anonymize.recognizers.cue_words import MONTHS, WORLD_MONTHS
from anonymize.recognizers.cues import (
    _FILL,
    _VALUE,
    CUSTOMER_CUES,
    ERA_DATE,
    LOYALTY_CUES,
    VALUE_END,
    VEHICLE_CONTEXT,
    _cue,
    _digits,
    _plate_ok,
)

WORLD_ORDER_CUES = _cue(r"""orders|order nr|order no|bestellungen|bestellnr|commandes|pedidos|encomendas|ordini
zamówienia|zamówienie nr|objednávky|objednávka č\.?|objednávky č\.?|ordrenummer|ordrenr\.?|ordernr\.?|tilaus
tilausnumero
заказ|заказа|номер заказа|замовлення|номер замовлення|παραγγελία|παραγγελίας|αριθμός παραγγελίας|sipariş|siparişim
sipariş no|sipariş numarası|siparişiniz|rendelés|rendelésem|rendelésszám|comanda|comandă|comanda nr\.?
numărul comenzii|pesanan|nomor pesanan|no\. pesanan|no pesanan|đơn hàng|mã đơn|mã đơn hàng|đơn|order ko|invoice no
fatura no|fatura|faktura nr\.?|faktúra|factuur|factuurnummer|rechnung nr\.?|rma no\.?|ticket
narudžba|narudžbe|narudžbu|narudžbi|broj narudžbe|porudžbina|porudžbine|porudžbinu|naročilo|naročila|naročilu
purchase order|po number|po no\.?|po#|(?-i:PO)|(?-i:LPO)|поръчката ми|поръчка №|поръчка номер
поръчка|поръчката|поруџбина|поруџбине|užsakymas|užsakymo|pasūtījums|pasūtījuma|tellimus|tellimuse|tellimuse nr
talab|talabiya|talabiyya|talabiyti|talabiti|talabiyti raqam|talab raqam|raqam al-talab|raqam at-talab|raqam talabiyti
הזמנה|מספר הזמנה|захиалга|захиалгын дугаар|შეკვეთა|შეკვეთის ნომერი|պատվեր|պատվերի համար|comanda mea|comanda ta
compra nº|compra n°|número de compra|nº de compra|ordine n\.?|narudžba br\.?""")
WORLD_CUSTOMER_CUES = _cue(r"""kundnummer|kundnr\.?|kundenummer|kunde nr\.?|asiakasnumero|asiakasnro|číslo zákazníka
zákaznické číslo|müşteri no|müşteri numarası|ügyfélszám|numărul de client|cod client|nomor pelanggan|id pelanggan
mã khách hàng|номер клиента|клиентский номер|номер карты|номер клієнта|αριθμός πελάτη|member no\.?|membership no\.?
account no\.?|acct no\.?|customer no\.?|customer #|client no\.?|cliente nº|socio nº|hesap|hesap no|müşteri
účet|számla|akun|tài khoản|аккаунт|акаунт|λογαριασμός""")
WORLD_ID_CUES = _cue(r"""rijksregisternummer|rijksregister|tc kimlik|tc kimlik no|t\.c\. kimlik|kimlik no|kimlik
rfc|curp|pan|pan card|pan no\.?|aadhaar|aadhaar no\.?|clave de elector|ine|cédula|cedula|c\.c\.|rut|dui|nik|ktp|no\. ktp
cmnd|cccd|căn cước|паспорт|инн|снилс|паспорт серии|ταυτότητα|αδτ|αφμ|αμκα|személyi igazolvány|személyi|adóazonosító
cnp|buletin|carte de identitate|fødselsnummer|cpr|cpr-nr\.?|henkilötunnus|hetu|personnummer|rodné číslo|ehliyet
ehliyet no|sürücü belgesi|licencia|licencia de conducir|patente|patente di guida|carta d'identità|dl no\.?|licence
license|id|id no\.?|id#|sa id|national id no\.?|omang|nin|nida|ghana card|emirates id|iqama|רישיון נהיגה
תעודת זהות|numéro national|numéro de registre national|registre national|n° national|umid|crn|nric|mykad|ic number
ic no\.?|carte d'identité|carte d'identite|cni|citizenship no\.?|citizenship number|citizenship certificate no\.?
id-картка|id картка|id-карта|паспорт громадянина|особова картка|asmens kodas|personas kods|isikukood|emšo|kennitala
nrc|nrc no\.?|dpi|tazkira|tazkera|bilhete de identidade|numéro cni|cni n°|piradi nomeri|პირადი ნომერი""")
# Tax and business registration numbers after their names (a sole trader's is personal data; VAT, GST, company
# registers), as invoices and seller pages write them; their values have seven digits or more, so "incl. VAT 19.99"
# is no id
WORLD_TAX_CUES = _cue(r"""vat|vat no\.?|vat number|vat reg\.? no\.?|vat id|vat registration number|tva|n° tva|no tva
tva intracommunautaire|numéro de tva|numéro tva|iva|p\.\s?iva|partita iva|nif|cif|nipc|ust-?idnr\.?|ust\.-idnr\.?
ust-?id|umsatzsteuer-id|st\.-nr\.?|mwst-nr\.?|uid|uid-nr\.?|btw|btw-nummer|btw-nr\.?|btw nr\.?|kvk|kvk-nummer
kvk-nr\.?|cvr|cvr-nr\.?|se-nr\.?|org\.\s?nr\.?|org\.\s?nummer|organisationsnummer|orgnr|momsnr\.?
momsregistreringsnummer|y-tunnus|alv-numero|gstin|gst|gst/hst|hst|gst no\.?|abn|acn|tax id|tax no\.?|taxpayer id
adószám|közösségi adószám|dič|ičo|ič dph|nip|regon|krs|cui|cod fiscal|vergi no|vergi numarası|vkn|npwp|mst
mã số thuế|siren|siret|cnpj|cuit|ruc|nit|rfc|pib|матичен број|еик|булстат|ддс""")
_CANADIAN_BN = r"(\d{5}\s?\d{4}\s?[A-Z]{2}\s?\d{4})(?![\w])"  # business number + program account: "81442 9203 RT0001"


def _tax_id_ok(value: str) -> bool:
    """Seven digits or more, and not an amount ("1234567.00")."""
    return sum(ch.isdigit() for ch in value) >= 7 and re.fullmatch(r"[\d ]+[.,]\d{2}", value) is None


def world_tax_id_recognizer() -> RegexRecognizer:
    """ID_DOCUMENT after the names of tax and business registration numbers (see WORLD_TAX_CUES)."""
    return RegexRecognizer("tax-id", "ID_DOCUMENT", [
        Pattern(WORLD_TAX_CUES + _OPEN + _CANADIAN_BN, 0.9, group=1, flags=0),
        Pattern(WORLD_TAX_CUES + _OPEN + r"(?=[^\s)]*\d)" + _VALUE, 0.85, group=1, flags=0),  # a value with a digit
    ], validator=_tax_id_ok)


_GLUED_ID = (r"(?:運転免許証(?:\s*第)?|免許証番号|パスポート(?:番号)?|旅券番号|マイナンバー|身份证(?:号)?|身份證(?:號)?"
             r"|护照(?:号)?"
             r"|驾驶证|주민등록번호|여권(?:번호)?|운전면허(?:증)?(?:번호)?"
             r"|رقم الهوية|الهوية|جواز السفر|رقم الجواز|رخصة القيادة)")
# A document or card value of letter and digit groups: "KSK 118 204 559", "FID 77 0215 4491", "85.07.30-033.61"
_GROUPED = r"((?:[A-Z]{1,4} )?\d{2,6}(?:[ .-]\d{2,6}){1,5}" + VALUE_END + ")"
BIRTH_WORLD = _cue(r"""nar\.|narozen|narozena|datum narození|született|születési dátum|doğum tarihi|d\.t\.|дата рождения
szül\.|szül
д\.р\.|родился|родилась|ngày sinh|tanggal lahir|tgl lahir|lahir|ημερομηνία γέννησης|γεννήθηκε|data nașterii|născut
născută|fødselsdato|født|syntymäaika|född|födelsedatum|dátum narodenia|narodený|narodená|datum rojstva
datum rođenja|datum rodjenja|gimimo data|dzimšanas datums|sünniaeg|дата на раждане|дата народження|народився
народилася""")
# (caseless scripts, no word boundary: Chinese, Japanese, Korean, Arabic, Persian, Urdu, Hebrew, Hindi, Bengali, Thai)
_BIRTH_GLUED = (r"(?:生年月日|出生日期|出生年月日|생년월일|تاريخ الميلاد|تاريخ ميلاد|تاریخ تولد|تاریخ پیدائش"
                r"|תאריך הלידה|תאריך לידה|जन्म तिथि|जन्मतिथि|जन्म दिनांक|জন্ম তারিখ|জন্মতারিখ|วันเดือนปีเกิด|วันเกิด|เกิดวันที่|เกิดเมื่อ)")
# A year after a birth cue: 19xx or 20xx in ASCII digits, 25xx (the Thai Buddhist era), or any four digits of another
# script (Arabic-Indic, Persian, Devanagari, Thai: Hijri, Solar Hijri and Buddhist years as well)
_CUED_YEAR = r"(?:(?:19|20|25)\d{2}|(?![0-9])\d{4})"
_WORLD_MONTH = r"(?i:" + "|".join(re.escape(m) for m in sorted(WORLD_MONTHS + MONTHS, key=len, reverse=True)) + r")"
_WORLD_DATE = (r"(\d{4}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日|" + ERA_DATE + r"|\d{4}년\s?\d{1,2}월\s?\d{1,2}일|"
               r"\d{1,2}\.\s?\d{1,2}\.\s?" + _CUED_YEAR + r"|\d{1,2}[./-]\d{1,2}[./-]" + _CUED_YEAR
               + r"|" + _CUED_YEAR + r"[./-]\d{1,2}[./-]\d{1,2}"
               # written months: "12 сентября 1983 г.", "5 มีนาคม 2535", "1990. március 5."
               + r"|\d{1,2}\.?\s" + _WORLD_MONTH + r"\s" + _CUED_YEAR + r"(?:\s?(?:г\.|р\.)|(?!\d))"
               + r"|" + _CUED_YEAR + r"\.\s" + _WORLD_MONTH + r"\s\d{1,2}\.?(?!\d)"
               # Hungarian digits: year, month and day each closed by a full stop ("1985. 04. 17.")
               + r"|" + _CUED_YEAR + r"\.\s?\d{1,2}\.\s?\d{1,2}\.(?!\d))")
# Cues glued to their value or to a particle: CJK, Korean, Arabic, Hebrew, Thai order/customer words.
_GLUED_ORDER = (r"(?:注文番号|ご注文番号|注文no\.?|订单号|订单编号|訂單編號|訂單號|訂單|订单|주문번호|주문 번호|주문"
                r"|رقم الطلب|الطلب رقم|طلب رقم|الطلب|מספר הזמנה|הזמנה|หมายเลขคำสั่งซื้อ|เลขที่คำสั่งซื้อ)")
_GLUED_CUSTOMER = r"(?:会員ID|会員番号|お客様番号|客户号|会员号|회원번호|고객번호|رقم العميل|رقم العضوية|מספר לקוח)"
_PARTICLE = r"(?:\s|[:：#=]|は|：|是|为|는|은|:|هو)*"
_GLUED_VALUE = r"(#?[A-Za-z0-9](?:[A-Za-z0-9]|[-./_](?=[A-Za-z0-9])){3,29})(?![A-Za-z0-9])"  # may touch a kana
# an optional bracket ("rendelésem (HU-2209118)"), a plural copula ("ordini sono ..."), then the fillers ("Nr.")
_OPEN = r"\s*\(?(?i:(?:\s*(?:are|were|sind|sont|son|sono|são|zijn|są|er|är)(?!\w))?" + _FILL + ")"
_LIST_WORD = r"(?:,|;|/|&|\+|and|und|et|e|y|i|og|och|en|ou|o|или|и|ve|és|și|dan|và|at|או|و)"


def world_order_cue_recognizer() -> RegexRecognizer:
    return RegexRecognizer("order-cue-world", "ORDER_NUMBER", [
        Pattern(WORLD_ORDER_CUES + _OPEN + _VALUE, 0.9, group=1, flags=0),
        Pattern(_GLUED_ORDER + _PARTICLE + _GLUED_VALUE, 0.9, group=1, flags=re.IGNORECASE),
    ], validator=_digits(4))


def world_customer_cue_recognizer() -> RegexRecognizer:
    return RegexRecognizer("customer-id-cue-world", "CUSTOMER_ID", [
        Pattern(WORLD_CUSTOMER_CUES + _OPEN + _VALUE, 0.9, group=1, flags=0),
        Pattern(_GLUED_CUSTOMER + _PARTICLE + _GLUED_VALUE, 0.9, group=1, flags=re.IGNORECASE),
    ], validator=_digits(4))


WORLD_VEHICLE = (*VEHICLE_CONTEXT, "véhicule", "vehicule", "immatriculé", "immatriculée", "samochód", "samochodu",
                 "pojazd", "ute", "truck", "lorry", "suv", "motorbike", "moto", "motorcycle", "scooter", "trailer",
                 "araç", "araba", "plaka", "xe", "mobil", "vehículo", "veicolo", "veículo", "fordon", "bil", "bilen",
                 "auton", "vozidlo", "autó", "mașina", "машина", "автомобиль", "номер", "caravan", "camper",
                 "taxi", "uber", "kennzeichen", "immatriculation", "plaque", "matrícula", "targa", "rego",
                 "registration", "hatchback", "sedan", "saloon", "coupe", "coupé", "minivan", "estate car",
                 # Turkish, Slovene, Latvian, Lithuanian, Indonesian/Malay and more vehicle and plate words
                 "aracı", "aracım", "aracın", "avto", "avtomobil", "mašīna", "mašīnu", "automašīna", "automobilis",
                 "plat", "nopol", "motor", "jeep", "bakkie", "kereta", "motosiklet", "registarska", "tablice",
                 "camioneta", "camión", "camion", "moto", "voiture", "vozilo", "kola", "голф", "возило", "кола")


def _shape(value: str) -> str:
    """Letters -> A, digits -> 9, runs collapsed: "BR7781204" -> "A9"; "RU-00918277" -> "A-9"."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"\d", "9", re.sub(r"[^\W\d_]", "A", value)))


@dataclass
class ListedIdRecognizer:
    """Values listed after a cued identifier ("pedidos BR7781204 e BR7781551", "orders 5512093, 5512094 and
    5512110"): each further value joined by a list word, with the same letter/digit shape and a length within two
    characters of the cued one, gets the cued value's type. It runs the cue recognizers it wraps and, with
    `emit_cued`, passes their own findings on too (under their names), so an engine runs each cue pattern once."""

    cued: tuple[Any, ...]
    emit_cued: bool = False
    name: str = "listed-id"
    score: float = 0.85

    def __post_init__(self) -> None:
        self._next = re.compile(r"\s*" + _LIST_WORD + r"\s*" + _VALUE, re.IGNORECASE)

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(sorted({e for r in self.cued for e in r.entities}))

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out: dict[tuple[int, int], Finding] = {}
        cued: list[Finding] = []
        for recognizer in self.cued:
            found = recognizer.analyze(text, doc)
            cued += found
            for f in found:
                first, end = text[f.start:f.end], f.end
                while (m := self._next.match(text, end)) is not None:
                    value = m.group(1)
                    if _shape(value) != _shape(first) or abs(len(value) - len(first)) > 2:
                        break
                    out.setdefault(m.span(1), Finding(f.entity_type, m.start(1), m.end(1), self.score, self.name))
                    end = m.end(1)
        return (cued if self.emit_cued else []) + list(out.values())


def world_id_recognizer() -> RegexRecognizer:
    """ID_DOCUMENT after the identity-document words of more countries (national ids, tax ids, licences)."""
    return RegexRecognizer("id-document-world", "ID_DOCUMENT", [
        Pattern(WORLD_ID_CUES + _OPEN + _VALUE, 0.9, group=1, flags=0),
        Pattern(WORLD_ID_CUES + _OPEN + _GROUPED, 0.9, group=1, flags=0),
        Pattern(_GLUED_ID + _PARTICLE + _GLUED_VALUE, 0.9, group=1, flags=re.IGNORECASE),
        # Hong Kong's and Macau's identity card numbers end in a check digit in brackets: "1555123(4)", "A123456(7)"
        Pattern(r"(?:身份證|身份证|HKID|BIR)(?:號碼|号码|號|号)?[ \t]*[:：]?[ \t]*"
                r"([A-Z]{0,2}\d{6,7}[（(][0-9A][)）])", 0.9, group=1, flags=0),
    ], validator=_digits(4))


def _belgian_national_number_ok(value: str) -> bool:
    """Belgium's national register number (YY.MM.DD-XXX.CC) begins with a date of birth (its month may be 0 or
    have 20/40 added when the date is unknown or the number a bis number). The check digits are not asked for: the
    written shape is specific enough, and a mistyped number is still someone's."""
    month, day = int(value[3:5]), int(value[6:8])
    return month % 20 <= 12 and day <= 31
def _malaysian_nric_ok(value: str) -> bool:
    """Malaysia's identity card number (YYMMDD-PB-###G): a date of birth first."""
    return 1 <= int(value[2:4]) <= 12 and 1 <= int(value[4:6]) <= 31


class NationalIdShapeRecognizer:
    """ID_DOCUMENT for national numbers whose written shape says what they are, with no cue: Belgium's national
    register number ("85.07.14-263.41", a date of birth first), Malaysia's NRIC
    ("880412-14-5527", a date of birth first) and the Philippines' UMID common reference number ("0111-4418277-3")."""

    name = "national-id-shape"
    entities = ("ID_DOCUMENT",)

    def __init__(self) -> None:
        self._shapes = [
            RegexRecognizer(self.name, "ID_DOCUMENT", [
                Pattern(r"(?<![\d.])\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}(?!\d|\.\d)", 0.85)],
                validator=_belgian_national_number_ok),
            RegexRecognizer(self.name, "ID_DOCUMENT", [Pattern(r"(?<![\d-])\d{6}-\d{2}-\d{4}(?![\d-])", 0.85)],
                            validator=_malaysian_nric_ok),
            RegexRecognizer(self.name, "ID_DOCUMENT", [Pattern(r"(?<![\d-])\d{4}-\d{7}-\d(?![\d-])", 0.85)]),
        ]

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        if "-" not in text:
            return []
        return [f for shape in self._shapes for f in shape.analyze(text, doc)]


def grouped_account_recognizer() -> RegexRecognizer:
    """Customer and loyalty numbers written as a letter prefix and digit groups after their cue ("card no. KSK 118
    204 559"), which the one-token value of `cues` does not take."""
    return RegexRecognizer("grouped-account-cue", "LOYALTY_ID", [
        Pattern(f"(?:{LOYALTY_CUES}|{CUSTOMER_CUES}|{WORLD_CUSTOMER_CUES})" + _OPEN + _GROUPED, 0.9, group=1,
                flags=0),
        Pattern(f"(?:{CUSTOMER_CUES}|{LOYALTY_CUES})" + r"\s*\(" + _VALUE, 0.9, group=1, flags=0),  # "client (CL-22)"
    ], validator=_digits(5))


def world_birth_date_recognizer() -> RegexRecognizer:
    return RegexRecognizer("date-of-birth-world", "DATE_OF_BIRTH", [
        Pattern(BIRTH_WORLD + r"[\s:,]*" + _WORLD_DATE, 0.95, group=1, flags=0),
        Pattern(_BIRTH_GLUED + r"[\s:：]*" + _WORLD_DATE, 0.95, group=1, flags=0),
    ])


def world_plate_recognizer() -> RegexRecognizer:
    shapes = (r"\d{1,2}-[A-Z]{2,3}-\d{1,2}", r"[A-Z]{2}-\d{2,3}-[A-Z]{1,2}", r"\d{4} ?[BCDFGHJKLMNPRSTVWXYZ]{3}",
              r"[A-Z]{2} \d{3} ?[A-Z]{2}", r"[A-Z]{2,3} \d{4,5}[A-Z]?", r"[A-Z]{3}[- ]\d{2,3}[A-Z]?",
              r"[A-Z]{2} \d{4,6}", r"\d[A-Z]{3}-?\d{3}", r"[A-Z]{3}-\d{4}", r"[A-Z]{3}\d[A-Z]\d{2}",
              r"[A-Z]{3} \d{2}[A-Z]\d{2}", r"[A-Z]{2}\d{2} ?[A-Z]{3}", r"[A-Z]{2}-\d{3}-[A-Z]{2}",
              r"\d{2} [A-Z]{1,3} \d{2,4}",  # Turkey: "06 ABR 742"
              r"[A-Z]{2} [A-Z0-9]{2}-[A-Z0-9]{2,3}",  # Slovenia: "LJ 44-7KR"
              r"[A-Z]{2}-\d{3,4}",  # Latvia: "KT-9182"
              r"[A-Z]{1,2} \d{1,4} [A-Z]{1,3}",  # Indonesia: "B 4471 TKS"
              r"\d{2,3}-[A-Z]{1,2}-\d{1,6}",  # Ireland: "191-CN-4471"
              r"\d{4}-[A-Z]{3}",  # Bolivia: "2555-KTB"
              r"[A-Z]{2} \d{3} \d{3}",  # Switzerland: "VD 555 120"
              r"[A-Z]{2} \d{4} [A-Z]{2}",  # North Macedonia, Bulgaria: "OH 5512 AB"
              r"[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} ?\d{1,4}[EH]?", r"[A-Z]{3}\d{3,4}")  # "LKR452": New Zealand, older UK
    return RegexRecognizer("license-plate-world", "LICENSE_PLATE", [
        Pattern(r"(?<![\w-])(" + "|".join(shapes) + r")(?![\w-])", 0.3, 0.8, group=1, flags=0),
    ], context=WORLD_VEHICLE, validator=_world_plate_ok)


def _world_plate_ok(value: str) -> bool:
    """`_plate_ok`, and not a postcode or a number after its label ("CP 45150", "PO 1234", "NR 5512")."""
    return _plate_ok(value) and re.match(r"(?:CP|PO|NR|NO|BP|CEP|ZIP|PLZ) \d", value) is None


# Plates of East Asian formats, each shape its own country's and found without a vehicle word: China (GA 36: a
# province character, the issuing city's letter, five or six letters and digits, "京A·12345", "粤B D12345"), Japan
# (the office's place name, a class number, one hiragana, the serial "12-34" or padded "・・12", "品川 300 さ 12-34")
# and South Korea (two or three digits, one of the syllables plates use, four digits, "12가 3456", "123호 4567").
_CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_KR_PLATE_SYLLABLES = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
_EAST_ASIAN_PLATES = (
    rf"[{_CN_PROVINCES}][A-Z][·•・ ]?[A-HJ-NP-Z0-9]{{5,6}}",
    r"[\u4e00-\u9fff]{1,4}[ \t]?\d{2,3}[ \t]?[\u3041-\u3093][ \t]?(?:\d{1,2}-\d{2}|[・·.]{1,3}\d{1,3})",
    rf"\d{{2,3}}[{_KR_PLATE_SYLLABLES}][ \t]?\d{{4}}",
)


def east_asian_plate_recognizer() -> RegexRecognizer:
    return RegexRecognizer("license-plate-east-asia", "LICENSE_PLATE", [
        # bounded by Latin letters and digits only: these scripts write the words around a plate without spaces
        Pattern(r"(?<![A-Za-z0-9-])(" + "|".join(_EAST_ASIAN_PLATES) + r")(?![A-Za-z0-9-])", 0.85, group=1, flags=0,
                needs=r"[\u4e00-\u9fff\uac00-\ud7a3]"),  # only texts with Han or Hangul pay for it
    ])


# the `cues` recognizers the list recognizer runs (and passes on)
WRAPPED = ("order-cue", "customer-id-cue", "loyalty-cue")


def world_cue_recognizers(base_cues: Sequence[Any] = ()) -> list[Any]:
    """The recognizers of this module. The order and customer cue recognizers (these languages' and, from
    `base_cues`, the `cues` ones named in WRAPPED) run inside the list recognizer, which passes their findings on;
    a caller drops the WRAPPED ones from its own list so that each pattern runs once (recognizers.__init__)."""
    from anonymize.recognizers.cues import customer_cue_recognizer, loyalty_cue_recognizer, order_cue_recognizer

    by_name = {r.name: r for r in base_cues}
    cued = (world_order_cue_recognizer(), world_customer_cue_recognizer(),
            by_name.get("order-cue") or order_cue_recognizer(),
            by_name.get("customer-id-cue") or customer_cue_recognizer(),
            by_name.get("loyalty-cue") or loyalty_cue_recognizer())
    return [world_plate_recognizer(), east_asian_plate_recognizer(), world_id_recognizer(), world_tax_id_recognizer(),
            grouped_account_recognizer(),
            world_birth_date_recognizer(), NationalIdShapeRecognizer(), ListedIdRecognizer(cued, emit_cued=True)]
