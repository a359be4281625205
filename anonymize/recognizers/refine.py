"""Span refinement for the statistical NER layers (the learned detector and spaCy): cut what is not personal data
off the edges of a predicted span, and split a span at words that are never part of a name or an address.

Why: a token classifier trained on synthetic text (and spaCy's small English model on non-English retail text)
predicts spans that run over greetings, sign-offs, form labels and function words ("Guten Tag", "suis Chloé
Marchand", "Saxon Moritz\\nGeburtsdatum", "Bestellung 3401878"): characters masked for nothing, and spans too long to
match a catalog allow-list entry. This is the usual post-processing of NER output (boundary trimming by stop-word
lists; cf. Presidio's `AnalyzerEngine` context/allow-list post-processing) with a multilingual stop list written
for retail text in English, German, French, Spanish, Italian, Portuguese, Dutch and Polish.

Rules (measured on the development data only, see docs/BENCHMARKS.md "Precision at the source"):
- PERSON / LOCATION: split at a line break, a stop word, a word with a digit, a stray symbol, a comma, and (in
  normally cased text, unless the whole span is lower case) a lower-case word that is not a name particle ("van",
  "de", "da"...) or, in a place, a connector ("nad", "am", "sur"); particles may stay inside a name, and
  "van"/"von"-style ones at its start; a leading "@" (a handle) and trailing punctuation are dropped.
- STREET_ADDRESS: split at form labels ("Konto", "Bestellung", "Tel."), then drop stop words at the edges.
- POSTCODE / PHONE_NUMBER / ID_DOCUMENT: drop edge words (no digit; lower-case or a stop word); a value that is a
  calendar date, the tail of a product code ("SKU-BD0928") or a toll-free/premium number (libphonenumber) is dropped.
- PERSON / LOCATION inside a hyphenated retail word ("LOYALTY SIGN-UP", "Drive-off") are dropped (`is_compound_word`).
- Every type: cut at a label's colon (the label is dropped: "お名前：高橋 健太"; for names and places also "Kund: ")
  and at a sentence end ("。", "！", "?", "!").
- In normally cased text (docs/BENCHMARKS.md "Precision at egress by kind"): lower-case multi-word names need a line
  or field start, a colon or a cue word before them, lower-case places a number after them; a capitalised word
  opening a chat turn (after a speaker of up to three capitalised words, not after a name field) before a comma,
  "!" or "." ("Agent: Sure, ...") is an interjection unless it is a listed name, and so is a place before "!" or
  before a comma and lower-case prose ("Elin: Klart!") unless it is a listed city; a street address loses a trailing
  run of lower-case prose, and is dropped when it holds an IP address or is a date without a birth cue.
- In scripts without letter case (Hangul, kana and kanji, Thai), where no capital marks a name: a name or place
  ending in a Korean or Japanese predicate ("-니다", "-요", "-ます", "-です") is a sentence and goes; so does a name of
  three Korean words or more, one Hangul syllable alone, a run of eight kanji/kana, four Thai words or a Thai polite
  particle, an honorific alone ("様"), and a Chinese or Japanese street span with no address character and no Latin
  word. CJK and Arabic commas and question marks ("、", "，", "،", "؟") split names and places like "," does.
- A name's initials before or after it join its span (`with_initials`, in the engine: "W. M. Dilani Perera").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

from anonymize.findings import Finding, gaps
from anonymize.recognizers.address import SUFFIXES as STREET_SUFFIXES
from anonymize.recognizers.contact import business_number
from anonymize.recognizers.cue_words import BIRTH_CUES, MONTHS
from anonymize.recognizers.holidays import HOLIDAY_TYPES, holiday_spans
from anonymize.recognizers.name_lists import FIRST_NAMES, SURNAMES
from anonymize.recognizers.places import CITIES
from anonymize.recognizers.streets_world import FUSED_TYPES, PREFIX_TYPES, SUFFIX_TYPES, UNITS_AFTER
from anonymize.recognizers.words import is_letters, is_word_char


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Form labels (the given-name and family-name fields of many languages among them), identifier words, contact words
# and birth-date labels: never a name, and an address span stops at them.
LABEL_WORDS = _words("""
name names naam nom nombre nome nazwisko imię vorname nachname surname firstname lastname fullname
email e-mail mail correo courriel tel tel. telefon telefone telephone téléphone teléfono telefono phone mobile
mobil mobiel handy cell celular móvil portable cellulare kontakt contact contacto contatto
address adresse adres anschrift dirección direccion indirizzo morada endereço endereco adresa
dob geb geb. geburtsdatum geboren birth birthday naissance nacimiento nascita nascimento urodzenia geboortedatum
born né née né(e) nacido nacida nato nata nascido nascida urodzony urodzona
date datum fecha data
order orders ordernummer bestellung bestellnummer bestelling bestelnummer commande pedido ordine encomenda
ligação ligacao chamada samtal oproep telefonata puhelu hovor звонок
zamówienie zamowienie objednávka invoice rechnung facture factura fattura fatura receipt quittung ref ref.
reference referenz référence referencia riferimento tracking sendung colis paquete pacco parcel
account konto compte cuenta conto rekening konta customer kunde kundin kunden kundennummer kundennr kd kd.-nr
client cliente klant klantnummer clientnummer
card karte carte tarjeta carta cartão kaart karta karten karten-nr kundenkarte gutschein voucher coupon cadeaukaart
iban bic swift sku sku-nr art.-nr artikel artikelnummer item nr nr. no no. nº n° num number nummer numéro número
numero numer id
passport passeport pasaporte passaporto reisepass paspoort paszport ausweis personalausweis dni nie nif nie
licence license führerschein permis
plate kennzeichen immatriculation matrícula matricula targa kenteken reg registration
kommentar komentarz comment commentaire comentario commento opmerking comments note notes betreff subject objet
asunto oggetto onderwerp reason grund motif motivo reden powód anruf call rappel llamada chiamata anmeldung login
registration inscription registro versand shipping livraison entrega envío consegna spedizione verzending wysyłka
verpackung packaging emballage embalaje imballaggio ersatz replacement remplacement reemplazo sostituzione betrug
fraud fraude frode pièce identité rücksendung retoure refund erstattung remboursement reembolso rimborso reembolso
agent agente atendente caller klient advisor berater beraterin mitarbeiter operator conseiller conseillère
cs seller staff admin
operador operatore medewerker konsultant support service
empfänger destinataire destinatario destinatário ontvanger odbiorca mottagare modtager mottaker vastaanottaja
příjemce príjemca alıcı получатель отримувач παραλήπτης penerima recipient
kund asiakas zákazník zakaznik müşteri musteri клиент клієнт πελάτης pelanggan khách
navn namn nimi jméno meno imię имя фио ім'я όνομα ονοματεπώνυμο nama tên
owner eigentümer inhaber propriétaire propietario proprietario eigenaar właściciel ägare eier omistaja majitel
владелец власник
adress osoite adresa adresiniz адрес адреса διεύθυνση alamat
telefonnummer puhelin телефон τηλέφωνο
kollege kollegin collega collègue colega ansprechpartner referente contatto interlocutor irtibat
attn fao z.hd. c/o
gstin siret siren ust-idnr ust-id vat btw btw-nr nip regon krs cpf cnpj rfc curp nit cuit ruc kvk abn acn po#
jmbg emšo emso oib egn cnp pesel amka αμκα αφμ kennitala henkilötunnus hetu isikukood bsn cnh cuil dui umid sss
philhealth nric mykad ktp npwp cnic aadhaar hkid tfn ird ssn itin nino ppsn ahv svnr tckn iqama bvn rrn
bestell-nr auftrags-nr rechnungs-nr kunden-nr
aadress adresas adrese vardas pavardė vārds uzvārds telefons tālrunis piegāde gyvenu uz
prawo jazdy rijbewijs patente carnet postal postcode zip zipcode plz cep código codigo индекс
氏名 お名前 名前 住所 ご住所 電話 電話番号 收件人 地址 电话 邮编 姓名 이름 주소 전화 연락처 받는분 받는사람
担当 担当者 お客様 고객 상담원 담당 담당자 客服 顾客
prénom prenom apellido apellidos cognome sobrenome apelido voornaam achternaam förnamn efternamn fornavn etternavn
efternavn etunimi sukunimi příjmení priezvisko vezetéknév keresztnév utónév prenume nume ime prezime priimek
soyadı soyadi soyad adı фамилия отчество прізвище επώνυμο rufname
faktura faktúra factuur számla lasku fakturanummer rechnungsnr rechnungsnummer bestellnr bestilling beställning
tilaus sipariş siparis kart klienta obsługi contas cuentas заказ замовлення παραγγελία pesanan narudžba
narudžbina comanda rendelés
seriennr serial
bday b-day doğum születési syntymäaika fødselsdato födelsedatum рождения 生年月日 생일 생년월일
우편번호 郵便番号 eircode 주민등록번호 주민번호 تاريخ الميلاد الرقم القومي rewards clubcard payback
""")
# Function words (pronouns, articles, prepositions, "good" of "Dobar dan") of languages other than English: part of
# STOP_WORDS, and a sign that the lower-case word right after them is a word of that language, not a name (names.py;
# greetings and thanks are left out: "hallo ben", "merci dan" address a person).
OTHER_LANGUAGE_WORDS = _words("""
dobar dobry dobrý dobrá dobré
ich du er sie es wir ihr mein meine meinen meiner dein ihre ihren unser und oder aber mit von vom zum zur
seit nach bei aus für auf an am im in ist sind war habe hat haben wurde noch nicht kein keine schon auch nur
je tu il elle nous vous ils elles mon ma mes ton ta votre vos notre nos et ou mais avec pour sur dans chez
est sont était ai a suis sommes un une des du au aux ce cette ces qui que
yo tú él ella nosotros ellos mi mis tu tus sus nuestro y o pero con para por sobre en es fue soy
estoy un una unos unas el los las al lo que
io lui lei noi voi loro mio mia miei mie tuo tua suo sua nostro e o con per nel nella è sono era ho
un una uno il lo gli le che
eu ele ela nós eles meu minha meus minhas seu sua nosso e ou mas com para por em no na é são foi tenho tem um uma
os as que
ik jij hij zij wij jullie mijn jouw zijn haar ons onze en of maar met voor op in bij uit is zijn was heb heeft een
het dat die
ja ty on ona my wy mój moja i lub ale z dla na w jest są był mam
jeg jag ikke inte och eller også också är
""")
# Stop words: labels, the words above, English greetings, thanks and sign-offs, weekdays and function words that
# spaCy or the detector tag as names ("Danke", "Salve", "Goedemiddag"; hellos that open a chat turn: "Kunde:
# Grüezi,", "Client: Moien,", "Customer: Howzit,"), wishes and thanks of more languages ("Grattis", "Auguri",
# "Mulțumesc"), month names and weekday abbreviations, German letter salutations and signature departments ("Damen
# und Herren", "Einkauf", "Manager"), job titles and departments of signatures in more languages ("Gerente",
# "Responsable", "Projectmanager", "Sales"), replies of agreement ("Perfecto", "Akkoord", "Oczywiście"), "call me"
# and "write to me" verbs before a number ("Chiamarlo al 333 ...", "Escríbeme al 622 ..."), and German
# retail nouns, which German writes capitalised ("Lieferung", "Gutschrift").
# Words that are also common given names ("will", "rose", "may", "june", "grace", "julio", "abril", "mai", "natale",
# "noël", "juli") and words that are also surnames or places ("asante", "feliz", "natal", "salam", "sana", "march",
# "ware", "dobra", "bravo") are deliberately absent.
STOP_WORDS = LABEL_WORDS | OTHER_LANGUAGE_WORDS | _words("""
hi hello hey dear hiya thanks thank thx cheers regards best kind kindly sincerely yours please pls sorry
good morning afternoon evening team all everyone folks guys sir madam howzit howdy heya g'day gday
hallo guten tag morgen abend liebe lieber sehr geehrte geehrter danke vielen dank viele grüße gruß grüsse gruss
freundliche freundlichen mfg lg bitte
bonjour bonsoir salut coucou merci cordialement bien madame monsieur mademoiselle bonne journée
hola buenos buenas días dias tardes noches gracias saludos atentamente estimado estimada señor señora
ciao salve buongiorno buonasera grazie saluti cordiali distinti gentile gentili
olá ola bom boa dia tarde obrigado obrigada cumprimentos atenciosamente prezado prezada
goedemiddag goedemorgen goedenavond hoi beste groet groeten groetjes bedankt dank vriendelijke
dzień dobry cześć dziękuję pozdrawiam
grüezi gruezi grüessech servus moin moien tere terve moi hei heippa hejsan tjena hallå
halló halo ahoj szia sziasztok zdravo merhaba namaste namaskar jambo
sawubona aloha labas sveiki
hej tack hälsningar god dag hilsen mvh venlig vennlig liefs alles gute
tag tage tagen woche wochen monat monaten stunde stunden minuten
lieferung zustellung lieferadresse rechnungsadresse gutschrift rückzahlung zahlung überweisung namen paket
päckchen lager zentrallager kundendienst kundenservice garantie reklamation umtausch qualität größe farbe lieferzeit
happy merry congratulations congrats christmas xmas birthday anniversary felices navidad cumpleaños
felicidades felicitaciones enhorabuena parabéns aniversário auguri buon buona compleanno
joyeux joyeuse anniversaire félicitations frohe frohes fröhliche weihnachten geburtstag glückwunsch
herzlichen gefeliciteerd fijne kerst verjaardag wesołych świąt urodziny gratulacje grattis god jul tillykke
gratulerer onnea hyvää joulua kiitos takk tusen mulțumesc multumesc mulțumim děkuji díky dekuji hvala köszönöm
teşekkürler teşekkür ederim tebrikler habari selamat terima kasih cảm ơn chúc mừng buziaki
ευχαριστώ χρόνια πολλά спасибо благодарю дякую поздравляю
здравствуйте привет добрый добрая доброе добрий вітаю день вечер утро
السلام عليكم وعليكم مرحبا أهلا شكرا شكراً رقم رقمي منتج المنتج طلب الطلب طلبي العنوان عنوان الهوية رائع ممتاز ممتازة
أنا انا ما هو هي في من إلى على هذا هذه
שלום תודה מוצר המוצר מעולה ממליצה ממליץ הזמנה ההזמנה משלוח המשלוח כתובת אני של את עם על זה
sí oui non nein nee não nie ano evet hayır да нет ναι όχι γεια uh um hmm dạ vâng ạ iya dziękujemy
january february september october november december gennaio febbraio marzo aprile maggio giugno luglio
settembre ottobre novembre dicembre enero febrero septiembre octubre noviembre diciembre januar februar märz
oktober dezember janvier février mars juin juillet août septembre octobre décembre
monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag samstag
sonntag lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes miércoles jueves viernes sábado domingo
lunedì martedì mercoledì giovedì venerdì sabato domenica maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
today tomorrow yesterday heute morgen gestern aujourd'hui demain hier hoy mañana ayer oggi domani ieri hoje amanhã
ontem vandaag morgen gisteren
the a an and or but of to in on at for with from by via my your our his her their its this that these those is
are was were be been it i me we you she they them us what who how why when where which could would should can
shall must did does not no yes ok okay
up wie was wo wann warum como qué quand pourquoi perché quando waarom
mon tues wed weds thur thurs fri sat mo-fr mo-sa
grüßen grüssen damen herren hochachtungsvoll interne intern internal info
auntie aunty aunt uncle grandma grandad granddad grandpa granny omi oma opa mama abuela abuelo avó avô vovó
nonna nonno tante onkel oncle tía tío deine deinen deiner eure euer familie famille familia nafn sími vh iade talebi
einkauf verkauf vertrieb buchhaltung logistik purchasing procurement accounting manager
sales marketing accounts finance finanzen logistics logistique logística logistica responsable gerente directeur
directrice director directora diretor diretora projectmanager projektmanager projektleiter projektleiterin
geschäftsführer geschäftsführerin teamleiter teamleiterin abteilungsleiter ceo cfo coo cto assistant assistente
asistente assistent assistentin secretary sekretariat secrétaire department departamento abteilung afdeling dział
oddělení osasto avdelning compras ventas vendas achats inkoop verkoop acquisti vendite
perfecto perfeito perfetto parfait akkoord oczywiście claro certo genau natürlich naturalmente listo pronto
entendido d'accord c'est rechazado aprobado approved declined cancelled canceled
chiamami chiamarlo chiamarla chiamatemi scrivimi scrivetemi llámame llamame llámeme escríbeme escribeme escríbame
ligue liga-me ruf rufen appelez appelle-moi belt bellen zadzwoń napisz
newsletter operátor operátorka operatorka operatorin mitarbeiterin kundtjänst kundservice kundeservice
asiakaspalvelu klantenservice podpora konsultantka soporte atención assistenza obsługa vásárló ügyfél ügyfélszolgálat
υπάλληλος υπάλληλη оператор консультант менеджер покупатель נציג נציגה הנציג לקוח הלקוח الموظف الموظفة العميل
您好 你好 היי לא כן
temsilci müşteri ma'am maam madam nachbar nachbarn nachbarin gott griaß grüß grüss servus moin
services care servizio clienti recibe recibió recibirá receiver receptor kargo
kontoinhaber kontoinhaberin terveisin fahrer fahrerin destinatar destinatara saņēmējs saņēmēja annem babam vaimo livrare
dostawa rut dátum narodenia hanım hanim bey empfängerin prijemca címzett zusteller kurier kurir courier abholer
besteller auftraggeber titular intestatario rekeninghouder kontohavare kontoinnehaver tilinomistaja posiadacz majiteľ
""")
# Words that start place names ("New York", "San Diego", "Bad Ems") but are no name alone: a span of only these goes.
SOLO_STOP = _words("new neu san santa santo são saint st st. port fort mount lake north south east west upper lower "
                   "great little old bad")
# Name particles: lower-case words that belong inside a name ("Ruud de Vries", "Ludwig van Beethoven", Catalan
# "Casanova i Puig").
PARTICLES = _words("""
van von vom der den de del della dei degli di da das dos do du des la le lo ten ter zu zum y e i bin ibn al el af av
d' l' 't van't ap ab ferch verch binti bint
""")
PLACE_CONNECTORS = PARTICLES | _words("nad pod am an im bei ob upon on sur sous lès les en los las i y a o")
LEADING_PARTICLES = _words("van von vom ten ter zu van't")  # a name may start with these ("van der Berg")
# Calls, messages and parcels "from" someone: after them "von"/"van" is the preposition, not a name's particle.
_FROM_NOUN_BEFORE = re.compile(r"(?i)(?<![^\W\d_])(?:anruf|rückruf|nachricht|mail|e-mail|email|brief|paket|päckchen|"
                               r"grüße|grüsse|gruß|anfrage|bericht|oproep|pakket|cadeau|geschenk)\s+$")
GENERIC = ("PERSON", "LOCATION")
ID_LIKE = ("POSTCODE", "PHONE_NUMBER", "ID_DOCUMENT", "LICENSE_PLATE", "ORDER_NUMBER", "GIFT_CARD", "LOYALTY_ID")
TITLE_WORDS = _words("mr mrs ms miss mx dr prof herr frau m mme mlle sr sra srta sig sig.ra dhr mevr pan pani "
                     "dona ibu bapak puan encik cik sayın spett.le spettabile gent.mo gent.ma egr. egregio")
_TOKEN = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’«»()[]{}<>|*•·:;,.!?¿¡/"
_PRODUCT_CODE = re.compile(r"(?i)\b(?:sku|art|ean|upc|gtin|mpn|item|model|ref)[-#: .]*$")
_SEPARATORS = re.compile(r"\s*(?:[：。！？]|[!?](?=\s|$))\s*")  # label colons and sentence ends (see refine)
# names and places: also "Label: ", the commas and question marks of CJK and Arabic script, and brackets
# ("엄마(김순자)"), which no name holds
_NAME_SEPARATORS = re.compile(r"\s*(?:[：。！？、，،؛؟()（）]|[!?](?=\s|$)|:(?=\s))\s*")
_LISTED_NAMES = FIRST_NAMES | SURNAMES
_FIELD_ENDS = (":", "：", "|", "/", "(", "-", "–")  # what ends a label or a field before a value
_IP = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)"
                 r"|(?<![\w:])(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}(?![\w:])", re.IGNORECASE)
# German and Dutch nouns by their endings, written capitalised and often compounded ("Rückmeldung", "Garantieantrag",
# "Retourformulier", "Seriennummer"), and German product compounds by their head noun ("Kaffeemaschine",
# "Handcreme", "Laufschuhe"): nine letters or more, so surnames such as "Hartung" or "Jung" stay names. Not
# "-station": "Packstation 105" is a German delivery address.
_GERMANIC_NOUN = re.compile(r"(?=[^\W\d_]{9,}$)[^\W\d_]{4,}"
                            r"(?:ungen|ung|heit|keit|schaft|formular|formulier|antrag|protokoll|nummer"
                            r"|maschine|maschinen|creme|cremes|schuhe|sauger|probleme|wäsche|jacke"
                            r"|tasche|taschen|lampe|flasche|geräte|gerät|artikel|produkte|produkt)")
_BARE_NUMBER = re.compile(r"\d{1,3}|\d{1,2}[/.]\d{1,2}")
# Words that mark an address line: the thoroughfare types of streets_world and address.py (USPS / Royal Mail), plus
# the building, unit and locality words of addresses written without a street type ("house 17", "gali no. 6",
# "kv. 84", "lote 3", "rt 02/rw 05")
# (a word listed without its full stop matches with one too: "apt" and "apt."; "no.", "et.", "d." only with it)
_ADDRESS_WORDS = frozenset(w.lower() for w in (*PREFIX_TYPES, *SUFFIX_TYPES, *STREET_SUFFIXES)) | _words("""
house flat apt apartment unit suite floor fl. building bldg block blk room box pobox nr nº n° no.
sector colony nagar marg gali chowk mohalla village km lote quadra manzana mz casa piso bloco andar dpto depto
kv d. bl. sc. ap. et. etaj rt rw desa kelurahan kecamatan dusun barangay purok sitio soi moo thon xã phường quận
huyện ấp ngõ ngách bis ter quater huisnummer hausnummer numéro número numero
apto appt app. bât étage escalier esc. interno int. scala piano wohnung whg stock og eg hinterhaus
vorderhaus lgh lägenhet leil leilighet mieszkanie lok lokal kat daire blok mahalle mah cad sk
""")
_DATE = re.compile(r"(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})")


def _core(token: str) -> str:
    """The word without edge punctuation and a possessive ("Dave's," -> "Dave")."""
    word = token.strip(_EDGE_PUNCT)
    if word.lower().endswith(("'s", "’s")) and len(word) > 3:
        word = word[:-2]
    return word


def _stop(word: str) -> bool:
    word = word.replace("İ", "I")  # Turkish dotted capital: "İade".lower() is "i̇ade" with a combining dot
    low = word.lower().rstrip(".")
    return (low in STOP_WORDS or word.lower() in STOP_WORDS or low in TITLE_WORDS
            or _GERMANIC_NOUN.fullmatch(low) is not None)


def is_stop_word(word: str) -> bool:
    """A stop word, label, title, name particle or "I'm": never a name on its own (the allow-list's leftovers
    test, the cue rules' name words)."""
    return (_stop(word) or word.lower() in PARTICLES or word.lower() in PLACE_CONNECTORS
            or word.lower().replace("’", "'").rstrip(",.!?") in _CONTRACTIONS)


def refine(text: str, findings: Iterable[Finding], single_case: bool = False) -> list[Finding]:
    """The NER `findings` of `text` with their edges trimmed and split as the module docstring says.
    `single_case`: the text is all upper or all lower case (letter case carries no signal then)."""
    out: list[Finding] = []
    for f in (piece for found in findings for piece in _split_at_separators(text, found)):
        if f.entity_type in GENERIC:
            out += [kept for piece in _split_name(text, f, single_case)
                    if single_case or not _unsupported_piece(text, piece)
                    for kept in _caseless_piece(text, piece)]
        elif f.entity_type == "STREET_ADDRESS":
            out += [piece for a in _split_address(text, f) for piece in _plausible_address(text, a, single_case)]
        elif f.entity_type in ID_LIKE:
            out += _trim_id(text, f)
        else:
            out.append(f)
    return out


def _split_at_separators(text: str, f: Finding) -> list[Finding]:
    """`f` cut at what no name, place, address or id runs across: a label's colon ("お名前：高橋 健太",
    "電話：092-...", and for names and places "Kund: Kalle"; a street's "No:118" keeps its colon), and a sentence
    end ("。", "！", "？", and "!"/"?" before a space: "注文したのに...です。"). The label before a colon is dropped
    with it: only the pieces after the first colon, and pieces between sentence ends, are kept."""
    value = text[f.start:f.end]
    separators = _NAME_SEPARATORS if f.entity_type in GENERIC else _SEPARATORS
    if not separators.search(value):
        return [f]
    out, cursor = [], f.start
    for m in separators.finditer(value):
        label = ":" in m.group() or "：" in m.group()
        if not label and m.start() > 0:
            out.append(Finding(f.entity_type, cursor, f.start + m.start(), f.score, f.recognizer))
        cursor = f.start + m.end()
    out.append(Finding(f.entity_type, cursor, f.end, f.score, f.recognizer))
    return [piece for piece in out if text[piece.start:piece.end].strip()]


def _tokens(text: str, f: Finding) -> list[tuple[int, int, str]]:
    return [(f.start + m.start(), f.start + m.end(), m.group()) for m in _TOKEN.finditer(text[f.start:f.end])]


def _name_word(word: str, entity: str) -> str:
    """"name", "particle", "connector" (inside a place name: "Hrádek nad Nisou"), "lower" (a lower-case word) or
    "" (never part of a name) for one token's core."""
    if not word or not any(ch.isalpha() for ch in word) or any(ch.isdigit() for ch in word):
        return ""
    low = word.lower()
    if low in PARTICLES:
        return "particle" if word[0].islower() else "name"  # "La Orotava", "Van": a capitalised particle leads
    if entity == "LOCATION" and low in PLACE_CONNECTORS:
        return "connector" if word[0].islower() else "name"  # "Los Realejos", "Im Tal": a capitalised article leads
    if _stop(word):
        return ""
    return "lower" if word[0].islower() else "name"


def _split_name(text: str, f: Finding, single_case: bool) -> list[Finding]:
    tokens = []
    previous_end = f.start
    for start, end, token in _tokens(text, f):
        word = _core(token.lstrip("@"))
        elided = token[:1] in "'’" and token.lower().replace("’", "'") in PARTICLES  # "'t" of "van 't Hof"
        kind = "particle" if elided else _name_word(word, f.entity_type)
        newline = "\n" in text[previous_end:start]
        previous_end = end
        closing = token.rstrip("\"'”’)]»")
        ends = closing[-1:] in ",;:|!?" or (closing.endswith(".") and len(word) > 2)  # "Marchand, née"
        if f.entity_type == "LOCATION" and _place_abbreviation(text, end, word):
            kind, ends = "name", False  # "As" of "Bs. As." (Buenos Aires) is no English "as", "Sta." no sentence end
        tokens.append((start, end, kind, newline, ends))
    if f.entity_type == "PERSON":
        tokens = _capitalised_stop_words_inside(text, tokens)
    # In normally cased text a lower-case word ends a name, unless the whole span is in lower case ("taylor foley":
    # two words at least, one lower-case word is too often an ordinary one).
    lower_ok = single_case or (not any(k == "name" for _, _, k, _, _ in tokens)
                               and sum(k == "lower" for _, _, k, _, _ in tokens) >= 2)
    pieces: list[list[tuple[int, int, str]]] = [[]]
    for start, end, kind, newline, ends in tokens:
        if newline and pieces[-1]:
            pieces.append([])
        if kind == "lower":
            kind = "name" if lower_ok else ""
        if not kind:
            pieces.append([])
            continue
        pieces[-1].append((start, end, kind))
        if ends:
            pieces.append([])
    out = []
    for piece in pieces:
        while piece and piece[-1][2] in ("particle", "connector"):
            piece.pop()
        while piece and (piece[0][2] == "connector" or (piece[0][2] == "particle" and (
                _core(text[piece[0][0]:piece[0][1]]).lower() not in LEADING_PARTICLES
                or _FROM_NOUN_BEFORE.search(text[max(0, piece[0][0] - 24):piece[0][0]])))):
            piece.pop(0)  # "de" of "Appel de", "von" of "Anruf von Garin Kraus" (from), not of "van der Berg"
        names = [_core(text[a:b]).lower() for a, b, kind in piece if kind == "name"]
        if not names or all(n in SOLO_STOP or n in PLACE_CONNECTORS for n in names):  # (connectors hold particles)
            continue  # nothing but "New", "El", "De", "Los"
        start, end = _strip_edges(text, piece[0][0], piece[-1][1])
        if f.entity_type == "LOCATION" and end > start and text[end:end + 1] == "." and _place_abbreviation(
                text, end, _core(text[piece[-1][0]:end])):
            end += 1  # the abbreviation's full stop is part of it: "Oax.", "Bs. As.", "Cba."
        if end > start:
            out.append(Finding(f.entity_type, start, end, f.score, f.recognizer))
    return out


def _place_abbreviation(text: str, end: int, word: str) -> bool:
    """`word` is a capitalised word of two or three letters whose token ends at `end` with a full stop, or that a
    full stop follows there: the abbreviation of a region or province ("Oax.", "Jal.", "Bs. As.", "Cba.", "Co.
    Cork"), whose full stop belongs to the name (without it, three of the four characters of "Oax." are masked)."""
    return (2 <= len(word) <= 3 and word.isalpha() and word[0].isupper() and word[1:].islower()
            and "." in text[end - 1:end + 1])


def _capitalised_stop_words_inside(text: str, tokens: list[tuple[int, int, str, bool, bool]]
                                   ) -> list[tuple[int, int, str, bool, bool]]:
    """A capitalised stop word between two name words of one line stays in the name: "Ayşe Nur Demirtaş", "Mehmet
    Can Öztürk", "Luca Da Silva" (German "nur", English "can" are stop words, but a capitalised one inside a name is
    a given name or a particle). Form labels still split ("Anna Tel Brandt" is no name), and so does a stop word
    after a word that ends with punctuation."""
    out = list(tokens)
    for i in range(1, len(tokens) - 1):
        start, end, kind, newline, ends = tokens[i]
        word = _core(text[start:end])
        before, after = out[i - 1], tokens[i + 1]
        if (kind == "" and word[:1].isupper() and word[1:].islower() and word.lower() not in LABEL_WORDS
                and word.lower().rstrip(".") not in TITLE_WORDS and before[2] == "name" and not before[4]
                and after[2] == "name" and not newline and not after[3]):
            out[i] = (start, end, "name", newline, ends)
    return out


# A surname joined by the particle of compound surnames and patronymics: Catalan "i", Spanish "y", Portuguese "e",
# Welsh "ap"/"ab"/"ferch", Arabic and Malay "bin"/"binti" ("Alba Casanova i Puig", "Rhys ap Gruffydd").
_NAME_JOIN = re.compile(r"[ \u00a0](?:i|y|e|ap|ab|ferch|verch|bin|ibn|binti|bint)[ \u00a0]"
                        r"([A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_'’-]+(?:[-'’][^\W\d_]+)*)")
_BRIDGE = re.compile(r"[ \u00a0]([^\W\d_][^\W\d_'’-]{0,13})[ \u00a0]")  # one word between two names, one line


# What joins the parts of a hyphenated place name: a hyphen, or a connector between hyphens ("Marche-en-Famenne",
# "Stratford-upon-Avon", "Saint-Jean-de-Luz", "Frankfurt-am-Main" when the NER split it).
_HYPHENATED_PLACE = re.compile(r"[-‐](?:(?:en|sur|sous|lès|lez|le|la|les|de|du|des|aux|au|am|an|im|ob|upon|on|in|"
                               r"under|by|the|op|aan|bij|del|di|da|do|dos|das)[-‐])?")
_SLASH_PLACE = re.compile(r"/([^\W\d_][^\W\d_'’-]{1,24})(?![\w/])")  # "/İstanbul" right after a place
# The rest of a hyphenated place the NER cut at its connector: "Aix" + "-en-Provence", "Stratford" + "-upon-Avon"
_PLACE_TAIL = re.compile(r"[-‐](?:en|sur|sous|lès|lez|aux|upon|on|am|an|im|ob|op|aan|bij)[-‐]"
                         r"(?:(?:le|la|les|de|du|des|the|der|den)[-‐])?[A-ZÀ-ÖØ-Þ][^\W\d_'’]*(?:[-‐][^\W\d_'’]+)*")


def bridge_names(text: str, findings: list[Finding]) -> list[Finding]:
    """`findings` plus one `PERSON` over each pair of `PERSON` findings that only a single capitalised word
    separates ("Mehmet" + "Can" + "Öztürk", where the NER left the middle name out), and one `LOCATION` over a place
    and the capitalised place written right after it with a slash ("Kadıköy/İstanbul"); overlap resolution then
    merges them; also one `LOCATION` over a place and the rest of a hyphenated town name cut at its connector
    ("Aix" + "-en-Provence"); and one `PERSON` over a name and the surname its particle joins ("Alba Casanova" +
    "i Puig", "Rhys" + "ap Gruffydd"). A form label or title between two names is no bridge ("Anna Tel Brandt")."""
    names = sorted((f for f in findings if f.entity_type == "PERSON"), key=lambda f: f.start)
    out = list(findings)
    for a, b in itertools.pairwise(names):
        gap = _BRIDGE.fullmatch(text, a.end, b.start)
        if gap is None:
            continue
        word = gap.group(1)
        if word[:1].isupper() and word[1:].islower() and word.lower() not in LABEL_WORDS and word.lower() not in \
                TITLE_WORDS:
            out.append(Finding("PERSON", a.start, b.end, min(a.score, b.score), a.recognizer))
    for f in names:  # "Casanova" + " i Puig", "Rhys" + " ap Gruffydd"
        join = _NAME_JOIN.match(text, f.end)
        if join is not None and not _stop(join.group(1)) and join.group(1).lower() not in LABEL_WORDS:
            out.append(Finding("PERSON", f.start, join.end(), f.score, f.recognizer))
    for f in findings:  # "Kadıköy/İstanbul", "Bornova/İZMİR": district/province, as Turkish and other forms write it
        nxt = _SLASH_PLACE.match(text, f.end) if f.entity_type == "LOCATION" else None
        if nxt is not None and nxt.group(1)[:1].isupper() and not _stop(nxt.group(1)):
            out.append(Finding("LOCATION", f.start, nxt.end(), f.score, f.recognizer))
    for f in findings:  # "Aix-en-Provence" where the NER found "Aix" alone
        tail = _PLACE_TAIL.match(text, f.end) if f.entity_type == "LOCATION" else None
        if tail is not None:
            out.append(Finding("LOCATION", f.start, tail.end(), f.score, f.recognizer))
    places = sorted((f for f in findings if f.entity_type == "LOCATION"), key=lambda f: f.start)
    for a, b in itertools.pairwise(places):  # "Marche" + "-en-" + "Famenne": one hyphenated town name
        if _HYPHENATED_PLACE.fullmatch(text, a.end, b.start):
            out.append(Finding("LOCATION", a.start, b.end, min(a.score, b.score), a.recognizer))
    return out


# Form fields a name or a recipient fills ("Name: Yalazalp."): not chat turns.
_NAME_FIELDS = _words("""
name names naam nom nombre nome nazwisko imię vorname nachname surname firstname lastname fullname rufname navn namn
nimi jméno meno имя фио ім'я όνομα ονοματεπώνυμο nama tên 氏名 お名前 名前 姓名 이름 prénom prenom apellido apellidos
cognome sobrenome apelido voornaam achternaam förnamn efternamn fornavn etternavn efternavn etunimi sukunimi příjmení
priezvisko vezetéknév keresztnév utónév prenume nume ime prezime priimek soyadı soyadi soyad adı фамилия отчество
прізвище επώνυμο empfänger destinataire destinatario destinatário ontvanger odbiorca mottagare modtager mottaker
vastaanottaja příjemce príjemca alıcı получатель отримувач παραλήπτης penerima recipient 收件人 받는분 받는사람 attn
""")
# A chat turn's speaker before its colon: a role or a name, up to three words, perhaps with a bracketed name ("Agent
# Kevin:", "Kundtjänst (Elin):"; not "Équipe du samedi :", a list's heading)
_TURN_LABEL = re.compile(r"[^\s:]{1,24}(?: [^\W\d_a-zß-ÿ][^\s:]{0,23}){0,2}(?: \([^)]{1,24}\))?\s*:")


def _unsupported_piece(text: str, f: Finding) -> bool:
    """In normally cased text, a name or place the NER left with nothing that marks it as one:
    - several words all in lower case: a place not followed by a number on its line ("new haven ct 06511" stays,
      "evet doğru", "falls niemand" go), a name not at the start of a line or a field ("|", "/", "-", "("), nor after
      a colon or a cue word such as a greeting, label or "is" ("my name is jamal okoro", "Viele Grüße, ursel pohl"
      stay; "Muy buen producto" goes);
    - one capitalised word opening a chat turn and followed by a comma, "!" or "." ("Agent: Sure, I have ...",
      "Medewerker: Vervelend! Mag ik ..."): an interjection, unless it is a listed first name or surname; a place
      only before "!" or before a comma and lower-case prose with no number on the line, unless a listed city."""
    value = text[f.start:f.end]
    line_start = text.rfind("\n", 0, f.start) + 1
    before = text[line_start:f.start].rstrip()
    if value.islower() and " " in value:
        if f.entity_type == "LOCATION":
            return re.match(r"[ \t,]*[^\s,]*\d", text[f.end:f.end + 16]) is None
        previous = _core(before.split()[-1]) if before.split() else ""
        return not (not before or before.endswith(_FIELD_ENDS) or (previous and _stop(previous)))
    if " " in value or not value[:1].isupper() or (value.isupper() and len(value) > 1):
        return False  # caseless scripts keep theirs: "고객: 강민지이고요," is a name answering
    turn = not before or _TURN_LABEL.fullmatch(before) is not None
    if not turn or _core(before.rstrip(":").split()[-1] if before else "x").lower() in _NAME_FIELDS:
        return False  # "Name: Yalazalp." is a form's field, not a chat turn
    if f.entity_type == "PERSON":
        return text[f.end:f.end + 1] in (",", "!", ".") and value.lower() not in _LISTED_NAMES
    # a place answers a question as often as a name does ("Kunde: Winterthur, Bahnhofstrasse 5", "Stjørdal."): only
    # "!", or a comma before a lower-case word with no number after it on its line ("Klient: Warszawa, ul. Długa 7"
    # is an address), marks an interjection ("Elin: Klart! Du får ett sms till 070-...", "Vásárló: Köszi, holnap ...")
    if f.entity_type != "LOCATION" or value.lower() in CITIES:
        return False
    line_end = text.find("\n", f.end)
    rest = text[f.end:line_end if line_end >= 0 else len(text)]
    return rest[:1] == "!" or (re.match(r",\s*[^\W\d_A-ZÀ-ÖØ-ÞΑ-ΩА-Я]", rest) is not None
                               and not any(ch.isdigit() for ch in rest))


# Scripts without letter case (Hangul, kana and kanji, Thai): no capital marks a name, so the NER also tags
# phrases there. A Korean or Japanese predicate ending (polite "-요", formal "-니다", "-ます", "-です", "-ません") ends
# a sentence, never a name or a place.
_PREDICATE_END = re.compile(r"(?:니다|니까|세요|어요|아요|해요|예요|에요|이요|네요|군요|나요|까요|"
                            r"ます|ました|ません|です|でした|ください|ございます)$")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{8,}")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_THAI_POLITE = re.compile(r"(?:ค่ะ|คะ|ครับ)(?=\s|$)")
_HONORIFICS = frozenset(["님", "씨", "고객님", "선생님", "드림", "様", "さん", "氏", "先生"])
# "it is ..." written onto a noun: "부산입니다", "서울이에요", "東京です"; the noun before it stays a name or place
_COPULA = re.compile(r"(?:입니다|이에요|예요|이요|です|でした)$")
_NOT_HIRAGANA_ONLY = re.compile(r"[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")


_CONTRACTIONS = frozenset(("i'm", "i've", "i'd", "i'll"))  # a capitalised "I" with its verb: never a name (not
# stop words: after a stop word a lower-case pair may be a name, "I'm just calling" is none)


def _caseless_piece(text: str, f: Finding) -> list[Finding]:
    """`f`, or nothing when it is a name or place in a script without letter case shaped like a phrase: it ends in a
    Korean or Japanese predicate ("안녕하세요", "입니다", "発送します"; a copula written onto one word is cut off
    instead: "부산입니다" keeps "부산", "東京です" keeps "東京", "そうです" goes); or, for a name, it has three Korean
    words or more (a Korean name has one or two: "박지훈", "남궁 민수"), is one Hangul syllable alone, holds a
    run of eight kanji or kana without a space (Japanese and Chinese names have two to six: "ポイントカード会員登録"
    is none), or has four Thai words or more or a Thai polite particle ("ค่ะ", "ครับ": a sentence; a Thai name
    is a given name and a surname)."""
    value = text[f.start:f.end].rstrip()
    core = value.rstrip(_EDGE_PUNCT + "~…")
    if _PREDICATE_END.search(core):
        copula = _COPULA.search(core)
        noun = core[:copula.start()] if copula else ""
        if noun and " " not in noun.strip() and len(noun.strip()) >= 2 and _NOT_HIRAGANA_ONLY.search(noun):
            return [Finding(f.entity_type, f.start, f.start + len(noun.rstrip()), f.score, f.recognizer)]
        return []
    if f.entity_type != "PERSON":
        return [f]
    words = [w for w in (token.strip(_EDGE_PUNCT) for token in value.split()) if w and w not in _HONORIFICS]
    if not words:
        return []  # an honorific alone ("様", "さん") names no one
    if core.lower().replace("’", "'") in _CONTRACTIONS:
        return []  # "Agent: I'm afraid not"
    hangul = [w for w in words if _HANGUL_WORD.fullmatch(w)]
    if len(hangul) >= 3 or (len(words) == 1 and len(hangul) == 1 and len(hangul[0]) == 1):
        return []
    if _CJK_RUN.search(value):
        return []
    if sum(1 for w in words if _THAI.search(w)) >= 4 or _THAI_POLITE.search(value) is not None:
        return []
    return [f]


# A word that spells out a letter on the phone: "w as in william", "W wie Wilhelm", "B comme Bernard".
_SPELLED_LETTER = re.compile(r"(?i)(?<![^\W\d_])[^\W\d_]\s+(?:as in|like in|wie|comme|como|come|zoals|jak)\s+$")


# A given name that is also a month ("June", "April", "August", "Mai"), read as the month next to a day of the month or
# after a preposition of time: "closed on June 24", "August 12th", "the 3rd of May", "until June"
_MONTHS_LOWER = frozenset(m.lower() for m in MONTHS)
_DAY_AFTER = re.compile(r"[ \t]?\d{1,2}(?:st|nd|rd|th|\.)?(?!\d)")
# ("by" is left out: "reviewed by June" names a person as often as "ready by June" a month)
_DAY_OR_TIME_BEFORE = re.compile(r"(?i)(?:\d{1,2}(?:st|nd|rd|th|\.)?(?:[ \t]+of)?|\b(?:in|since|until|till|before|"
                                 r"after|during|early|late|mid|end of|start of|beginning of|next|last|this)|-)[ \t]*$")


def is_month_in_date(text: str, start: int, end: int) -> bool:
    """`text[start:end]` is a month name written as part of a date or a time phrase, not a person of that name."""
    return text[start:end].lower() in _MONTHS_LOWER and (
        _DAY_AFTER.match(text, end) is not None
        or _DAY_OR_TIME_BEFORE.search(text, max(0, start - 16), start) is not None)


def without_holidays(text: str, finding: Finding,
                     holidays: Sequence[tuple[int, int]] | None = None) -> list[Finding]:
    """`finding` less the characters of the holiday names in it (`holidays`: `holiday_spans(text)`, computed here when
    not given); what is left stays when it still holds a word with a letter that is not a stop word
    (anonymize.recognizers.refine), from its first such word to its last."""
    if finding.entity_type not in HOLIDAY_TYPES:
        return [finding]
    found = holiday_spans(text) if holidays is None else holidays
    spans = [(s, e) for s, e in found if s < finding.end and finding.start < e]
    if not spans:
        return [finding]
    out = []
    for start, end in gaps(finding.start, finding.end, spans):
        words = [w for w in re.finditer(r"\w[\w'’–-]*", text[start:end]) if not is_stop_word(w.group())]
        if any(re.search(r"[^\W\d_]", w.group()) for w in words):  # the piece from its first to its last word that is
            # no stop word ("by Gareth Pryce" -> the name); hours alone are left of "påskafton 10–15" ("10–15")
            out.append(Finding(finding.entity_type, start + words[0].start(), start + words[-1].end(), finding.score,
                               finding.recognizer))
    return out


def is_spelling_word(text: str, f: Finding) -> bool:
    """A `PERSON` that spells out the single letter before it ("order w441902, w as in william"): a word of a
    spelling alphabet, no person; masking it also hides which letter was meant."""
    return f.entity_type == "PERSON" and _SPELLED_LETTER.search(text, max(0, f.start - 16), f.start) is not None


# Hyphenated words of retail English that a cased NER reads as a name or place ("LOYALTY SIGN-UP", "Drive-off at pump
# 4", "CHECK-IN"): the whole hyphenated token, lower-cased, is one of these.
COMPOUND_WORDS = _words("""
sign-up sign-in sign-out log-in log-out check-in check-out drop-off pick-up drive-off drive-thru drive-through
follow-up add-on top-up trade-in try-on walk-in roll-out set-up mix-up call-back cash-back kick-off carry-on
stand-by print-out pre-order re-order t-shirt e-mail e-mails x-ray co-op opt-in opt-out click-and-collect
""")
_HYPHEN_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
_LONGEST_COMPOUND = max(map(len, COMPOUND_WORDS))


def is_compound_word(text: str, f: Finding) -> bool:
    """A `PERSON` or `LOCATION` inside a hyphenated retail word of COMPOUND_WORDS ("SIGN" of "SIGN-UP")."""
    # a hyphen of the word holding the span lies inside the span or right next to it
    if f.entity_type not in ("PERSON", "LOCATION") or "-" not in text[max(0, f.start - 1):f.end + 1]:
        return False
    window = (max(0, f.start - _LONGEST_COMPOUND), min(len(text), f.end + _LONGEST_COMPOUND))
    for m in _HYPHEN_TOKEN.finditer(text, *window):
        if m.start() <= f.start and f.end <= m.end() and m.group().lower() in COMPOUND_WORDS:
            return True
    return False


def _strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start] in _EDGE_PUNCT or text[start] == "@"):
        start += 1
    while end > start and text[end - 1] in _EDGE_PUNCT:
        if text[end - 1] == "." and end - start <= 2:
            break  # an initial "J."
        end -= 1
    if text[start:end].lower().endswith(("'s", "’s")) and end - start > 3:
        end -= 2
    return start, end


