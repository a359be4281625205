"""Identifiers named by the word before them, in the languages a European retailer's customers write: order and
invoice numbers, customer numbers, loyalty and gift cards, identity documents, vehicle plates and birth dates.

A value of letters and digits after a cue ("order no.", "Bestellnummer", "n° de commande", "pedido", "account",
"Kundennummer", "carte fidélité", "Gutschein", "passport", "DNI", "Kennzeichen", "born", "geb.", "née le") is what
shops, couriers and forms put there; the cue lists come from the wording of order confirmations, loyalty and
sign-up forms and identity-check fields in English, German, French, Spanish, Italian, Portuguese, Dutch and Polish,
not from any evaluation text. Plate shapes follow the national formats (UK DVLA "AB12 CDE", French SIV
"AB-123-CD", German "M-AB 1234"); a bare plate shape counts only with vehicle words near. The DNI/NIE check letter
is the Spanish Ministry of the Interior's mod-23 table; the codice fiscale shape is the Italian DM 23/12/1976 one.

Birth dates: a date right after a birth cue is a DATE_OF_BIRTH; a full date whose year is at least
`ADULT_YEARS` before today is one too (order, delivery and sale dates are recent), at a lower score; so is a Japanese
era date ("平成4年4月18日", the Gregorian year from the era's first year).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer
from anonymize.recognizers.cue_words import BIRTH_CUES, MONTHS
from anonymize.recognizers.cue_words import cue as _cue
from anonymize.recognizers.words import CJK, MARKS, is_letters

# After the cue: up to three filler tokens ("no.", "nº", "number", "is", ":", "#"), then the value.
_FILL = (r"(?:[\s:：#=]*(?:no\.?|nr\.?|nº|n°|n\.|num\.?|number|nummer|numéro|número|numero|numer|code|id|ref\.?|is|ist|"
         r"es|est|è|é|do|de|du|del|da|di|of|van|der|la|le)(?![\w]))?[\s:：#=.]*")
_FILL = rf"(?:{_FILL}){{1,3}}"
# A value: letters/digits in up to six groups joined by - . / _ (or digit groups joined by spaces), >= 4 digits.
# A value ends where a word does, or at a Chinese, Japanese or Korean character: those scripts write the particle or
# the next word right after it ("ポイントカード8801 2234 5567の統合", "会员卡号12345678已") - without that, a grouped
# number lost its last group and a glued one was not found at all.
VALUE_END = rf"(?![^\W{CJK}]|-)"
_VALUE = (rf"(#?(?:\d{{2,6}}(?: \d{{2,6}}){{1,5}}{VALUE_END}|[A-Za-z0-9](?:[A-Za-z0-9]|[-./_](?=[A-Za-z0-9])){{3,29}}"
          rf"(?![^\W{CJK}]|-|[./]\w)))")
# a calendar date: day and month (either order) up to 31, a year of two digits or 1800-2099; "4471-22-9" is no date
_DAY_OR_MONTH = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE_LIKE = re.compile(rf"{_DAY_OR_MONTH}[./-]{_DAY_OR_MONTH}[./-](?:\d{{2}}|1[89]\d{{2}}|20\d{{2}})"
                        rf"|(?:1[89]|20)\d{{2}}[./-]{_DAY_OR_MONTH}[./-]{_DAY_OR_MONTH}")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ORDER_CUES = _cue(r"""order|orders|order-?nr\.?|ordernummer|ordine|bestellung|bestellnummer|bestell-?nr\.?|bestelling
bestelnummer|bestelnr\.?|auftrag|auftragsnummer|commande|cde|pedido|encomenda|zamówienie|zamowienie|objednávka
zamówieniu|zamówienia|zamówieniem|zamowieniu|zamowienia|objednávky|objednávce|objednávku|objednavka|objednavky
ordre|beställning|invoice|rechnung|rechnungsnummer|facture|factura|fattura|fatura|faktura|receipt|quittung
confirmation|booking|reservation|collection|collection code|pickup code|tracking|tracking number|sendungsnummer
sendung|colis|paquete|pacco|encomenda|parcel|shipment|return|returns|retour|retoure|rücksendung|devolución
devolucion|reso|rma|ref|ref\.|reference|referenz|référence|referencia|riferimento|referência|kenmerk
заказ|заказу|заказа|заказом|заказе|замовлення|pedido de compra|orden de compra|ordine d'acquisto|bon de commande""")
CUSTOMER_CUES = _cue(r"""customer|customer id|customer number|account|acct|account number|konto|kundennummer
kunden-?nr\.?|kd\.?-?nr\.?|kundenkonto|kunde|kundin|client|numéro client|compte|compte client|cliente|cuenta
número de cliente|codice cliente|conto|klant|klantnummer|klantnr\.?|clientnummer|numer klienta|user id|userid
seller|seller id|vendor id|venditore|vendedor|vendeur|verkäufer|sprzedawca|店铺id|店铺|商家id|卖家id|셀러""")
LOYALTY_CUES = _cue(r"""loyalty|loyalty card|rewards|reward|member|membership|member id|club|club card|clubcard
points card|card no\.?|card number|kundenkarte|karten-?nr\.?|kartennummer|mitgliedsnummer|mitglieds-?nr\.?
payback|carte fidélité|carte de fidélité|fidélité|adhérent|socio|número de socio|tarjeta de fidelidad
tarjeta de socio|tarjeta de fidelización|tessera|carta fedeltà|fidelity card|klantenkaart|klantenpas|spaarpas
cartão de fidelidade|cartão cliente|karta lojalnościowa|karta stałego klienta|medlemskort|medlemsnummer|bonuskort
kundkort|kundeklubb|kundklubb|jäsenkortti|kanta-asiakaskortti|kanta-asiakasnumero
ポイントカード|ポイントカード番号|会員カード|会員カード番号|积分卡|积分卡号|會員卡|會員卡號|会员卡|会员卡号
멤버십 번호|멤버십카드|포인트카드|포인트카드 번호""")
GIFT_CUES = _cue(r"""gift card|giftcard|gift code|gift voucher|voucher|voucher code|e-gift|egift|gift certificate
claim code|redemption code|gutschein|gutscheincode|geschenkkarte|geschenkgutschein|carte cadeau|chèque cadeau
bon d'achat|code cadeau|tarjeta regalo|cheque regalo|vale regalo|buono|buono regalo|carta regalo|cadeaukaart
cadeaubon|cadeaucode|vale-presente|cartão presente|karta podarunkowa|bon podarunkowy|presentkort|gavekort|lahjakortti
ajándékkártya|dárková karta|hediye kartı|hediye çeki|подарочная карта|подарочный сертификат|بطاقة هدية|כרטיס מתנה
ギフトカード|ギフトカード番号|ギフト券|ギフト券番号|商品券|礼品卡|礼品卡号|礼品卡卡号|禮品卡|禮品卡號|购物卡|購物卡|储值卡
기프트카드|기프트카드 번호|상품권|상품권 번호""")
ID_CUES = _cue(r"""passport|passport no\.?|passeport|pasaporte|passaporto|reisepass|pass-?nr\.?|paspoort|paszport
id card|identity card|id number|national id|personalausweis|ausweis|ausweisnummer|carte d'identité|cni|dni|nie
nif|nif/nie|documento|documento de identidad|carta d'identità|codice fiscale|cpf|bsn|pesel|dowód osobisty
pps|pps number|driver's license|drivers license|driver's licence|driving licence|driving license|licence number
license number|führerschein|führerscheinnummer|permis de conduire|permis|carnet de conducir|patente|rijbewijs
prawo jazdy|tax id|steuer-?id|steuernummer|national insurance|national insurance number|nino""")
PLATE_CUES = _cue(r"""reg|reg\.|registration|registration number|reg no\.?|number plate|licence plate|license plate
plate|plate number|tag number|kennzeichen|nummernschild|autokennzeichen|immatriculation|plaque
plaque d'immatriculation|matrícula|matricula|targa|kenteken|numer rejestracyjny|tablica rejestracyjna
tablice rejestracyjne|rego|nummerplaat|nummerbord|nummerplade|nummerskilt|registreringsnummer|regnr|rekisterinumero
rekkari|rendszám|rendszáma|plaka|plakası|spz|špz|госномер|номерной знак|πινακίδα|πινακίδες""")
VEHICLE_CONTEXT = ("car", "vehicle", "van", "parked", "parking", "car park", "bay", "curbside", "kerbside", "drive",
                   "pickup", "pick up", "collect", "reg", "plate", "auto", "wagen", "fahrzeug", "voiture", "coche",
                   "macchina", "carro", "kenteken", "parkplatz")
