"""Retail text templates of the mimesis evaluation set (bench/pii_eval/mimesis_set.py), written for this set only.

A `[slot]` is filled by `mimesis_set.Values`; a slot used twice in one template keeps one value. Slots: name, first,
last, agent, street, city, state, zip, phone, phone_ext, email, email_obf, card, iban, ip, dob, iddoc (+ idword, its
unlabelled document name), order, cust, loyalty, gift; decoys brand, place_brand, hotline, date, sku; and product
(unlabelled filler).
"""

from __future__ import annotations

BRAND_WORDS = ("Rose", "Bloom", "Noir", "& Co", "Atelier", "Luxe", "Velvet")
PLACE_WORDS = ("Gold", "Classic", "Nights", "Edition", "Blend")
EXT_WORDS = {"en": "ext.", "de": "Durchwahl", "fr": "poste", "es": "ext.", "it": "int.", "nl": "toestel",
             "pt": "ramal", "pl": "wew.", "sv": "ankn."}
# country -> (document name, mask: # digit, A letter)
ID_FORMATS = {"US": ("SSN", "###-##-####"), "GB": ("NI number", "AA ## ## ## A"), "DE": ("Ausweisnummer", "L#AA####A"),
              "AT": ("Reisepass", "P#######"), "CH": ("Pass", "X#######"), "FR": ("passeport", "##AA#####"),
              "ES": ("DNI", "########"), "MX": ("CURP", "AAAA######AAAAAA##"), "IT": ("codice fiscale",
              "AAAAAA##A##A###A"), "NL": ("BSN", "#########"), "BE": ("rijksregisternummer", "##.##.##-###.##"),
              "PT": ("NIF", "#########"), "BR": ("CPF", "###.###.###-##"), "PL": ("PESEL", "###########"),
              "SE": ("personnummer", "######-####"), "*": ("passport", "AA#######")}
PRODUCTS = {
    "en": ("hair dryer", "wool coat", "face cream", "running shoes", "desk lamp", "coffee grinder", "duvet cover"),
    "de": ("Wintermantel", "Kaffeemaschine", "Bettwäsche", "Laufschuhe", "Handcreme"),
    "fr": ("manteau", "crème de jour", "cafetière", "housse de couette", "baskets"),
    "es": ("abrigo", "crema facial", "cafetera", "zapatillas", "funda nórdica"),
    "it": ("cappotto", "crema viso", "macchina del caffè", "scarpe da corsa"),
    "nl": ("winterjas", "dagcrème", "koffiezetapparaat", "hardloopschoenen"),
    "pt": ("casaco", "creme facial", "cafeteira", "tênis de corrida"),
    "pl": ("płaszcz", "krem do twarzy", "ekspres do kawy", "buty do biegania"),
    "sv": ("vinterjacka", "ansiktskräm", "kaffebryggare", "löparskor"),
}

