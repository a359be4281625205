"""Retail brands every shop's texts name: payment methods ("paid with Klarna", "my Visa was charged twice",
"Betaald met iDEAL via Bancontact"), parcel carriers ("DHL says delivered", "Poczta Polska awizo") and marketplaces
and large retail chains ("cheaper on Temu", "Tesco Clubcard points"): brands, not people or places. Also a shop's
promotion code after its cue ("use code SNOWDAY25", `is_promo_code`), product colours and product lines named after
people or places.

A filter on findings, like `anonymize.recognizers.branches` and `organisations`: a PERSON, LOCATION or
STREET_ADDRESS finding whose words are all such brand names (and the generic words that go with them: "Pay",
"card", "wallet", "Plus", "Post") is dropped; a generic word alone is not a brand ("Polska" stays a place). The
payment methods are the card schemes of ISO/IEC 7812 issuer ranges in use (Visa, Mastercard, Amex, JCB, UnionPay,
Diners Club, Discover, RuPay, Hipercard, Maestro) and the widely used wallets and national instant-payment brands of
the cue languages' countries (Klarna, PayPal, iDEAL, Bancontact, Sofort, Giropay, BLIK, Przelewy24, Swish, Vipps,
MobilePay, TWINT, Pix, Venmo, Zelle, Interac, Paytm, PhonePe, GCash, Mercado Pago, Alipay, WeChat Pay, and the mobile
money of Africa and Asia: M-Pesa, Wave, Orange Money, MoMo, OVO, GoPay, bKash...); the
carriers and marketplaces are those of the same countries. Names that are also given names, surnames, places or
ordinary words in some language are left out ("Maya", "Elo", "Mir", "Zip", "Otto", "Zara", "Hermes", "Argos").
Without it the learned detector and spaCy called many of them a PERSON ("Klarna", "Giropay", "Venmo", "Amex", "DHL",
"Temu", "Tesco") and "Google Pay" a street, masked for nothing (a battery of made-up sentences,
tests/anonymize/test_retail_brands.py; the development sets hold none of these brands, so no dev-set figure moves).
"""

from __future__ import annotations

import re

from anonymize.findings import Finding
from anonymize.recognizers.places import CITIES

