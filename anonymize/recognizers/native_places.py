"""Large cities written in their own script: Han, kana, Hangul, Hebrew, Arabic, Cyrillic, Greek, Thai, Devanagari,
Georgian, Armenian, Ethiopic.

The learned detector was trained mostly on Latin-script text and spaCy's small English model sees a CJK run as one
token, so a city named in its own script ("부산까지 이틀", "札幌に住んでいます", "אני גרה בחיפה", "в Новосибирск")
went out verbatim unless a full address followed it. This is a gazetteer of the largest cities of the countries
that write those scripts (written out by hand from the national statistics offices' population tables, the capital
and the cities of about half a million people and more), matched with each script's own word boundaries:

- Han and kana (Japanese, Chinese): no spaces between words, so a city counts when no other Han character runs into
  it from the left (or a prefecture/province suffix does: "北海道札幌市"), and it is followed by its administrative
  suffix (市/都/府/県/区, with a following ward: "台北市大安區"), a kana particle, a sentence mark or nothing;
  "東京都" is Tokyo, "京都" inside it is not Kyoto, and "北京ダック" keeps its duck only because ダ is no particle.
- Hangul: a city followed by its suffix (시/광역시/특별시) and/or a postposition (까지, 에서, 으로, ...), or by a
  non-Hangul character: "부산까지" is Busan, "대구탕" (cod soup) is not Daegu.
- Hebrew and Arabic: one- or two-letter prefixes attach to the word ("בחיפה" in Haifa, "وبيروت" and Beirut); the
  span leaves them out.
- Cyrillic and Greek inflect: the stem (the name less a final vowel) and up to three letters of ending ("в Москве",
  "из Новосибирска", "у Львові", "της Αθήνας").
- Thai writes no spaces: the name is matched where it stands.
- Georgian declines with endings and postpositions on the stem ("თბილისში", "ბათუმიდან"), Armenian with case endings
  and the article ("Երևանում"); Amharic writes its prepositions onto the word ("በአዲስ አበባ"): those are matched.
- Han: a preposition of place before the city ("在成都上大学") or a possessive or locative word after it ("成都的")
  is enough on its own.

Names that are also common words in their language are left out (Arabic "المدينة" is also "the city").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding

_HAN_CITIES = """
東京 大阪 名古屋 札幌 横浜 福岡 神戸 京都 川崎 さいたま 広島 仙台 千葉 北九州 新潟 浜松 熊本 相模原 岡山 静岡
船橋 鹿児島 八王子 姫路 宇都宮 松山 東大阪 西宮 倉敷 金沢 那覇 長崎 大分 豊田 高松 富山 岐阜 宮崎 長野 和歌山
北京 上海 广州 廣州 深圳 天津 重庆 重慶 成都 杭州 武汉 武漢 南京 西安 苏州 蘇州 郑州 鄭州 长沙 長沙 沈阳 瀋陽
青岛 青島 大连 大連 厦门 廈門 昆明 哈尔滨 哈爾濱 济南 濟南 合肥 福州 宁波 寧波 无锡 無錫 东莞 東莞 佛山 石家庄
香港 澳门 澳門 九龍 九龙 台北 臺北 新北 高雄 台中 臺中 台南 臺南 桃园 桃園 新竹 基隆 嘉義 嘉义
"""
_HANGUL_CITIES = """
서울 부산 인천 대구 대전 광주 울산 세종 수원 창원 고양 용인 성남 청주 전주 천안 제주 포항 김해 화성
안산 안양 남양주 평택 의정부 파주 시흥 김포 원주 춘천 강릉 목포 여수 순천 경주 구미 진주
"""
_HEBREW_CITIES = ["תל אביב", "תל-אביב", "ירושלים", "חיפה", "באר שבע", "אילת", "נתניה", "ראשון לציון", "פתח תקווה",
                  "פתח תקוה", "אשדוד", "אשקלון", "חולון", "בת ים", "רמת גן", "הרצליה", "רעננה", "כפר סבא",
                  "רחובות", "נצרת", "עכו", "טבריה", "מודיעין", "בני ברק", "הוד השרון"]
_ARABIC_CITIES = ["القاهرة", "الإسكندرية", "الاسكندرية", "الجيزة", "الرياض", "جدة", "مكة", "الدمام", "الخبر",
                  "دبي", "أبوظبي", "أبو ظبي", "ابوظبي", "الشارقة", "عجمان", "الدوحة", "الكويت", "المنامة", "مسقط",
                  "عمّان", "عمان", "إربد", "الزرقاء", "بيروت", "طرابلس", "صيدا", "دمشق", "حلب", "حمص", "بغداد",
                  "البصرة", "الموصل", "أربيل", "تونس", "صفاقس", "سوسة", "الجزائر", "وهران", "قسنطينة",
                  "الدار البيضاء", "الرباط", "مراكش", "فاس", "طنجة", "أكادير", "الخرطوم", "بنغازي", "صنعاء", "عدن",
                  "غزة", "رام الله", "نابلس", "الخليل", "المنصورة", "طنطا", "أسيوط", "الأقصر", "أسوان", "بورسعيد",
                  "السويس", "المدينة المنورة", "الطائف", "تبوك", "بريدة", "العين", "رأس الخيمة", "نواكشوط",
                  "طهران", "تهران", "مشهد", "اصفهان", "أصفهان", "شیراز", "تبریز", "کرج", "کراچی", "لاهور", "لاہور",
                  "اسلام آباد", "کابل",
                  # more cities of 100,000 people or more (GeoNames), Gulf, Levant, Iraq, Egypt, Maghreb, Iran, Pakistan
                  "صلالة", "صحار", "نزوى", "المكلا", "تعز", "الحديدة", "الفجيرة", "حائل", "نجران", "جازان",
                  "خميس مشيط", "ينبع", "الجبيل", "الأحساء", "القطيف", "السلط", "اللاذقية", "طرطوس", "حماة",
                  "كربلاء", "النجف", "الناصرية", "السليمانية", "كركوك", "الإسماعيلية", "الزقازيق", "دمنهور", "المنيا",
                  "سوهاج", "الفيوم", "مكناس", "تطوان", "قابس", "بنزرت", "القيروان", "عنابة", "سطيف", "باتنة",
                  "البليدة", "مصراتة", "أم درمان", "المحرق", "الجهراء", "الريان", "الوكرة", "اهواز",
                  "کرمانشاه", "رشت", "ارومیه", "یزد", "راولپنڈی", "فیصل آباد", "ملتان", "پشاور", "کوئٹہ", "حیدرآباد"]
_CYRILLIC_CITIES = """
Москва Санкт-Петербург Петербург Новосибирск Екатеринбург Казань Нижний-Новгород Челябинск Самара Омск
Ростов-на-Дону Уфа Красноярск Пермь Воронеж Волгоград Краснодар Саратов Тюмень Тольятти Ижевск Барнаул Иркутск
Хабаровск Ярославль Владивосток Махачкала Томск Оренбург Кемерово Рязань Астрахань Пенза Липецк Калининград Тула
Сочи Севастополь Симферополь Киев Київ Києв Харьков Харків Одесса Одеса Днепр Дніпро Донецк Запорожье Запоріжжя
Львов Львів Кривой-Рог Кривий-Ріг Николаев Миколаїв Винница Вінниця Херсон Полтава Чернигів Черкаси Житомир
Суми Хмельницький Чернівці Рівне Івано-Франківськ Тернопіль Ужгород Луцьк Минск Гомель Могилёв Могилев Витебск
Гродно Брест Алматы Астана Шымкент Караганда Бишкек Ташкент Самарканд Душанбе София Пловдив Варна Бургас
Београд Нови-Сад Крагујевац Скопје Битола Подгорица Баня-Лука Бања-Лука Кишинёв Кишинев Улан-Батор
Улаанбаатар Эрдэнэт Дархан Қарағанды Караганда Ақтөбе Актобе Өскемен Усть-Каменогорск Павлодар Тараз Семей Атырау
Тернополь Тбилиси Ереван Баку
"""
_GREEK_CITIES = "Αθήνα Θεσσαλονίκη Πάτρα Ηράκλειο Λάρισα Βόλος Ιωάννινα Χανιά Ρόδος Καλαμάτα Κέρκυρα Πειραιάς " \
                "Καβάλα Σέρρες Λευκωσία Λεμεσός Λάρνακα Πάφος"
_THAI_CITIES = ["กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "เชียงใหม่", "เชียงราย", "ภูเก็ต", "พัทยา", "ขอนแก่น",
                "หาดใหญ่", "นครราชสีมา", "อุดรธานี", "สงขลา", "นนทบุรี", "ชลบุรี", "อยุธยา"]
_DEVANAGARI_CITIES = ["मुंबई", "मुम्बई", "दिल्ली", "नई दिल्ली", "बेंगलुरु", "बैंगलोर", "कोलकाता", "चेन्नई", "हैदराबाद",
                      "पुणे", "अहमदाबाद", "जयपुर", "लखनऊ", "कानपुर", "नागपुर", "इंदौर", "भोपाल", "पटना", "वाराणसी",
                      "काठमाडौं", "काठमांडू", "पोखरा"]


# Georgian (no letter case) declines with endings and postpositions written onto the stem ("თბილისში" in Tbilisi,
# "ბათუმიდან" from Batumi); Armenian adds case endings and the article ("Երևանում" in Yerevan); Amharic writes a
# preposition onto the word ("በአዲስ አበባ" in Addis Ababa).
_GEORGIAN_CITIES = ["თბილისი", "ბათუმი", "ქუთაისი", "რუსთავი", "ზუგდიდი", "თელავი"]
_GEORGIAN_ENDINGS = "ი|ის|ით|ად|ში|ზე|იდან|დან|მდე|ამდე|ისკენ|ისთვის|ელი|ს|მა|თან"
_ARMENIAN_CITIES = ["Երևան", "Երեւան", "Գյումրի", "Վանաձոր", "Ստեփանակերտ"]
_ETHIOPIC_CITIES = ["አዲስ አበባ", "ድሬዳዋ", "ድሬ ዳዋ", "መቀሌ", "ጎንደር", "ባሕር ዳር", "ባህር ዳር", "ሀዋሳ", "ሐዋሳ", "አዳማ"]


def _pattern(name: str) -> str:
    """`name` as a regex whose spaces and hyphens match either ("Tel Aviv", "Tel-Aviv")."""
    return r"[ \-\u05be]".join(re.escape(part) for part in re.split(r"[ -]", name))  # a Hebrew maqaf too


def _alternation(names: list[str]) -> str:
    return "|".join(_pattern(n) for n in sorted(set(names), key=len, reverse=True))


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\u3005"
_KANA_PARTICLES = "にでからまでのへはがをもとよりやって"
# Chinese writes no particles in kana: the prepositions and verbs of place before a city ("到上海", "住在北京", "寄往
# 深圳") and the words after one ("上海的", "北京附近", "深圳发货") mark it off instead; also Japanese "在住"/"出身".
_HAN_BEFORE = "在到从從寄去来來住於于往送至自飞飛回"
_TIME_WORDS = ("明日", "今日", "昨日", "本日", "先日", "毎日", "週末", "来週", "今週", "明天", "今天", "昨天")
_HAN_TIME = "|".join(f"(?<={w})" for w in _TIME_WORDS)  # a time word before the city: "明日札幌から"
_HAN_AFTER = "的|了|吗|嗎|呢|吧|啊|附近|地区|地區|本地|出发|出發|发货|發貨|这边|這邊|那边|那邊|在住|出身|人"
_HAN_CITY = rf"({_alternation(_HAN_CITIES.split())})(?:[市都府県縣](?:[{_HAN}]{{1,3}}[区區])?|[区區])?"
_HAN_RE = re.compile(
    rf"(?:(?:(?<![{_HAN}])|(?<=[都道府県省])|{_HAN_TIME}){_HAN_CITY}"
    rf"(?=[{_KANA_PARTICLES}]|[^{_HAN}\u3040-\u30ff]|$|{_HAN_AFTER})"
    # a preposition of place before the city says enough on its own ("在成都上大学": studying in Chengdu), and so
    # does a possessive or locative word after it ("帮成都的表姐": for my cousin in Chengdu)
    rf"|(?<=[{_HAN_BEFORE}]){_HAN_CITY}|{_HAN_CITY}(?={_HAN_AFTER}))")
_HANGUL_POSTPOSITIONS = ("까지|에서|에는|으로|로|에|은|는|이|가|의|도|행|부터|사람|시민|출신|살아|살고|쪽|근처|지역")
_HANGUL_RE = re.compile(
    rf"(?<![가-힣])({'|'.join(_HANGUL_CITIES.split())})(?:특별시|광역시|특별자치시|시)?"
    rf"(?=(?:{_HANGUL_POSTPOSITIONS})|[^가-힣]|$)")
_HEBREW_LETTERS = "\u0591-\u05bd\u05bf-\u05c2\u05c4-\u05ea"  # letters and points, not maqaf or sof pasuq
_HEBREW_RE = re.compile(rf"(?<![{_HEBREW_LETTERS}])(?:[בלמוהש]{{1,2}})?({_alternation(_HEBREW_CITIES)})"
                        rf"(?![{_HEBREW_LETTERS}])")
_ARABIC_LETTERS = "\u0620-\u065f\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f"  # not "،" "؛" "؟"
_ARABIC_RE = re.compile(
    rf"(?<![{_ARABIC_LETTERS}])(?:[وبلف]{{1,2}}ـ?)?({_alternation(_ARABIC_CITIES)})(?![{_ARABIC_LETTERS}])")  # "بـإربد"


def _stem(name: str) -> str:
    return re.sub(r"[аяоеьйыіaάαηήοόιί]$", "", name, flags=re.IGNORECASE) if len(name) >= 4 else name


_INFLECTED_RE = re.compile(
    r"(?<![\w-])(" + "|".join(_pattern(_stem(n)) for n in sorted(
        set(_CYRILLIC_CITIES.split()) | set(_GREEK_CITIES.split()), key=len, reverse=True))
    + r")[а-яёіїєґғқәөүұһңάέήίόύώα-ως]{0,3}(?![\w-])")  # case-sensitive: "тулуп" is a coat, "Тулу" is Tula
_THAI_RE = re.compile(f"({_alternation(_THAI_CITIES)})")
_GEORGIAN_RE = re.compile(r"(?<![\u10d0-\u10ff])(" + "|".join(re.escape(n[:-1]) for n in _GEORGIAN_CITIES)
                          + rf")(?:{_GEORGIAN_ENDINGS})?(?![\u10d0-\u10ff])")
_ARMENIAN_RE = re.compile(rf"(?<![\u0531-\u0587])({_alternation(_ARMENIAN_CITIES)})(?:ում|ից|ի|ը|ն|ով)?"
                          r"(?![\u0531-\u0587])")
_ETHIOPIC_RE = re.compile(rf"(?<![\u1200-\u135a])(?:በ|ከ|ወደ)?({_alternation(_ETHIOPIC_CITIES)})(?![\u1200-\u135a])")
_DEVANAGARI_LETTERS = "\u0900-\u0963\u0971-\u097f"  # not the danda "।", the double danda or the digits
_DEVANAGARI_RE = re.compile(rf"(?<![{_DEVANAGARI_LETTERS}])({_alternation(_DEVANAGARI_CITIES)})"
                            rf"(?![{_DEVANAGARI_LETTERS}])")
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0531-\u0587\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f"
                        rf"\u10d0-\u10ff\u1200-\u135a\u3040-\u30ff{_HAN}가-힣]")


@dataclass
class NativePlaceRecognizer:
    """LOCATION for a large city written in its own script (see the module docstring)."""

    name: str = "native-places"
    score: float = 0.7

    @property
    def entities(self) -> tuple[str, ...]:
        return ("LOCATION",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        if not _NON_LATIN.search(text):
            return []
        out = []
        for regex in (_HAN_RE, _HANGUL_RE, _INFLECTED_RE, _THAI_RE, _DEVANAGARI_RE, _GEORGIAN_RE, _ARMENIAN_RE):
            out += [Finding("LOCATION", m.start(), m.end(), self.score, self.name) for m in regex.finditer(text)]
        for regex in (_HEBREW_RE, _ARABIC_RE, _ETHIOPIC_RE):  # without the attached preposition or conjunction
            out += [Finding("LOCATION", m.start(1), m.end(1), self.score, self.name) for m in regex.finditer(text)]
        return out