TEMPLATES = {
    "en": [
        ("email", "Hello, my [product] from order [order] arrived broken. Please send a replacement to [street], "
                  "[city] [zip]. You can call me on [phone]. Kind regards, [name]"),
        ("email", "Hi team,\nplease refund order [order] to the card I paid with, [card].\nThanks,\n[name]"),
        ("email", "Dear customer service, I moved. New address:\n[name]\n[street]\n[city], [state] [zip]\n"
                  "Customer no. [cust]"),
        ("chat", "Agent: Hi, this is [agent], how can I help?\nCustomer: hi, my gift card [gift] shows no balance\n"
                 "Agent: Sorry about that! What's the e-mail on the account?\nCustomer: [email]\n"
                 "Agent: Thanks [first], I've sent a new code."),
        ("chat", "Customer: where is my parcel? order [order]\nAgent: Hello, [agent] here. It left our "
                 "[place_brand] warehouse on [date] and is due in [city] tomorrow.\nCustomer: ok thanks"),
        ("call_note", "Caller [name] (DOB [dob]) asked to update the phone number on account [cust] to [phone_ext]. "
                      "Verified by [idword] [iddoc]."),
        ("call_note", "Spoke to [name] about the [brand] [product]. Refund to IBAN [iban] agreed. Hotline number "
                      "given for follow-ups: [hotline]."),
        ("crm_note", "Fraud review: account [cust] logged in from [ip], card [card] added, shipping changed to "
                     "[street], [city]. Customer [name] contacted at [email]."),
        ("loyalty_form", "LOYALTY SIGN-UP\nName: [name]\nDate of birth: [dob]\nE-mail: [email]\nMobile: [phone]\n"
                         "Card no.: [loyalty]"),
        ("review", "Bought the [brand] [product] for my partner [first]. Lovely quality, delivery to [city] was "
                   "quick."),
        ("review", "The [place_brand] [product] is great value. Ordered on [date], arrived two days later."),
        ("social", "@[first] so sorry about that! Please DM us your order number and we'll sort it out today."),
        ("delivery", "If I'm not in, leave it with my neighbour [last] at no. 3. [street], [city] [zip]. "
                     "Call [phone] on arrival."),
        ("returns", "RETURN FORM\nOrder: [order]\nName: [name]\nReason: wrong size\nRefund to: [iban]"),
        ("gift", "Happy birthday [first]! Enjoy the [brand] set. Love, [agent]"),
        ("email", "Please send the invoice to [email_obf], not to my old address. Order [order]. Thanks, [first]"),
        ("marketplace", "Hi, the [product] is still available. I can post it or you can collect in [city]. "
                        "Pay to [iban], name [name]."),
        ("survey", "Q: How was your visit? A: [agent] in the [sku] aisle was really helpful, I'll be back."),
    ],
    "de": [
        ("email", "Guten Tag, meine Bestellung [order] ([product]) ist beschädigt angekommen. Bitte Ersatz an "
                  "[street], [zip] [city]. Telefon [phone]. Viele Grüße, [name]"),
        ("email", "Hallo, bitte erstatten Sie den Betrag für Bestellung [order] auf mein Konto [iban]. Danke, [name]"),
        ("chat", "Kunde: Hallo, mein Gutschein [gift] funktioniert nicht\nMitarbeiterin: Hallo, hier ist [agent]. "
                 "Wie lautet Ihre Kundennummer?\nKunde: [cust]\nMitarbeiterin: Danke, ich schicke einen neuen Code "
                 "an [email]."),
        ("call_note", "Anruf von [name], geb. [dob], Kd.-Nr. [cust]. Neue Rufnummer: [phone_ext]."),
        ("loyalty_form", "Anmeldung Kundenkarte\nName: [name]\nGeburtsdatum: [dob]\nAnschrift: [street], [zip] "
                         "[city]\nKarten-Nr.: [loyalty]"),
        ("review", "Die [brand] [product] ist super, meine Frau [first] ist begeistert. Lieferung nach [city] in "
                   "zwei Tagen."),
        ("crm_note", "Verdacht auf Betrug: Konto [cust], Anmeldung von [ip], Karte [card]. Kunde [name] informiert."),
    ],
    "fr": [
        ("email", "Bonjour, ma commande [order] n'est pas arrivée. Adresse : [street], [zip] [city]. "
                  "Tél. [phone]. Cordialement, [name]"),
        ("email", "Bonjour, merci de rembourser la commande [order] sur mon IBAN [iban]. [name]"),
        ("chat", "Client : bonjour, ma carte cadeau [gift] ne marche pas\nConseillère : Bonjour, je suis [agent]. "
                 "Votre e-mail ?\nClient : [email]\nConseillère : Merci [first], un nouveau code est parti."),
        ("call_note", "Appel de [name], né(e) le [dob], [idword] [iddoc]. Souhaite modifier son numéro : [phone_ext]."),
        ("review", "La [brand] [product] est parfaite, livrée à [city] en 48h. Je recommande !"),
    ],
    "es": [
        ("email", "Hola, mi pedido [order] llegó roto. Dirección: [street], [zip] [city]. Teléfono [phone]. "
                  "Saludos, [name]"),
        ("email", "Buenas, por favor devuelvan el importe del pedido [order] a la tarjeta [card]. Gracias, [name]"),
        ("chat", "Cliente: hola, quiero cambiar la dirección\nAgente: Hola, soy [agent]. ¿Cuál es la nueva?\n"
                 "Cliente: [street], [city]\nAgente: Listo, actualizado para el pedido [order]."),
        ("loyalty_form", "Alta en el club: [name], nacido el [dob], [idword] [iddoc], tel. [phone], socio nº "
                         "[loyalty]."),
        ("review", "El [product] [place_brand] es muy bueno. Lo compré el [date] y llegó enseguida a [city]."),
    ],
    "it": [
        ("email", "Buongiorno, l'ordine [order] non è ancora arrivato. Indirizzo: [street], [zip] [city]. "
                  "Cell. [phone]. Saluti, [name]"),
        ("call_note", "Telefonata di [name], [idword] [iddoc], nato il [dob]. Chiede rimborso su [iban]."),
        ("chat", "Cliente: ciao, il buono [gift] non funziona\nOperatore: Ciao, sono [agent]. Mi dai la mail?\n"
                 "Cliente: [email_obf]\nOperatore: Grazie [first], ti mando un nuovo codice."),
        ("review", "La [brand] [product] è bellissima, regalo per mia sorella [first]."),
    ],
    "nl": [
        ("email", "Goedemiddag, bestelling [order] is beschadigd aangekomen. Adres: [street], [zip] [city]. "
                  "Tel. [phone]. Groet, [name]"),
        ("returns", "Retourformulier\nNaam: [name]\nOrdernummer: [order]\nRekening: [iban]"),
        ("chat", "Klant: mijn klantnummer is [cust], ik kan niet inloggen\nMedewerker: Goedemiddag, u spreekt met "
                 "[agent]. Ik stuur een link naar [email]."),
        ("review", "De [place_brand] [product] is prima, op [date] besteld en snel bezorgd."),
    ],
    "pt": [
        ("email", "Olá, meu pedido [order] não chegou. Endereço: [street], [city], [zip]. Celular [phone]. [name]"),
        ("call_note", "Ligação de [name], [idword] [iddoc], nascido em [dob]. Quer estorno no cartão [card]."),
        ("chat", "Cliente: oi, quero trocar o [product]\nAtendente: Olá! Aqui é [agent]. Qual o número do pedido?\n"
                 "Cliente: [order]\nAtendente: Obrigada, [first]. Etiqueta enviada para [email]."),
        ("review", "Amei o [brand] [product]! Comprei pra minha amiga [first] também."),
    ],
    "pl": [
        ("email", "Dzień dobry, zamówienie [order] nie dotarło. Adres: [street], [zip] [city]. Tel. [phone]. [name]"),
        ("returns", "Formularz zwrotu. Zamówienie [order]. [name]. Nr konta: [iban]."),
        ("call_note", "Klient [name], [idword] [iddoc], data urodzenia [dob]. Telefon [phone_ext]."),
        ("review", "[brand] [product] ładnie pachnie, polecam. Dostawa do [city] w dwa dni."),
    ],
    "sv": [
        ("email", "Hej! Min beställning [order] kom aldrig fram. Adress: [street], [zip] [city]. Tel [phone]. "
                  "/[name]"),
        ("call_note", "Samtal från [name], [idword] [iddoc]. Vill ha återbetalning till [iban]."),
        ("review", "[brand] [product] är jättebra, köpte en till min syster [first]."),
    ],
}