BRAND_TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS")
PAYMENT_METHODS = frozenset((
    "visa", "mastercard", "maestro", "amex", "americanexpress", "jcb", "unionpay", "discover", "diners", "dinersclub",
    "rupay", "hipercard", "klarna", "paypal", "afterpay", "clearpay", "sezzle", "ideal", "bancontact", "sofort",
    "sofortüberweisung", "giropay", "blik", "przelewy24", "swish", "vipps", "mobilepay", "twint", "pix", "venmo",
    "zelle", "interac", "paytm", "phonepe", "gcash", "paymaya", "alipay", "wechat", "applepay", "googlepay",
    "samsungpay", "gpay", "payconiq", "satispay", "bizum", "multibanco", "mbway", "trustly", "paysafecard",
    "mercadopago", "oxxo", "boleto",
    # mobile money and super-app wallets of Africa and Asia ("paid with M-Pesa", "a payé en Wave", "bayar pakai OVO")
    "m-pesa", "mpesa", "wave", "orangemoney", "mtnmomo", "momo", "airtelmoney", "ecocash", "tigopesa", "opay",
    "palmpay", "ovo", "gopay", "shopeepay", "grabpay", "kaspi", "yoomoney", "easypaisa", "jazzcash", "bkash", "nagad",
    "promptpay", "truemoney",
))  # not "Maya", "Elo", "Mir", "Zip": given names or ordinary words too
# Parcel carriers and postal operators of the cue languages' countries (not "Bring", "Hermes", "Yodel": words or
# given names; multi-word ones through their words: "Poczta Polska", "Royal Mail", "Nova Poshta").
CARRIERS = frozenset((
    "dhl", "dpd", "gls", "ups", "fedex", "usps", "tnt", "inpost", "postnl", "evri", "colissimo", "chronopost",
    "correos", "seur", "nacex", "mrw", "brt", "sda", "ctt", "aramex", "delhivery", "bluedart", "zásilkovna",
    "packeta", "omniva", "venipak", "econt", "boxberry", "cdek", "сдэк", "parcelforce", "postnord", "posti",
    "poczta", "royalmail", "novaposhta", "новапошта", "purolator", "yamato", "sagawa",
    # more countries' postal operators and couriers, and names written apart that join to one ("La Poste", "Aras
    # Kargo", "Почта России" in its cases): still none that is a given name, a place or a word ("Flash", "Oca",
    # "Lotte", "Aras" alone)
    "elta", "correios", "sameday", "fancourier", "cargus", "yalidine", "andreani", "servientrega", "chilexpress",
    "starken", "estafeta", "redpack", "jadlog", "loggi", "smsa", "naqel", "bosta", "speedaf", "ninjavan", "lalamove",
    "yurtiçi", "yurtici", "araskargo", "mngkargo", "süratkargo", "pttkargo", "foxpost", "acscourier",
    "geniki", "cainiao", "sfexpress", "zto", "yto", "hanjin", "japanpost", "australiapost", "auspost", "startrack",
    "couriersplease", "canadapost", "nzpost", "anpost", "fastway", "whistl", "bpost", "swisspost", "laposte",
    "mondialrelay", "relaiscolis", "posteitaliane", "correosexpress", "paack", "почтароссии", "почтуроссии",
    "почтойроссии", "почтыроссии", "еконт", "укрпошта", "укрпоштою", "белпочта", "казпочта", "ptt", "thaipost",
    "kerryexpress", "jtexpress", "poslaju", "jne", "sicepat", "lbc", "2go",
))
# Marketplaces and retail chains (not "Otto", "Zara", "Penny", "Douglas", "Müller", "Leclerc", "Argos": given names,
# surnames or places as well).
MARKETPLACES = frozenset((
    "amazon", "ebay", "etsy", "zalando", "allegro", "shopee", "lazada", "tokopedia", "temu", "shein", "aliexpress",
    "coolblue", "cdiscount", "trendyol", "hepsiburada", "flipkart", "myntra", "meesho", "wildberries", "ozon",
    "rakuten", "mercadolibre", "vinted", "wallapop", "leboncoin", "olx", "kleinanzeigen", "marktplaats", "tesco",
    "lidl", "aldi", "walmart", "costco", "carrefour", "auchan", "kaufland", "biedronka", "mercadona", "esselunga",
    "primark", "ikea", "sephora", "mediamarkt", "fnac", "darty", "currys", "asos", "boohoo", "bol",
))
BRANDS = PAYMENT_METHODS | CARRIERS | MARKETPLACES
# Generic words that go with a brand in a payment method's name ("Apple Pay", "Mercado Pago", "Visa card").
_GENERIC = frozenset(("pay", "pago", "pagamento", "payment", "payments", "card", "cards", "karte", "carte", "tarjeta",
                      "carta", "kaart", "karta", "wallet", "express", "club", "apple", "google", "samsung", "mercado",
                      "libre", "plus", "prime", "post", "mail", "royal", "polska", "nova", "poshta", "нова", "пошта",
                      "parcel", "parcels", "paket", "pakket", "paczkomat", "app", "com"))
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def is_retail_brand(text: str, finding: Finding) -> bool:
    """True when `finding` names a payment method, carrier or marketplace, as the module docstring says."""
    if finding.entity_type not in BRAND_TYPES:
        return False
    from anonymize.recognizers.refine import is_stop_word  # refine imports nothing of this module

    written = _WORD.findall(text[finding.start:finding.end])
    words = [w.lower() for w in written]
    joined = "".join(words)
    if not words:
        return False
    if joined in BRANDS:  # "Mercado Libre", "Royal Mail", "Bol.com" written apart
        return True
    # a preposition or particle the NER took along is no name either: "von DHL", "Volgens PostNL", "via InPost"
    return any(w in BRANDS for w in words) and all(
        w in BRANDS or w in _GENERIC or is_stop_word(word) for w, word in zip(words, written, strict=True))


