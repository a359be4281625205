"""Anonymization policy: which entity types to look for, the score each must reach, and what replaces it.

Safe defaults (every supported type, the typed-placeholder operator); the thresholds mirror Presidio's
`score_threshold`, set per entity here because pattern-only types are weaker evidence than validated ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from anonymize.errors import AnonymizeUserError

ENTITY_TYPES = (  # Presidio-compatible names, then the retail types this appliance adds
    "PERSON", "LOCATION", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN",
    "DATE_TIME", "URL", "STREET_ADDRESS", "POSTCODE", "ORDER_NUMBER", "GIFT_CARD", "LOYALTY_ID", "SECRET", "CUSTOM",
    "ID_DOCUMENT",  # driver's licence, passport and national id numbers (the learned detector's, and cue rules)
    "CUSTOMER_ID", "DATE_OF_BIRTH", "LICENSE_PLATE",  # customer numbers, birth dates, vehicle plates (cue rules)
)
OPERATORS = ("placeholder", "keyed_hash", "redact", "generalize")
# recorded in audit entries; bump when a default below or what a recognizer finds changes
POLICY_VERSION = "2026-12-15g"
# 2026-12-4: national street lines, world given names, merged overlaps, company names, retail brands, locality
# lines and subdivisions (the recognizers changed since 2026-12-3 without a bump; auditors see one step for them)
# 2026-12-5: a lower-case first name after a function word of another language needs context, titles used as nouns
# and chat-turn hellos are no names, a year after a time word is no postcode
# 2026-12-6: names and places in scripts without letter case that are shaped like phrases (a Korean or Japanese
# predicate ending, a Thai sentence, a long kanji/kana run) are dropped; CJK and Arabic commas split names; Arabic,
# Hebrew and Russian greetings and retail words, and CJK/Korean role labels ("担当", "상담원") are stop words; a word
# spelling out a letter ("w as in william") is no person; weekday abbreviations, German letter salutations and
# signature departments ("Damen und Herren", "Einkauf", "Manager"), Scandinavian function words and German/Dutch
# nouns by their endings ("Rückmeldung", "Retourformulier") are stop words; a bare number of up to three digits is no
# street address; tax-id, Baltic address/name, driving-licence and postcode labels are form labels; Malay,
# Indonesian, Portuguese, Turkish and Italian courtesy titles and kinship words are cut off names; Turkish words
# with a dotted capital İ match their stop words
# 2026-12-6b: Brazilian CEPs without a cue ("Beberibe, 98314-039"); a name or place inside a hyphenated retail
# word ("SIGN-UP", "Drive-off") is dropped; a place cut at its connector is joined ("Aix" + "-en-Provence")
# 2026-12-6c: national id names of more countries (JMBG, Kennitala, ΑΦΜ, UMID, CNH, NRIC...) are form labels
# 2026-12-6d: large cities in their own script (native_places: Han, kana, Hangul, Hebrew, Arabic, Cyrillic, Greek,
# Thai, Devanagari); traditional-character addresses with road sections ("復興南路一段390號5樓"); given-name and
# family-name field labels, invoice/order words and birth labels of more languages; signature roles and departments,
# replies of agreement and German product compounds are no names; the English name list reads non-ASCII words whole
# (2026-12-6d also) an order, gift-card, loyalty or other id span the learned detector found stops at the first word
# of running text after its value ("GC-VPJW-8477-OYDR shows no balance"); phone extensions stay; "von"/"de" after a
# call or message noun is no particle ("Anruf von Garin Kraus", "Appel de ..."), a leading "/" no part of a name
# 2026-12-6e: "Packstation 105" is an address again (no -station nouns among the German product compounds); "call
# me" verbs are stop words ("Chiamarlo al 333 ..."); "tarihi", "nar", "ur", "orden", "appel" are no labels
# 2026-12-6f: a name found once is found again in the same text, and in a list beside found names ("Reyes, Kowalski,
# Nguyen"); a particle joins a surname ("Casanova i Puig", "Rhys ap Gruffydd"); kinship words of more languages, "("
# before a name ("муж (Игорь)"), lower-case gazetteer names after a self-introduction ("this is keisha"); "(" splits
# a name or place span; a personal title before "Dr." is no street ("Frau Dr. Weber")
# 2026-12-6g: an id span of a NER model needs a digit and loses a Japanese/Korean label, particle or predicate on its
# edges ("注文番号はJP-...です"); a free-text span overlapping a NER model's id span merges with it; a place keeps the
# district number ending its address line ("Praha 10")
# 2026-12-6h: in a lower-case text the check layer's spaCy PERSON needs a listed given name or surname ("gerne
# wieder" is no name; "ravi okonkwo" is); an emoji after a sentence's end leaves the next word at a sentence start;
# a business's head noun ("... Dental Group", "Distribuidora ...") marks a firm's name, a legal form may lose its final
# dot to the sentence ("Gómez S.L."), and a street span without a number may be a firm's name; a NER model's one-word
# name or place with no list behind it is dropped when it reads as prose: lower case in a cased text, or a capitalised
# sentence opener ("... odpina. Polecam!", "Доставка быстрая"); phones are also read in the national formats of the
# regions that write a text's script ("电话138 1762 4490"); six or more digit words in a row are a spoken number; a
# place keeps its Italian province or Brazilian state code ("Napoli (NA)", "São Paulo - SP"); German preposition
# streets ("Am Hafen 5") on their own address line; a CJK address keeps its building ("...4-17 グランメゾン梅田802号",
# "233号 蓝湾花园3栋1502室"), a bare room number after 号 and a Korean floor ("..., 3층")
# 2026-12-7: a capitalised word opening a chat turn is an interjection for places too ("Elin: Klart!", "Vásárló:
# Köszi, holnap ..."), after a speaker of up to three capitalised words ("Agent Kevin:"), never after a name field
# ("Name: Yalazalp."); prose whose every sentence opens with a capital is not lower-case text (no Title-Cased second
# pass; the gazetteer's lower-case hits there need context); the Title-Cased pass drops spans of five words or more;
# a Chinese or Japanese street span without an address character is a sentence ("您好，我的订单..."); an honorific or
# "I'm" alone is no name; chat roles of more languages, "newsletter" and Chinese/Hebrew hellos are stop words
# 2026-12-7b: a number read in groups of tens and hundreds (four groups or more, seven digits or more: "cincuenta y
# cinco, treinta y ocho, ...", "toogtyve, otteogfyrre, ...") is a spoken PHONE_NUMBER like six digit words in a row
# 2026-12-7c: a name signing the text after a dash or slash ("... — Thabo M.", "/Hampus"; with an initial, on its own
# line or a listed name) is a PERSON; a name's initials before or after it join its span ("W. M. Dilani Perera")
# 2026-12-7d: street lines of more formats: Serbian/Bulgarian Cyrillic types with lower-case or quoted names ("Булевар
# краља ...", "ул. „Цар Симеон“ 41"), Georgian ("... გამზ. 12, ბინა 3"), Vietnamese ("số 12 đường số 7"), Quebec
# ("1450 boul. ..."), Galician "Rúa"; Iberian position words after the number ("90 - fundos", "18, baixo")
# 2026-12-7e: named administrative areas after their type word are places (admin_areas: "Kel. Sukamaju", "Kec. ...",
# "xã Hòa Phước", "Quận 3", "P.7", "ต.คลองสาม", "Brgy. San Isidro", "Co. Mayo")
# 2026-12-7f: tax and business registration numbers after their names are ID_DOCUMENTs (cues_world.WORLD_TAX_CUES:
# VAT/TVA/IVA/BTW/USt-IdNr, KvK, CVR, GSTIN, GST/HST, ABN, adószám, NIP...; seven digits or more, no amount)
# 2026-12-7g: postcodes after Japan's postal mark and the postcode labels of CJK forms ("〒530-0012", "邮编：518057"),
# Argentina's CPA before its town ("C1193AAF CABA"); purchase-order cues ("PO PO-CA-00418", "LPO ..."), Bulgarian
# "поръчката ми ...", Nordic loyalty-card words; loyalty numbers listed after a cued one are taken too
# 2026-12-7h: courtesy titles of more languages before a name ("κυρία ...", "أستاذ ...", "Mr", "señor"), a surname with
# its particles after a title or cue ("señor de la Hoz", "Mr ap Iestyn"), a CJK speaker glued to its role ("担当佐藤：")
# 2026-12-8: street lines of more shapes (lower-case Romance types in prose, Mexican/Uruguayan/Italian/Maltese/Albanian/
# Swahili types, highway kilometres, Bulgarian/Russian/Nordic units, Hebrew, Arabic, Persian, Chinese, Japanese, Hindi,
# numbered components, Indonesian estates, Vietnamese without diacritics), landmarks after an address part, US units
# after the street type, Cyrillic city abbreviations, Romanian counties and sectors, Arabic "city of"/district names
# 2026-12-8b: couriers, recipients, neighbours, relatives and "ask for" of more languages before a name ("le livreur
# Ibou", "preguntar por Yokasta", "kod susjede Ankice", "pan Vondráček", "sy Yudi", "خواهرم نگار")
# 2026-12-8c: rules start only at a word's start (not after its apostrophe or hyphen: no quadratic time on long runs),
# so a street span no longer takes the "s" of "it's"
# 2026-12-8d: speakers and role-name pairs of caseless scripts ("オペレーター（高橋）：", "الموظف عبدالله:",
# "แอดมินมายด์:", "오세훈 과장", "我是卖家王海涛"), extension words of more languages ("내선", "تحويلة", "转"),
# inflected Russian order cues and purchase-order words, seller ids ("venditore IT-SEL-...", "店铺ID")
# 2026-12-8e: chat roles, honorifics and greetings as stop words ("Temsilci", "Ma'am", "Nachbar", "Grüß Gott")
# 2026-12-8f: spelled e-mail addresses with more "at" words (arobase, chiocciola, kukac, zavináč, apenstaartje) and a
# spelled separator in the local part ("tom underscore barraclough at ..."); Australian rural numbers ("RMB 4410 ...")
# 2026-12-8g: "mas" and "teh" are no name cues (Portuguese "but", an English typo: "mas Chegou riscado")
# 2026-12-9: one unlisted word before a catalog term in a PERSON/LOCATION finding names the product ("Kurtka
# Zakopane"), so it is no longer masked
# 2026-12-9a: a street span from the NER whose every number is a quantity, size or day of a month, with no address
# word, is no address ("Talla 39 perfecta", "Maximale belasting 15 kg", "30 °C")
# 2026-12-9b: named holidays, festivals and shopping days are no names or places ("Boxing Day", "Kurban Bayramı")
# 2026-12-9c: a hotline the learned detector typed as another id (business line in most regions and in two) is
# dropped; a carrier or payment brand with a preposition the NER took along ("von DHL") is a brand
# 2026-12-9d: a landmark sentence right after an address line ("..., Accra. Behind the Total filling station."),
# "facing", "adjacent to" and Indonesian/Malay landmark prepositions ("depan warung bu Tini")
# 2026-12-9e: names in quotes with a nickname, after Italian professional titles and "Anrufer", katakana readings,
# names spelled letter by letter, Arabic "for my brother X" and "thanks, ya X", Chinese recipient labels with a colon
# 2026-12-9f: stop words "Services", "Care", "Servizio", "Clienti", "Recibe", "Receiver", "Kargo"
# 2026-12-9g: a one-word unlisted NER PERSON right after a German article or determiner is a noun ("die Kapuze")
# 2026-12-9h: account-holder, recipient, driver and sign-off words of more languages are stop words ("Kontoinhaber")
# 2026-12-9i: a region in brackets joins its place ("Montréal (QC)"); Dutch "'s-Hertogenbosch" on a locality line; a
# lower-case US town and state before a ZIP ("reno nv 89502")
# 2026-12-9j: a country after a made-in or origin cue is no place of a person ("Hecho en Portugal")
# 2026-12-9k: IBANs with hyphens or no-break spaces between groups; account-number cues of more languages keep a
# mistyped IBAN ("Kontonummer: DE88 ...")
# 2026-12-9l: a NER street span of a month and day ("June 24"); a year after a model or article word ("Baujahr 2024")
# 2026-12-9m: form labels of postcodes, national ids, birth dates and loyalty cards as label words ("Eircode")
# 2026-12-9n: colour words right after a colour cue are no names or places ("in der Farbe Dunkelblau")
# 2026-12-9o: IBANs of every registry country (and the national schemes outside it); a validated IBAN or card number
# followed by a word is no longer lost ("LU71 ... 8103 please"); an IBAN in print form with wrong check digits
# 2026-12-9p: names after recipient labels and role words in scripts without letter case ("باسم ريم", "მიმღები ნინო"),
# and a chat turn answering a name question with the name alone ("الاسم؟" / "العميل: نهى عبد الرحمن")
# 2026-12-9q: an Arabic city before an Arabic comma ("الرياض،"); cities in Georgian, Armenian, Ethiopic, Persian,
# Kazakh and Mongolian script; a Han city after a preposition of place or before a possessive ("在成都上大学")
# 2026-12-9r: world cities of 50,000 people or more after a preposition of place ("em Viseu") or before a Turkish
# case ending ("Eskişehir'e") in the check layer; Hebrew and Devanagari city boundaries without punctuation
# 2026-12-9s: a street line found by any detector takes the sub-building parts after it (", ет. 3, ап. 9"); a unit
# value of a letter and digits ("bl. C4")
# 2026-12-9t: a common Japanese surname before the copula of a self-introduction ("岡田です") or with its given name
# alone on a line (a signature: "森田 裕子")
# 2026-12-9u: care-of lines ("c/o Lindqvist"), named business estates and rural localities with their lot ("Polígono
# Industrial El Pino, nave 14", "Lieu-dit Le Moulin"), Central American directions from a landmark ("de la iglesia
# 200 metros al sur")
# 2026-12-9v: handles with up to four dotted parts ("@rahul.v.iyer"; a domain is none); a user name shaped like one
# after a user, buyer or seller word or an id label ("the buyer kezzy_b", "아이디: skyjung01")
# 2026-12-9w: the name line of a signature block with the writer's job title after a bar, dash or comma or on the
# next line ("Rhys ap Gruffydd | Store Manager")
# 2026-12-9x: Russian and Ukrainian kinship words in their oblique cases as name cues ("сыну Артёму")
# 2026-12-9y: two to four capitals and six to ten digits are a reference without a cue ("BR-4480231", "KD4974650")
# 2026-12-9z: national numbers known by their shape (Belgian national number, Malaysian NRIC, Philippine UMID); id
# cues "numéro national", "UMID", "NRIC", "carte d'identité"; birth cues of more Slavic and Baltic languages
# 2026-12-10: compact plates of three letters and three or four digits near a vehicle word ("hatchback LKR452")
# 2026-12-10a: the number before an Arabic street type ("١٤ شارع ..."); Mongolian subdistrict/building/flat lines;
# Chinese road numbers with spaces ("文三路 388 号"); Korean side streets ("월드컵북로 21길 30"); Armenian flat units
# 2026-12-10b: a prefixed street with building and flat after a comma ("Rruga e Durrësit, Pallati 14"); Swahili
# house numbers; Czech streets named with a preposition before a postcode ("Na Výsluní 1187"); wards ("Jhamsikhel,
# Ward No. 3"); French floors and doors before the street; British house names on their street ("The Old Forge,
# Chapel Lane")
# 2026-12-10c: e-mail addresses with the full-width "＠" or "(a)", and a web-mail provider without its top-level
# domain ("lina.k@gmail", "mehmet1990 at hotmail")
# 2026-12-11a: "x at y dot z" with any top-level domain and a mailbox with no top-level domain ("anna@firma"), both
# with an e-mail word near; an e-mail match starts where its run of local-part characters does; world cities after
# Pidgin, Swahili and Vietnamese place words ("dey Kumasi", "wa Thika", "ở Đà Lạt") and before South Asian
# postpositions ("Pokhara ma", "Dhaka theke"); Vietnamese "Đ" in GeoNames names
# 2026-12-11b: Japanese chōme-block-house in Latin letters ("3-7-2 Nishi-Shinjuku, Sumida-ku")
# 2026-12-11c: the localities after a street on its line ("..., Nyumba Na. 12, Mwenge, Dar es Salaam"), one LOCATION
# each, and on the next line when it holds only localities and a postcode
# 2026-12-11d: e-mail "x AT y DOT z" in capitals without an e-mail word; the full-width dot in a domain ("example．cn")
# 2026-12-12: e-mail with the ideographic full stop for "." ("wang@163。com") and a generic top-level domain typed
# apart ("anna@gmail,com"); a closing line in a script without letter case is a signature only after a sign-off
# 2026-12-12a: a NER place or street right before a form's colon is a label; plate cues of more languages and the
# Chinese, Japanese and Korean plate shapes
# 2026-12-12b: gift-card cues of more languages (CJK with their number words), the full-width colon after any id
# cue, "3rd of May 1984" after a birth cue
# 2026-12-12c: an id after its cue is refused as a date only when it is a calendar date ("4471-22-9" is an id); CJK
# and Korean loyalty-card cues
# 2026-12-12d: caseless-script closing words are a signature on any line of their own (not only after a comma),
# without a CJK honorific ("山口 奈々 様")
# 2026-12-12e: opening hours in a NER street span ("Mon–Fri 9–5", "skjærtorsdag 10–16", "24 h") are no address; Nordic
# Easter and Christmas days are holidays; hours left of a holiday in a span are no finding
# 2026-12-12f: a month name next to a day of the month or after a preposition of time is no person or place ("June
# 24", "in April")
# 2026-12-12g: a colour's given name and a finish word ("Rose Gold", "Rose Quartz") is a colour, not a person
# 2026-12-12h: a name between an article and goods is a product line ("the Denver mattress topper")
# 2026-12-12i: a name right after goods in the languages that write them first ("die Pfanne Hamburg")
# 2026-12-12j: shopping malls are store sites ("the Houston Galleria store", "Keene Colony Mall")
# 2026-12-12k: a name right before a business head noun is the firm's ("GIG Logistics", "Aras Kargo") unless the
# text names it apart as well; carrier head nouns
# 2026-12-12l: a listed name before a colon stays (a chat speaker the NER typed as a place)
# 2026-12-12m: the field-label filter runs on the NER's refined pieces ("City/State:" -> "City" stays, "State" goes)
# 2026-12-12n: "by" before a month name no longer makes it a month ("approved by June" names a person)
# 2026-12-12o: a listed name right after goods stays masked ("gib die Tasche Anna" hands the bag to Anna)
# 2026-12-12p: a listed given name and a mall word as surname ("Anna Mall") is a person, not a mall
# 2026-12-12q: a product colour right after a colour cue of more languages, or with the cue in the span ("Farbe
#   Salbeigrün", "Kleur Oudroze"), is no name
# 2026-12-12r: birth dates with written months of more languages ("12 сентября 1983 г."), the Thai Buddhist year,
#   digits of other scripts ("١٥/٠٦/١٩٩٠"), Japanese era dates, and Persian, Urdu, Hebrew, Hindi, Bengali, Thai cues
# 2026-12-12s: words keep their combining marks (Indic vowel signs and viramas, Thai tone marks, Hebrew points): listed
#   names of those scripts are listed, NER spans keep a final virama, form labels before a colon are judged
# 2026-12-12t: the first of two field labels joined by a slash ("Straße/Hausnr.:", "CP / Ville :", "City/State:")
# 2026-12-12u: French street types in a label's capitals ("17 AVENUE DU GENERAL LECLERC"); German streets named with a
#   capitalised preposition inside a sentence ("neue Adresse Am Strande 3d, ...")
# 2026-12-12v: listed given names after more caseless-script cue words (customers, kinship without "for", "معك",
#   greetings, Persian and Hebrew kinship, a Hebrew prefix on the cue) and Arabic kunyas ("أبو خالد") whole
# 2026-12-12w: cities after colloquial Portuguese and Spanish and Latin-letter Arabic prepositions ("pra Recife", "l
#   Sfax"); 55 more Arabic-script cities of 100,000 people or more; an Arabic preposition with the tatweel ("بـإربد")
# 2026-12-12x: a promotion code after its cue is no personal data ("use code SNOWDAY25", "Cupom VOLTA10"); carriers of
#   more countries ("Correios", "ELTA", "Еконт", "Почту России") are brands
# 2026-12-12y: mends of 12q-12x: "rang" (English past of "ring": "I rang Siobhan") is no colour cue and "shade"/"finish"
#   cue only colour words; the sentence-start test after a short capitalised word is as before 12s; no "Speedy" carrier
# 2026-12-12z: a street line found without a digit takes the house number after a number cue ("Hse No 12")
# 2026-12-13: in a text of one letter case, a listed world city right after a street line is a place ("..., petaling
#   jaya", "..., montréal qc")
# 2026-12-13a: the colloquial prepositions of 12w count in lower case only ("size L Paris" is a size and a product)
# 2026-12-13b: the letters-only tests of three rules count combining marks in (`words.is_letters`): a decomposed
#   "josé" is judged as the composed one, a caseless-script name answer with vowel signs is letters
# 2026-12-14: a text's letter case is judged on whole Latin words with their accents ("Ayşe Yılmaz aradı" was taken
#   for lower case); given names are also looked up without their Latin accents ("Kasım" is Faker's "kasim"); a
#   listed name before a staff note's verb ("Brigitte ruft an") and a capitalised name after a contact verb ("rang
#   Nwachukwu") are persons; a person before "/Agent:" is a chat speaker, not a field label; a phone word before 7-15
#   digits in any grouping makes them a phone; titles of more languages ("Fr.", "gosp.", "Bu", "Khun")
# 2026-12-14a: a mall's name is a store site in more shapes ("Sarit Centre", "Galerii Mokotów", "Mall of
#   Scandinavia"; a street-address span only without a house number), unless a landmark of an address ("Near Al
#   Khail Mall", "next to Yaya Centre")
# 2026-12-14b: a phone number right after a service-line cue ("Hotline:", "Servizio clienti:", "Infolinia:") is the
#   shop's, unless the writer says on the way it is theirs ("my number is", "from", "hat mich unter")
# 2026-12-14c: mobile-money wallets are payment brands ("M-Pesa", "Wave", "Orange Money", "OVO", "bKash")
# 2026-12-14d: the people of an e-mail header's To/Cc/From line, when one of them is a listed name
# 2026-12-14e: a support agent's caret signature ("^AB", "^Memo") and a signature line of a listed name and a role
#   or department ("Annika, Kundtjänst", "Marco | Customer Care")
# 2026-12-14f: a listed given name before an apostrophe and a Turkish case ending, also opening a sentence
#   ("Zeynep'e söyledim")
# 2026-12-14g: more goods, foods and textiles before or after a product line's name, in more languages ("el café
#   Jarabacoa", "il panettone Milano", "komplet pościeli Kraków", "the Karoo throw")
# 2026-12-15: e-mail "dot"/"at" words of more languages ("punt", "zavinac"); a cued value right before a CJK
#   character whole ("ポイントカード1234 5678 9012の"); a listed city after a postcode ("31000 Toulouse"); a reply's
#   opening handle; Swedish/Danish/Norwegian flat numbers ("lgh 1203"); staff labels and "handled by" before a name, a
#   listed name alone closing a text, Tagalog personal articles ("si Marites"); yes/no/greeting words of more
#   languages are no names ("Sí", "Nein", "Dạ"); a handle is no store branch
# 2026-12-15b: a product line without an article: an unlisted name before goods of any cue language ("for Sonoma
#   table runner", "Lofoten pledd") or after a product field's label ("Item: Edinburgh tartan scarf"); more goods words
# 2026-12-15c: spelled e-mail addresses with an at word that means nothing else ("marta arroba gmail punto com") need
#   no e-mail word near; e-mail words of the cue languages ("mailen", "Schreiben", "kontakt"); "anna@gmailcom"; a
#   phone number with the bracketed area code before it ("(11) 98765-4321")
# 2026-12-15d: plates of Turkey, Slovenia, Latvia, Indonesia and Ireland and more vehicle words; phone, id and order
#   cue words of more languages ("sími", "ID-картка", "Citizenship no.", "zamówieniu"); messaging-app handles ("Line
#   ID june_p"); signatures: caseless-script names after a dash, "Name - phone", "Name from Town", staff initials
#   ("Agent DL.", "/mh"); Chinese "客服小王", Thai "คุณ" with a given name and surname, Indonesian "pak"
# 2026-12-15e: the person to call before or after a number ("Call Arman +374 ...", "5555 1234 (Rasmus)"), the person
#   a card greets ("Happy graduation Abdulla!"); Latin American titles ("Lic. Vargas"); order, id and plate cues and
#   shapes of more countries (Mongolian, Georgian, Armenian orders, NRC, DPI, HK/Macau ids, Bolivian, Swiss and
#   Macedonian plates); traditional-character roles ("客戶", "來電人"); the Georgian "name" label
# 2026-12-15f: an allow-listed catalog term that is a town after a preposition of motion or position stays masked
#   ("entrega em Nampula"); Costa Rican directions with the distances first ("200 metros sur y 50 este de la plaza")
# 2026-12-15g: the same after a postcode ("71000 Sarajevo"); Albanian "në"/"nga" before a city; Hungarian birth
#   dates ("szül. 1985. 04. 17."); greetings of more languages before a name ("Χρόνια πολλά Νίκο!"); a Cyrillic
#   initial and name ("Б.Сарнай")


class PolicyError(AnonymizeUserError, ValueError):
    """The policy names an unknown operator or entity type, or a threshold outside 0..1."""


@dataclass(frozen=True)
class Policy:
    operator: str = "placeholder"  # typed placeholders keep the text readable for an LLM and leak nothing
    threshold: float = 0.5  # Presidio's customary cut-off; recognizers score weak evidence below it
    thresholds: tuple[tuple[str, float], ...] = (
        # A date that is not a birth date (an order, delivery or sale day) identifies no one: DATE_TIME findings
        # (at most 0.9) are kept only when an admin lowers this; birth dates are DATE_OF_BIRTH, masked as usual.
        ("DATE_TIME", 0.95),
        ("LOCATION", 0.55),  # spaCy tags product words as places now and then
    )
    operators: tuple[tuple[str, str], ...] = ()  # per-entity overrides, e.g. (("POSTCODE", "generalize"),)
    entities: tuple[str, ...] = ENTITY_TYPES  # everything we can find; narrowing it is a deliberate choice
    version: str = POLICY_VERSION  # written to the audit log with each request

    def __post_init__(self) -> None:
        for op in (self.operator, *(o for _, o in self.operators)):
            if op not in OPERATORS:
                raise PolicyError(f"unknown anonymization operator {op!r}; expected one of {', '.join(OPERATORS)}")
        for entity in (*self.entities, *(e for e, _ in self.thresholds), *(e for e, _ in self.operators)):
            if entity not in ENTITY_TYPES:
                raise PolicyError(f"unknown entity type {entity!r}; expected one of {', '.join(ENTITY_TYPES)}")
        for value in (self.threshold, *(t for _, t in self.thresholds)):
            if not 0.0 <= value <= 1.0:
                raise PolicyError(f"score threshold {value} is outside 0..1")

    def threshold_for(self, entity_type: str) -> float:
        return dict(self.thresholds).get(entity_type, self.threshold)

    def operator_for(self, entity_type: str) -> str:
        return dict(self.operators).get(entity_type, self.operator)