_MONTH = r"(?i:" + "|".join(sorted(set(MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|er|º|\.)?"
_YEAR4 = r"(?:19|20)\d{2}"
DATE_VALUE = (rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:{_YEAR4}|\d{{2}})(?![\d/.-]\d)|{_YEAR4}[./-]\d{{1,2}}[./-]\d{{1,2}}"
              rf"|{_DAY}\s(?:de\s|of\s)?{_MONTH}(?:\sde)?,?\s{_YEAR4}|{_MONTH}\s{_DAY},?\s{_YEAR4})")
ADULT_YEARS = 16  # a full date at least this many years back is taken for a birth date (no order is that old)
# A Japanese era date ("平成4年4月18日"; digits only, "元" for an era's first year) and each era's first year
ERA_DATE = r"(明治|大正|昭和|平成|令和)\s?(元|\d{1,2})\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?日"
_ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}


def _digits(n: int) -> Callable[[str], bool]:
    """At least n digits, and not a calendar date (the date recognizers' business)."""
    return lambda v: sum(ch.isdigit() for ch in v) >= n and not _DATE_LIKE.fullmatch(v.lstrip("#"))


def cued(name: str, entity: str, cues: str, score: float = 0.9, min_digits: int = 4) -> RegexRecognizer:
    return RegexRecognizer(name, entity, [Pattern(cues + _FILL + _VALUE, score, group=1, flags=0)],
                           validator=_digits(min_digits))


def order_cue_recognizer() -> RegexRecognizer:
    return cued("order-cue", "ORDER_NUMBER", ORDER_CUES)


def customer_cue_recognizer() -> RegexRecognizer:
    return cued("customer-id-cue", "CUSTOMER_ID", CUSTOMER_CUES)


def loyalty_cue_recognizer() -> RegexRecognizer:
    return cued("loyalty-cue", "LOYALTY_ID", LOYALTY_CUES)


