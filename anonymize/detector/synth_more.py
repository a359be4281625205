"""More kinds of text for the learned PII detector's synthetic corpus (issue 12, detector v5).

v4 was trained on `anonymize.detector.synth` alone and, on hand-written development text, missed whole KINDS of
values: addresses with floors, suites, building names, landmarks ("near the water tower"), military addresses
(USPS Publication 28, section 23: "PSC 1234, Box 5678 / APO AE 09012") and bare postcodes after a country; identity
documents written without a cue word or with a weak one ("doc", "ID#", "exp."): passports, national ids, tax ids and
driver's licences in their national shapes; vehicle plates (a new label, LICENSE_PLATE, in the national formats:
UK DVLA, French SIV, German, Dutch sidecodes, Spanish, Italian, Polish, Nordic, US, Indian, Brazilian Mercosur);
order, customer and loyalty numbers with shop prefixes; single surnames and lower-case names in lists, at the
start of a line and after a role. This module holds those value shapes and templates, with the same `{slot}` names
and `SlotContext` helpers as `synth_slots`, which merges the slots into its `SLOTS` (`synth_templates` merges the
templates).

It also writes the decoys hand-written retail text is full of, unlabelled: store branches and warehouses named by
their town ("the Leeds store", "our Daventry warehouse"), company hotlines ("call us on 0800 ..."), and short texts
that end in a lower-case word ("..., phone below"). Values come from Faker (each locale's `license_plate`,
`passport_number`, `ssn`, en_US `military_*`) and from shapes written here; every draw is from the text's seeded
random stream, so the corpus stays reproducible (the presidio-research template recipe, as in `synth`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
FLOORS = ("2nd floor", "3rd Floor", "Floor 4", "ground floor", "1st floor left", "4. OG", "2. Stock", "3e étage",
          "2º B", "3º izq.", "piso 5", "Piso 2, puerta 3", "3° piano", "int. 7", "2 hoog", "3e verdieping", "m. 14",
          "lok. 5", "bt 4", "esc. B, 1º", "Etage 2", "Tür 12", "Stiege 3/Top 8")
SUITES = ("Suite", "Ste", "Ste.", "Apt", "Apt.", "Apartment", "Unit", "Flat", "Room", "Rm", "Office", "Bldg",
          "Building", "Block", "Tower", "Wing", "Lot", "Shop", "Kiosk")
BUILDINGS = ("House", "Court", "Mansions", "Residency", "Heights", "Towers", "Plaza", "Gardens", "Lodge", "Villas",
             "Apartments", "Business Park", "Centre", "Trade Park", "Complex", "Enclave", "Manor")
LANDMARKS = ("near the water tower", "opposite the pharmacy", "behind the old church", "next to the petrol station",
             "near City Mall", "opp. bus depot", "beside the post office", "near Hanuman temple", "behind the market",
             "across from the school", "near the roundabout", "after the bridge, blue gate", "next to the mosque",
             "frente a la plaza", "junto al mercado", "perto da padaria", "vor dem Bahnhof", "en face de la mairie",
             "dietro la chiesa", "naast de bakker")
WEAK_ID_CUES = ("ID#", "ID:", "Doc:", "doc no", "Document:", "No.", "Nr.", "#", "number", "card", "ref", "doc",
                "ID", "docs:", "Dokument", "pièce", "documento", "document", "id")
TAX_CUES = ("tax id", "TIN", "tax number", "VAT no.", "NIF", "Steuer-ID", "Steuernummer", "codice fiscale", "CPF",
            "PAN", "NINO", "national insurance no.", "PPS", "SIN", "TFN", "EIN", "RFC", "CURP", "numéro fiscal")
PLATE_CUES = ("reg", "reg.", "registration", "number plate", "licence plate", "license plate", "plate", "plates",
              "Kennzeichen", "immatriculation", "plaque", "matrícula", "targa", "kenteken", "numer rejestracyjny",
              "tag", "vehicle", "car")
CARS = ("Golf", "Corsa", "Fiesta", "Clio", "Polo", "Octavia", "Yaris", "Civic", "Model 3", "Transit van", "Qashqai",
        "Panda", "Ibiza", "Passat", "C-Class", "Sprinter", "Berlingo", "Kangoo", "CR-V", "Outback")
CAR_COLOURS = ("silver", "black", "red", "white", "blue", "grey", "dark green", "yellow")
BRANCH_FORMS = ("Filiale {city}", "Magasin de {city}", "store #{n} {city}", "tienda de {city}", "negozio di {city}",
                "winkel {city}", "sklep {city}", "{city} Mitte store", "{city} Centre branch", "depot {city}-Nord",
                "Shop {city} Süd", "pick-up point {city}")
HOTLINES = ("0800 {a} {b}", "0800-{a}-{b}", "1-800-{a}-{b}", "1800 {a} {b}", "0300 {a} {b}", "0845 {a} {b}",
            "0180 {a} {b}", "0 800 {a} {b}", "900 {a} {b}", "800 {a} {b}", "08 00 {a} {b}")
SITES = ("store", "shop", "branch", "warehouse", "outlet", "depot", "showroom", "pick-up point", "team", "office",
         "Filiale", "magasin", "tienda", "negozio", "winkel")
TAILS = ("phone below", "details below", "see below", "see attached", "photo attached", "thanks again", "pls advise",
         "asap please", "cheers", "call me", "txt me", "thx", "more soon", "info below", "address below",
         "order below", "same as before", "as discussed", "no rush", "urgent")
NAME_LABELS = ("Jméno", "Nafn", "Navn", "Namn", "Nimi", "Imię", "Ime", "Név", "Nume", "Όνομα", "Имя", "Владелец",
               "Ім'я", "Ad soyad", "Alıcı", "tên", "Nama", "Pangalan", "Jina", "intestata a", "intestatario",
               "a nombre de", "titular", "Contacto", "Kontakt", "Kund", "Kunde", "Empfänger", "Destinataire",
               "Destinatario", "Ontvanger", "Odbiorca", "Příjemce", "Contact", "Holder", "Cardholder", "Owner",
               "Nombre", "Nom", "Naam", "Nome", "Name", "Recipient", "Buyer", "Seller", "Sender", "Absender",
               "Expéditeur", "Remitente", "kolega", "Kollege", "Kollegin", "collègue", "compañero", "collega")
PREPS = ("in", "nach", "to", "from", "à", "a", "en", "em", "do", "naar", "til", "till", "w", "v", "в", "во",
         "at", "near", "aus", "de", "da", "z", "iz")
ROLES = ("driver", "courier", "agent", "cashier", "manager", "colleague", "tech", "fitter", "installer", "rep",
         "supervisor", "assistant", "neighbour", "landlord", "tenant", "nurse")


def _chars(ctx: Any, pool: str, n: int) -> str:
    return "".join(ctx.rng.choice(pool) for _ in range(n))


def _num(ctx: Any, lo: int, hi: int) -> str:
    return str(ctx.rng.randint(lo, hi))


# --- values ------------------------------------------------------------------------------------------------------
def plate(ctx: Any) -> str:
    """A vehicle plate: the locale's Faker shape or a national format written here."""
    c, d = (lambda n: _chars(ctx, LETTERS, n)), (lambda n: _chars(ctx, DIGITS, n))
    shapes: tuple[Callable[[], str], ...] = (
        lambda: f"{c(2)}{d(2)} {c(3)}", lambda: f"{c(2)}-{d(3)}-{c(2)}", lambda: f"{c(ctx.rng.randint(1, 3))}-"
        f"{c(ctx.rng.randint(1, 2))} {_num(ctx, 1, 9999)}", lambda: f"{d(2)}-{c(3)}-{d(1)}",
        lambda: f"{c(2)}-{d(3)}-{c(1)}", lambda: f"{d(4)} {c(3)}", lambda: f"{c(2)} {d(3)}{c(2)}",
        lambda: f"{c(2)} {d(5)}", lambda: f"{c(3)} {d(3)}", lambda: f"{c(3)}-{d(3)}", lambda: f"{d(1)}{c(3)}{d(3)}",
        lambda: f"{c(3)}-{d(4)}", lambda: f"{c(2)} {d(2)} {c(2)} {d(4)}", lambda: f"{c(3)}{d(1)}{c(1)}{d(2)}",
        lambda: f"{d(1)}-{c(3)}-{d(3)}", lambda: f"{c(2)}-{d(2)}-{c(2)}", lambda: f"{d(3)}-{c(1)}-{d(5)}",
        lambda: f"{c(1)}-{d(5)}{c(1)}", lambda: f"{c(2)} {d(6)}",
    )
    value = ctx.call("license_plate") if ctx.chance(0.35) else ""
    value = value or ctx.pick(shapes)()
    return value.lower() if ctx.chance(0.05) else value