def _leading_article(piece: list[tuple[int, int, str]]) -> bool:
    """A capitalised article or preposition opening a street name before a capitalised word: "Las Trojes 405",
    "Im Schaber 95", "Am Markt 3" (a lower-case one, "der Hauptstraße 12", is cut)."""
    word = piece[0][2]
    return len(piece) > 1 and word[:1].isupper() and word.lower() in PLACE_CONNECTORS and piece[1][2][:1].isupper()


def _split_address(text: str, f: Finding) -> list[Finding]:
    pieces: list[list[tuple[int, int, str]]] = [[]]
    for start, end, token in _tokens(text, f):
        core = _core(token)
        if core.lower() in LABEL_WORDS or core.lower().rstrip(".") in LABEL_WORDS:
            pieces.append([])
        else:
            pieces[-1].append((start, end, core))
    out = []
    for piece in pieces:
        while piece and piece[0][2] != "Via" and not _leading_article(piece) and (
                _stop(piece[0][2]) or not piece[0][2] or piece[0][2] in PARTICLES):
            piece.pop(0)  # "der Hauptstraße 12"; a capitalised "La" / "El" may start a street name, "Via" (Italian)
        while piece and (_stop(piece[-1][2]) or not piece[-1][2]):
            piece.pop()
        if piece:
            start, end = _strip_edges(text, piece[0][0], piece[-1][1])
            if end > start:
                out.append(Finding(f.entity_type, start, end, f.score, f.recognizer))
    return out


