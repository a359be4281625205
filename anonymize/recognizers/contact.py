"""E-mail addresses, URLs, IP addresses and phone numbers.

Phones are found and validated by libphonenumber (Google's metadata, Python port `phonenumbers`) for the regions a
UK/EU/US retailer meets, as Presidio's `PhoneRecognizer` does, and in a text written in another script also for the
regions that write it (Han, kana, Hangul, Cyrillic, Greek, Arabic, Hebrew, Thai, Georgian: `SCRIPT_REGIONS`); any
other country's grouping counts right after a phone word of the cue languages (`phone_cue_recognizer`: "Mobilen min
er 412 48 773", "zap (11) 97418-2290"), as Presidio's context words do for its patterns; a number right after a
service-line cue ("Hotline:", "Servizio clienti:") is the shop's (`is_service_line`, a filter on findings); IPs are
validated with the stdlib `ipaddress`.
E-mail checking needs no public-suffix list, so nothing is ever fetched (Presidio's tldextract would try).
Spelled-out addresses ("jo dot smith at example dot com", "jo [at] example [dot] com", "anna (at) mail.se",
"anna @ mail . se", "jan punkt kowalski małpa poczta kropka pl"), the usual dodge of review-site filters, are found
when they end in a top-level domain (any country code, or a common generic one): bracketed forms and a spaced "@" on
their own, "at"/"dot" written as words when the local part has a dot or digit in it or an e-mail word ("email",
"contact") is near, and a plain "x at y dot z" only with an e-mail word near. A mailbox without its top-level domain
is whole too: a web-mail provider's name after the "@" ("anna.berg@gmail"), or any name after it when an e-mail word
is near ("write to anna@firma").

Speed: the phone matcher skips, before libphonenumber parses it, every candidate with fewer letters and digits than
the shortest number valid in its region could have (`_ValidMatcher`; bound from libphonenumber's own metadata, see
`shortest_valid`), which leaves its matches exactly as they were.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from anonymize.findings import Finding
from anonymize.recognizers.base import Pattern, RegexRecognizer

PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "IE", "ES", "IT", "NL")  # national formats we parse
# A text in one of these scripts is read in the national formats of the regions that write it as well: "电话138 1762
# 4490" is a Chinese mobile, "연락처 010-2291-8873" a Korean one. Only texts holding the script pay for the regions.
SCRIPT_REGIONS = (
    (re.compile(r"[\u4e00-\u9fff]"), ("CN", "HK", "TW", "JP")),  # Han
    (re.compile(r"[\u3040-\u30ff]"), ("JP",)),  # kana
    (re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"), ("KR",)),  # Hangul
    (re.compile(r"[\u0400-\u04ff]"), ("RU", "UA", "BG", "RS")),  # Cyrillic
    (re.compile(r"[\u0370-\u03ff]"), ("GR", "CY")),  # Greek
    (re.compile(r"[\u0600-\u06ff]"), ("SA", "AE", "EG", "MA")),  # Arabic
    (re.compile(r"[\u0590-\u05ff]"), ("IL",)),  # Hebrew
    (re.compile(r"[\u0e00-\u0e7f]"), ("TH",)),  # Thai
    (re.compile(r"[\u10a0-\u10ff]"), ("GE",)),  # Georgian
)
# "dot" and "at" as written out in the languages of the cue lists ("punkt", "point", "punto", "ponto", "kropka",
# "piste", "prik", "tečka", "nokta", Dutch "punt", Hungarian "pont", Romanian "punct", Slovak "bodka", Croatian
# "točka", Slovene "pika", Indonesian "titik"; "arroba", "chez", "snabel-a", "klammeraffe", "małpa", "miuku", and the
# same without their diacritics as a keyboard without them types them: "zavinac", "tocka"). Each only counts inside
# the shape of an address, a local part, an at word and a domain ending in a top-level domain.
_DOT_WORD = (r"(?:dot|punkt|punktum|point|punto|ponto|punt|pont|punct|kropka|piste|prik|prikk|tečka|tecka|bodka|"
             r"točka|tocka|pika|titik|nokta)")
# the at words that mean nothing else: an address spelled with one needs no e-mail word near ("marta arroba gmail
# punto com"); "at", "chez" and "ät" are prepositions too
_SURE_AT_WORDS = (r"arroba|arobase|chiocciola|snabel-a|snabela|klammeraffe|apenstaartje|apenstaart|małpa|malpa|miuku|"
                  r"kukac|zavináč|zavinac|afna")
_AT_WORDS = rf"(?:at|chez|ät|{_SURE_AT_WORDS})"
# ".", " . " (not a full stop: "home. It"), " dot ", "[dot]", "(dot)", "[.]", "{punkt}"
_DOT = rf"(?:\.|\s+\.\s+|\s+{_DOT_WORD}\s+|\s*[\[({{<]\s*(?:{_DOT_WORD}|\.)\s*[\])}}>]\s*)"
_AT_WORD = rf"\s+{_AT_WORDS}\s+"
_AT_SURE = rf"\s+(?:{_SURE_AT_WORDS})\s+"
_CAPS_AT, _CAPS_DOT = r"(?:AT|ARROBA|AROBASE)", r"(?:DOT|PUNKT|POINT|PUNTO|PONTO)"
# a separator spelled out inside the local part: "tom underscore barraclough", "ana tiret bas lima", "jo dash smith"
_LOCAL_SEP = rf"(?:{_DOT}|\s+(?:underscore|tiret bas|guion bajo|guión bajo|trattino basso|unterstrich|dash|hyphen)\s+)"
# "[at]", "(at)", "(@)", " @ ", the Nordic and German "(a)", and the full-width "＠" of Japanese and Chinese text
_AT_BRACKET = rf"\s*(?:[\[({{<]\s*(?:{_AT_WORDS}|@|a)\s*[\])}}>]|[@＠])\s*"
_LABEL = r"[a-z0-9][a-z0-9_%+-]{0,62}"  # bounded (RFC 5321: 64-octet local part, 63-octet labels): linear time
# Every country-code top-level domain (IANA: the ISO 3166-1 alpha-2 codes, which libphonenumber's region list
# holds, plus "uk" and "eu") and the common generic ones: "anna dot berg at mail dot se".
_CC_TLDS = sorted({r.lower() for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2} | {"uk", "eu"})
_TLD = r"(?:" + "|".join(["com", "org", "net", "edu", "gov", "info", "biz", "online", "shop", *_CC_TLDS]) + r")"
_TLD_RE = re.compile(_TLD)
_SPELLED_DOMAIN = rf"{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}{_DOT}{_TLD}\b"
# e-mail words of the cue languages too ("mailen naar joost at ziggo punt nl", "Schreiben Sie mir: lena at posteo
# punkt de", "kontakt: piotr at wp kropka pl")
EMAIL_CONTEXT = ("email", "e-mail", "mail", "contact", "reach", "write", "address", "message", "drop me", "mailen",
                 "mailt", "e-mailadres", "mailadres", "mailadresse", "e-mail-adresse", "emailadresse", "courriel",
                 "correo", "posta", "mejl", "mejla", "meil", "sähköposti", "почта", "почту", "пошта", "adres",
                 "adresse", "adresa", "dirección", "direccion", "indirizzo", "endereço", "contacto", "contato",
                 "contatto", "kontakt", "kontaktieren", "kontakta", "schreib", "schreiben", "écrivez", "écris",
                 "escríbeme", "escribe", "escreva", "scrivi", "scrivimi", "schrijf", "skriv", "skriva", "napisz",
                 "pište", "napište", "yaz", "yazın")
# Numbers only a business has (libphonenumber's number types): toll-free ("0800 ...", "1-800-..."), premium rate and
# shared cost. A shop's hotline in a message is not personal data; masking it only costs precision. A national-format
# number is valid in several regions: it counts as a business's when most regions it is valid in say so.
BUSINESS_TYPES = frozenset({phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
                            phonenumbers.PhoneNumberType.SHARED_COST})
_DATE_SHAPE = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)\d{2}"
                         r"|(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])")
# "call me on 0800 ...", "my number": the writer says the number is theirs, whatever its type
_MINE = re.compile(r"(?i)\b(?:me|my|mine|meine?|mon|ma|mi|mio|mia|mijn|mój|moja)\b")
PHONE_CONTEXT = ("phone", "call", "tel", "telephone", "mobile", "cell", "text", "whatsapp", "number", "ring", "contact")


def business_number(value: str, regions: tuple[str, ...] = PHONE_REGIONS, at_least: int = 1) -> bool:
    """True when `value` is a valid number in some of `regions` and, in most of those and in `at_least` of them, a
    toll-free, premium-rate or shared-cost one ("0800 001 8263": toll-free in GB, DE and NL, an ordinary number in IN
    and IT)."""
    business = []
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            business.append(phonenumbers.number_type(number) in BUSINESS_TYPES)
    return 2 * sum(business) > len(business) and sum(business) >= at_least


def _not_a_domain(handle: str) -> bool:
    """A handle whose last dotted part is no top-level domain ("rahul.v.iyer", not "example.com"), and no version
    number ("v2.0")."""
    if re.fullmatch(r"v?\d+(?:\.\d+)*[a-z]?", handle, re.IGNORECASE):
        return False
    return "." not in handle or _TLD_RE.fullmatch(handle.rsplit(".", 1)[1].lower()) is None


def handle_recognizer() -> RegexRecognizer:
    """A social-media handle in a reply ("@Zsolt so sorry", "@rahul.v.iyer"): the name without its "@" is a PERSON;
    an e-mail address (a word right before the "@") or a handle that is a domain ("@example.com") is not matched.
    Also a user name after a user, buyer or seller word, an id label or a messaging app's name ("the buyer kezzy_b",
    "아이디: skyjung01", "Line ID june_pimchanok") when it is shaped like one: lower case with a digit, an underscore
    or a dot inside, as no ordinary word is."""
    return RegexRecognizer("handle", "PERSON", [
        Pattern(r"(?<![\w.@])@([^\W\d_][\w]{1,29}(?:[._][\w]{1,29}){0,3})(?![\w@]|\.\w)", 0.7, flags=0, group=1),
        Pattern(r"(?i:(?<![\w])(?:user(?:name)?|buyer|seller|member|customer|gamertag|nick(?:name)?|handle|login|"
                r"benutzer(?:name)?|käufer|verkäufer|acheteur|vendeur|usuario|comprador|vendedor|utente|acquirente|"
                r"venditore|gebruiker|koper|verkoper|kullanıcı(?: adı)?|пользователь|логин|ник|아이디|ユーザー名|"
                r"ユーザーID|用户名|账号|帳號|line|ig|insta|instagram|telegram|tg|wechat|weixin|微信|微信号|kakao|"
                r"kakaotalk|카톡|skype|discord|snapchat|snap|tiktok|viber)(?: id| ID)?)(?![^\W\d_])[ \t]*[:：]?[ \t]*"
                r"((?=[a-z0-9._]{4})(?=[a-z0-9._]*[0-9_.])[a-z][a-z0-9]*(?:[._][a-z0-9]+)*_?)(?![\w@]|\.\w)", 0.7,
                flags=0, group=1),
    ], validator=_not_a_domain)


def reply_handle_recognizer() -> RegexRecognizer:
    """The handle a reply opens with, before its first word ("@ngocanh.ng Dạ chào chị", "@sam.k.uk thanks!"): a
    person's, even when its last dotted part reads as a country's top-level domain (which `handle_recognizer` takes
    for a domain elsewhere in a text); a version number or a name under a generic top-level domain ("@shop.com")
    is not one."""
    return RegexRecognizer("handle", "PERSON", [
        Pattern(r"(?m)^[ \t]*@([^\W\d_]\w{1,29}(?:[._]\w{1,29}){1,3})(?=[ \t,:]+[^\W\d_])", 0.7, flags=0, group=1,
                needs="@"),
    ], validator=_reply_handle)


def _reply_handle(handle: str) -> bool:
    generic = handle.rsplit(".", 1)[-1].lower() in ("com", "org", "net", "edu", "gov", "info", "biz", "io", "shop")
    return not generic and re.fullmatch(r"v?\d+(?:\.\d+)*[a-z]?", handle, re.IGNORECASE) is None


_PROVIDERS = (r"(?i:gmail|googlemail|hotmail|outlook|yahoo|icloud|gmx|web\.de|yandex|mail\.ru|proton(?:mail)?|aol|"
              r"live|msn|naver|qq|163|126|libero|orange|free|wp|o2|seznam|t-online)")
# also what a text needs for the pattern to run; a ".com" typed without its dot stays with it ("anna@gmailcom")
_AT_PROVIDER = rf"(?:[@＠]|\s(?:at|arroba|chez)\s){_PROVIDERS}(?:com)?"


def _provider_local_part(value: str) -> bool:
    """A full address always; before a bare provider name, a local part with a dot, digit, underscore or "@" in it
    ("looked at gmail" and "ask at yahoo" are prose)."""
    if "@" in value or "＠" in value:
        return True
    return re.search(r"[\d._]", value.split(None, 1)[0]) is not None


def email_recognizer() -> RegexRecognizer:
    return RegexRecognizer("email", "EMAIL_ADDRESS", [
        # RFC 5322 atext in the local part (apostrophes: "o'brien@"), RFC 6531/5890 internationalised local parts
        # and domains ("françois@", "müller.de"): \w is Unicode-aware; the full-width at sign and dot of Japanese
        # and Chinese text ("sato.ken＠example．jp"); a match starts only where a run of local-part characters does
        # (linear time on "1/1/1/...")
        Pattern(r"(?<![\w.!#$%&'*+/=?^`{|}~-])\w[\w.!#$%&'*+/=?^`{|}~-]*[@＠][\w-]+(?:[.．][\w-]+)*[.．][^\W\d_]{2,24}"
                r"\b", 0.95),
        # the ideographic full stop a CJK input method types for "." ("wang.fang@163。com"): only before lower-case
        # ASCII labels, so the full stop ending a sentence after an address ("...@163.com。谢谢") stays outside
        Pattern(r"(?<![\w.!#$%&'*+/=?^`{|}~-])\w[\w.!#$%&'*+/=?^`{|}~。｡-]*[@＠][\w-]+(?:[.．。｡][a-z0-9-]+)*"
                r"[。｡][a-z]{2,24}(?![a-z])", 0.95, flags=0, needs="[。｡]"),
        # a web-mail provider's name without its top-level domain ("anna.berg@gmail", "annaberg1984 at hotmail"):
        # the mailbox is whole without it
        Pattern(rf"(?<![\w.+'-])\w[\w.+-]*{_AT_PROVIDER}(?![\w.@]|\.\w)", 0.85, needs=_AT_PROVIDER),
    ], validator=_provider_local_part)


def spelled_email_recognizer() -> RegexRecognizer:
    """E-mail addresses written out to dodge filters; a plain "x@y.com" is `email_recognizer`'s."""
    # "jo dot smith" or "jo79": a local part an ordinary word is not
    local_dotted = rf"{_LABEL}(?:{_LOCAL_SEP}{_LABEL}){{1,4}}|[a-z][a-z_%+-]{{0,40}}\d[a-z0-9_%+-]{{0,40}}"
    return RegexRecognizer("spelled-email", "EMAIL_ADDRESS", [
        Pattern(rf"(?<![\w.@])(?:{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}){_AT_BRACKET}{_SPELLED_DOMAIN}", 0.9),  # "[at]"
        Pattern(rf"(?<![\w.@])(?:{local_dotted}){_AT_WORD}{_SPELLED_DOMAIN}", 0.7, 0.9),
        Pattern(rf"(?<![\w.@])(?:{local_dotted}|{_LABEL}){_AT_SURE}{_SPELLED_DOMAIN}", 0.85),  # "ana arroba ..."
        # "anna_berg AT yahoo DOT co DOT uk": "AT" and "DOT" written in capitals are meant to be read as symbols, no
        # e-mail word needed (a dotted local part is the pattern above's)
        Pattern(rf"(?<![\w.@])(?i:{_LABEL})\s+{_CAPS_AT}\s+(?i:{_LABEL})(?:\s+{_CAPS_DOT}\s+(?i:{_LABEL})){{0,4}}"
                rf"\s+{_CAPS_DOT}\s+(?i:{_TLD})\b", 0.85, flags=0, needs=rf"\s{_CAPS_DOT}\s"),
        # "anna at mail dot se" only with an e-mail word near ("looked at amazon dot com" is prose)
        Pattern(rf"(?<![\w.@]){_LABEL}{_AT_WORD}{_SPELLED_DOMAIN}", 0.3, 0.8),
        # a generic top-level domain typed apart from its address ("anna@gmail,com", "anna@gmail. com", "anna@gmail
        # .com"): the address whole, the slip with it (country codes left out: "ana@tienda, de lunes a viernes")
        Pattern(r"(?<![\w.+'-])\w[\w.+'-]*[@＠][\w-]+(?:\.[\w-]+)*(?:\s?,\s?|\s\.\s?|\.\s)"
                r"(?:com|net|org|edu|gov|info)(?![\w@]|\.\w)", 0.85, flags=0, needs="@"),
        # a mailbox without its domain's top-level part ("write to anna@firma", "lisa@shop"), e-mail word near; the
        # name after the "@" in lower case, as addresses are typed ("Fish@Home" is a product)
        Pattern(r"(?<![\w.+'-])\w[\w.+-]*@[a-z][a-z0-9-]{1,40}(?![\w@]|\.\w)", 0.3, 0.8, flags=0, needs="@"),
    ], context=EMAIL_CONTEXT)