def id_number(ctx: Any) -> str:
    """A passport, national id, tax id or driver's licence number in one of many national shapes."""
    c, d = (lambda n: _chars(ctx, LETTERS, n)), (lambda n: _chars(ctx, DIGITS, n))
    shapes: tuple[Callable[[], str], ...] = (
        lambda: d(9), lambda: c(1) + d(8), lambda: c(2) + d(7), lambda: f"{c(1)}{d(2)}{c(1)}{d(2)}{c(1)}{d(2)}",
        lambda: d(12), lambda: c(2) + d(5) + c(2), lambda: c(3) + d(6), lambda: f"{c(2)} {d(2)} {d(2)} {d(2)} {c(1)}",
        lambda: f"{d(3)}-{d(2)}-{d(4)}", lambda: f"{d(6)}-{d(4)}", lambda: f"{d(6)}-{d(3)}{c(1)}",
        lambda: f"{d(2)}.{d(2)}.{d(2)}-{d(3)}.{d(2)}", lambda: f"{d(3)}.{d(3)}.{d(3)}-{d(2)}",
        lambda: f"{c(4)}{d(6)}{c(6)}{d(2)}", lambda: f"{c(5)}{d(4)}{c(1)}", lambda: f"{d(4)} {d(4)} {d(4)}",
        lambda: f"{d(2)}-{d(7)}", lambda: f"{d(7)}{c(1)}", lambda: f"{d(3)} {d(3)} {d(3)}", lambda: d(11),
        lambda: f"{d(6)}-{d(7)}", lambda: d(18), lambda: f"{c(1)}{d(3)}-{d(4)}-{d(4)}", lambda: f"{c(1)}{d(7)}",
        lambda: f"{d(2)} {d(3)} {d(3)} {d(3)}", lambda: f"{c(1)}{d(3)}{c(1)}{d(2)}{c(1)}{d(2)}",
        lambda: ctx.call("passport_number"), lambda: ctx.call("ssn"),
    )
    return ctx.pick(shapes)() or d(9)