def _plausible_address(text: str, f: Finding, single_case: bool) -> list[Finding]:
    """A street-address span less what no address holds: nothing when it holds an IP address (the IP rule's to
    mask: "203.0.113.77 then a successful one") or is a date with no birth cue before it ("op 17-12-2023 besteld";
    a birth date stays: "nacido el 31/10/1952"), or, in normally cased text, is one
    lower-case word without a digit ("socio", "worries"); a trailing run of two or more lower-case words with no digit
    or abbreviation is cut off when a digit stays before it ("Lindengracht 88-II heeft afgegeven zonder briefje",
    "Maliesingel 27, volgens de bezorger bij de buren"). A bare number of one to three digits, or a day and month
    ("11/30"), is no address on its own ("3 weeks ago", "at no. 3"; a house number inside an address is part of
    the address span). In normally cased text, a span all in lower case with no address word (a street type, a
    building or unit word: `_ADDRESS_WORDS`) is prose ("handled 20 snags", "pump 4")."""
    value = text[f.start:f.end]
    if _IP.search(value) or (_DATE.fullmatch(value) and not _after_birth_cue(text, f.start)):
        return []
    if _BARE_NUMBER.fullmatch(value):
        return []
    if single_case:
        return [f]
    words = list(_TOKEN.finditer(value))
    if len(words) == 1 and value.islower() and not any(ch.isdigit() for ch in value):
        return []
    if _only_quantities(text, f) and not any(_address_word(w.group()) for w in words):
        return []  # "Talla 39 perfecta", "Maximale belasting 15 kg", "30 °C", "240 units", "18 Uhr geöffnet"
    if value == value.lower() and value != value.upper() and not any(_address_word(w.group()) for w in words):
        return []  # lower-case prose with no address word: "handled 20 snags", "pump 4", "po týdnu zasekl"
    if _HAN_OR_KANA.search(value) and not _HAN_ADDRESS.search(value) and not _LATIN.search(value):
        return []  # a Chinese or Japanese sentence, no address: "您好，我的订单CN20241118-4471需要开增值税专用发票"
    run = 0
    while run < len(words) and _prose_word(words[len(words) - 1 - run].group()):
        run += 1
    if run >= 2 and run < len(words):
        keep = words[len(words) - 1 - run]
        if any(ch.isdigit() for ch in value[:keep.end()]):
            start, end = _strip_edges(text, f.start, f.start + keep.end())
            cut = Finding(f.entity_type, start, end, f.score, f.recognizer)
            if end <= start or (_only_quantities(text, cut) and not any(
                    _address_word(w.group()) for w in _TOKEN.finditer(text, start, end))):
                return []  # what is left is a quantity or opening hours: "skjærtorsdag 10–16, langfredag og ..."
            return [cut]
    return [f]