# Where a product was made, grown or comes from ("Made in Portugal", "Hecho en Portugal", "feito em Portugal",
# "Herkunftsland: Italien", "product of Kenya"): a product's origin places no person. Only LOCATION findings of one or
# two words right after the cue; "I live in Portugal" or "shipped to Portugal" have no such cue.
_ORIGIN_CUE = re.compile(r"(?i:(?<![\w])(?:(?:made|manufactured|produced|designed|assembled|grown|brewed|printed|"
                         r"sourced|crafted|handmade)[ \t]+in|product[ \t]+of|hecho[ \t]+en|fabricad[oa][ \t]+en|"
                         r"producid[oa][ \t]+en|fabriqu[ée]e?s?[ \t]+(?:en|au|aux)|feit[oa][ \t]+(?:em|no|na)|"
                         r"fabricad[oa][ \t]+(?:em|no|na)|produzid[oa][ \t]+(?:em|no|na)|hergestellt[ \t]+in|"
                         r"prodott[oa][ \t]+in|fatt[oa][ \t]+in|gemaakt[ \t]+in|wyprodukowan[oay][ \t]+w|"
                         r"vyroben[oa]?[ \t]+v|tillverkad[ \t]+i|(?:country[ \t]+of[ \t]+)?origin[ \t]*:|origen[ \t]*:|"
                         r"origine[ \t]*:|herkunft(?:sland)?[ \t]*:|país[ \t]+de[ \t]+origen[ \t]*:?))[ \t]+$")


def is_product_origin(text: str, finding: Finding) -> bool:
    """True when `finding` is a LOCATION of one or two words right after a made-in or origin cue ("Made in Vietnam")."""
    if finding.entity_type != "LOCATION" or len(text[finding.start:finding.end].split()) > 2:
        return False
    return _ORIGIN_CUE.search(text, max(0, finding.start - 40), finding.start) is not None


# A product's colour after a colour cue ("in der Farbe Dunkelblau", "na cor Azul Petróleo", "Colors: Graphite, Ivory",
# "w kolorze Butelkowa Zieleń"): colour words of the cue languages and their modifiers. A listed given name or
# surname ("Rose", "Amber", "Brown") is never taken for a colour, and without a cue nothing is ("in Cognac" is a town).
_COLOUR_WORDS = frozenset(re.findall(r"\S+", """black white grey gray red blue green yellow orange pink purple brown
beige navy cream ivory charcoal graphite tan taupe khaki ochre maroon burgundy teal turquoise coral mint lilac mustard
sand stone slate silver gold bronze copper oxblood cognac camel chocolate nude rust sage petrol light dark pale deep
bright pastel schwarz weiß weiss grau rot blau grün gruen gelb rosa lila braun anthrazit marine dunkelblau hellblau
dunkelgrün hellgrün dunkelgrau hellgrau dunkelrot hellbraun dunkelbraun noir blanc gris rouge bleu vert jaune violet
marron kaki negro blanco rojo azul verde amarillo morado marrón nero bianco grigio rosso blu giallo viola marrone
sabbia tortora notte preto branco cinza vermelho amarelo roxo marrom petróleo zwart wit grijs rood blauw groen geel
roze paars bruin czarny biały szary czerwony niebieski zielony zieleń butelkowa żółty różowy brązowy černá bílá
šedá červená modrá modrý zelená žlutá kobalt"""))
# the nouns for "colour" ("rang", Hindi and Nepali, is left out: the English past of "ring" stands before names, "I rang
# Siobhan"); "shade" and "finish" cue a list of colour words only, being English words of other uses
_CUE_WORDS = (r"colou?rs?|colou?rway|farbe|farben|farbton|couleurs?|coloris|colori?|kolor(?:ze|y)?|cor(?:es)?|"
              r"barv[aěy]|kleur(?:en)?|färg(?:en)?|farve[nr]?|farge[nr]?|väri|renk|renkler|rengi|szín[ea]?|"
              r"culoare[a]?|χρώμα|цвет|цвят|колір|boja|spalva|krāsa|värv|warna|kulay|màu")