def url_recognizer() -> RegexRecognizer:
    trailing = r"(?<![.,;:!?)\]'\"])"  # a sentence's full stop or a closing bracket is not part of the URL
    tlds = r"(?:com|net|org|io|co\.uk|org\.uk|uk|de|fr|nl|ie|me|info|blog|shop|store|app|dev)"
    return RegexRecognizer("url", "URL", [
        Pattern(r"\b(?:https?://|www\.)[^\s<>\"']+" + trailing, 0.8),
        Pattern(r"(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\." + tlds + r"(?:/[^\s<>\"']*" + trailing + r")?\b",
                0.5),
    ])


def _ip_ok(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_recognizer() -> RegexRecognizer:
    return RegexRecognizer("ip", "IP_ADDRESS", [
        Pattern(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)", 0.6, 0.9),
        Pattern(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", 0.7, 0.9),
    ], context=("ip", "address", "server", "login", "logged", "router", "vpn"), validator=_ip_ok)


# A phone number right after a phone word, in any country's grouping: what the national formats of PHONE_REGIONS
# and SCRIPT_REGIONS leave out ("Mobilen min er 412 48 773", "me chama no zap (11) 97418-2290"). The cue words are
# the languages' own ("tlf", "handy", "celular", "zap", "sđt", "τηλ", "手机", "연락처", "เบอร์", "جوال", "טלפון"),
# at most a few short words may stand between ("min er", "is", "é o"), and the number holds 7 to 15 digits in groups.
# Not "number" or "no." alone (an order number has them), nor the Turkish "cep" (a Brazilian CEP is a postcode).
_PHONE_CUES = (
    r"phone|ph|tel|tele|telephone|mobile|mob|cell|cellphone|whats ?app|wa|zap|zapzap|ring me on|call me on|"
    r"text me on|tlf|telefon|telefonnummer|telefonnr|mobil|mobilen|mobilnummer|mobilnr|handy|handynummer|rufnummer|"
    r"natel|puh|puhelin|gsm|tél|téléphone|portable|teléfono|telefono|celular|cel|móvil|movil|cellulare|telemóvel|"
    r"telemovel|telefone|komórka|komorka|телефон|тел|моб|мобильный|мобільний|τηλ|τηλέφωνο|κινητό|sđt|sdt|đt|"
    r"điện thoại|no\.? hp|nomor hp|nomor wa|sími|símanúmer|gsm nr|tālr|tālrunis|tel\. nr|telefono nr|mob\. nr|"
    r"tlf\. nr|puh\. nro|cep telefonu|simu|namba ya simu")
# the cue words of scripts written without spaces, or with prefixes glued on ("وجوال"): no word boundary around them
_PHONE_CUES_GLUED = (r"電話|电话|手机|手機|携帯|연락처|전화|휴대폰|โทร|เบอร์|هاتف|جوال|موبايل|تلفن|موبایل|טלפון|נייד|"
                     r"फोन|मोबाइल")
# digit runs between separators, not groups split out of one run (a run of 60 digits after "tel" tried every split
# of its first 29 digits: 0.5 s for 300 of them); the validator counts the digits
_PHONE_RUN = r"(?:(?:\(\d{1,4}\)[ .\-]?)?\d{1,15}|\(\d{1,4}\))"  # "97418", "(0)30", "(11) 97418", "(11)"
_PHONE_AFTER_CUE = (
    r"(?:(?<![^\W\d_])(?:" + _PHONE_CUES + r")(?![^\W\d_])|" + _PHONE_CUES_GLUED + r")\.?"
    r"(?:[ \t]*[:：#-]?[ \t]*(?:[^\W\d_]{1,6}[ \t]+){0,3})?[:：]?[ \t]*"
    r"((?:\+|00)?" + _PHONE_RUN + r"(?:[ .\-/]" + _PHONE_RUN + r"){0,5})(?![\d\-/.]?\d)")


# A shop's service line, named as such right before the number ("Hotline: 0161 496 0000", "Servicenummer voor klanten:
# 088 ...", "Service client joignable au 09 69 ...", "Customer Care | Pennine Home Ltd | 0161 ..."): the company's
# number, whatever its type, unless the writer says on the way that it is theirs ("Customer service, my number is
# ...", "I called customer service from 07700 ...").
_SERVICE_LINE = re.compile(
    r"(?i:(?<![\w-])(?:hotline|helpline|help line|service line|customer (?:service|care|support|line)|"
    r"call ?cent(?:re|er)|servicenummer|klantenservice|klantenlijn|kundenservice|kundendienst|servicehotline|"
    r"service ?clients?|service client[eè]le|atenci[oó]n al cliente|servicio al cliente|servizio clienti|"
    r"assistenza clienti|numero verde|apoio ao cliente|servi[cç]o de atendimento|sac|kundtj[aä]nst|kundeservice|"
    r"asiakaspalvelu|obs[lł]uga klienta|infolinia|zákaznick[aá] linka|ügyfélszolgálat|müşteri hizmetleri|"
    r"служба поддержки|горячая линия|гаряча лінія))\b[^\d\n]{0,40}$")


# words that make the number the writer's after a service cue ("called customer service from ...", "hat mich unter")
_FROM = re.compile(r"(?i)\b(?:from|von|vom|depuis|desde|dal|dalla|met|with|mit|using|via|i|ich|je|yo|io|ik|jag|mich|"
                   r"mir|moi|mnie|mig|meg|mij|us|uns|nous)\b")


def is_service_line(text: str, finding: Finding) -> bool:
    """A PHONE_NUMBER right after a service-line cue on its line, with no first-person word between (the shop's)."""
    if finding.entity_type != "PHONE_NUMBER":
        return False
    cue = _SERVICE_LINE.search(text, max(0, finding.start - 80), finding.start)
    return cue is not None and _MINE.search(cue.group()) is None and _FROM.search(cue.group()) is None


def _cued_phone(value: str) -> bool:
    """7 to 15 digits, no date, and no toll-free or premium number (a shop's hotline, as PhoneRecognizer rules)."""
    return (7 <= sum(ch.isdigit() for ch in value) <= 15 and not _DATE_SHAPE.fullmatch(value)
            and not business_number(value))


def phone_cue_recognizer() -> RegexRecognizer:
    """PHONE_NUMBER: 7 to 15 digits in groups right after a phone word of the cue languages (see _PHONE_CUES)."""
    return RegexRecognizer("phone-cue", "PHONE_NUMBER", [Pattern(_PHONE_AFTER_CUE, 0.8, group=1, needs=r"\d\d")],
                           validator=_cued_phone)


_CONTEXT = RegexRecognizer("phone-context", "PHONE_NUMBER", [], context=PHONE_CONTEXT)
_PLUS = ("+", "\uff0b")  # libphonenumber's plus signs (phonenumberutil._PLUS_CHARS): a country code follows
_MIN_NSN = 2  # libphonenumber's _MIN_LENGTH_FOR_NSN: parse() refuses shorter national numbers


def _shortest_nsn(country_code: int) -> int:
    """The shortest national significant number valid under `country_code` in any region sharing it: the least
    `possible_length` of each region's general description (`_is_number_matching_desc` refuses other lengths)."""
    out = []
    for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        lengths = () if metadata is None or metadata.general_desc is None else metadata.general_desc.possible_length
        out.append(min(lengths, default=_MIN_NSN))
    return min(out, default=_MIN_NSN)


@functools.cache
def shortest_valid(region: str, plus: bool) -> int:
    """Fewest letters and digits a matcher candidate needs for libphonenumber to parse from it a number that
    `is_valid_number` accepts, with `region` as the default region; `plus`: the candidate holds a plus sign.

    Why it is a lower bound: every digit parse() keeps comes from one character of the candidate that is a digit
    or, for vanity numbers, a letter; national-prefix, carrier-code and extension stripping only drop digits; and a
    valid number's national significant number has one of its region's possible lengths. Parsed without a country
    code (or with `region`'s own code written first), the number takes `region`'s code, so it needs `region`'s
    shortest length; with another country code (after a plus sign, or after an international dialling prefix of at
    least one digit) the code's digits come from the candidate too: at least the shortest code-plus-number of any
    region, plus one digit of dialling prefix where no plus sign stands in for it. The bound is the smaller of the
    two, whichever way libphonenumber reads the candidate.
    """
    international = min(len(str(cc)) + _shortest_nsn(cc) for cc in COUNTRY_CODE_TO_REGION_CODE)
    code = phonenumbers.PhoneMetadata.metadata_for_region(region).country_code
    return min(_shortest_nsn(code), international + (0 if plus else 1))


class _ValidMatcher(phonenumbers.PhoneNumberMatcher):
    """libphonenumber's matcher, minus the parsing of candidates too short for any valid number (`shortest_valid`):
    for those, `_parse_and_verify` returns None, as the library's own would after parsing; nothing else changes
    (the callers count the try the same way), so the matches are the library's."""

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        if self.leniency >= phonenumbers.Leniency.VALID:  # the bound is about valid numbers only
            plus = any(p in candidate for p in _PLUS)
            if sum(ch.isalnum() for ch in candidate) < shortest_valid(self.preferred_region, plus):
                return None
        return super()._parse_and_verify(candidate, offset)


def script_regions(text: str, regions: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The regions of SCRIPT_REGIONS whose script `text` holds, less `regions`, in order and each once."""
    out: list[str] = []
    for script, names in SCRIPT_REGIONS:
        if script.search(text):
            out += [r for r in names if r not in regions and r not in out]
    return tuple(out)


@dataclass
class PhoneRecognizer:
    """libphonenumber's matcher per region; a number parsed in several regions is reported once."""

    name: str = "phone"
    regions: tuple[str, ...] = PHONE_REGIONS
    score: float = 0.75  # a number libphonenumber calls valid is good evidence on its own
    context_score: float = 0.95

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PHONE_NUMBER",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        if sum(ch.isdigit() for ch in text) < 7:  # fast path: no phone number has fewer digits
            return []
        votes: dict[tuple[int, int], list[bool]] = {}  # span -> one "business number?" vote per region it is valid in
        for region in self.regions + script_regions(text, self.regions):
            for match in _ValidMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                votes.setdefault((match.start, match.end), []).append(
                    phonenumbers.number_type(match.number) in BUSINESS_TYPES)
        spans = {span for span, business in votes.items()
                 if (2 * sum(business) <= len(business) or _MINE.search(text[max(0, span[0] - 24):span[0]]))
                 and not _DATE_SHAPE.fullmatch(text[span[0]:span[1]])}  # "06-01-2023" is a date
        return [Finding("PHONE_NUMBER", _with_area_code(text, s), e,
                        self.context_score if _CONTEXT.has_context(text, s, e) else self.score, self.name)
                for s, e in sorted(spans)]


_AREA_CODE_BEFORE = re.compile(r"\(\d{1,4}\)[ \t]?$")


def _with_area_code(text: str, start: int) -> int:
    """The start of a number with the bracketed area code written right before what a region's matcher took
    ("(11) 98765-4321": a Brazilian mobile that the matchers of PHONE_REGIONS read without its area code)."""
    area = _AREA_CODE_BEFORE.search(text, max(0, start - 8), start)
    return area.start() if area is not None else start
