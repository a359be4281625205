"""Addresses, places and short texts from outside Western Europe for the learned PII detector's corpus (issue 12,
detector v5).

Faker's street and city providers are English placeholders for several locales ("West Necva", "Şener Prairie") and
its street formats are tidy; hand-written customer text is neither. This module writes, per locale, the street-line
shapes people type (Turkish "Mah. ... Cad. No:12 D:5", Indian cross/main/landmark lines, Colombian "Cra. 43A # 1 Sur -
100", Argentine "Av. ... 3247, 5° D", Indonesian "Jl. ... Gg. ... No. 12", Vietnamese "số 18 ngõ 42 ...", Hungarian
"út 61. II. em. 4.", Romanian "nr. 7, bl. A3, sc. 1, ap. 12", Greek "Οδός ... 42, 3ος όροφος", Danish "44, 2. th.",
Korean "...로 396, 302동 1104호", Arabic "حي ...، شارع ...، مبنى 4418", US rural routes and county roads), locality
lines with the region abbreviations they carry ("Bornova/İZMİR", "Chascomús, Bs. As.", "Oaxaca, Oax.", "Co. Clare",
"Praha 10", "Chicago, IL 60647-1234"), city lists where Faker has none (well-known cities, in their own script), and
short texts in those languages (reviews, chats, delivery notes) around the values. The formats follow the national
postal conventions as the Universal Postal Union's address-format pages describe them; the words around them are
written for this project. The templates use `synth_slots`' slots plus the `w*` slots below; a "world" text takes its
locale's own templates (see `synth.SynthGenerator`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CITIES = {  # locales whose Faker cities are placeholders (or missing): well-known cities, own script or spelling
    "ar_SA": ("الرياض", "جدة", "مكة المكرمة", "المدينة المنورة", "الدمام", "الخبر", "تبوك", "أبها", "الطائف", "بريدة"),
    "ar_EG": ("القاهرة", "الإسكندرية", "الجيزة", "المنصورة", "طنطا", "أسيوط", "الأقصر", "أسوان", "بورسعيد"),
    "tr_TR": ("İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Eskişehir", "Konya", "Kayseri", "Trabzon", "Mersin",
              "Gaziantep", "Samsun", "Denizli", "Adana"),
    "en_KE": ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret", "Thika", "Malindi", "Nyeri"),
    "en_NG": ("Lagos", "Abuja", "Ibadan", "Kano", "Port Harcourt", "Enugu", "Benin City", "Abeokuta"),
    "zu_ZA": ("Cape Town", "Johannesburg", "Durban", "Pretoria", "Gqeberha", "Bloemfontein", "Stellenbosch",
              "Polokwane", "Milnerton", "Soweto"),
    "en_PH": ("Quezon City", "Cebu City", "Davao City", "Makati", "Pasig", "Taguig", "Iloilo City", "Baguio"),
}
DISTRICTS = {
    "tr_TR": ("Kadıköy", "Bornova", "Çankaya", "Nilüfer", "Konak", "Üsküdar", "Beşiktaş", "Muratpaşa", "Karşıyaka"),
    "ar_SA": ("النخيل", "العليا", "الملقا", "الروضة", "السلامة", "الحمراء", "الياسمين"),
    "ko_KR": ("마포구", "강남구", "분당구", "해운대구", "수성구", "서구", "유성구"),
}
REGION_ABBR = {
    "es_AR": ("Bs. As.", "CABA", "Cba.", "Sta. Fe", "Mza."), "es_MX": ("Oax.", "Jal.", "N.L.", "CDMX", "Pue.", "Ver."),
    "pt_BR": ("SP", "RJ", "MG", "ES", "PR", "BA", "RS"), "en_IE": ("Co. Clare", "Co. Cork", "Co. Galway", "Co. Kerry",
                                                                   "Co. Mayo", "Co. Dublin"),
    "en_IN": ("Karnataka", "Maharashtra", "UP", "Tamil Nadu", "MH", "KA", "Delhi"), "es_CO": ("Ant.", "Cund.", "Valle"),
}
ORDINAL_EN = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "12th")
LANDMARK_IN = ("Opp. {x} Complex", "Near {x} Temple", "Behind {x} School", "Near {x} Hospital", "Beside {x} Bank",
               "Opp. {x} Mall")


def _n(ctx: Any, lo: int, hi: int) -> int:
    return ctx.rng.randint(lo, hi)


def _letter(ctx: Any) -> str:
    return ctx.pick("ABCDEF")


def _street_name(ctx: Any) -> str:
    return ctx.call("street_name", fallback=lambda: ctx.name_call("last_name")) or ctx.name_call("last_name")


def _surname(ctx: Any) -> str:
    return ctx.call("last_name", fallback=lambda: ctx.name_call("last_name")).split()[-1]


def city(ctx: Any) -> str:
    """The locale's city: a listed one where Faker's is a placeholder, else Faker's."""
    listed = CITIES.get(ctx.locale)
    return ctx.pick(listed) if listed else ctx.call("city", "city_name")