def order_id(ctx: Any) -> str:
    """Order, invoice and return numbers with the prefixes shops print."""
    prefix = ctx.pick(("#", "WEB-", "ORD", "ORD-", "INV-", "PO-", "SO-", "R-", "RMA-", "ES-", "DE", "UK-", "A",
                       "AB-", "BK", "WEB", "TK-", "CMD-", "BST-", "N", "No. ", ""))
    body = ctx.pick((_num(ctx, 10**5, 10**9), f"{_num(ctx, 1000, 9999)}-{_num(ctx, 10**4, 10**5 - 1)}",
                     f"{_num(ctx, 2020, 2026)}-{_num(ctx, 100, 99999)}", _chars(ctx, LETTERS + DIGITS, 8),
                     f"{_num(ctx, 100, 999)}-{_num(ctx, 10**6, 10**7 - 1)}-{_num(ctx, 10**6, 10**7 - 1)}"))
    return prefix + body


def customer_id(ctx: Any) -> str:
    """Customer, account, member and loyalty numbers."""
    prefix = ctx.pick(("C", "CU", "KD-", "CUST-", "K", "M", "MEM-", "LOY-", "FID-", "CL", "ACC-", "A-", "PB ", "",
                       "", "club-", "CARD "))
    return prefix + ctx.pick((_num(ctx, 10**5, 10**8), f"{_num(ctx, 0, 9)}{_num(ctx, 10**4, 10**6)}",
                              f"{_num(ctx, 1000, 9999)} {_num(ctx, 1000, 9999)}", _chars(ctx, DIGITS, 7)))