def _only_quantities(text: str, f: Finding) -> bool:
    """Every number of the span `f` (a run of digits with its decimal separators or a range: "1,84", "38–40") is a
    quantity, a size or a day of a month: a unit, a currency or a time word follows it ("15 kg", "30 °C", "5,5 L",
    "79 €", "45 Minuten", "12 meses", "3-Seat", "1pm", "9월"), a month name does ("9. Oktober") or stands right
    before it ("June 24"), or a size word does ("Talla 39", "Koko 38–40", "Розмір 48"). A house number has none."""
    numbers = list(_NUMBER.finditer(text, f.start, f.end))
    return bool(numbers) and all(
        _UNIT_AFTER.match(text, n.end()) or _SIZE_BEFORE.search(text, max(0, n.start() - 24), n.start())
        or _MONTH_BEFORE.search(text, max(0, n.start() - 16), n.start()) or _opening_hours(text, n)
        for n in numbers)


# Opening hours: a range of hours of the day ("10–16", "9-5", "10.00-18.30") after a weekday or a holiday on its line
# ("Mon–Fri 9–5", "skjærtorsdag 10–16", "påskafton 10–15"), or an hour with a spaced "h" ("24 h", "21 h."). A range
# of house numbers ("Hauptstraße 10–12") has no weekday or holiday before it.
_HOUR = r"(?:[01]?\d|2[0-4])(?:[:.][0-5]\d)?"
_HOUR_RANGE = re.compile(rf"{_HOUR}[ \t]?[–—-][ \t]?{_HOUR}")
_SPACED_HOUR = re.compile(r"[ \t\xa0]h(?![^\W\d_])")
_WEEKDAY = re.compile(r"(?i)(?<![^\W\d_])(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|mo|di|mi|do|fr|sa|so|"
                      r"lun|mar|mer|mié|jeu|jue|ven|vie|sam|sáb|dim|dom|ma|wo|vr|za|zo|må|ti|on|to|lö|sø|sö|ma-fr|"
                      r"mo-fr|mo-sa|lu-ve|lun-ven|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekdays|"
                      r"weekends?|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|werktags|lundi|mardi|"
                      r"mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|"
                      r"lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|maandag|dinsdag|woensdag|donderdag|"
                      r"vrijdag|zaterdag|zondag|måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|mandag|tirsdag|"
                      r"lørdag|søndag|segunda|terça|quarta|quinta|sexta)\.?(?![^\W\d_])")