_COLOUR_CUE = re.compile(r"(?i:(?<![\w])(?P<cue>" + _CUE_WORDS + r"|shade|finish))"
                         r"(?P<between>(?:[\s:,/&(\"'„“”«»-]|(?>[^\W\d_]+))*)$")  # words checked in Python
_CUE_WORD = re.compile(r"(?i:" + _CUE_WORDS + r")")


# Given names that are colours or gems, and the colour, metal and finish words a product's colour adds to them: "Rose
# Gold", "Rose Quartz", "Ruby Red", "Pearl White", "Amber Glow" name a finish, not a person ("Rose White" or "Hazel
# Brown" keep a listed surname and stay a person)
_COLOUR_GIVEN = frozenset(("rose", "ruby", "olive", "jade", "pearl", "amber", "coral", "hazel", "ivory", "sienna",
                           "scarlet", "violet", "indigo", "saffron", "opal", "jasmine", "lavender", "lilac"))
_FINISH_WORDS = _COLOUR_WORDS | frozenset(("quartz", "glow", "blush", "champagne", "mist", "dust", "petal", "velvet",
                                           "metallic", "matte", "satin", "shimmer", "sparkle", "glitter", "fizz"))


def is_colour_name(text: str, finding: Finding) -> bool:
    """True when `finding` (PERSON, LOCATION, or a STREET_ADDRESS without a digit) is a product's colour: only colour
    words, none a listed name, after a colour cue in the same sentence; one to three words that are no listed name or
    city right after the cue; the cue and such words ("Kleur Oudroze"); or a colour's given name and a colour or
    finish word that is no listed surname ("Rose Gold")."""
    from anonymize.recognizers.recase import listed_name

    value = text[finding.start:finding.end]
    if finding.entity_type not in ("PERSON", "LOCATION") and not (
            finding.entity_type == "STREET_ADDRESS" and not any(ch.isdigit() for ch in value)):
        return False  # (a street without a number: the learned detector reads "Väri Metsänvihreä" as one)
    words = _WORD.findall(value)
    if (len(words) == 2 and words[0].lower() in _COLOUR_GIVEN and words[1].lower() in _FINISH_WORDS
            and words[1][:1].isupper() and not listed_name(words[1])):
        return True
    if words and _CUE_WORD.fullmatch(words[0]):  # the NER took the cue in: "Kolor Butelkowa Zieleń", "Kleur Oudroze"
        return 2 <= len(words) <= 4 and not any(listed_name(w) or w.lower() in CITIES for w in words[1:])
    if not words or any(listed_name(w) for w in words):
        return False
    cue = _COLOUR_CUE.search(text, max(0, finding.start - 80), finding.start)
    # between the cue and the finding only other colours, separators and a preposition or article ("in der Farbe
    # Dunkelblau", "Colors: Graphite, Ivory"): "Farbe passt, danke an Frau Schwarz" names a person
    between = _WORD.findall(cue.group("between")) if cue is not None else None
    if between is None or not all(w.lower() in _COLOUR_WORDS or w.lower() in _COLOUR_GLUE for w in between):
        return False
    if all(w.lower() in _COLOUR_WORDS for w in words):
        return True
    # right after the cue (no other colour between), one to three words that are no listed name or city: the colour's
    # own name, in any language ("Farbe Salbeigrün", "color Azul Marino", "Väri Metsänvihreä", "Колір Смарагдовий")
    return (len(words) <= 3 and not any(w.lower() in _COLOUR_WORDS for w in between)
            and _CUE_WORD.fullmatch(cue.group("cue")) is not None and not any(w.lower() in CITIES for w in words))


_COLOUR_GLUE = frozenset(("in", "en", "na", "w", "v", "der", "die", "em", "di", "da", "de", "del", "and", "und", "y",
                          "e", "et", "or", "oder", "o", "ou"))