def hotline(ctx: Any) -> str:
    return ctx.pick(HOTLINES).format(a=_num(ctx, 100, 999), b=_num(ctx, 1000, 9999))


def building(ctx: Any) -> str:
    return f"{ctx.name_call('last_name').split()[-1]} {ctx.pick(BUILDINGS)}"


def street_plus(ctx: Any, street: Callable[[Any], str]) -> str:
    """One street-address line with what hand-written addresses add: floors, suites, buildings, landmarks."""
    base = street(ctx)
    r = ctx.rng.random()
    if r < 0.25:
        return f"{base}, {ctx.pick(FLOORS)}"
    if r < 0.45:
        suite = f"{ctx.pick(SUITES)} {_num(ctx, 1, 999)}{ctx.pick(('', '', 'B', '-A', '/2'))}"
        return f"{base} {suite}" if ctx.chance(0.5) else f"{suite}, {base}"
    if r < 0.65:
        return f"{ctx.pick(SUITES)} {_num(ctx, 1, 40)}{ctx.pick(('', 'B', 'C'))}, {building(ctx)}, {base}"
    if r < 0.85:
        return f"{base}, {ctx.pick(LANDMARKS)}" if ctx.chance(0.5) else f"{building(ctx)}, {ctx.pick(LANDMARKS)}"
    return f"{base} {ctx.pick(('bis', 'ter', 'a', 'B', '1/2', '- 2', 'Hinterhaus'))}"


def military(ctx: Any) -> list[Any]:
    """A US military address (USPS Publication 28): unit/PSC line, then APO/FPO/DPO, AA/AE/AP and ZIP."""
    line = ctx.english.military_apo() if ctx.chance(0.5) else ctx.english.military_dpo()
    if ctx.chance(0.2):
        line = f"{ctx.english.military_ship()} {ctx.english.last_name()}"
    kind = ctx.pick(("APO", "FPO", "DPO"))
    zip_code = ctx.pick(("09", "96", "34")) + _num(ctx, 100, 999)
    return [("STREET_ADDRESS", line), ctx.pick((", ", "\n", " ")), ("LOCATION", kind), " ",
            ("LOCATION", ctx.english.military_state()), " ", ("POSTCODE", zip_code)]


