"""Decoy-rich context and the name shapes that still leaked, for the learned PII detector's corpus (issue 12, v6).

Scored on the hand-written development set, most of the false-positive characters left at egress came from the
learned detector itself, on kinds of text its corpus rarely showed unlabelled: whole chat turns in scripts written
without spaces or right to left (Japanese, Korean, Thai, Chinese, Hebrew, Arabic) and turn-opening words of other
languages ("Perfect", "Of course", "Invoice ..."); dates of birth and promotion dates run into a neighbouring
address; SKUs, style codes and parcel tracking numbers read as addresses or ids; catalog brands shaped like
surnames, places or ordinary words. The names it still missed were @handles, lower-case first names in lower-case
chat, surnames in lists and "Name | Job title" e-mail signatures. This module writes those kinds, with the
`{slot}` and `SlotContext` conventions of `synth_slots` (which merges `slots()`); `synth.SynthGenerator` adds the
templates only for the corpus recipe "v6" (`python -m anonymize.detector.train --recipe v6`), so the default recipe
still draws the shipped model's corpus:

- unlabelled: everyday retail chat phrases written for this project in 21 languages with their chat-role labels;
  brands made from invented syllables, ordinary words and (only where the context says brand: "the X serum",
  "X's new palette", "by X") surnames and town names; dates in many national formats and birth-date cues
  (a date of birth is the rule layer's DATE_OF_BIRTH, never part of an address); SKUs, EANs, model numbers and
  parcel tracking numbers behind their cue words;
- labelled PERSON: @handles made from a name (the anonymizer masks handles as persons), lower-case first names in
  casual lower-case text, surnames in lists with several separators, names beside job titles and in "Name | Title"
  signature lines.

Store branches stay unlabelled as in `synth_more` (anonymize/recognizers/branches.py: a branch named by its town is
the retailer's public address). The recipe is the presidio-research template approach used by `synth`; every draw
is from the text's seeded random stream, so the corpus stays reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Everyday retail chat, per language: (customer label, agent label, phrases). No names, places or numbers in them.
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "ja": (("お客様", "客", "購入者"), ("担当", "オペレーター", "サポート", "店舗"),
           ("ご連絡ありがとうございます", "少々お待ちください", "商品はとても良かったです", "発送はいつになりますか",
            "確認いたします", "かしこまりました", "返品したいのですが", "サイズが合いませんでした",
            "よろしくお願いします",
            "お手数をおかけしました", "また利用します", "箱が少し潰れていました", "色違いはありますか", "承知しました",
            "届くのが早くて助かりました", "交換の手続きをお願いします")),
    "ko": (("고객", "구매자", "손님"), ("상담원", "상담사", "판매자", "매장"),
           ("문의 감사합니다", "잠시만 기다려 주세요", "제품 너무 마음에 들어요", "언제 발송되나요",
            "확인해 보겠습니다",
            "알겠습니다", "반품하고 싶어요", "사이즈가 안 맞아요", "감사합니다", "포장이 꼼꼼했어요",
            "다음에 또 살게요",
            "색상 교환 가능한가요", "처리 완료되었습니다", "불편을 드려 죄송합니다", "품질이 좋아요")),
    "zh": (("客户", "买家", "顾客"), ("客服", "卖家", "店员"),
           ("谢谢您的耐心", "请稍等", "东西很好用", "什么时候发货", "我帮您查一下", "好的没问题", "我想退货",
            "尺码偏小",
            "包装很仔细", "下次还会再来", "颜色可以换吗", "已经为您处理好了", "非常抱歉给您带来不便", "质量不错")),
    "th": (("ลูกค้า", "ผู้ซื้อ"), ("แอดมิน", "ร้าน", "พนักงาน"),
           ("ขอบคุณมากค่ะ", "รอสักครู่นะคะ", "สินค้าดีมากครับ", "จะส่งของเมื่อไหร่คะ", "ตรวจสอบให้แล้วค่ะ",
            "ได้เลยครับ",
            "อยากคืนสินค้าค่ะ", "ไซส์เล็กไปหน่อย", "แพ็คของดีมาก", "จะมาอุดหนุนอีกนะคะ", "มีสีอื่นไหมคะ",
            "ขออภัยในความไม่สะดวกค่ะ", "คุณภาพดีสมราคา")),
    "he": (("לקוח", "לקוחה"), ("נציג", "נציגה", "שירות לקוחות"),
           ("תודה רבה", "רגע אני בודקת", "המוצר מצוין", "מתי זה יישלח", "אין בעיה", "אני רוצה להחזיר", "המידה קטנה",
            "אריזה יפה", "אקנה שוב", "יש בצבע אחר", "טיפלנו בזה", "מצטערים על אי הנוחות", "איכות טובה", "ממליץ בחום")),
    "ar": (("العميل", "الزبون"), ("خدمة العملاء", "الموظف", "المتجر"),
           ("شكرا جزيلا", "لحظة من فضلك", "المنتج رائع", "متى يتم الشحن", "سأتحقق من ذلك", "حاضر", "أريد إرجاع الطلب",
            "المقاس صغير", "التغليف ممتاز", "سأشتري مرة أخرى", "هل يوجد لون آخر", "تم حل المشكلة", "نعتذر عن الإزعاج",
            "جودة ممتازة", "وعليكم السلام", "أهلا وسهلا")),
    "ru": (("Клиент", "Покупатель"), ("Оператор", "Менеджер", "Поддержка"),
           ("Спасибо большое", "Минуточку, проверю", "Товар отличный", "Когда отправите?", "Конечно", "Хочу вернуть",
            "Размер маловат", "Упаковка хорошая", "Закажу ещё", "Есть другой цвет?", "Готово, всё оформлено",
            "Приносим извинения", "Качество на высоте", "Добрый вечер", "Здравствуйте")),
    "uk": (("Клієнт", "Покупець"), ("Оператор", "Менеджер"),
           ("Дуже дякую", "Хвилинку, перевірю", "Товар чудовий", "Коли відправите?", "Звичайно", "Хочу повернути",
            "Розмір замалий", "Замовлю ще", "Вибачте за незручності", "Якість хороша", "Доброго дня")),
    "el": (("Πελάτης", "Πελάτισσα"), ("Εκπρόσωπος", "Υποστήριξη"),
           ("Ευχαριστώ πολύ", "Μισό λεπτό να ελέγξω", "Το προϊόν είναι τέλειο", "Πότε θα σταλεί;", "Φυσικά",
            "Θέλω να το επιστρέψω", "Το μέγεθος είναι μικρό", "Ωραία συσκευασία", "Καλησπέρα")),
    "tr": (("Müşteri", "Alıcı"), ("Temsilci", "Mağaza", "Destek"),
           ("Çok teşekkürler", "Bir dakika kontrol ediyorum", "Ürün harika", "Ne zaman kargoya verilir?", "Tabii ki",
            "İade etmek istiyorum", "Beden küçük geldi", "Paketleme çok iyi", "Yine alırım", "Başka renk var mı?",
            "Kusura bakmayın", "Kalitesi çok iyi", "Merhaba")),
    "pl": (("Klient", "Klientka"), ("Konsultant", "Sklep", "Obsługa"),
           ("Dziękuję bardzo", "Chwileczkę, sprawdzę", "Produkt super", "Kiedy wysyłka?", "Oczywiście",
            "Chcę zwrócić towar", "Rozmiar za mały", "Świetnie zapakowane", "Zamówię ponownie", "Faktura w załączniku",
            "Przepraszamy za kłopot", "Jakość bardzo dobra", "Dzień dobry", "Pozdrawiam serdecznie")),
    "cs": (("Zákazník", "Zákaznice"), ("Operátor", "Podpora", "Obchod"),
           ("Moc děkuji", "Moment, ověřím to", "Výrobek je skvělý", "Kdy to odešlete?", "Samozřejmě", "Chci to vrátit",
            "Velikost je malá", "Pěkně zabalené", "Objednám znovu", "Omlouváme se", "Kvalita je dobrá", "Dobrý den")),
    "nl": (("Klant",), ("Medewerker", "Klantenservice", "Winkel"),
           ("Heel erg bedankt", "Momentje, ik kijk even", "Top product", "Wanneer wordt het verzonden?", "Natuurlijk",
            "Ik wil het retourneren", "De maat valt klein", "Netjes verpakt", "Ik bestel zeker weer",
            "Excuses hiervoor",
            "Kwaliteit is prima", "Goedemiddag", "Helaas nog niets ontvangen")),
    "vi": (("Khách", "Khách hàng"), ("Shop", "Nhân viên", "CSKH"),
           ("Cảm ơn shop nhiều", "Bạn đợi chút nhé", "Hàng đẹp lắm", "Khi nào giao ạ?", "Dạ vâng ạ",
            "Mình muốn đổi trả",
            "Size hơi nhỏ", "Đóng gói cẩn thận", "Sẽ ủng hộ tiếp", "Xin lỗi bạn nhé", "Chất lượng tốt")),
    "id": (("Pembeli", "Pelanggan"), ("CS", "Admin", "Toko"),
           ("Terima kasih banyak", "Mohon ditunggu kak", "Barangnya bagus", "Kapan dikirim kak?", "Siap kak",
            "Mau retur barang", "Ukurannya kekecilan", "Packingnya rapi", "Nanti order lagi", "Mohon maaf kak",
            "Kualitas oke", "Baik kak, sudah kami proses")),
    "pt": (("Cliente",), ("Atendente", "Assistente", "Loja"),
           ("Muito obrigada", "Um momento, vou verificar", "Produto ótimo", "Quando é enviado?", "Claro",
            "Quero devolver",
            "O tamanho ficou pequeno", "Bem embalado", "Vou comprar de novo", "Pedimos desculpa", "Boa tarde",
            "Perfeito, obrigado")),
    "es": (("Cliente", "Clienta"), ("Agente", "Tienda", "Soporte"),
           ("Muchas gracias", "Un momento, lo reviso", "Producto genial", "¿Cuándo se envía?", "Perfecto",
            "Claro que sí",
            "Quiero devolverlo", "La talla es pequeña", "Muy bien embalado", "Volveré a comprar",
            "Disculpe las molestias",
            "Buenas tardes", "Listo, ya está")),
    "fr": (("Client", "Cliente"), ("Conseiller", "Conseillère", "Service client"),
           ("Merci beaucoup", "Un instant, je vérifie", "Produit super", "C'est envoyé quand ?", "Bien sûr",
            "C'est noté",
            "Je souhaite le retourner", "La taille est petite", "Très bien emballé", "Je recommanderai",
            "Désolés pour le désagrément", "Bonne journée")),
    "de": (("Kunde", "Kundin"), ("Mitarbeiter", "Kundenservice", "Filiale"),
           ("Vielen Dank", "Moment, ich schaue nach", "Tolles Produkt", "Wann wird verschickt?", "Selbstverständlich",
            "Ich möchte es zurückschicken", "Fällt klein aus", "Gut verpackt", "Bestelle gern wieder",
            "Rückmeldung folgt",
            "Entschuldigen Sie die Umstände", "Schönen Tag noch", "Interne Notiz", "Seriennummer steht hinten")),
    "it": (("Cliente",), ("Operatore", "Assistenza", "Negozio"),
           ("Grazie mille", "Un attimo, controllo", "Prodotto ottimo", "Quando viene spedito?", "Certo",
            "Vorrei restituirlo", "La taglia è piccola", "Imballato bene", "Ricomprerò", "Ci scusiamo", "Buonasera")),
    "en": (("Customer", "Client", "Me"), ("Agent", "Support", "Store", "CS"),
           ("Thanks so much", "One moment, let me check", "Great product", "When will it ship?", "Of course",
            "Sure thing",
            "I'd like to return it", "Runs small", "Well packaged", "Will buy again", "Sorry about that", "Cancelled",
            "All sorted", "Brilliant, cheers", "Bravo", "Grand job")),
}
SCRIPT_LANG = {"ja": "ja", "ko": "ko", "zh": "zh", "th": "th", "he": "he", "ar": "ar", "ru": "ru", "uk": "uk",
               "el": "el", "tr": "tr", "pl": "pl", "cs": "cs", "sk": "cs", "nl": "nl", "vi": "vi", "id": "id",
               "pt": "pt", "es": "es", "fr": "fr", "de": "de", "it": "it", "en": "en"}
SYLLABLES = ("lu", "mi", "ra", "ve", "no", "ka", "zo", "el", "ar", "is", "on", "ta", "bri", "sol", "nor", "vel",
             "qui", "dra", "fen", "lo", "sa", "mer", "tin", "ova", "ux", "bel", "cor", "dun", "ith", "ya")
SUFFIXES = ("", "", "a", "o", "ique", "ly", "ia", "en", "is", "ora")
WORDS = ("Bloom", "Hearth", "Fable", "Willow", "Saltwater", "Ember", "Honest", "Kind", "Glow", "Daily", "Common",
         "Thread", "Stone", "Field", "Harbour", "Meadow", "Pebble", "Atlas", "Echo", "Juniper", "Clover", "Maple",
         "Summit", "Origin", "Pure", "Wild", "Nomad", "Velvet", "Orchard", "Lantern", "Cedar", "Tide", "Nectar",
         "Pilot", "Anchor", "Birch", "Canvas", "Frost", "Golden", "Little")
BRAND_TAILS = ("", "", "", " Beauty", " Home", " & Co", " Studio", " Labs", " Kitchen", " Sport", " Paris",
               " Cosmetics", " Outdoor", " & Sons", " Naturals", " Living", " Audio", " Kids")
BEAUTY = ("serum", "palette", "lipstick", "foundation", "mascara", "moisturiser", "cleanser", "eau de parfum",
          "body lotion", "dry shampoo", "face mask", "blush", "highlighter", "sneakers", "hoodie", "air fryer",
          "blender", "kettle", "backpack", "sunscreen", "perfume", "toner", "concealer", "hair oil", "bikini")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mon", "Fri", "Sat",
            "Montag", "Freitag", "lundi", "samedi", "lunes", "viernes", "sabato", "zaterdag", "piątek", "pátek")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "December", "janvier",
          "März", "mayo", "giugno", "oktober", "listopad", "dezembro")
DOB_CUES = ("born", "DOB", "d.o.b.", "date of birth", "bday", "birthday", "geb.", "geboren am", "Geburtsdatum",
            "né le", "née le", "date de naissance", "nacido el", "fecha de nacimiento", "nascimento",
            "data di nascita", "nato il", "geboortedatum", "ur.", "data urodzenia", "nar.", "datum narození",
            "doğum tarihi", "дата рождения", "生年月日", "생일", "生日", "f. nac.", "DOB:", "birth date")
SKU_CUES = ("SKU", "Art.", "Art.-Nr.", "item", "style", "model", "ref.", "réf.", "article", "REF", "Modell",
            "codice", "product code", "item no.", "part no.")
TRACK_CUES = ("tracking", "tracking no.", "tracking number", "Sendungsnummer", "Sendung", "numéro de suivi",
              "colis", "seguimiento", "n.º de envío", "tracciamento", "track & trace", "przesyłka", "zásilka",
              "mã vận đơn", "운송장", "追跡番号", "快递单号", "AWB", "waybill", "consignment")
JOB_TITLES = ("Store Manager", "Assistant Manager", "Customer Care Lead", "Head of Customer Service", "Team Lead",
              "Area Manager", "Shift Supervisor", "Visual Merchandiser", "Buyer", "Senior Buyer", "Warehouse Manager",
              "Operations Manager", "Customer Experience Manager", "Returns Coordinator", "Sales Associate",
              "Filialleiterin", "Filialleiter", "Responsable de magasin", "Jefa de tienda", "Gerente de loja",
              "Responsabile negozio", "Kierownik sklepu", "Bedrijfsleider", "Key Account Manager", "CEO", "Founder",
              "Co-founder", "Director of Operations", "Head of E-commerce", "Community Manager")
HANDLE_WORDS = ("baker", "runner", "styles", "home", "vibes", "reads", "makes", "cooks", "travels", "official",
                "beauty", "garden", "knits", "fit", "eats", "diy", "designs", "lifts", "studio", "life")
SEPARATORS = (", ", ", ", "; ", " / ", " & ", " · ")
FOUNDER_CUES = ("founders", "founded by", "co-founders", "board", "our team", "staff on duty", "present",
                "thanks to", "signed off by", "partners", "judges", "organisers", "cc", "owners")


LATIN = tuple(lang for lang in PHRASES if lang not in ("ja", "ko", "zh", "th", "he", "ar", "ru", "uk", "el"))


def _lang(ctx: Any, pool: tuple[str, ...] = tuple(PHRASES)) -> str:
    own = SCRIPT_LANG.get(ctx.locale[:2])
    return own if own in pool and ctx.chance(0.8) else ctx.pick(pool)


def brand(ctx: Any) -> str:
    """A catalog brand: invented syllables, ordinary words, or (25%) a surname or town shape."""
    r = ctx.rng.random()
    if r < 0.4:
        word = "".join(ctx.pick(SYLLABLES) for _ in range(ctx.rng.randint(2, 3))) + ctx.pick(SUFFIXES)
        core = word.capitalize()
    elif r < 0.75:
        core = ctx.pick(WORDS) + (f" {ctx.pick(WORDS)}" if ctx.chance(0.35) else "")
    elif r < 0.9:
        core = ctx.name_call("last_name").split()[-1]
    else:
        core = ctx.call("city", "city_name").split(",")[0]
    return core + ctx.pick(BRAND_TAILS)


def date_any(ctx: Any) -> str:
    """A date as retail text writes it, in several national formats (never labelled)."""
    d, m, y = ctx.rng.randint(1, 28), ctx.rng.randint(1, 12), ctx.rng.randint(1950, 2026)
    return ctx.pick((f"{m}/{d}", f"{d:02d}/{m:02d}", f"{d}.{m}.", f"{d:02d}.{m:02d}.{y}", f"{y}-{m:02d}-{d:02d}",
                     f"{m:02d}/{d:02d}/{y}", f"{d}/{m}/{y % 100:02d}", f"{d} {ctx.pick(MONTHS)}",
                     f"{ctx.pick(MONTHS)} {d} {y}", f"{ctx.pick(WEEKDAYS)} {m}/{d}", f"{ctx.pick(WEEKDAYS)} {d}.{m}.",
                     f"{y}年{m}月{d}日", f"{y}.{m:02d}.{d:02d}", f"{d}. {m}. {y}", f"{ctx.pick(WEEKDAYS)}"))


def dob(ctx: Any) -> str:
    """A birth-date cue and a date: "DOB: 03/14/1979", "geb. 17.11.1958", "生年月日：1985年4月12日"."""
    cue = ctx.pick(DOB_CUES)
    sep = " " if cue.endswith(":") else ctx.pick(("", "：", " ")) if not cue.isascii() else ctx.pick((" ", ": "))
    return f"{cue}{sep}{date_any(ctx)}"


def sku(ctx: Any) -> str:
    """A product code: style codes, dotted article numbers (not the two-letter-dash shapes of order numbers)."""
    c = "ABCDEFGHJKLMNPRSTUVWXYZ"
    r = ctx.rng
    return ctx.pick((f"{ctx.pick(c)}{ctx.pick(c)}{r.randint(1000, 9999)}-{r.randint(100, 999)}",
                     f"{r.randint(100, 999)}.{r.randint(100, 999)}.{r.randint(10, 99)}",
                     f"{r.randint(1000, 9999)}.{r.randint(100, 999)}"))


def tracking(ctx: Any) -> str:
    """A parcel tracking number: UPU S10 ("RR123456789GB"), UPS 1Z, carrier-prefixed digits."""
    c = "ABCDEFGHJKLMNPRSTUVWXYZ"
    r = ctx.rng
    country = ctx.pick(("GB", "DE", "NL", "FR", "CN"))
    return ctx.pick((f"{ctx.pick(c)}{ctx.pick(c)}{r.randint(10**8, 10**9 - 1)}{country}",
                     f"1Z{''.join(ctx.pick(c + '0123456789') for _ in range(16))}",
                     f"{ctx.pick(('SPX', 'JNE', 'DHL', 'GLS', 'DPD', 'JD'))}{r.randint(10**9, 10**12)}"))


def handle(ctx: Any, synth: Any) -> str:
    """A social-media handle made from a name: anna.berg92, jenn_the_baker, k.okafor, MartaKnits."""
    first = synth._first(ctx).lower()
    last = synth._last(ctx).lower().replace(" ", "").replace("'", "")
    num = str(ctx.rng.randint(1, 99)) if ctx.chance(0.4) else ""
    value = ctx.pick((f"{first}.{last}{num}", f"{first}_{last}", f"{first}{num or ctx.rng.randint(70, 2005)}",
                      f"{first}_the_{ctx.pick(HANDLE_WORDS)}", f"{first[0]}.{last}", f"{first}.{first[0]}.{last}",
                      f"{first.capitalize()}{ctx.pick(HANDLE_WORDS).capitalize()}", f"{last}_{first[0]}",
                      f"{first}{last}{num}", f"its{first}"))
    return value


def slots(synth: Any) -> dict[str, Callable[[Any], list[Any]]]:
    """The slot fillers of this module, given `synth` (the `synth_slots` module, whose helpers they reuse)."""

    def pick(c: Any, which: int, latin: bool = False) -> list[Any]:  # which: 0 customer label, 1 agent, 2 phrase
        if c.chat_lang is None or (latin and c.chat_lang not in LATIN):
            c.chat_lang = _lang(c, LATIN if latin else tuple(PHRASES))
        return [c.pick(PHRASES[c.chat_lang][which])]

    def surnames(c: Any) -> list[Any]:
        n = c.rng.randint(2, 5)
        sep = c.pick(SEPARATORS)
        lower = c.chance(0.15)
        out: list[Any] = []
        for i in range(n):
            if i:
                out.append(c.pick((" and ", " & ", " und ", " y ", " et ")) if i == n - 1 and c.chance(0.6) else sep)
            value = synth._last(c) if c.chance(0.75) else synth._full_name(c)
            out.append(("PERSON", value.lower() if lower else synth._case(value, c, 0.0, 0.05)))
        return out

    return {
        "dphrase": lambda c: pick(c, 2),
        "dcust": lambda c: pick(c, 0),
        "dagent": lambda c: pick(c, 1),
        "lphrase": lambda c: pick(c, 2, latin=True),
        "lcust": lambda c: pick(c, 0, latin=True),
        "lagent": lambda c: pick(c, 1, latin=True),
        "brandx": lambda c: [brand(c)],
        "bproduct": lambda c: [c.pick(BEAUTY)],
        "dateany": lambda c: [date_any(c)],
        "weekday": lambda c: [c.pick(WEEKDAYS)],
        "dob": lambda c: [dob(c)],
        "skux": lambda c: [f"{c.pick(SKU_CUES)}{c.pick((' ', ': ', ' #'))}{sku(c)}"],
        "track": lambda c: [f"{c.pick(TRACK_CUES)}{c.pick((' ', ': ', ' '))}{tracking(c)}"],
        "handle": lambda c: [("PERSON", "@" + handle(c, synth))],  # one token in spaCy: the "@" is in the span
        "uname": lambda c: [("PERSON", handle(c, synth))],
        "jobtitle": lambda c: [c.pick(JOB_TITLES)],
        "lsurnames": surnames,
        "founders": lambda c: [c.pick(FOUNDER_CUES)],
    }


TEMPLATES: dict[str, tuple[str, ...]] = {
    "scripts": (  # chat in any language and script, always around a labelled value (native addresses, names)
        "{dcust}: {dphrase} {orderid}\n{dagent}: {dphrase}",
        "{dcust}: {dphrase}\n{dagent}: {dphrase}\n{dcust}: {name}, {phone}\n{dagent}: {dphrase}",
        "{dagent}: {dphrase}\n{dcust}: {address}\n{dagent}: {dphrase}",
        "{dphrase}, {dphrase}. {first}",
        "{dcust}: {dphrase}\n{dcust}: {waddr}\n{dagent}: {dphrase}",
        "{dagent}: {dphrase}\n{dcust}: {name} {phone}\n{dagent}: {dphrase}",
        "{dphrase} {wcity} {dphrase}",
        "{dcust}: {dphrase}\n{dcust}: {wstreet}\n{dagent}: {dphrase} {name}",
        "{dphrase}! {wcity}. {dphrase} 🙏",
        "{dagent}: {dphrase}\n{dcust}: {waddr}, {name}, {phone}",
    ),
    "chatturns": (  # whole chat turns of Latin-script languages with nothing to label ("Perfecto", "C'est noté")
        "{lcust}: {lphrase}\n{lagent}: {lphrase}",
        "{lcust}: {lphrase}\n{lagent}: {lphrase}\n{lcust}: {lphrase}",
        "{lphrase}! {lphrase}",
        "{lphrase}",
        "{lphrase}. {lphrase} 🙏",
        "{lagent}: {lphrase}. {lphrase}\n{lcust}: {lphrase}",
    ),
    "brands": (  # catalog brands in brand contexts, shaped like words, inventions, surnames and towns: unlabelled
        "the {brandx} {bproduct} is a dupe of the {brandx} one",
        "{brandx}'s new {bproduct} is finally out!!",
        "new {bproduct} by {brandx}, only {price}",
        "Swatched the {brandx} {bproduct} at the {branch} today",
        "{brandx} x {brandx} collab {bproduct} sold out in {n} minutes",
        "Is the {brandx} {bproduct} vegan?",
        "{brandx} {bproduct} ({colour}) - back in stock",
        "I prefer {brandx} over {brandx} for {bproduct}s.",
        "Our {brandx} range: {bproduct}, {bproduct} and {bproduct}.",
        "Bought the {brandx} {bproduct} for {first}, she loves it.",
        "{brandx} {bproduct} vs {brandx} {bproduct}: which one for dry skin?",
        "Shop the {brandx} edit: {bproduct}s from {price}.",
        "{brandx} {bproduct} - {skux} - {price}",
        "the {bproduct} from {brandx} broke, {tail}",
    ),
    "dates": (  # dates, birth dates, SKUs and tracking numbers next to labelled values: the dates stay unlabelled
        "Sale ends {weekday} {dateany}!!! {brandx} {bproduct}s half price",
        "promo from {dateany} to {dateany}, {tail}",
        "{name}, {dob}, {street}, {locality}",
        "Customer {name}, {dob}, phone {phone}",
        "Member: {name}\n{dob}\nMobile: {phone}",
        "{dob}, {address}",
        "{name} ({dob}) moved to {street_plus}.",
        "{skux} restock delayed to {dateany}.",
        "{track} - arrives {weekday}",
        "{dphrase} {track}. {dphrase}",
        "Stock note: {skux} low, {skux} discontinued. Next delivery {dateany}.",
        "your parcel is on its way, {track}. Delivery {dateany} to {street}, {locality}.",
        "Opening hours {weekday}-{weekday} 9-18, closed {dateany}.",
        "{name}, {dob}, {natid}",
    ),
    "people3": (  # handles, signatures with job titles, surnames in lists, lower-case names in lower-case chat
        "shoutout to {handle} for the tip!",
        "{handle} thank you so much 😍",
        "tagging {handle} and {handle}, you need this {bproduct}",
        "IG: {handle}",
        "reposted from {handle} - the {brandx} {bproduct}",
        "thx {handle}!! {tail}",
        "the buyer {uname} hasn't paid yet",
        "username: {uname}",
        "seller {uname} never shipped, order {orderid}",
        "{dphrase} {handle}",
        "{name} | {jobtitle}\n{brand}",
        "{name} | {jobtitle} | {branch}",
        "Best,\n{name} | {jobtitle}\n{phone}",
        "{name} - {jobtitle}, {brand}",
        "Kind regards\n{name}\n{jobtitle}",
        "{jobtitle} {name} approved the refund.",
        "-- {first}, {jobtitle}",
        "{founders}: {lsurnames}",
        "{founders}: {lsurnames}.",
        "thanks to {lsurnames} for the help",
        "{lsurnames} were on shift when it happened.",
        "the team ({lsurnames}) signed the card",
        "my son {lfirst} helped me put it together",
        "me and {lfirst} loved it, {tail}",
        "ask for {lfirst} at the {branch}, she's great",
        "{lfirst} from the {branch} sorted it out",
        "got it for {lfirst}'s birthday",
        "thx {lfirst}!! {tail}",
        "{lname} here, order {orderid} pls",
        "hi {lfirst} its {lfirst} from next door",
    ),
}
KIND_WEIGHTS = {"scripts": 0.5, "chatturns": 0.4, "brands": 0.5, "dates": 0.6, "people3": 1.0}