# A product line named after a person or a place, written as English writes a product: an article or possessive, the
# name, then up to three lower-case words of which one is a kind of goods ("the Denver mattress topper", "my Madison
# tote", "the Ned Kelly print hoodie", "the Hainan range"). Shops name their lines after towns and given names; a
# customer's name does not stand between "the" and a sofa. Rooms, teams, offices and stores are not goods, so "the
# Smith family", "the Leeds store" and "the Paris office" are not caught here, nor are words that are verbs after a
# name as often ("could my Anna ring you", "let my Tom watch", "will your Ben set it up": ring, watch, set, print...).
_GOODS = frozenset(re.findall(r"\S+", """boot boots shoe shoes sneaker sneakers trainer trainers loafer loafers sandal
sandals heels slippers jacket jackets coat coats parka parkas puffer shell hoodie hoodies sweater sweaters jumper
jumpers cardigan shirt shirts tee tees dress dresses skirt jeans trousers pants shorts leggings scarf shawl hat hats
cap beanie gloves socks tote totes bag bags backpack backpacks rucksack satchel wallet purse clutch duffel duffle
belt necklace bracelet earrings sunglasses sofa sofas couch loveseat sectional chair chairs armchair recliner stool
table tables desk desks bed beds mattress topper duvet pillow pillows cushion cushions blanket rug rugs lamp lamps
mirror shelf shelves bookcase cabinet dresser wardrobe sideboard kettle toaster blender mixer grinder mug mugs cup
cups tumbler tumblers bottle flask pan pans pot pots skillet wok knife knives cookware candle candles towel towels
sheets bedding vase planter tent tents stroller pram bike helmet poles cooler coolers preserves syrup coffee tea
chocolate soap lotion perfume serum cream range line collection edition series kit throw throws quilt kurta saree
sari stole kaftan wine whisky cheese honey jam biscuits cookies basket baskets hamper hampers scarves bunting runner
runners pottery ceramics beadwork stools bowl bowls platter teapot tray trays apron aprons tablecloth napkins placemats
ornament ornaments figurine diffuser incense balm shampoo spices sauce rum gin vodka""".strip()))
_BEFORE_PRODUCT = re.compile(r"(?<![\w'’-])(?i:the|a|an|my|our|your|his|her|their|this|that|these|those)[ \t]+"
                             r"(?:[A-Z][\w'’-]*[ \t]+){0,2}$")  # "the Ned" before "Kelly" of "the Ned Kelly hoodie"
_LOWER_WORDS_AFTER = re.compile(r"(?:[ \t]+(?:[a-z][a-z'-]*))(?:[ \t]+(?:[a-z][a-z'-]*)){0,2}")