def _opening_hours(text: str, number: re.Match[str]) -> bool:
    value = number.group()
    if _SPACED_HOUR.match(text, number.end()) and re.fullmatch(_HOUR, value):
        return True
    if not _HOUR_RANGE.fullmatch(value):
        return False
    line_start = text.rfind("\n", 0, number.start()) + 1
    window = max(line_start, number.start() - 32)
    if _WEEKDAY.search(text, window, number.start()) is not None:
        return True
    # a holiday ending in the window before the range (spans of the text before it on its line)
    return any(line_start + end >= window for _, end in holiday_spans(text[line_start:number.start()]))


_NUMBER = re.compile(r"(?<![\w.,])(?>\d+(?:[.,/–-]\d+)*)(?![\w.,/–-]*\d)")
# Units, currencies and time words after a number, with or without a space; `_GLUED` only without one, being words
# as well ("23/14 w Krakowie", "5 in Leeds", "bis 18 am Markt"); a capital "L" spaced is litres ("5,5 L").
_UNITS = _words("""% ‰ ° °c °f € $ £ ¥ ₽ ₹ ₺ zł kč kr tl ft mm cm dm m² km kg mg lb lbs oz ml cl dl kw mah gb tb mb hz ×
xs xl xxl hr hrs hour hours uhr std min mins minute minutes minuten minutos minuti sec seconds day days dni tag tage
tagen días dias jours jour giorni week weeks wochen woche semana semanas semaines settimane month months monat monate
meses mois mesi year years jahr jahre años anos anni units pcs piece pieces stück stk karton kartons palette paletten
boxes carton cartons pair pairs seat seater seats pack packs liter litre liters litres ltr gramm grams grad degrees
heures horas ore uur timer tunnin godzin minut lat часов минут дней кг л мл см мм шт грн руб""")
_GLUED = _words("l g k h m v w x am pm in 월 일 시 분 년 개 원 月 日 时 時 分 年 个 個 件 元 円")
_MONTH_WORDS = sorted(set(MONTHS), key=len, reverse=True)