STREETS: dict[str, Callable[[Any], str]] = {
    "tr_TR": lambda c: f"{_surname(c)} Mah. {_surname(c)} {c.pick(('Cad.', 'Sok.', 'Bulvarı'))} No:"
                       f"{_n(c, 1, 240)}{c.pick((f' D:{_n(c, 1, 30)}', f'/{_n(c, 1, 20)}', ''))}",
    "en_IN": lambda c: c.pick((
        f"No. {_n(c, 1, 400)}, {c.pick(ORDINAL_EN)} Cross, {c.pick(ORDINAL_EN)} Main, "
        f"{c.pick(LANDMARK_IN).format(x=_surname(c))}, {_surname(c)} Layout",
        f"Flat {_n(c, 101, 1504)}, {_surname(c)} Residency, {_surname(c)} Road",
        f"H.No. {_n(c, 1, 20)}-{_n(c, 1, 9)}-{_n(c, 1, 300)}, {_surname(c)} Nagar",
        f"Gali No. {_n(c, 1, 20)}, Mohalla {_surname(c)} {c.pick(('Wara', 'Tola', 'Pura'))}",
        f"Plot {_n(c, 1, 300)}, Sector {_n(c, 1, 60)}")),
    "es_CO": lambda c: f"{c.pick(('Cra.', 'Calle', 'Cl.', 'Diagonal', 'Transversal', 'Av.'))} {_n(c, 1, 120)}"
                       f"{c.pick(('', 'A', 'B', ' Bis'))} # {_n(c, 1, 99)}{c.pick(('', ' Sur'))} - {_n(c, 1, 150)}"
                       f"{c.pick(('', f', Apto {_n(c, 101, 2304)}', f', Torre {_n(c, 1, 5)} Apto {_n(c, 101, 904)}'))}",
    "es_AR": lambda c: f"{c.pick(('Av.', 'Calle', ''))} {_street_name(c).replace('Av. ', '')} {_n(c, 100, 5900)}"
                       f"{c.pick(('', f', {_n(c, 1, 15)}° {_letter(c)}', f', piso {_n(c, 1, 12)}'))}",
    "es_MX": lambda c: c.pick((f"Calle {_surname(c)} {_n(c, 1, 900)}, Col. {_surname(c)}",
                               f"Av. {_surname(c)} #{_n(c, 1, 2000)} int. {_n(c, 1, 30)}",
                               f"Entre calle {_surname(c)} y calle {_surname(c)}")),
    "id_ID": lambda c: f"Jl. {_surname(c)}{c.pick(('', f' KM {_n(c, 1, 20)},{_n(c, 1, 9)}'))}"
                       f"{c.pick(('', f' Gg. {_surname(c)}'))} No. {_n(c, 1, 200)}"
                       f"{c.pick(('', f', RT {_n(c, 1, 12):02d}/RW {_n(c, 1, 9):02d}'))}",
    "vi_VN": lambda c: c.pick((f"số {_n(c, 1, 200)} ngõ {_n(c, 1, 300)} {_street_name(c)}",
                               f"{_n(c, 1, 300)}/{_n(c, 1, 40)} {_street_name(c)}, Phường {_n(c, 1, 15)}",
                               f"Số {_n(c, 1, 500)} {_street_name(c)}")),
    "hu_HU": lambda c: f"{_street_name(c)} {_n(c, 1, 180)}. {c.pick(('II. em. 4.', 'fszt. 2.', '3. em. 12.', '1/5.'))}",
    "ro_RO": lambda c: f"Str. {_surname(c)} nr. {_n(c, 1, 150)}"
                       f"{c.pick(('', f', bl. {_letter(c)}{_n(c, 1, 9)}, sc. {_n(c, 1, 4)}, ap. {_n(c, 1, 80)}'))}",
    "el_GR": lambda c: f"{c.pick(('Οδός ', ''))}{_street_name(c)} {_n(c, 1, 200)}"
                       f"{c.pick(('', f', {_n(c, 1, 7)}ος όροφος'))}",
    "da_DK": lambda c: f"{_street_name(c)} {_n(c, 1, 200)}, {_n(c, 1, 6)}. {c.pick(('th.', 'tv.', 'mf.'))}",
    "no_NO": lambda c: f"{_street_name(c)} {_n(c, 1, 200)}{c.pick(('', ' B', f', H0{_n(c, 101, 504)}'))}",
    "sv_SE": lambda c: f"{_street_name(c)} {_n(c, 1, 120)}{c.pick((f' lgh {_n(c, 1001, 1604)}', ' nb', ''))}",
    "ko_KR": lambda c: f"{_street_name(c)}{c.pick(('로', '길', '대로'))} {_n(c, 1, 600)}, {_n(c, 101, 412)}동 "
                       f"{_n(c, 101, 2304)}호",
    "ar_SA": lambda c: f"حي {c.pick(DISTRICTS['ar_SA'])}، شارع {c.name_call('first_name')}، مبنى {_n(c, 1000, 9999)}",
    "fr_FR": lambda c: c.pick((f"Résidence {_surname(c)}, Bât. {c.pick(tuple('ABCD'))}, Esc. {_n(c, 1, 4)}",
                               f"{_n(c, 1, 120)} {_street_name(c)}, bât. {_letter(c)}, {_n(c, 1, 9)}e étage")),
    "de_DE": lambda c: f"{_street_name(c)} {_n(c, 1, 180)}{c.pick((', Hinterhaus', ', Vorderhaus', ''))}, "
                       f"{_n(c, 1, 5)}. OG {c.pick(('links', 'rechts', 'Mitte'))}",
    "it_IT": lambda c: f"Via {_surname(c)} {_n(c, 1, 150)}, scala {c.pick(tuple('ABCD'))}, int. {_n(c, 1, 30)}",
    "nl_NL": lambda c: f"{_street_name(c)} {_n(c, 1, 300)}{c.pick(('-II', '-I', ' bis', 'hs', '-3', ' A'))}",
    "fr_CA": lambda c: f"{_n(c, 1, 900)}-{_n(c, 100, 9999)} {c.pick(('boul.', 'rue', 'av.', 'ch.'))} {_surname(c)}"
                       f"{c.pick(('', ' O', ' E', ' Nord'))}",
    "en_US": lambda c: c.pick((f"{_n(c, 100, 9999)} {c.pick(tuple('NSEW'))} {_surname(c)} "
                               f"{c.pick(('Ave', 'St', 'Blvd', 'Rd', 'Dr'))} {c.pick(('Apt', 'Unit', '#'))} "
                               f"{_n(c, 1, 40)}{c.pick(('', 'R', 'B', 'F'))}",
                               f"{_n(c, 100, 9999)} county rd {_n(c, 1, 400)}", f"RR {_n(c, 1, 9)} Box {_n(c, 1, 300)}",
                               f"{_n(c, 100, 9999)} {_surname(c).upper()} {c.pick(('RD', 'ST', 'AVE'))}")),
    "zu_ZA": lambda c: f"Unit {_n(c, 1, 80)}, {_surname(c)} {c.pick(('Estate', 'Gardens', 'Village'))}, "
                       f"{_n(c, 1, 200)} {_surname(c)} {c.pick(('Rd', 'Street', 'Ave'))}",
    "en_KE": lambda c: f"P.O. Box {_n(c, 100, 99999)}-{_n(c, 100, 900):05d}",
}