# Languages that write the kind of goods first and the line's name after it ("die Pfanne Hamburg", "le canapé Oslo",
# "las zapatillas Triana", "il divano Milano", "soffan Göteborg", "hrnek Praha"): common goods of the cue languages,
# with the Nordic definite forms. Not words that also stand before a person ("model", "pan" is Polish "Mr.", "bank",
# "line"), nothing across "de"/"di" ("la camiseta de Juan" is Juan's), and no listed given name or surname after them.
_GOODS_BEFORE = frozenset(re.findall(r"\S+", """jacke mantel tasche rucksack schuhe stiefel sofa couch sessel stuhl
tisch matratze kissen lampe pfanne topf wasserkocher tasse becher kaffeemaschine bettwäsche handtuch kleid hose
pullover schal mütze kerze vase kollektion veste manteau sac sacoche chaussures bottes baskets canapé fauteuil
chaise matelas coussin poêle casserole bouilloire robe pantalon pull écharpe bougie parfum savon gamme chaqueta
abrigo bolso mochila zapatos zapatillas botas sofá sillón silla colchón cojín lámpara sartén olla hervidor vestido
jersey bufanda sombrero vajilla camiseta jarrón jabón giacca cappotto borsa zaino scarpe stivali divano poltrona
sedia tavolo materasso cuscino lampada padella pentola bollitore tazza maglione sciarpa candela profumo sapone
jaqueta casaco sapatos tênis cadeira colchão almofada luminária frigideira panela chaleira caneca cachecol sabonete
tas rugzak schoenen laarzen stoel tafel matras kussen waterkoker mok jurk broek trui sjaal kaars jacka jakke väska
veske taske ryggsäck ryggsekk skor sko soffa soffan sofaen stol stolen bordet säng sängen seng sengen lampa lampan
lampen kastrull vattenkokare mugg muggen kopp koppen klänning kjole tröja genser halsduk kurtka torba plecak buty
krzesło stół łóżko patelnia garnek czajnik kubek sukienka spodnie sweter szalik świeca bunda taška batoh boty
pohovka židle stůl postel pánev hrnec konvice hrnek šaty kalhoty svetr šála svíčka
teppich decke uhr hemd sandalen wein kaffee käse tee koffer messer tapis couverture montre chemise jupe sandales vin
café fromage thé valise termo tenis toalla vino queso aceite manta alfombra cartera reloj gorra camisa falda
pantalón chamarra poncho sandalias chinelo chinelos toalha vinho queijo azeite tapete carteira relógio boné saia
conservas chá caffè formaggio olio tappeto coperta orologio camicia gonna pantaloni sandali panettone pandoro tapijt
deken horloge overhemd rok wijn koffie kaas thee servies pościel pościeli komplet koc dywan zegarek koszula spódnica
kawa herbata walizka deka koberec hodinky košile sukně víno káva čaj sýr kufr täcke filt matta klocka skjorta kjol
kaffe pledd teppe klokke skjorte laukku takki kengät tyyny peitto matto kello paita viini kahvi juusto χαλί τσάντα
κουβέρτα ковдра чайник сумка куртка плед одеяло подушка ковёр ковер""".strip()))
_GOODS_RIGHT_BEFORE = re.compile(r"(?<![\w'’-])([^\W\d_]+)[ \t]+$")


def is_named_product(text: str, finding: Finding) -> bool:
    """True when `finding` (PERSON or LOCATION) names a product line: an article or possessive, the name and goods
    after it (`_GOODS`), or goods right before it (`_GOODS_BEFORE`); without the article, a name that is no listed
    given name or surname before goods of any cue language, or after a product field's label."""
    if finding.entity_type not in ("PERSON", "LOCATION"):
        return False
    from anonymize.recognizers.recase import listed_name

    # goods first: the name after them must be no listed given name or surname, since the same order also hands
    # goods to a person ("gib die Tasche Anna", "dejé la silla Ana en la entrada")
    goods = _GOODS_RIGHT_BEFORE.search(text, max(0, finding.start - 24), finding.start)
    if goods is not None and goods.group(1).lower() in _GOODS_BEFORE:
        return not listed_name(text[finding.start:finding.end])
    words = text[finding.start:finding.end].split()
    if len(words) == 2 and words[0].lower() in _GOODS_BEFORE:  # the goods inside the span: "Soffan Göteborg"
        return not listed_name(words[1])
    after = _LOWER_WORDS_AFTER.match(text, finding.end)
    words_after = after.group().split() if after is not None else []
    if _BEFORE_PRODUCT.search(text, max(0, finding.start - 40), finding.start) is not None:
        return any(w in _GOODS for w in words_after)
    # without an article or possessive: goods of any cue language after a name that is no listed given name or
    # surname ("Return label printed for Sonoma table runner", "kommer Lofoten pledd tilbake", "Brugge kantwerk
    # kussen"), or a product label's value ("Item: Edinburgh tartan scarf", "Artikel: Hamburg Regenschirm")
    labelled = _PRODUCT_LABEL.search(text, max(0, finding.start - 24), finding.start) is not None
    if not (labelled or _goods_right_after(words_after)):
        return False
    return not listed_name(text[finding.start:finding.end])


def is_goods_word(word: str) -> bool:
    """A lower-case word naming a kind of goods in a cue language (`_GOODS`, `_GOODS_BEFORE`)."""
    return word in _GOODS or word in _GOODS_BEFORE