def slots(synth: Any) -> dict[str, Callable[[Any], list[Any]]]:
    """The slot fillers of this module, given `synth` (the `synth_slots` module, whose helpers they reuse)."""
    return {
        "street_plus": lambda c: [("STREET_ADDRESS", synth._case(street_plus(c, synth._street), c, 0.08, 0.05))],
        "address_plus": lambda c: [("STREET_ADDRESS", street_plus(c, synth._street)), c.pick((", ", "\n", " ")),
                                   *synth._locality(c, country=c.chance(0.3))],
        "military": military,
        "country_pc": lambda c: [("LOCATION", c.english.country() if c.chance(0.6) else c.call("country")), " ",
                                 ("POSTCODE", c.call("postcode"))],
        "plate": lambda c: [("LICENSE_PLATE", plate(c))],
        "car": lambda c: [f"{c.pick(CAR_COLOURS)} {c.pick(CARS)}"],
        "platecue": lambda c: [c.pick(PLATE_CUES) + c.pick((" ", ": ", " no. ", " ")), ("LICENSE_PLATE", plate(c))],
        "idno": lambda c: [("ID_DOCUMENT", id_number(c))],
        "weakid": lambda c: [c.pick(WEAK_ID_CUES) + c.pick((" ", " ", "")), ("ID_DOCUMENT", id_number(c))],
        "taxid": lambda c: [c.pick(TAX_CUES) + c.pick((" ", ": ", " is ")), ("ID_DOCUMENT", id_number(c))],
        "orderid": lambda c: [("ORDER_NUMBER", order_id(c))],
        "custno": lambda c: [("LOYALTY_ID", customer_id(c))],
        "hotline": lambda c: [hotline(c)],
        "branch": lambda c: [f"{c.call('city', 'city_name')} {c.pick(SITES)}" if c.chance(0.6) else
                             c.pick(BRANCH_FORMS).format(city=c.call("city", "city_name"), n=_num(c, 1, 9999))],
        "namelabel": lambda c: [c.pick(NAME_LABELS) + c.pick((" ", ": ", " ")),
                                ("PERSON", synth._case(synth._full_name(c) if c.chance(0.7) else synth._last(c), c,
                                                       0.1, 0.05))],
        "lcity": lambda c: [c.pick(PREPS) + " ", ("LOCATION", c.call("city", "city_name").lower()
                                                  if c.chance(0.5) else c.call("city", "city_name"))],
        "tail": lambda c: [c.pick(TAILS)],
        "role": lambda c: [c.pick(ROLES)],
        "lfirst": lambda c: [("PERSON", synth._first(c).lower())],
        "llast": lambda c: [("PERSON", synth._last(c).lower())],
        "lname": lambda c: [("PERSON", synth._full_name(c).lower())],
        "surnames": lambda c: _surnames(c, synth),
    }


def _surnames(ctx: Any, synth: Any) -> list[Any]:
    n = ctx.rng.randint(2, 4)
    out: list[Any] = []
    for i in range(n):
        if i:
            out.append(" and " if i == n - 1 and ctx.chance(0.6) else ", ")
        out.append(("PERSON", synth._case(synth._last(ctx), ctx, 0.08, 0.05)))
    return out