def street(ctx: Any, fallback: Callable[[Any], str]) -> str:
    maker = STREETS.get(ctx.locale)
    return maker(ctx) if maker is not None else fallback(ctx)


def locality(ctx: Any, fallback: Callable[[Any], list[Any]]) -> list[Any]:
    """The locale's locality line as people write it, with region abbreviations; else `fallback(ctx)`."""
    loc, pc = ctx.locale, ("POSTCODE", ctx.call("postcode"))
    town = ("LOCATION", city(ctx))
    if loc == "tr_TR":
        return [("POSTCODE", str(_n(ctx, 1000, 81999)).zfill(5)), " ", ("LOCATION", ctx.pick(DISTRICTS[loc])), "/",
                ("LOCATION", city(ctx).upper() if ctx.chance(0.5) else city(ctx))]
    if loc in ("es_AR", "es_MX", "es_CO"):
        return [pc, " ", town, ", ", ("LOCATION", ctx.pick(REGION_ABBR[loc]))]
    if loc == "pt_BR":
        return [town, "/", ("LOCATION", ctx.pick(REGION_ABBR[loc])), ctx.pick((" | CEP ", ", CEP ", "\nCEP ")), pc]
    if loc == "en_IE":
        return [town, ", ", ("LOCATION", ctx.pick(REGION_ABBR[loc])), ", ",
                ("POSTCODE", f"{ctx.pick(('D', 'V', 'T', 'H'))}{_n(ctx, 10, 99)} {ctx.pick(('R', 'X', 'K', 'F'))}"
                            f"{_n(ctx, 1, 9)}{ctx.pick(('X', 'W', 'Y', 'E'))}{_n(ctx, 1, 9)}")]
    if loc == "en_IN":
        return [town, ctx.pick((", ", " - ")), ("LOCATION", ctx.pick(REGION_ABBR[loc])), " ",
                ("POSTCODE", str(_n(ctx, 110001, 855999)))]
    if loc == "cs_CZ":
        return [pc, " ", ("LOCATION", f"{ctx.pick(('Praha', 'Brno', 'Ostrava'))} {_n(ctx, 1, 10)}")]
    if loc == "da_DK":
        return [pc, " ", ("LOCATION", f"{city(ctx)} {ctx.pick(('N', 'S', 'Ø', 'V', 'K', 'C'))}")]
    if loc == "en_US":
        return [("LOCATION", city(ctx).upper() if ctx.chance(0.3) else city(ctx)), ", ",
                ("LOCATION", ctx.call("state_abbr")), " ", ("POSTCODE", f"{ctx.call('postcode')}-{_n(ctx, 1000, 9999)}"
                                                            if ctx.chance(0.4) else ctx.call("postcode"))]
    if loc in CITIES:
        return [town, ctx.pick((" ", ", ")), pc] if pc[1] else [town]
    return fallback(ctx)