def _alternatives(words: frozenset[str]) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


_UNIT_AFTER = re.compile(r"(?i:[ \t\xa0]?-?(?:" + _alternatives(_UNITS) + r")|-?(?:" + _alternatives(_GLUED)
                         + r"))(?![^\W\d_])|[ \t\xa0]L(?![^\W\d_])|(?i:\.?[ \t\xa0]+(?:" + "|".join(_MONTH_WORDS)
                         + r"))\b|[ \t]?(?:\"|''|”|″)")
_MONTH_BEFORE = re.compile(r"(?i:(?<![^\W\d_])(?:" + "|".join(_MONTH_WORDS) + r"))\.?[ \t\xa0]+$")  # "June 24"
_SIZE_BEFORE = re.compile(r"(?i)(?<![^\W\d_])(?:size|sizes|talla|tallas|taglia|taille|größe|grösse|groesse|gr\.|"
                          r"rozmiar|koko|maat|storlek|størrelse|stærð|tamanho|número|numero|розмір|размер|beden|méret|"
                          r"velikost|veľkosť|mărime|μέγεθος|사이즈|サイズ|尺码|尺碼)[ \t\xa0:]*$")


# Chinese and Japanese addresses name their parts with these characters (road, street, lane, number, district, city,
# province, county, town, village, building, floor, room, block, estate; 丁目/番地/町, ビル, マンション, 階); a span in
# those scripts with none of them and no Latin word is no address.
_HAN_OR_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_HAN_ADDRESS = re.compile(r"[路街道号號巷弄段区區市省县縣県镇鎮乡鄉村里楼樓室栋棟幢座层層苑园園厦廈坊屯丁番町条條郡都府"
                          r"州邑洞]|ビル|マンション|ハイツ|コーポ|階|単元|单元")