NO_PII = {
    "en": [
        ("review", "The [brand] [product] is lovely but the zip broke after a month. Three stars."),
        ("social", "Our [place_brand] range is back in stock! Questions? Call [hotline]."),
        ("survey", "Q: What could we improve? A: Faster delivery and fewer plastic bags."),
        ("email", "Hello, do you ship to islands? And is the [product] available in blue? Thanks."),
        ("crm_note", "Stock note: [sku] ([brand] [product]) low, reorder before the sale on [date]."),
        ("chat", "Customer: is the sale still on?\nAgent: Yes, until [date]!\nCustomer: great, thanks"),
    ],
    "de": [("review", "Der [brand] [product] ist schön, aber etwas teuer."),
           ("survey", "Kommentar: Die Lieferung war schnell, die Verpackung zu groß.")],
    "fr": [("review", "Le [product] [place_brand] est très bien, livraison rapide."),
           ("survey", "Commentaire : rien à signaler, merci.")],
    "es": [("review", "El [brand] [product] está bien pero es caro."), ("survey", "Comentario: todo perfecto.")],
    "it": [("review", "Il [product] [place_brand] è ottimo, consegna veloce."),
           ("survey", "Commento: servizio clienti gentile.")],
    "nl": [("review", "De [brand] [product] is mooi maar klein."), ("survey", "Opmerking: snelle levering.")],
    "pt": [("review", "O [product] [place_brand] é ótimo!"), ("survey", "Comentário: entrega rápida.")],
    "pl": [("review", "[brand] [product] jest w porządku, ale drogi."), ("survey", "Komentarz: szybka dostawa.")],
    "sv": [("review", "[brand] [product] är fin men dyr."), ("survey", "Kommentar: snabb leverans.")],
}