def _goods_right_after(words: list[str]) -> bool:
    """Goods as the first or second word after a name, and not after a verb, an article or a function word, which
    make the name a person who does something with goods ("Adeyemi wants blanket", "Nakamura bought a sofa")."""
    from anonymize.recognizers.refine import is_stop_word  # refine imports name_lists, not this module

    def goods(word: str) -> bool:
        return is_goods_word(word) and word not in _GOODS_AND_WORDS

    if words and goods(words[0]):
        return True
    return (len(words) > 1 and goods(words[1]) and not is_stop_word(words[0])
            and not words[0].endswith(("ed", "s")) and words[0] not in _PAST_IRREGULAR)


_PAST_IRREGULAR = frozenset(("bought", "got", "sent", "took", "gave", "left", "brought", "kept", "found", "made",
                             "sold", "lost", "wore"))


# Goods words that are also verbs or function words of the cue languages, which follow a name as often ("Kowalczyk
# hat dieselbe": German "has"; "Bri stole it", "Anna throws", Swedish "rum": room): only after an article or
# possessive
_GOODS_AND_WORDS = frozenset(("hat", "pan", "pans", "pot", "pots", "cap", "tee", "tees", "line", "range", "kit",
                              "shell", "poles", "series", "edition", "collection", "bed", "stole", "throw", "throws",
                              "jam", "rum", "belt", "mixer", "sheets", "set", "tas"))  # "tas": French "a lot"


# The label of a returns form's or an order's product field, right before the product's name
_PRODUCT_LABEL = re.compile(r"(?<![\w'’-])(?i:item|article|artikel|artículo|articolo|artigo|produkt|product|producto|"
                            r"produto|prodotto|produit|tuote|termék|товар|商品)[ \t]*[:：][ \t]*$")


# A shop's promotion code after its cue ("use code SNOWDAY25", "Cupom VOLTA10", "Rabattcode SOMMER15", "واستخدم كود
# SHOP15"): a code printed for every customer, no personal data, whatever type a detector gave it. Only a code in
# capitals and digits right after the cue; not after a gift-card or voucher word (a gift card's code is the
# card's: GIFT_CARD), nor a postal, tax or area code ("zip code 90210" has no such cue).
_PROMO_CUE = re.compile(r"(?i:(?<![\w])(?:promo(?:tion(?:al)?)?[ -]?code|coupon(?:[ -]?code)?|discount[ -]?code|"
                        r"(?:use|using|with|enter|apply)[ \t]+(?:the[ \t]+)?code|code[ \t]+promo(?:tionnel)?|"
                        r"code[ \t]+de[ \t]+r[ée]duction|"
                        r"c[óo]digo[ \t]+(?:promocional|de[ \t]+desconto|de[ \t]+descuento)|"
                        r"cupom(?:[ \t]+de[ \t]+desconto)?|cup[óo]n(?:[ \t]+de[ \t]+descuento)?|codice[ \t]+(?:sconto|"
                        r"promozionale)|rabatt-?code|aktionscode|kortingscode|actiecode|kod[ \t]+(?:rabatowy|"
                        r"promocyjny)|slevov[ýy][ \t]+k[óo]d|indirim[ \t]+kodu|kupon[ \t]+kodu|промо-?код|كود(?:[ \t]+"
                        r"الخصم)?|كوبون|קוד[ \t]+(?:קופון|הנחה)|mã[ \t]+giảm[ \t]+giá|kode[ \t]+promo))"
                        r"[ \t]*[:：#]?[ \t]*$")
_PROMO_VALUE = re.compile(r"[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){2,23}")
PROMO_TYPES = ("GIFT_CARD", "ORDER_NUMBER", "POSTCODE", "LICENSE_PLATE", "ID_DOCUMENT", "LOYALTY_ID", "CUSTOMER_ID",
               "STREET_ADDRESS", "PERSON", "LOCATION")


def is_promo_code(text: str, finding: Finding) -> bool:
    """True when `finding` is one code of capitals and digits, with a letter in it, right after a promotion-code cue."""
    if finding.entity_type not in PROMO_TYPES:
        return False
    value = text[finding.start:finding.end]
    if not _PROMO_VALUE.fullmatch(value) or not any(ch.isalpha() for ch in value):
        return False
    return _PROMO_CUE.search(text, max(0, finding.start - 40), finding.start) is not None