def gift_cue_recognizer() -> RegexRecognizer:
    return cued("gift-card-cue", "GIFT_CARD", GIFT_CUES)


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(value: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): the mod-23 check letter."""
    v = value.upper().replace("-", "").replace(" ", "")
    if re.fullmatch(r"[XYZ]\d{7}[A-Z]", v):
        v = str("XYZ".index(v[0])) + v[1:]
    return bool(re.fullmatch(r"\d{8}[A-Z]", v)) and _DNI_LETTERS[int(v[:8]) % 23] == v[8]


def id_document_recognizer() -> RegexRecognizer:
    return RegexRecognizer("id-document", "ID_DOCUMENT", [
        Pattern(ID_CUES + _FILL + _VALUE, 0.9, group=1, flags=0),
    ], validator=_digits(3))


def dni_recognizer() -> RegexRecognizer:
    """Validated Spanish DNI/NIE numbers, with or without a cue."""
    return RegexRecognizer("dni", "ID_DOCUMENT", [
        Pattern(r"(?<![\w-])(?:\d{8}|[XYZxyz]\d{7})-?[A-Za-z](?![\w-])", 0.85),
    ], validator=dni_ok)


def codice_fiscale_recognizer() -> RegexRecognizer:
    return RegexRecognizer("codice-fiscale", "ID_DOCUMENT", [
        Pattern(r"(?<![\w])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![\w])", 0.9, flags=0),
    ])


_PLATE = r"([A-ZÄÖÜ0-9]{1,4}(?:[- ]?[A-ZÄÖÜ0-9]{1,4}){1,3})(?![\w-])"


def _plate_ok(value: str) -> bool:
    chars = re.sub(r"[- ]", "", value)
    return 4 <= len(chars) <= 9 and any(c.isdigit() for c in chars) and any(c.isalpha() for c in chars)


def license_plate_recognizer() -> RegexRecognizer:
    return RegexRecognizer("license-plate", "LICENSE_PLATE", [
        Pattern(PLATE_CUES + r"[\s:.#]*(?:(?i:no\.?|number|nr\.?|is|ist|est)[\s:.]*)?" + _PLATE, 0.9, group=1,
                flags=0),
        Pattern(r"(?<![\w-])([A-Z]{2}\d{2} ?[A-Z]{3})(?![\w-])", 0.45, 0.85, group=1, flags=0),  # UK: "LK19 XHT"
        Pattern(r"(?<![\w-])([A-Z]{2}-\d{3}-[A-Z]{2})(?![\w-])", 0.45, 0.85, group=1, flags=0),  # FR SIV
        Pattern(r"(?<![\w-])([A-ZÄÖÜ]{1,3}-[A-Z]{1,2} ?\d{1,4}[EH]?)(?![\w-])", 0.3, 0.8, group=1, flags=0),  # DE
    ], context=VEHICLE_CONTEXT, validator=_plate_ok)


@dataclass
class BirthDateRecognizer:
    """DATE_OF_BIRTH: a date after a birth cue, or a full date `ADULT_YEARS` or more in the past."""

    name: str = "date-of-birth"
    cued_score: float = 0.95
    old_date_score: float = 0.7
    today: _dt.date | None = None  # tests pin it

    def __post_init__(self) -> None:
        self._cued = re.compile(BIRTH_CUES + r"(?:[\s:,]|(?i:on|am|le|el|il|em|op))*(" + DATE_VALUE + ")", )
        self._date = re.compile(r"(?<![\w/.-])" + DATE_VALUE)
        self._era = re.compile(ERA_DATE)

    @property
    def entities(self) -> tuple[str, ...]:
        return ("DATE_OF_BIRTH",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        out = [Finding("DATE_OF_BIRTH", *m.span(1), self.cued_score, self.name) for m in self._cued.finditer(text)]
        cued = {(f.start, f.end) for f in out}
        limit = (self.today or _dt.date.today()).year - ADULT_YEARS
        for m in self._date.finditer(text):
            years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", m.group())]
            two_digit = re.search(r"[./-](\d{2})$", m.group())
            if not years and two_digit:  # "03/07/91": a two-digit year more than ADULT_YEARS back
                y = int(two_digit.group(1))
                years = [1900 + y if 1900 + y <= limit else 2000 + y]
            if years and years[0] <= limit and m.span() not in cued:
                out.append(Finding("DATE_OF_BIRTH", m.start(), m.end(), self.old_date_score, self.name))
        if "年" in text:  # a Japanese era date as old (the Gregorian year of "平成4年" is 1992)
            for m in self._era.finditer(text):
                year = _ERA_START[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2))) - 1
                if year <= limit and m.span() not in cued:
                    out.append(Finding("DATE_OF_BIRTH", m.start(), m.end(), self.old_date_score, self.name))
        return out


def iban_cue_recognizer() -> RegexRecognizer:
    """What the writer calls an IBAN is an account number even with a wrong check digit (a typo, a made-up form)."""
    return RegexRecognizer("iban-cue", "IBAN_CODE", [
        Pattern(r"(?i:\bIBAN\b|\bIBAN-Nr\.?|kontonummer|rekeningnummer|numer konta|numero di conto|número de cuenta|"
                r"numéro de compte|número da conta|číslo účtu|account number|bank account)[\s:.#]*"
                r"([A-Z]{2}\d{2}(?:[ \u00a0-]?[A-Z0-9]{2,4}){3,8})(?![\w-])", 0.85, group=1, flags=0),
    ])


def cue_recognizers() -> list[Any]:
    return [iban_cue_recognizer(), order_cue_recognizer(), customer_cue_recognizer(), loyalty_cue_recognizer(),
            gift_cue_recognizer(), id_document_recognizer(), dni_recognizer(), codice_fiscale_recognizer(),
            license_plate_recognizer(), BirthDateRecognizer()]


INTRO_CUES = _cue(r"""my name is|name is|name's|i am|i'm|this is|call from|caller|customer|client|member|dear|hi|hello
hey|thanks|thank you|regards|kind regards|best regards|cheers|partner|sister|brother|friend|wife|husband|mum|mom|dad
son|daughter|ich heiße|ich heisse|ich bin|mein name ist|hier ist|anruf von|kunde|kundin|liebe|lieber|hallo|danke
grüße|gruß|meine schwester|mein bruder|meine freundin|mein freund|meine frau|mein mann|je suis|je m'appelle
mon nom est|appel de|cliente|merci|bonjour|cordialement|ma sœur|mon frère|mon ami|mon amie|ma femme|mon mari|soy
me llamo|mi nombre es|llamada de|gracias|hola|saludos|mi hermana|mi hermano|mi amigo|mi amiga|mi esposa|mi esposo
sono|mi chiamo|il mio nome è|chiamata da|grazie|ciao|saluti|mia sorella|mio fratello|il mio amico|la mia amica
o meu nome é|meu nome é|sou|aqui é|chamada de|obrigado|obrigada|olá|minha amiga|meu amigo|minha irmã|meu irmão
ik ben|mijn naam is|ik heet|klant|bedankt|groet|groeten|mijn zus|mijn broer|mijn vriend|mijn vriendin
samtal från|jag heter|jeg hedder|jeg heter|min syster|min bror|min vän|min søster|tack|hälsningar|hilsen
nazywam się|jestem|klient|dziękuję|pozdrawiam|moja siostra|mój brat
groetjes|felicidades|felicitaciones|parabéns|auguri|grattis|gefeliciteerd|glückwunsch|congratulations
sig\.|sig\.ra|signor|signora|señor|señora|sr\.|sra\.|srta\.|doña|herr|frau|fam\.|familie|famille|mme|mlle|mevr\.
dhr\.|pani|paní|pán|bayan|sayın|telefonata di|chiamata di|ligação de|llamada de|passeport de|pasaporte de
dott\.|dott\.ssa|dottor|dottoressa|avv\.|ing\.|geom\.|prof\.ssa|anrufer|anruferin|lic\.|lcda\.|lcdo\.|arq\.|mtro\.|mtra\.
mr|mr\.|mrs|mrs\.|ms|ms\.|κυρία|κύριε|κύριος|κυρίου|κα|κ\.|господин|госпожа|г-н|г-жа|пан|пані|أستاذ|الأستاذ|السيد
السيدة|مدام|מר|גברת|bapak|pak|ibu|anh|chị|senhor|senhora|monsieur|madame|meneer|mevrouw|signore
passaporto di|reisepass von|passport of
муж|жена|сын|дочь|дочка|мама|папа|брат|сестра|подруга|бабушка|дедушка|чоловік|дружина|донька|мати|батько
сыну|сына|сыном|дочке|дочки|дочкой|дочери|дочерью|мужу|мужа|мужем|жене|жены|женой|маме|мамы|мамой|папе|папы|папой
брату|брата|братом|сестре|сестры|сестрой|подруге|подруги|подругой|другу|друга|внуку|внучке|внучки|бабушке|дедушке
синові|сину|сина|доньці|доньки|донькою|дочці|чоловікові|чоловіку|дружині|мамі|татові|тату|братові|сестрі|подрузі
другові|онукові|онуці|онучці|бабусі|дідусеві|племіннику|племінниці|племяннику|племяннице
mąż|żona|córka|córeczka|syn|synek|mama|tata|siostra|brat|manžel|manželka|dcera|maminka|táta|sestra|bratr
marito|moglie|figlio|figlia|mamma|papà|marido|esposo|esposa|hijo|hija|mamá|papá|filho|filha|mãe|pai|mari|fils
fille|maman|papa|sohn|tochter|mama|papa|oma|opa|echtgenoot|echtgenote|zoon|dochter|make|maka|hustru|dotter|søn|datter
eşim|kızım|oğlum|annem|babam|kardeşim|엄마|아빠|남편|아내|언니|오빠|누나|동생|아들|딸|夫|妻|息子|娘|主人
courier|driver|recipient|neighbour|neighbor|roommate|cousin|aunt|uncle|niece|nephew|grandma|grandpa|colleague
le livreur|la livreuse|destinataire|voisin|voisine|ma tante|mon oncle|ma cousine|mon cousin|ma belle-sœur
preguntar por|pregunte por|pregunten por|preguntad por|el repartidor|la repartidora|destinatario|destinataria
el vecino|la vecina|mi tía|mi tío|mi prima|mi primo|dejarlo con|dejarla con|déjelo con|déjenlo con
o entregador|a entregadora|destinatário|o vizinho|a vizinha|perguntar por|minha tia|meu tio|minha prima|meu primo
il corriere|chiedere di|chiedete di|il vicino|la vicina|mia zia|mio zio|mia cugina|mio cugino
nachbarin|nachbar|der fahrer|die fahrerin|meine tante|mein onkel|meine cousine|mein cousin
pan|zákazník|zákaznice|kurýr|soused|sousedka|kurier|kurierka|sąsiad|sąsiadka|susjeda|susjede|susjedi|komšija
saya|sy|aku|mbak|mba|pak|kak|bi\.|bw\.|mteja|dada|kaka
fr\.|hr\.|gosp\.|gospod|gospa|gđa|gđa\.|gđica|bu|khun|encik|puan|tuan
მადლობა|ბატონი|ქალბატონი|خواهرم|برادرم|مادرم|پدرم|دخترم|پسرم|همسرم|دوستم""")
# Self-introductions after which a LOWER-CASE word from the given-name gazetteer is a name ("this is keisha how can i
# help", "ich bin mehmet"): chat and phone transcripts are often written in lower case.
SELF_INTRO_CUES = _cue(r"""my name is|name is|name's|i am|i'm|this is|ich heiße|ich heisse|ich bin|hier ist
mein name ist|je suis|je m'appelle|mon nom est|me llamo|mi nombre es|soy|habla|mi chiamo|sono|il mio nome è|sou
meu nome é|o meu nome é|aqui é|aqui fala|ik ben|ik heet|mijn naam is|jag heter|jeg hedder|jeg heter|nazywam się
jestem""")
# Given names that are also everyday English nouns of a shop's texts (colours, stones, seasons, virtues): after "this
# is" they name a product as often as a person, so the lower-case path skips them.
_LOWER_NAME_HOMOGRAPHS = frozenset(re.split(r"\s+", """amber angel autumn crystal dawn destiny faith grace harmony hazel
honey hope ivy jade jasmine lily pearl rose ruby sage summer violet willow""".strip()))
_LOWER_NAME = re.compile(r"[\s,:;-]*([^\W\d_A-ZÀ-ÖØ-Þ]+)(?:\s+([^\W\d_A-ZÀ-ÖØ-Þ]+))?")
# A name word: Title Case or ALL CAPS in a cased script (Latin, Greek, Cyrillic), or any word of a script without
# letter case (CJK, kana, Hangul, Arabic, Hebrew, Thai, Devanagari).
_CASED_NAME = r"[^\W\d_a-zß-ÿ][^\W\d_]*(?:['’-][^\W\d_]+)*"
_INTRO_NAME = re.compile(r"(?:[\s,:;(]|\s-\s)*(" + _CASED_NAME + r"(?: " + _CASED_NAME + r"){0,2})")  # "муж (Игорь)"


# A signature after a dash or slash ending the text: "— Thabo M.", "- Sarah", "/Hampus", "~ Ana Lima"
# (group 2: the initial; an initial, the dash opening its line, or a listed name makes it a signature)
# (with the combining marks of `words.MARKS`, which Python's re leaves out of \w: "सुनिता" is one word only with them)
_SIGNATURE_WORD = rf"[^\W\d_a-zß-ÿ](?:[^\W\d_]|[{MARKS}])+(?:['’-](?:[^\W\d_]|[{MARKS}])+)*"
_DASH_SIGNATURE = re.compile(r"(?:^|(?<=[\s.!?)]))[—–~/-][ \t]?(" + _SIGNATURE_WORD + r"(?:[ \t]" + _SIGNATURE_WORD
                             + r"){0,2}([ \t][^\W\d_a-zß-ÿ]\.)?)[ \t]*[!.]?\s*\Z")


# A chat speaker written as a role glued to a name before the colon, as Chinese, Japanese and Korean chats write it
# ("担当佐藤：", "客服小美：", "상담원 김민수:"): the name
_CJK_SPEAKER = re.compile(r"(?m)^[ \t]*(?:担当者|担当|客服|店员|店員|スタッフ|オペレーター|상담원|상담사|직원)[ \t]?"
                          r"(?!者)([\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]{1,4})[ \t]?[:：]")
# A speaker with the name in brackets or after the role, in scripts without letter case ("オペレーター（高橋）：",
# "الموظف عبدالله:", "แอดมินมายด์:"), a Korean name before its job title ("오세훈 과장"), and a Chinese name (a common
# surname and one or two more characters) after a role or kinship word ("我是卖家王海涛", "表姐何思琪", "收件人周文斌")
_BRACKET_SPEAKER = re.compile(r"(?m)^[ \t]*[^\s:：（(]{1,12}[ \t]?[（(](?=[^\W\d_a-zß-ÿ])([^\s）)]{1,12})[）)]"
                              r"[ \t]?[:：]")
_ARABIC_SPEAKER = re.compile(r"(?m)^[ \t]*(?:الموظف|الموظفة|المندوب|المندوبة|خدمة العملاء|الدعم)[ \t]+"
                             r"([\u0621-\u064a]{2,}(?:[ \t][\u0621-\u064a]{2,})?)[ \t]?:")
_THAI_SPEAKER = re.compile(r"(?m)^[ \t]*(?:แอดมิน|พนักงาน|เจ้าหน้าที่)[ \t]?([\u0e00-\u0e7f]{2,12})"
                           r"[ \t]?:")
# The Thai honorific "คุณ" written onto a given name with the surname after a space ("ลูกค้า คุณสมชาย วงศ์สวัสดิ์
# โทรมา"): both words; not "คุณภาพ" (quality), "คุณค่า" (value), "คุณสมบัติ" (property), nor a kinship or role word
# after the honorific ("คุณลูกค้า", "คุณแม่"), nor "ขอบคุณ" (thank you)
_THAI_KHUN = re.compile(r"(?<![\u0e00-\u0e7f])คุณ((?!ภาพ|ค่า|สมบัติ|ลูกค้า|แม่|พ่อ|ครู|หมอ|ป้า|ลุง|ยาย|พี่|น้อง)"
                        r"[\u0e01-\u0e4e]{2,12}[ \t][\u0e01-\u0e4e]{2,15})(?=[ \t.,!?]|$)")
_KOREAN_TITLE = re.compile(r"(?<![\uac00-\ud7a3])([\uac00-\ud7a3]{2,4})[ \t]?"
                           r"(?:과장|대리|부장|팀장|차장|사원|주임|실장|매니저|선생님|원장|사장)"
                           r"(?![\uac00-\ud7a3])")
_CHINESE_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
                     "袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟"
                     "熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
                     "張劉陳楊黃趙吳許鄭謝馮鄧蕭葉蘇魏呂盧鍾譚陸賈韋鄒龔萬錢嚴")
# "收货人：王建国" too; "客服小王", "联系小李": the familiar "little"/"old" with a surname, as staff are called
_CHINESE_ROLE = re.compile(r"(?:我是|我叫|卖家|买家|收件人|收货人|联系人|表姐|表哥|表妹|表弟|姐姐|妹妹|哥哥|弟弟|"
                           r"同事|朋友|老公|老婆|客户|客戶|店员|店員|快递员|客服|联系|聯絡|來電人|来电人|"
                           r"取件人|會員|会员)(?:[：:][ \t]*)?([" + _CHINESE_SURNAMES
                           + r"][\u4e00-\u9fff]{1,2}|[小老阿][" + _CHINESE_SURNAMES + r"])")
# A name after an Arabic kinship word with the preposition "for" written onto it ("لأخوي فيصل": for my brother
# Faisal), or after thanks and the vocative "يا" ("شكراً يا مروان"): one word, neither a preposition nor a word with
# the article "ال" (an adjective: "لأخوي الصغير"), nor a vocative's usual titles ("يا فندم", "يا جماعة").
_ARABIC_NOT_NAME = (r"(?!(?:في|من|على|عن|مع|إلى|الى|و|لما|عشان|علشان|فندم|جماعة|رب|ريت|ليت|أخي|اخي|أختي|اختي|حبيبي|"
                    r"حبيبتي|شباب|عم|باشا|أستاذ|استاذ|أستاذة|استاذة|بنات|ست|هانم|سيدي|سيدتي|عزيزي|عزيزتي|غالي|غالية|"
                    r"الله)(?![\u0621-\u064a]))(?!ال)")
_ARABIC_KIN = re.compile(r"(?<![\u0621-\u064a])ل(?:أخوي|اخوي|أخي|اخي|أختي|اختي|أمي|امي|ماما|بابا|أبوي|ابوي|زوجي|زوجتي|"
                         r"ابني|بنتي|صديقي|صديقتي|عمي|خالي|عمتي|خالتي)[ \t]+" + _ARABIC_NOT_NAME
                         + r"([\u0621-\u064a]{2,})(?![\u0621-\u064a])")
_ARABIC_THANKS = re.compile(r"(?<![\u0621-\u064a])(?:شكرا|شكراً|شكرًا|مشكور|مشكورة|تسلم|تسلمي|يسلمو)[ \t]+يا[ \t]+"
                            + _ARABIC_NOT_NAME + r"([\u0621-\u064a]{2,})(?![\u0621-\u064a])")
# Names after a recipient label or a role word in scripts without letter case (Arabic, Persian, Hebrew, Georgian,
# Thai, Devanagari), where neither NER model has anything to go on. A label says a name follows ("باسم ريم العتيبي"
# in the name of, "واسم المستلم شريف عبد الحميد", "მიმღები ნინო ბერიძე", "ผู้รับ ณัฐวุฒิ", "נמען: ..."), so its
# word is a name whatever it is; a role word (courier, agent, employee, driver, "brother") is as often followed by a
# verb ("المندوب اتصل", "השליח הגיע"), so there the word must be a listed given name (`world_names`). A second word
# joins when it is an Arabic family name with its article ("العتيبي"), a listed name, or the last word before a
# punctuation mark or the line's end; "عبد"/"أبو"/"بن" take the word after them ("عبد الحميد").
_CASELESS = r"\u0621-\u0652\u0671-\u06d3\u05d0-\u05ea\u10d0-\u10ff\u0e01-\u0e4e\u0900-\u0963"  # letters and marks
_ROLE_LABEL = (r"(?:اسم المستلم|اسم المستلمة|المستلم|المستلمة|باسم|بإسم|نام گیرنده|گیرنده|به نام|שם המקבל|שם הנמען|"
               r"נמען|נמענת|לידי|მიმღები|მიმღების სახელი|ადრესატი|სახელი და გვარი|სახელი|ผู้รับ|ชื่อผู้รับ|ชื่อ-นามสกุล|प्राप्तकर्ता|"
               r"प्राप्तकर्ता का नाम)")
_ROLE_WORD = (r"(?:المندوب|المندوبة|مندوب التوصيل|الموظف|الموظفة|السائق|الأخ|الأخت|للأخ|للأخت|الكابتن|پیک|کارمند|"
              r"השליח|השליחה|שליח|הנציג|הנציגה|נציג|נציגה|הנהג|კურიერი|ოპერატორი|ფილიალის|कूरियर|डिलीवरी बॉय|"
              # customers, kinship without the preposition, an agent's "with you is ...", greetings, and their
              # Persian and Hebrew counterparts: each followed by a verb or an adjective as often ("بنتي فرحانة"),
              # so the word after must be a listed given name like the role words' ("وبنتي شيخة", "معك ريم")
              r"الزبون|الزبونة|العميل|العميلة|بنتي|ابني|إبني|أختي|اختي|أخوي|اخوي|أخي|اخي|أمي|امي|زوجي|زوجتي|جارتي|"
              r"جارتنا|جاري|جارنا|صاحبي|صاحبتي|صديقي|صديقتي|زميلي|زميلتي|خالتي|عمتي|عمي|خالي|جدتي|جدي|ماما|بابا|"
              r"معك|معاك|معكم|سلام|مرحبا|أهلا|اهلا|الأستاذ|الأستاذة|الاستاذ|الاستاذة|أستاذ|أستاذة|السيد|السيدة|مدام|"
              r"آقای|خانم|دخترم|پسرم|مادرم|پدرم|همسرم|دوستم|خواهرم|برادرم|برای|"
              r"סבתא|סבא|אמא|אבא|אחי|אחותי|בעלי|אשתי|השכנה|השכן|הבת|הבן|הלקוח|הלקוחה|חברה|חבר|הדודה|הדוד|שלום)")
# a Hebrew preposition or conjunction written onto the word ("לסבתא רחל": for grandma Rachel), an Arabic one with or
# without the tatweel ("لـأبو خالد")
_ROLE_PREFIX = r"(?:[وفل]ـ?|[ולשהב])?"
_ROLE_NAME = re.compile(r"(?<![" + _CASELESS + r"])" + _ROLE_PREFIX + r"(?:(" + _ROLE_LABEL + r")|" + _ROLE_WORD
                        + r")[ \t]*[:：]?[ \t]*([" + _CASELESS + r"]{2,})")
# An Arabic kunya, "father/mother of" and a listed given name, is a name whole ("أبو خالد", "أم كريم")
_KUNYA = re.compile(r"(?<![" + _CASELESS + r"])" + _ROLE_PREFIX + r"((?:أبو|ابو|أم|ام)[ \t]+([" + _CASELESS
                    + r"]{2,}))(?![" + _CASELESS + r"])")
_NAME_LINK = frozenset(("عبد", "أبو", "ابو", "بن", "بنت", "ابن"))
_ROLE_NEXT = re.compile(r"[ \t]+([" + _CASELESS + r"]{2,})")
_ANY_CASELESS = re.compile("[" + _CASELESS + "]")
_ROLE_NAME_END = frozenset(",.;:!?،؛。\n")  # after a second name word: the name ends there


# A chat turn that asks for the caller's name, and the next turn answering with the name alone ("الموظف: الاسم؟" /
# "العميل: نهى عبد الرحمن", "お名前をお伺いしてもよろしいでしょうか。" / "お客様：ワタナベ ケンジです。"): the
# answer, less the speaker's label and a polite copula, when it is one to three words of a caseless script or in
# Title Case.
_NAME_ASK = re.compile(r"(?i:your (?:full )?name|name,? please|\bname\s*[?？]|名前|氏名|성함|이름|الاسم|اسمك|اسم حضرتك|"
                       r"שמך|השם|שם מלא|ชื่อ|ваше имя|как вас зовут|фамилия|ваше ім'я|як вас звати|su nombre|"
                       r"votre nom|ihr name|ihren namen|il suo nome|o seu nome|uw naam|pana imię|adınız|isminiz)")
_NAME_ANSWER = re.compile(r"[ \t]*(?:[^\s:：]{1,16}[ \t]?[:：][ \t]*)?([^\n。.!！?？]+?)[ \t]*(?:[.。!！]|$)")
_COPULA = re.compile(r"[ \t]*(?:です|でございます|と申します|입니다|이에요|예요|요)$")


# A signature block: a line of two to four capitalised name words (name particles and a nickname in quotes inside),
# then the writer's job title after a bar, a dash or a comma, or on the next line ("Oluwaseun \"Seun\" Adeyemi\nCategory
# Manager – Kitchenware", "Rhys ap Gruffydd | Store Manager"): the name
_TITLE_WORDS = (r"(?:Manager|Managerin|Director|Directora|Directeur|Directrice|Direktor|Direktorin|Head|Officer|"
                r"Coordinator|Assistant|Assistent|Assistentin|Specialist|Consultant|Representative|Executive|"
                r"Supervisor|Lead|Engineer|Buyer|Merchandiser|Owner|Founder|Partner|Associate|Administrator|Advisor|"
                r"Adviser|Analyst|Accountant|Geschäftsführer|Geschäftsführerin|Leiter|Leiterin|Einkäufer|Einkäuferin|"
                r"Responsable|Gérant|Gérante|Chef|Cheffe|Gerente|Jefe|Jefa|Encargado|Encargada|Direttore|Direttrice|"
                r"Responsabile|Titolare|Bedrijfsleider|Inkoper|Eigenaar|Chargé|Chargée|Kierownik|Kierowniczka|"
                r"Müdür|Müdürü|Sorumlusu|Yetkilisi|Sales|Marketing|Customer Service|Team Lead|CEO|CFO|COO|CTO)")
_SIG_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)?"
_SIG_NAME = (rf"{_SIG_WORD}(?:[ \t](?:(?:ap|ab|van|von|de|da|di|del|der|den|le|la|du|bin|al)[ \t])*"
             rf"(?:{_SIG_WORD}|[\"“„«‘']{_SIG_WORD}[\"”“»’'])){{1,3}}")
_SIGNATURE_BLOCK = re.compile(rf"(?m)^[ \t]*({_SIG_NAME})[ \t]*(?:[|,–—-][ \t]*|\n[ \t]*)"
                              rf"(?:[A-Z][\w&/.-]*[ \t]+){{0,3}}{_TITLE_WORDS}(?![\w])"
                              r"[ \t]*(?:[|,–—-][^\n]{0,60})?$")  # the title closes its line or its part of it


# A Japanese form's reading of a name in katakana after its label ("フリガナ：ナカムラ ショウタ")
_KANA_READING = re.compile(r"(?:フリガナ|ふりがな|カナ)[ \t]*[：:][ \t]*([\u30a1-\u30fa\u30fc]+(?:[ \t\u3000]"
                           r"[\u30a1-\u30fa\u30fc]+)?)")
# A name spelled out letter by letter with hyphens ("mit K-O-W-A-L-C-Z-Y-K", "that's W-H-I-T-A-K-E-R"): five letters
# or more, no word around them (a spelled street or e-mail is personal data too; masked as a name)
_SPELLED_NAME = re.compile(r"(?<![\w-])([A-ZÀ-ÖØ-Þ](?:-[A-ZÀ-ÖØ-Þ]){4,})(?![\w-])")
# Name particles then a capitalised surname, after a title or a cue ("de la Hoz", "ap Iestyn", "van der Berg")
_PARTICLE_NAME = re.compile(r"[ \t]+((?:(?:de|del|de la|de los|de las|da|das|do|dos|di|van|van der|van den|von|von der|"
                            r"zu|ap|ab|bin|binti|ibn|al|el|la|le|du|des|ten|ter)[ \t]+)+)(" + _CASED_NAME + r")")


# each with a character every match holds: a text without it skips the pattern (an exact shortcut)
_CASELESS_NAMES = ((re.compile(r"[:：]"), _CJK_SPEAKER), (re.compile(r"[（(]"), _BRACKET_SPEAKER),
                   (re.compile(r"[\u0621-\u064a]"), _ARABIC_SPEAKER), (re.compile(r"[\u0e00-\u0e7f]"), _THAI_SPEAKER),
                   (re.compile(r"คุณ"), _THAI_KHUN),
                   (re.compile(r"[\uac00-\ud7a3]"), _KOREAN_TITLE), (re.compile(r"[\u4e00-\u9fff]"), _CHINESE_ROLE),
                   (re.compile(r"[\u0621-\u064a]"), _ARABIC_KIN), (re.compile(r"يا"), _ARABIC_THANKS),
                   (re.compile(r"[：:]"), _KANA_READING))


def _alphabet_run(spelled: str) -> bool:
    """"A-B-C-D-E": letters in alphabetical order, a scale or a list of options, not a spelled name."""
    letters = spelled.split("-")
    return all(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(letters))


# A nickname in quotes inside a name ('Guadalupe "Lupita" Ríos', 'Oluwaseun "Seun" Adeyemi'): capitalised words
# around it, the first a listed given name or the last a listed surname (a product line is written the same way:
# 'Sofa "Oslo" Grey')
_NICKNAME_NAME = re.compile(r"(?<![\w'’-])([A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+)[ \t]+[\"“„«‘']([A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+)"
                            r"[\"”»’'][ \t]+([A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+(?:[ \t]+[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+)?)")


@dataclass
class IntroNameRecognizer:
    """PERSON after a self-introduction, a greeting, a sign-off, a chat role, a kinship word or a courier's,
    recipient's or neighbour's role ("le livreur Ibou", "preguntar por Yokasta"), in the languages of the cue lists
    ("Ich heiße Mehmet Yilmaz", "Customer Evia Wise", "je suis Maeline", "Kind regards, 北岡 さとる", "minha amiga
    Josete", "муж (Игорь)"): one to three words that are Title Case, ALL CAPS or of a script without
    case, none of them a stop word (anonymize.recognizers.refine). After a self-introduction a lower-case word is a
    name too when the given-name gazetteer holds it ("this is keisha"), with the next word when it is a listed
    surname."""

    name: str = "intro-name"
    score: float = 0.75

    def __post_init__(self) -> None:
        self._cue = re.compile(INTRO_CUES)
        self._self = re.compile(SELF_INTRO_CUES)

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PERSON",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        from anonymize.recognizers.recase import single_case
        from anonymize.recognizers.refine import is_stop_word  # refine imports contact, which imports nothing here

        out = []
        cased_ok = not single_case(text)  # in an ALL-CAPS or lower-case text capitals say nothing: caseless only
        for cue in self._cue.finditer(text):
            titled = cased_ok and not self._self.fullmatch(cue.group())  # "soy de Madrid": where one is from
            particles = _PARTICLE_NAME.match(text, cue.end()) if titled else None
            if particles is not None and particles.group(2)[0].isupper() and not is_stop_word(particles.group(2)):
                # a surname with its particles after a title or cue: "señor de la Hoz", "Mr ap Iestyn"
                out.append(Finding("PERSON", particles.start(1), particles.end(), self.score, self.name))
                continue
            m = _INTRO_NAME.match(text, cue.end())
            if m is None or "\n" in text[cue.end():m.start(1)]:
                continue
            words = []
            for w in re.finditer(r"\S+", m.group(1)):
                word = w.group()
                cased = word.upper() != word.lower()
                if is_stop_word(word) or (word.isupper() and len(word) < 2) or (cased and not cased_ok) or (
                        cased and not word[0].isupper()):  # "муж доволен": a lower-case Cyrillic word is no name
                    break
                words.append(w)
            if words:
                start, end = m.start(1) + words[0].start(), m.start(1) + words[-1].end()
                out.append(Finding("PERSON", start, end, self.score, self.name))
        out += [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for needs, pattern in _CASELESS_NAMES
                if needs.search(text) for m in pattern.finditer(text)]
        out += [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for m in _SPELLED_NAME.finditer(text)
                if not _alphabet_run(m.group(1))] if "-" in text else []
        out += self._lower_case_names(text) + self._dash_signature(text) + self._nicknamed(text)
        out += self._caseless_roles(text) + self._name_answers(text) + self._signature_blocks(text)
        return list({(f.start, f.end): f for f in out}.values())  # a span two rules found, once

    def _signature_blocks(self, text: str) -> list[Finding]:
        """The name line of a signature block with the writer's job title (`_SIGNATURE_BLOCK`); no word of it a stop
        word ("Customer Service | Manager" is a department)."""
        from anonymize.recognizers.refine import is_stop_word

        return [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for m in _SIGNATURE_BLOCK.finditer(text)
                if not any(is_stop_word(w) for w in re.findall(r"[A-ZÀ-ÖØ-Þ][\w'’-]*", m.group(1)))]

    def _name_answers(self, text: str) -> list[Finding]:
        """The answer to a name question on the next line (`_NAME_ASK`, `_NAME_ANSWER`)."""
        from anonymize.recognizers.recase import listed_name
        from anonymize.recognizers.refine import is_stop_word

        if "\n" not in text or _NAME_ASK.search(text) is None:
            return []
        out, lines, pos = [], text.split("\n"), 0
        for i, line in enumerate(lines[:-1]):
            pos += len(line) + 1  # the start of lines[i + 1]
            if not _NAME_ASK.search(line) or not line.rstrip().endswith(("?", "？", "؟", "。", "か", ":", "：")):
                continue
            m = _NAME_ANSWER.match(lines[i + 1])
            if m is None:
                continue
            answer = m.group(1)
            copula = _COPULA.search(answer)
            answer = answer[:copula.start()] if copula else answer
            words = re.findall(r"\S+", answer)
            caseless = answer.upper() == answer.lower()  # a cased answer ("Sure", "Fine") needs a listed name
            if 1 <= len(words) <= 3 and (caseless or listed_name(answer)) and all(
                    is_letters(w) and (w.upper() == w.lower() or (w[0].isupper() and not w.isupper()))
                    and not is_stop_word(w) for w in words):
                out.append(Finding("PERSON", pos + m.start(1), pos + m.start(1) + len(answer), self.score, self.name))
        return out

    def _caseless_roles(self, text: str) -> list[Finding]:
        """A name after a recipient label or a role word in a script without letter case (`_ROLE_NAME`), and an
        Arabic kunya of a listed given name (`_KUNYA`)."""
        from anonymize.recognizers.recase import listed_name
        from anonymize.recognizers.refine import is_stop_word

        out = []
        for m in _ROLE_NAME.finditer(text) if _ANY_CASELESS.search(text) else ():
            first = m.group(2)
            if is_stop_word(first) or first.startswith("ال") or not (m.group(1) or listed_name(first)):
                continue  # a role word's name must be listed; "المندوب الجديد" is an adjective
            end, word, more = m.end(2), first, 2
            while more:
                nxt = _ROLE_NEXT.match(text, end)
                if nxt is None or is_stop_word(nxt.group(1)):
                    break
                after = text[nxt.end():nxt.end() + 1]
                if not (word in _NAME_LINK or nxt.group(1) in _NAME_LINK or nxt.group(1).startswith("ال")
                        or listed_name(nxt.group(1)) or not after or after in _ROLE_NAME_END):
                    break
                end, word, more = nxt.end(1), nxt.group(1), more - 1
            out.append(Finding("PERSON", m.start(2), end, self.score, self.name))
        out += [Finding("PERSON", m.start(1), m.end(1), self.score, self.name) for m in _KUNYA.finditer(text)
                if not is_stop_word(m.group(2)) and listed_name(m.group(2))] if "أ" in text or "ا" in text else []
        return out

    def _nicknamed(self, text: str) -> list[Finding]:
        """A name with a nickname in quotes inside it (`_NICKNAME_NAME`), whole."""
        from anonymize.recognizers.recase import listed_name
        from anonymize.recognizers.refine import is_stop_word

        if not any(q in text for q in "\"“„«‘'"):
            return []
        return [Finding("PERSON", m.start(), m.end(), self.score, self.name) for m in _NICKNAME_NAME.finditer(text)
                if not is_stop_word(m.group(1)) and (listed_name(m.group(1)) or listed_name(m.group(3).split()[-1]))]

    def _dash_signature(self, text: str) -> list[Finding]:
        """The name signing a message after a dash, tilde or slash at its very end ("... no problem. — Thabo M.",
        "Ref IK-44019. /Hampus"): one to three capitalised words and perhaps an initial, none of them a stop word or
        an ordinary English word, with an initial, the dash opening its line, or a name list behind it."""
        from anonymize.recognizers.name_lists import COMMON_WORDS
        from anonymize.recognizers.recase import listed_name
        from anonymize.recognizers.refine import is_stop_word

        m = _DASH_SIGNATURE.search(text)
        if m is None:
            return []
        words = [w.lower() for w in m.group(1).split() if len(w.rstrip(".")) > 1]
        if any(is_stop_word(w) or w in COMMON_WORDS or w.endswith(("ed", "ing", "ly")) for w in words):
            return []  # "- Thanks", "- Amazing"
        signed = m.group(2) is not None or re.search(r"(?:^|\n)[ \t]*$", text[:m.start()]) is not None
        # two or three words of a script without letter case after a sentence's end ("... आइपुग्यो। — सुनिता गुरुङ")
        caseless = len(words) > 1 and not any(ch.isupper() or ch.islower() for ch in m.group(1))
        if not (signed or listed_name(m.group(1)) or caseless):
            return []  # "Great lamp - Sarah": a listed name; "Works. - Excellent", "page 3 - Summary": no signature
        return [Finding("PERSON", m.start(1), m.end(1), self.score, self.name)]

    def _lower_case_names(self, text: str) -> list[Finding]:
        """A lower-case given name from the gazetteer right after a self-introduction, with a listed surname after
        it ("this is keisha", "i'm maria lopez"); not a stop word, not a name that is also a shop's noun."""
        from anonymize.recognizers.name_lists import SURNAMES
        from anonymize.recognizers.refine import is_stop_word
        from anonymize.recognizers.world_names import is_first_name

        out = []
        for cue in self._self.finditer(text):
            m = _LOWER_NAME.match(text, cue.end())
            if m is None or m.start(1) == cue.end() or "\n" in text[cue.end():m.start(1)]:
                continue
            first = m.group(1)
            if not is_first_name(first) or first in _LOWER_NAME_HOMOGRAPHS or is_stop_word(first):
                continue
            end = m.end(2) if m.group(2) and m.group(2) in SURNAMES and not is_stop_word(m.group(2)) else m.end(1)
            out.append(Finding("PERSON", m.start(1), end, self.score, self.name))
        return out