_LATIN = re.compile(r"(?<![A-Za-z0-9])[A-Za-zÀ-ÿ]{3,}(?![A-Za-z0-9])")  # a Latin word, not an order number's "CN"


def _address_word(token: str) -> bool:
    """An address word (`_ADDRESS_WORDS`), or a street name with its type fused on ("nørrebrogade", "storgatan")."""
    word = token.strip(_EDGE_PUNCT.replace(".", "") + "-").lower()  # an abbreviation keeps its full stop: "ul."
    return word in _ADDRESS_WORDS or word.rstrip(".") in _ADDRESS_WORDS or any(
        word.rstrip(".").endswith(t) and len(word) >= len(t) + 3 for t in FUSED_TYPES if not t.endswith("."))


def _after_birth_cue(text: str, start: int) -> bool:
    """A birth cue ("nacido el", "geb.", "DOB:") in the 32 characters before `start`."""
    return re.search(BIRTH_CUES + r"(?:\W|(?i:on|am|le|el|il|em|op))*$", text[max(0, start - 32):start]) is not None


def _prose_word(token: str) -> bool:
    """A lower-case word of running text: letters only, no abbreviation's full stop ("int.", "bât.")."""
    word = token.rstrip(",;:!?")
    return (is_letters(word) and word.islower() and not token.endswith(".")) or word in ("", "-")


def _wordy(token: str) -> bool:
    """An edge word an identifier does not include: no digit, and lower-case letters or a stop word ("shows",
    "Tel."); "MW" of the Dutch postcode "1105 MW" stays."""
    core = _core(token)
    return not any(ch.isdigit() for ch in token) and (not core or _stop(core) or any(ch.islower() for ch in core))


# The words before a phone extension, which the learned detector may type as another id ("3866-1267 ext. 150").
EXTENSION_WORDS = _words("ext extn extension x poste durchwahl dw wew dahili int interno ramal toestel doorkies 内線 "
                         "内线 转 分机 내선 تحويلة داخلي שלוחה доб вн")
_EXTENSION_AFTER = re.compile(r"(?i)[ \t]*[,;]?[ \t]*(?:" + "|".join(sorted(map(re.escape, EXTENSION_WORDS), key=len,
                                                                          reverse=True))
                              + r")\.?[ \t]*[:#]?[ \t]*\d{1,6}(?!\d)")


# A city's district number ending an address line: "100 00 Praha 10", "1030 Wien 3", "75015 Paris 15e"; or its
# province or state code, as Italian and Brazilian addresses write it after the town: "80121 Napoli (NA)" (the
# province codes of Poste Italiane's address standard), "São Paulo - SP", "Feira de Santana/BA" (the IBGE unidades
# federativas); the span needs the code to cover the labelled place.
_IT_PROVINCES = ("AG|AL|AN|AO|AR|AP|AT|AV|BA|BT|BL|BN|BG|BI|BO|BZ|BS|BR|CA|CL|CB|CE|CT|CZ|CH|CO|CS|CR|KR|CN|"
                 "EN|FM|FE|FI|FG|FC|FR|GE|GO|GR|IM|IS|SP|LT|LE|LC|LI|LO|LU|MC|MN|MS|MT|ME|MI|MO|MB|NA|NO|NU|"
                 "OR|PD|PA|PR|PV|PG|PU|PE|PC|PI|PT|PN|PZ|PO|RG|RA|RC|RE|RI|RN|RM|RO|SA|SS|SV|SI|SR|SO|SU|TA|"
                 "TE|TR|TO|TP|TN|TV|TS|UD|VA|VE|VB|VC|VR|VV|VI|VT")
_BR_STATES = ("AC|AL|AP|AM|BA|CE|DF|ES|GO|MA|MT|MS|MG|PA|PB|PR|PE|PI|RJ|RN|RS|RO|RR|SC|SP|SE|TO")
_DISTRICT_AFTER = re.compile(r"[ \t]\d{1,2}(?:e|er|ème|\.)?(?=[ \t]*(?:$|\n|,|;))"
                             rf"|[ \t]\((?:{_IT_PROVINCES})\)"
                             r"|[ \t]\((?:[A-Z]{2,3}|[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+(?:[ \t-][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’-]+)?)\)"
                             rf"|(?:[ \t]+[-–][ \t]+|/)(?:{_BR_STATES})(?![\w-])", re.MULTILINE)


def with_attached_number(text: str, f: Finding) -> Finding:
    """A phone number with the extension written after it ("3221-4480 ramal 12", "0145 22 87 10 poste 214",
    "(614) 555-0142 x318"): an extension dials one person; a place with the district number that ends its address
    line ("Praha 10", "Paris 15e"), or its Italian province or Brazilian state code ("Napoli (NA)", "São Paulo -
    SP"), or any region or code in brackets after it ("Montréal (QC)", "Hondarribia (Gipuzkoa)"); a street line with
    the sub-building parts after it (`streets_world.UNITS_AFTER`: "ул. Иван Вазов № 32, ет. 3, ап. 9"), whichever
    detector found the line, and, when it holds no digit, the house number after a number cue ("Hse No 12")."""
    after = {"PHONE_NUMBER": _EXTENSION_AFTER, "LOCATION": _DISTRICT_AFTER, "STREET_ADDRESS": UNITS_AFTER}.get(
        f.entity_type)
    m = after.match(text, f.end) if after is not None else None
    if f.entity_type == "STREET_ADDRESS" and not any(ch.isdigit() for ch in text[f.start:f.end]):
        # a street line found without its number, and the number after a house-number cue ("Hse No 12")
        number = _HOUSE_NUMBER_AFTER.match(text, m.end() if m is not None else f.end)
        m = number or m
    return f if m is None or m.end() == f.end else Finding(f.entity_type, f.start, m.end(), f.score, f.recognizer)


_HOUSE_NUMBER_AFTER = re.compile(r"[ \t]*,?[ \t]*(?:No\.?|NO\.?|no\.|Nr\.?|nr\.|n[°º]|Nº|#)[ \t]?\d{1,5}[A-Za-z]?"
                                 r"(?![\w/-])")


_INITIALS_BEFORE = re.compile(r"(?<![\w.])(?:[^\W\d_a-zß-ÿ]\.[ \t]?){1,3}[ \t]$")
_INITIAL_AFTER = re.compile(r"[ \t][^\W\d_a-zß-ÿ]\.(?!\w)")


def with_initials(text: str, f: Finding) -> Finding:
    """A name with the initials written before or after it ("W. M. Dilani Perera", "Thabo M."): the initials are
    part of the name (masking "Dilani Perera" alone leaves "W. M." and most of the name's characters)."""
    if f.entity_type != "PERSON":
        return f
    before = _INITIALS_BEFORE.search(text, max(0, f.start - 12), f.start)
    after = _INITIAL_AFTER.match(text, f.end)
    if before is None and after is None:
        return f
    return Finding("PERSON", before.start() if before else f.start, after.end() if after else f.end, f.score,
                   f.recognizer)