TEMPLATES: dict[str, tuple[str, ...]] = {
    "address2": (
        "Please deliver to {street_plus}, {locality}.",
        "Ship to:\n{name}\n{street_plus}\n{locality}",
        "my address is {address_plus}",
        "Address: {street_plus}\n{locality}\n{country}",
        "New address from Monday: {address_plus}. Thanks, {first}",
        "{name}\n{military}",
        "Send it to {military}, attn. {name}.",
        "I'm based in {country_pc}, can you ship here?",
        "Deliver to {name}, {street}, {locality}, {country_pc}",
        "Drop-off: {street_plus} (ring twice), {city}",
        "the courier could not find {street_plus}, it's {street_plus}",
        "Lieferadresse: {name}, {street_plus}, {locality}",
        "Adresse de livraison : {street_plus}, {locality}",
        "Dirección: {street_plus}, {locality}",
        "Billing: {address_plus}\nShipping: same",
        "c/o {name}\n{street_plus}\n{locality}\n{country}",
        "our new flat: {street_plus}. postcode {postcode}.",
        "{street_plus}\n{city}\n{postcode}",
    ),
    "ids": (
        "Scanned the customer's ID, {idno}, expires {date}.",
        "Holder: {name}\n{weakid}\nExp: {date}",
        "ID checked at collection: {weakid} ({first})",
        "{taxid} for the invoice, please.",
        "Please put my {taxid} on the receipt.",
        "Passport/ID: {idno}\nNationality: {country}",
        "document {idno} verified, age ok",
        "Verified with {dl}. Name on card {name}.",
        "Age check: {passport}, customer {last}.",
        "Invoice to {name}, {taxid}, {address}",
        "ID {idno} / {name} / {phone}",
        "Ausweis geprüft: {idno}, {name}",
        "pièce d'identité {idno}, {name}",
        "Customer {name} showed {natid} at the counter.",
        "{name}, licence {idno}, collected the trailer.",
        "Tax details: {taxid}. Company contact {name}.",
    ),
    "plates": (
        "I'll be in the car park in a {car}, {platecue}.",
        "Click & collect: {car}, {plate}, bay {n}.",
        "Kerbside pickup for order {orderid}: {platecue}",
        "The delivery van ({plate}) blocked our driveway on {date}.",
        "Vehicle: {car} {plate}\nDriver: {name}",
        "My husband will collect it, {car} with plate {plate}.",
        "{platecue}, parked outside the {branch}",
        "Parkplatz {n}, Kennzeichen {plate}, Abholung für {name}",
        "voiture {car} immatriculée {plate}, retrait commande {orderid}",
        "waiting in the {car} ({plate}) by the entrance",
        "Courier reg {plate} left the parcel at the wrong house.",
        "plate {plate} - {name} - collecting {n} boxes",
    ),
    "retailids": (
        "Order {orderid} still not here. Customer no. {custno}.",
        "Re: {orderid}\nHi, any update? {first}",
        "Invoice {orderid} for account {custno}.",
        "order nr {orderid} / customer {custno}",
        "My member number is {custno} but the points from {orderid} are missing.",
        "{custno} - {name} - points not added",
        "Your order {orderid} has been dispatched from our {branch}.",
        "Return {orderid} received at the {branch}; refund to {custno}.",
        "loyalty {custno}, order {orderid}, collect at the {branch}",
        "Kundennr. {custno}, Bestellung {orderid}",
        "Cliente {custno}: pedido {orderid} sin entregar.",
        "Ref {orderid} - questions? Call us on {hotline} (Mon-Fri).",
        "Customer {custno} called the hotline {hotline} about {orderid}.",
    ),
    "people2": (
        "Spoke with {last} at the desk, very helpful.",
        "Thanks to {surnames} for sorting it out.",
        "founders: {surnames}",
        "{last} was the {role} who brought it.",
        "our {role} {lfirst} said it would come today",
        "ask for {lfirst} at the {branch}",
        "signed: {last}",
        "{name}\nwants a refund.",
        "{last}\n{phone}\n{address}",
        "{lname} called twice about the {product}",
        "hi its {lfirst}, {tail}",
        "my neighbour {llast} took the parcel in",
        "Present: {surnames}. Apologies: {last}.",
        "{role}: {last} ({branch})",
        "pls ring {lfirst} on {phone}, {tail}",
        "Shift swap: {last} for {last} on {date}.",
    ),
    "labels": (  # v5b: a name right after a label or role word, in many languages, mid-sentence
        "{words} {namelabel}. {words}",
        "{namelabel}, {phone}",
        "Order {orderid}, {namelabel}, {words}",
        "{hello}, {words} {namelabel}",
        "Card {card} used 3 times, {namelabel}, IP {ip}.",
        "{words} {lcity}. {words}",
        "bought it for my place {lcity}, {tail}",
        "{namelabel} ({custno}) {words}",
        "Pickup at the {branch}. {namelabel}.",
        "Team: {surnames}. {last} is off today.",
    ),
    "decoys": (  # no personal data: store branches, hotlines, short texts ending in a lower-case word
        "Bought it at the {branch} last week, {tail}",
        "The {branch} had no stock. Call us on {hotline} for availability.",
        "Questions? Our hotline {hotline} is open 8-20.",
        "collected from the {branch}, {tail}",
        "Order placed on {date}, {tail}",
        "Can I return it to the {branch}? {tail}",
        "The {brand} {product} arrived, {tail}",
        "Problem with the {product}, {tail}",
        "new order, {tail}",
        "Transferred from our {branch} to the {branch}.",
        "Service line {hotline}; lines open {date}.",
    ),
}
KIND_WEIGHTS = {"address2": 1.2, "ids": 0.9, "plates": 0.6, "retailids": 0.7, "people2": 0.9, "decoys": 0.8,
                "labels": 1.0}