def slots(synth: Any) -> dict[str, Callable[[Any], list[Any]]]:
    return {
        "wstreet": lambda c: [("STREET_ADDRESS", street(c, synth._street))],
        "wloc": lambda c: locality(c, synth._locality),
        "wcity": lambda c: [("LOCATION", synth._case(city(c), c, 0.12, 0.05))],
        "upname": lambda c: [("PERSON", synth._full_name(c).upper())],
        "waddr": lambda c: [("STREET_ADDRESS", street(c, synth._street)), c.pick((", ", "\n", " | ")),
                            *locality(c, synth._locality)],
    }


WORLD: dict[str, tuple[str, ...]] = {  # locale -> its own texts (the English "world" templates serve the rest)
    "tr_TR": ("Ürün çok güzel ama kargo {wcity} şubesinde bekledi. {name}",
              "Alıcı: {name}\n{wstreet}\n{wloc}\nTel: {phone}",
              "Merhaba, siparişim {orderid} hâlâ gelmedi. Adresim {waddr}. Teşekkürler, {first}"),
    "en_IN": ("Deliver to: {name}\n{wstreet}\n{wloc}\nMob: {phone}",
              "bhai parcel abhi tak nahi aaya, address {waddr}. call karo {phone}",
              "delivered to wrong house yaar, mine is {wstreet}, {wcity}. order {orderid}"),
    "es_CO": ("Enviar a: {wstreet}, {wcity}. Recibe {name}, cel {phone}",
              "Hola, el pedido {orderid} no ha llegado a {waddr}. Gracias, {first}"),
    "es_AR": ("¿El envío sigue siendo a {wstreet}, {wcity}? Soy {name}.",
              "{name}\n{wstreet}\n{wloc}", "Che, el pedido {orderid} llegó roto. Vivo en {wcity}. Saludos, {first}"),
    "es_MX": ("Destinatario: {name}\n{wstreet}\n{wloc}\n{wstreet}, portón café",
              "Buenas, ya pagué el pedido {orderid} pero no llega a {wcity}. Atte. {first}"),
    "id_ID": ("kak paket saya belum sampai, alamatnya di {wstreet}, {wcity} ya. makasih, {first}",
              "Barang sampai di {wcity} dengan selamat. Kurirnya Pak {first}, ramah. Mantap!",
              "Penerima: {name}\n{waddr}\nHP {phone}"),
    "vi_VN": ("shop ơi giao cho mình về {wstreet}, {wcity} nha. sđt {phone}",
              "Người nhận: {name}\nĐịa chỉ: {waddr}", "Hàng về tới {wcity} nhanh lắm, cảm ơn shop! {first}"),
    "th_TH": ("ผู้รับ {name} {waddr} โทร {phone}", "ส่งของถึง{wcity}เร็วมาก ขอบคุณค่ะ"),
    "ko_KR": ("받는분: {name}\n주소: {wcity} {wstreet}\n전화: {phone}", "배송 빨랐어요! {wcity}까지 이틀 걸렸어요.",
              "고객: 주문번호 {orderid} 아직 안 왔어요\n상담원: 확인해 드릴게요, {name} 고객님"),
    "ru_RU": ("Клиент: Здравствуйте, заказ {orderid} не пришёл\nОператор: Назовите адрес\nКлиент: {waddr}",
              "Доставили в {wcity} за три дня, спасибо! {name}", "Получатель: {name}\n{waddr}\nТел.: {phone}"),
    "uk_UA": ("Отримувач: {name}\n{waddr}\nТел. {phone}", "Замовлення {orderid} досі в {wcity}. Дякую, {first}"),
    "el_GR": ("{name}\n{wstreet}\n{wloc}", "Η παραγγελία {orderid} δεν έφτασε στη {wcity}. Ευχαριστώ, {first}"),
    "hu_HU": ("{name}\n{wcity}\n{wstreet}\n{postcode}", "Szia, a rendelésem ({orderid}) még nem jött meg. {name}"),
    "ro_RO": ("Destinatar: {name}, {wstreet}, {wloc}", "Bună ziua, comanda {orderid} nu a ajuns în {wcity}. {first}"),
    "ar_SA": ("المستلم: {name}\n{wstreet}\n{wloc}\nجوال: {phone}", "المنتج ممتاز والتوصيل سريع إلى {wcity}. شكراً",
              "العميل: الطلب رقم {orderid} لم يصل\nخدمة العملاء: نعتذر، {first}"),
    "ar_EG": ("التوصيل إلى {wcity} أخذ أسبوع. {name}", "العنوان: {wstreet}، {wcity}"),
    "pt_BR": ("Oi, meu pedido {orderid} não chegou. Endereço: {wstreet}, {wloc}. Obrigada, {first}",
              "Entreguem na portaria do {wstreet}, {wcity}. Falar com {first}."),
    "da_DK": ("{name}\n{wstreet}\n{wloc}", "Hej, ordre {orderid} er ikke kommet til {wcity}. Mvh {first}"),
    "sv_SE": ("{name}\nc/o {last}\n{wstreet}\n{wloc}", "Kund: kundnummer {custno}\nKundtjänst: Tack {first}!"),
    "no_NO": ("{name}\n{wstreet}\n{wloc}", "Pakken kom til {wcity} på to dager. Takk, {first}"),
    "fr_FR": ("Destinataire : {titled}\n{wstreet}\n{locality}\nTél : {phone}",
              "Livrez au {wstreet}, {locality} svp, code porte 4B21. {first}"),
    "de_DE": ("An: Familie {last}\n{wstreet}\n{locality}", "Bitte an {wstreet}, {locality} liefern. Gruß {first}"),
    "it_IT": ("Spett.le {name}\n{wstreet}\n{locality}", "Consegnare a {wstreet}, {locality}. Grazie, {first}"),
    "nl_NL": ("Het is afgeleverd op {wstreet}, maar ik woon op {wstreet}. Groet, {name}",
              "Klant: {postcode} nr {n} bis\nMedewerker: Dank u, {first}"),
    "fr_CA": ("{name}\n{wstreet}\n{wloc}", "Oui, au {wstreet}, {wcity}. Merci {first}!"),
    "en_US": ("{name}\n{wstreet}\n{wloc}", "{upname}\n{wstreet}\n{wloc}\nPH {phone}",
              "left it with the neighbor at {wstreet}. {first} {phone}",
              "[10:04] Agent: shipping address?\n[10:04] Customer: {wstreet}, {wloc}"),
    "zu_ZA": ("Complex is {wstreet}, {wcity}. Gate code at the guard. {first}", "{name}\n{wstreet}\n{wloc}"),
    "en_KE": ("{name}, {wstreet}, {wcity}. Pick up at the post office. {phone}",),
    "en_NG": ("Abeg deliver to {street}, {wcity}. Call {first} on {phone}",
              "Package reached {wcity} but nobody called me. {name}"),
    "en_PH": ("salamat po ate {first}! grabe bilis ng delivery dito sa {wcity}",
              "Customer: hello po, pa-cancel po order ko {orderid}\nAgent: Thank you, Ms. {last}."),
    "en_IE": ("{name}\n{street}\n{wloc}", "It's {street}, {wloc}. the driver couldn't find it, {first}"),
}
NEW_LOCALES = {"ar_SA": (0.4, "966", "CITY PC"), "ar_EG": (0.3, "20", "CITY PC"), "en_KE": (0.3, "254", "CITY PC"),
               "en_NG": (0.3, "234", "CITY PC"), "zu_ZA": (0.3, "27", "CITY PC")}
WORLD_SHARE = 0.22  # share of texts of a locale with WORLD templates that take one of them
