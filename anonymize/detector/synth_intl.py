"""Non-English retail text for the learned PII detector's synthetic corpus (issue 12, detector v4).

Real customer text is not all English: greetings, sign-offs, order words and product nouns in German, French,
Spanish, Italian, Dutch, Portuguese, Polish, Swedish, Danish and Czech are capitalised or sentence-initial like names,
and a model that has only seen English templates tags them as PERSON or LOCATION ("Guten Tag", "Groet", "Bestellung").
This module holds, per language, short retail templates written for this project (orders, deliveries, returns,
reviews, call notes, chats, gift messages) with the same `{slot}` names as `anonymize.detector.synth`, plus the
unlabelled words the templates draw from: greetings (`{hello}`), sign-offs (`{bye}`) and product nouns
(`{lproduct}`). Everything here is unlabelled context; the personal data in the slots comes from Faker, as in the
English templates (the synthetic-data recipe of Presidio's `presidio-research` generator, in more languages).
"""

from __future__ import annotations

# language -> locales whose texts use it (a text of another locale uses a random language now and then)
LANG_OF_LOCALE = {"de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl", "pt": "pt", "pl": "pl", "sv": "sv",
                  "da": "da", "no": "da", "cs": "cs", "sk": "cs"}

HELLO = {
    "en": ("Hi", "Hello", "Dear Sir or Madam", "Dear support team", "Hello customer care", "Good morning",
           "To whom it may concern", "Hey", "Hi there", "Dear team", "Good afternoon"),
    "de": ("Hallo", "Guten Tag", "Sehr geehrte Damen und Herren", "Liebes Team", "Moin", "Hallo zusammen", "Servus",
           "Grüezi", "Guten Morgen", "Liebes Kundenservice-Team"),
    "fr": ("Bonjour", "Bonsoir", "Madame, Monsieur", "Salut", "Chère équipe", "Bonjour à tous", "Bonjour Madame"),
    "es": ("Hola", "Buenos días", "Buenas tardes", "Estimados señores", "Hola equipo", "Buenas"),
    "it": ("Buongiorno", "Salve", "Ciao", "Gentile servizio clienti", "Buonasera", "Gentili signori"),
    "nl": ("Hallo", "Goedemiddag", "Goedemorgen", "Beste klantenservice", "Hoi", "Geachte heer/mevrouw", "Dag"),
    "pt": ("Olá", "Bom dia", "Boa tarde", "Prezados", "Oi", "Caros senhores"),
    "pl": ("Dzień dobry", "Witam", "Cześć", "Szanowni Państwo", "Witam serdecznie"),
    "sv": ("Hej", "Hejsan", "God dag", "Hej kundtjänst", "Hallå"),
    "da": ("Hej", "Goddag", "Kære kundeservice", "Hej med jer"),
    "cs": ("Dobrý den", "Ahoj", "Vážení", "Dobrý den přeji"),
}
BYE = {
    "en": ("Thanks", "Kind regards", "Best wishes", "Cheers", "Many thanks", "Regards", "Thank you", "Best"),
    "de": ("Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "LG", "Danke und Gruß", "Freundliche Grüße",
           "Herzliche Grüße", "Vielen Dank"),
    "fr": ("Cordialement", "Bien à vous", "Merci d'avance", "Bonne journée", "Salutations distinguées", "À bientôt",
           "Merci beaucoup"),
    "es": ("Saludos", "Un saludo", "Atentamente", "Gracias de antemano", "Muchas gracias", "Un abrazo"),
    "it": ("Cordiali saluti", "Grazie mille", "Distinti saluti", "A presto", "Saluti", "Grazie"),
    "nl": ("Met vriendelijke groet", "Groetjes", "Groet", "Alvast bedankt", "Mvg", "Vriendelijke groeten"),
    "pt": ("Obrigado", "Obrigada", "Atenciosamente", "Cumprimentos", "Abraço", "Um abraço", "Muito obrigado"),
    "pl": ("Pozdrawiam", "Z poważaniem", "Dziękuję", "Pozdrawiam serdecznie", "Z góry dziękuję"),
    "sv": ("Med vänliga hälsningar", "Mvh", "Tack på förhand", "Hälsningar", "Tack"),
    "da": ("Venlig hilsen", "Mvh", "Tak på forhånd", "Hilsen", "Mange tak"),
    "cs": ("S pozdravem", "Děkuji", "Díky", "S přáním hezkého dne"),
}
PRODUCTS = {
    "de": ("Wintermantel", "Laufschuhe", "Kaffeemaschine", "Bettwäsche", "Rucksack", "Regenjacke", "Pfanne",
           "Kopfhörer", "Wanderstiefel", "Teekanne", "Schreibtischlampe", "Handtuchset", "Wollpullover", "Sofakissen"),
    "fr": ("manteau d'hiver", "chaussures de course", "cafetière", "housse de couette", "sac à dos", "poêle",
           "casque audio", "théière", "lampe de bureau", "pull en laine", "Bottines", "Coussin"),
    "es": ("abrigo de invierno", "zapatillas de correr", "cafetera", "funda nórdica", "mochila", "sartén",
           "auriculares", "tetera", "lámpara de escritorio", "jersey de lana", "Botas"),
    "it": ("cappotto invernale", "scarpe da corsa", "macchina del caffè", "copripiumino", "zaino", "padella",
           "cuffie", "teiera", "lampada da scrivania", "maglione di lana"),
    "nl": ("wintermantel", "hardloopschoenen", "koffiezetapparaat", "dekbedovertrek", "rugzak", "koekenpan",
           "koptelefoon", "theepot", "bureaulamp", "Wollen trui"),
    "pt": ("casaco de inverno", "ténis de corrida", "máquina de café", "capa de edredão", "mochila", "frigideira",
           "auscultadores", "bule", "candeeiro", "camisola de lã"),
    "pl": ("płaszcz zimowy", "buty do biegania", "ekspres do kawy", "poszwa na kołdrę", "plecak", "patelnia",
           "słuchawki", "czajnik", "lampka biurkowa"),
    "sv": ("vinterjacka", "löparskor", "kaffebryggare", "påslakan", "ryggsäck", "stekpanna", "hörlurar",
           "tekanna", "skrivbordslampa"),
    "da": ("vinterjakke", "løbesko", "kaffemaskine", "dynebetræk", "rygsæk", "stegepande", "høretelefoner",
           "tekande"),
    "cs": ("zimní kabát", "běžecké boty", "kávovar", "povlečení", "batoh", "pánev", "sluchátka", "konvice"),
}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "de": (
        "Name: {name}\nAdresse: {address}\nTelefon: {phone}",
        "Bitte liefern Sie an folgende Adresse: {address}. Danke!",
        "{hello}, meine Bestellung {order} ist noch nicht angekommen. {bye}, {name}",
        "{hello}, die {lproduct} kam leider defekt an. Bitte schicken Sie Ersatz an {address}. Tel.: {phone}. "
        "{bye}\n{name}",
        "Lieferadresse:\n{name}\n{address_ml}\nTelefon: {phone}",
        "Kundin {name} aus {city} hat angerufen, Rückruf unter {phone} erbeten.",
        "Rücksendung von {titled}: {lproduct} ({sku}), Grund: zu klein. Abholung bei {street}, {locality}.",
        "{hello} {first}, vielen Dank für Ihren Einkauf! Ihre {lproduct} geht morgen nach {city}. {bye}, Ihr {brand} "
        "Team",
        "Notiz: {name} möchte Rechnungen künftig an {address} erhalten. Kontonummer {iban} hinterlegt.",
        "Bewertung: {lproduct} top, Lieferung nach {city} in {n} Tagen. Gerne wieder!",
        "Kunde: {hello}, ich bin {name} und warte seit {n} Tagen auf mein Paket.\nMitarbeiterin: Das tut mir leid, "
        "{first}. Ich prüfe das sofort.",
        "Zum Geburtstag für {first}: alles Liebe von {first} und {first}!",
        "Gutscheincode {gift} eingelöst, Restguthaben {price}. Kundennummer {custid}.",
        "{hello}, können Sie die {lproduct} auch nach {country} liefern? {bye}",
        "Gesprächsnotiz {date}: Herr {last} fragt nach dem Status von Auftrag {order}. Erledigt.",
        "Kunde: Mein Paket fehlt.\nSupport: {hello}, mein Name ist {first}. Ich schaue nach.",
        "Sie sprechen mit {first} vom Kundenservice. Wie kann ich helfen?",
    ),
    "fr": (
        "Nom : {name}\nAdresse : {address}\nTéléphone : {phone}",
        "Merci de livrer à l'adresse suivante : {address}.",
        "{hello}, ma commande {order} n'est toujours pas arrivée. {bye}, {name}",
        "{hello}, je m'appelle {name} et j'habite {address}. Pouvez-vous me rappeler au {phone} ? {bye}",
        "Adresse de livraison :\n{name}\n{address_ml}\nTél. {phone}",
        "Avis client : {lproduct} impeccable, livré à {city} en {n} jours. Je recommande !",
        "Client : {hello}, le colis est parti chez {first}, {street}, au lieu de chez moi.\nConseiller : Désolé "
        "{first}, je vérifie avec le transporteur.",
        "Retour de {titled} : {lproduct} ({sku}), taille trop petite. Remboursement de {price} sur la carte {card}.",
        "Note CRM : {name} a appelé depuis {city}, souhaite un échange. Rappeler au {phone}.",
        "Pour {first}, joyeux anniversaire ! Bisous, {first}",
        "{hello}, la {lproduct} {brand} est arrivée abîmée. Merci de me contacter. {bye}\n{name}\n{phone}",
        "Carte fidélité {custid} au nom de {name}, {city}.",
        "Conseiller : {hello}, ici {first} du service client. Quel est votre numéro de commande ?",
    ),
    "es": (
        "Nombre: {name}\nDirección: {address}\nTeléfono: {phone}",
        "Por favor, envíenlo a esta dirección: {address}.",
        "{hello}, mi pedido {order} todavía no ha llegado. {bye}, {name}",
        "{hello}, soy {name}. La {lproduct} llegó rota; envíen otra a {address}, por favor. Mi teléfono: {phone}.",
        "Dirección de envío: {name}, {address}. Tel. {phone}",
        "Opinión: la {lproduct} es estupenda, llegó a {city} en {n} días.",
        "Nota: {name} llamó desde {city} para cambiar la talla. Devolver la llamada al {phone}.",
        "Cliente: {hello}, ¿pueden enviarlo a {street}, {locality}?\nAgente: Claro, {first}, ya está cambiado.",
        "Devolución de {titled}: {lproduct} ({sku}), reembolso de {price} a la cuenta {iban}.",
        "Para {first}: ¡feliz cumpleaños! Con cariño, {first}",
        "{hello}, ¿hacen envíos a {country}? {bye}",
        "Agente: {hello}, le atiende {first}. ¿En qué puedo ayudarle?",
    ),
    "it": (
        "Nome: {name}\nIndirizzo: {address}\nTelefono: {phone}",
        "Per favore spedite a questo indirizzo: {address}.",
        "{hello}, il mio ordine {order} non è ancora arrivato. {bye}, {name}",
        "{hello}, sono {name}, abito in {address}. Potete richiamarmi al {phone}? {bye}",
        "Indirizzo di consegna:\n{name}\n{address_ml}\nCell. {phone}",
        "Recensione: {lproduct} ottima, consegnata a {city} in {n} giorni.",
        "Nota: {name} ha chiamato da {city}, vuole cambiare taglia. Richiamare al {phone}.",
        "Reso di {titled}: {lproduct} ({sku}), rimborso di {price}.",
        "Per {first}, buon compleanno! Un abbraccio da {first}",
    ),
    "nl": (
        "Naam: {name}\nAdres: {address}\nTelefoon: {phone}",
        "Graag bezorgen op dit adres: {address}.",
        "{hello}, mijn bestelling {order} is nog niet geleverd. {bye}, {name}",
        "{hello}, de {lproduct} is kapot aangekomen. Graag een nieuwe naar {address}. Tel. {phone}. {bye}, {name}",
        "Afleveradres: {name}, {address}",
        "Review: de {lproduct} is prima, binnen {n} dagen in {city} bezorgd.",
        "Notitie: {name} uit {city} belde over een retour. Terugbellen op {phone}.",
        "Klant: {hello}, kan het pakket naar {street} in {city}?\nMedewerker: Natuurlijk {first}, aangepast.",
        "Cadeaubon {gift} voor {first}. Veel plezier ermee!",
        "Medewerker: {hello}, met {first} van de klantenservice. Wat is uw ordernummer?",
    ),
    "pt": (
        "Nome: {name}\nEndereço: {address}\nTelefone: {phone}",
        "Por favor, enviem para esta morada: {address}.",
        "{hello}, o meu pedido {order} ainda não chegou. {bye}, {name}",
        "{hello}, sou {name} e moro em {address}. Podem ligar para {phone}? {bye}",
        "Morada de entrega: {name}, {address}. Telefone {phone}",
        "Avaliação: {lproduct} excelente, chegou a {city} em {n} dias.",
        "Nota: {name} ligou de {city} para trocar o tamanho. Ligar de volta para {phone}.",
        "Cliente: {hello}, o {lproduct} veio com defeito.\nAtendente: Lamento, {first}. Vamos enviar outro.",
        "Atendente: {hello}, fala {first}, do apoio ao cliente. Em que posso ajudar?",
    ),
    "pl": (
        "Imię i nazwisko: {name}\nAdres: {address}\nTelefon: {phone}",
        "{hello}, moje zamówienie {order} jeszcze nie dotarło. {bye}, {name}",
        "{hello}, nazywam się {name}, mieszkam pod adresem {address}. Proszę o kontakt: {phone}. {bye}",
        "Adres dostawy: {name}, {address}, tel. {phone}",
        "Opinia: {lproduct} super, dostawa do {city} w {n} dni.",
        "Notatka: {name} dzwonił w sprawie zwrotu. Oddzwonić: {phone}.",
    ),
    "sv": (
        "Namn: {name}\nAdress: {address}\nTelefon: {phone}",
        "{hello}, min beställning {order} har inte kommit. {bye}, {name}",
        "{hello}, jag heter {name} och bor på {address}. Ring mig på {phone}. {bye}",
        "Leveransadress: {name}, {address}",
        "Omdöme: {lproduct} är jättebra, levererad till {city} på {n} dagar.",
    ),
    "da": (
        "Navn: {name}\nAdresse: {address}\nTelefon: {phone}",
        "{hello}, min ordre {order} er ikke kommet endnu. {bye}, {name}",
        "{hello}, jeg hedder {name} og bor på {address}. Ring på {phone}. {bye}",
        "Leveringsadresse: {name}, {address}",
        "Anmeldelse: {lproduct} er fin, leveret til {city} på {n} dage.",
    ),
    "cs": (
        "Jméno: {name}\nAdresa: {address}\nTelefon: {phone}",
        "{hello}, moje objednávka {order} ještě nedorazila. {bye}, {name}",
        "{hello}, jmenuji se {name}, bydlím na adrese {address}. Telefon: {phone}. {bye}",
        "Doručovací adresa: {name}, {address}",
        "Recenze: {lproduct} je skvělý, doručeno do {city} za {n} dny.",
    ),
}
LANGS = tuple(TEMPLATES)