def _trim_id(text: str, f: Finding) -> list[Finding]:
    """An identifier span less the words around it, cut at the first word of running text after its value
    ("GC-VPJW-8477-OYDR shows no balance/Agent: ...", "SP-IN-77120934. Registered mobile +91 ..."; not a phone
    number or an extension word: "+36 1 204 385 ext. 759"), and dropped when what is left is a date, the tail of a
    product code, a business hotline or a year."""
    tokens = _tokens(text, f)
    while tokens and _wordy(tokens[0][2]):
        tokens.pop(0)
    if f.entity_type != "PHONE_NUMBER":  # a phone number's extension word belongs to it ("ext. 759", "poste 121")
        tokens = tokens[:next((i for i, token in enumerate(tokens) if i and _wordy(token[2])
                               and _core(token[2]).lower().rstrip(".") not in EXTENSION_WORDS), len(tokens))]
        if len(tokens) > 1 and tokens[-1][2].startswith("(") and ")" not in tokens[-1][2].rstrip(",;.)"):
            tokens.pop()  # "F255-921-83-442-0 (FL), exp 2027": the bracket of a cut-off remark goes with it
    while tokens and _wordy(tokens[-1][2]):
        tokens.pop()
    if not tokens:
        return []
    start, end = _strip_edges(text, tokens[0][0], tokens[-1][1])
    start, end = _strip_caseless_words(text, start, end)
    if end <= start or not any(ch.isdigit() for ch in text[start:end]):
        return []  # an identifier has a digit: "注文したのにまだ届きません" or "はい、そうです" is a sentence
    if _DATE.fullmatch(text[start:end]) or _PRODUCT_CODE.search(text[max(0, start - 8):start]):
        return []  # a date, or the tail of a product code ("SKU-BD0928")
    if f.entity_type == "PHONE_NUMBER" and business_number(text[start:end]):
        return []  # a company's toll-free hotline
    if f.entity_type in _HOTLINE_TYPOS and _PHONE_SHAPE.fullmatch(text[start:end]) and business_number(
            text[start:end], at_least=2):
        return []  # the same typed as another id by the learned detector, read as a business line in two regions
    if f.entity_type == "POSTCODE" and _year_in_prose(text, start, end):
        return []
    return [Finding(f.entity_type, start, end, f.score, f.recognizer)]


# digits in a phone number's groups: "1-800-555-0199", "0800 724 3510", "(02) 8811 4410" (no letters, no other sign;
# 7 to 13 digits), and the types the learned detector gives a hotline in error
_PHONE_SHAPE = re.compile(r"\+?\(?(?=(?:[ \t().-]*\d){7,13}[ \t().-]*$)\d[\d \t().-]{5,}\d")
_HOTLINE_TYPOS = ("POSTCODE", "ID_DOCUMENT", "LOYALTY_ID")


_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_KANA_HANGUL = r"\u3040-\u30ff\uac00-\ud7a3\u3000-\u3002\uff01-\uff0f\uff1a-\uff20"  # and CJK punctuation
# a label and its particle before ("注文番号は"), a copula or a sentence after ("です", "이요", "でお間違いないですか");
# kanji alone stay: "大阪府大阪市北区" before a number, "号室" after it are the address the detector mistyped
_CJK_EDGE_START = re.compile(f"[{_HAN}]*[{_KANA_HANGUL}]+")
_CJK_EDGE_END = re.compile(f"[{_KANA_HANGUL}][{_HAN}{_KANA_HANGUL}]*$")


def _strip_caseless_words(text: str, start: int, end: int) -> tuple[int, int]:
    """`text[start:end]` less the Japanese and Korean words written onto its edges without a space: "注文番号は
    JP-20240918-0442です" keeps "JP-20240918-0442", "010-4812-7730이요" keeps "010-4812-7730" (a label ending in a
    particle before, a copula or predicate after: Japanese and Korean write them onto the word before)."""
    head = _CJK_EDGE_START.match(text, start, end)
    if head is not None and head.end() < end:
        start = head.end()
    tail = _CJK_EDGE_END.search(text, start, end)
    if tail is not None and tail.start() > start:
        end = tail.start()
    return start, end


# Words before a year in prose ("customer since 2018", "desde 2019", "seit 2015 Kunde", "depuis 2020").
_YEAR_CUES = _words("""
since until till from before after by in year circa desde hasta en año ano seit bis ab im vor nach jahr jahren
depuis jusqu'en dès année dal fino nel dall'anno anno sinds vanaf tot sedan från sen siden fra fram od do w roku
с до от в году
baujahr jahrgang vintage edition model modell modelo a an the of class
""")
_YEAR = re.compile(r"(?:19|20)\d\d")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’]*)\W{0,2}$")
_WORD_AFTER = re.compile(r"[ \u00a0]+([^\W\d_][\w'’-]*)")


def _year_in_prose(text: str, start: int, end: int) -> bool:
    """A four-digit year after a time word, with no town after it, is no postcode: the learned detector reads the
    year of "a customer since 2018" as a four-digit postcode (AT, BE, CH, DK, ...), whose town would follow it
    ("2000 Antwerpen") and no time word would precede it."""
    before = _WORD_BEFORE.search(text[max(0, start - 16):start])
    after = _WORD_AFTER.match(text, end)
    town = after is not None and after.group(1)[0].isupper() and not _stop(after.group(1))  # "seit 2015 Kunde"
    return (_YEAR.fullmatch(text[start:end]) is not None and before is not None
            and before.group(1).lower() in _YEAR_CUES and not town)


# --- names the detectors found once, elsewhere in the same text ------------------------------------------------
_TITLE_CASE_WORD = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁІЇЄҐΑ-Ω][^\W\d_A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω]*(?:['’-][^\W\d_]+)*")
_LIST_SEP = re.compile(r"[ \t]*,[ \t]*(?:(?:and|und|et|y|e|i|og|och|en|ve|и|та)[ \t]+)?|[ \t]+(?:and|&|und|et|y|e|i|og"
                       r"|och|en|ve|и|та)[ \t]+")
_LIST_ITEM_BEFORE = re.compile(r"(?<![\w'’-])(" + _TITLE_CASE_WORD.pattern + r")(" + _LIST_SEP.pattern + r")$")
_ITEM_END = re.compile(r"(?:[ \t]*[,.;:!?)\n]|[ \t]+(?:and|&|und|et|y|e|i|og|och|en|ve|и|та)[ \t]|[ \t]*$)")


def _name_word_ok(word: str) -> bool:
    return len(word) >= 3 and not is_stop_word(word) and word.lower() not in TITLE_WORDS


def propagate_names(text: str, findings: list[Finding]) -> list[Finding]:
    """`PERSON` findings for names the detectors found once and missed elsewhere in the same text (names recur: the
    coreference-by-string step of clinical de-identification systems, e.g. Philter and NLM-Scrubber):
    - a Title Case word of a found name, written again as a whole word ("Team: Reyes, Kowalski ... Reyes opens");
    - a single Title Case word in a list of names, next to a found name that has another found name on its other
      side, or between two found names ("Reyes, Kowalski, Nguyen": "Reyes" when the other two were found).
    Only what no finding covers is added; stop words, labels and titles never are. Returns the new findings."""
    people = [f for f in findings if f.entity_type == "PERSON"]
    if not people:
        return []
    taken = [(f.start, f.end) for f in findings]

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in taken)

    added: list[Finding] = []
    spans = sorted((f.start, f.end) for f in people)
    for _ in range(8):  # a chain of list items grows one word per side and round
        grown = False
        for start, end in list(spans):
            for side in (-1, 1):
                cand = _list_neighbour(text, start, end, side)
                if cand is None or not free(*cand):
                    continue
                other = _list_neighbour(text, start, end, -side, spans)  # a name on the found name's other side
                beyond = _list_neighbour(text, *cand, side, spans)  # or on the candidate's other side
                if other is not None or beyond is not None:
                    added.append(Finding("PERSON", cand[0], cand[1], 0.6, "name-list"))
                    taken.append(cand)
                    spans.append(cand)
                    grown = True
        if not grown:
            break
    words = {m.group() for f in [*people, *added] for m in _TITLE_CASE_WORD.finditer(text, f.start, f.end)
             if _name_word_ok(m.group())}
    for word in sorted(words):
        for at in whole_word_starts(text, word):
            end = at + len(word)
            if free(at, end):
                added.append(Finding("PERSON", at, end, 0.6, "name-repeat"))
                taken.append((at, end))
    return added


def whole_word_starts(text: str, word: str) -> Iterator[int]:
    """Where `word` stands in `text` as a whole word (no letter, digit, "_", apostrophe or hyphen on either side).
    str.find, not a regex per word: each would be compiled anew, and Python's re cache (512) would overflow and make
    every other module's dynamic patterns recompile too."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if not _word_char(text, at - 1) and not _word_char(text, end):
            yield at
        at = text.find(word, end)


def _word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (is_word_char(text[i]) or text[i] in "_'’-")


def _list_neighbour(text: str, start: int, end: int, side: int,
                    spans: list[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """The list item next to `text[start:end]` on `side` (-1 left, 1 right) across a list separator: with `spans`,
    one of those spans; without, a single Title Case word that ends its item (no stop word, label or title)."""
    if side > 0:
        sep = _LIST_SEP.match(text, end)
        if sep is None:
            return None
        if spans is not None:
            return next((s for s in spans if s[0] == sep.end()), None)
        m = _TITLE_CASE_WORD.match(text, sep.end())
        if m is None or not _name_word_ok(m.group()) or _ITEM_END.match(text, m.end()) is None:
            return None
        return m.span()
    head = text[max(0, start - 40):start]
    if spans is not None:
        for s in spans:
            if s[1] <= start and _LIST_SEP.fullmatch(text, s[1], start):
                return s
        return None
    m = _LIST_ITEM_BEFORE.search(head)
    if m is None or not _name_word_ok(m.group(1)):
        return None
    s = start - len(head) + m.start(1)
    before = text[:s].rstrip(" \t")
    if before and before[-1] not in ":,(\n-–":  # the list's first item starts a line, a field or a clause
        return None
    return s, s + len(m.group(1))
