"""Addresses and names in Chinese, Japanese and Korean text, where words are not separated by spaces.

The learned detector and spaCy see a run of CJK characters as one token ("大阪府堺市堺区宿院町東4-1-8。本人"), so they
cannot cut an address or a name out of it. These rules follow the structure of the national address formats instead
(Japan Post: 都/道/府/県 prefecture, 市/区/町/村 municipality, then 丁目-番-号 or "4-1-8"; China Post:
省/自治区, 市, 区/县, then road 路/街/道 with 号, building 号楼/栋, room 室, and the same in traditional characters
with Taiwan's road sections, 段; Korea Post road-name addresses:
특별시/광역시/도, 시/군/구, road 로/길 with a building number, 동/호/층; a Japanese building name with its room,
a Chinese estate name before its units and a bare room number after 号) and the honorifics written after a
person's name (Japanese 様/さん/さま/殿/氏, Chinese 先生/女士/小姐, Korean 님/씨/고객님) or the recipient labels
before it (収件人/收件人/宛名/お名前/받는분/수령인/이름), and a common Japanese surname before the copula of a
self-introduction (です/と申します) or with its given name alone on a line (a signature). Each rule needs its
administrative suffixes, a number, an honorific, a label or a listed surname, so ordinary CJK prose is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from anonymize.findings import Finding

_HAN = "\u4e00-\u9fff\u3005"  # CJK unified ideographs and 々
_KANA = "\u3040-\u30ff"
_DIGITS = "0-9０-９"
# Japanese: prefecture + municipality (+ ward/town) + block numbers; or municipality + ward + numbers.
_JP = (rf"(?:[{_HAN}]{{1,3}}(?:都|道|府|県))?[{_HAN}{_KANA}]{{1,6}}(?:市|区|郡|町|村)"
       rf"(?:[{_HAN}{_KANA}]{{1,6}}(?:区|町|村))?[{_HAN}{_KANA}]{{0,8}}"
       rf"[{_DIGITS}]+(?:丁目|番地?|号|[-－‐][{_DIGITS}]+)(?:(?<=目)[{_DIGITS}]+|[{_DIGITS}]+(?:番地?|号)|[-－‐][{_DIGITS}]+)*"
       rf"(?:[ 　]?[{_HAN}{_KANA}A-Za-z]{{1,15}}[{_DIGITS}]+(?:号室|号|室|F|階))?"  # the building: "...梅田802号"
       rf"(?:(?<=[号號])[{_DIGITS}]{{3,4}}(?![{_DIGITS}]))?")  # a room number after a Chinese road's 号
# Chinese: (province) city (district) road + number (+ building, room).
# Traditional characters (Taiwan, Hong Kong, Macau) beside simplified ones: 區/縣 district, 號 number, 樓 floor, 棟
# building; Taiwan's roads have sections ("復興南路一段390號5樓") and sub-numbers ("之2").
_NUMBER_SIGN = "(?:号|號)"
# An estate or building name may stand before its units ("233号 蓝湾花园3栋1502室"), and a bare room number after
# the road number ("288号1802", three or four digits)
_UNIT = (rf"(?:\s?[{_HAN}]{{2,8}}(?=\s?[{_DIGITS}]+\s?(?:号楼|號樓|栋|棟|幢|单元|單元|室)))?"
         rf"(?:\s?[{_DIGITS}]+\s?(?:号楼|號樓|栋|棟|幢|单元|單元|楼|樓|室|F|f)|之[{_DIGITS}]+)*"
         rf"(?:(?<=[号號])[{_DIGITS}]{{3,4}}(?![{_DIGITS}]))?")
_SECTION = rf"(?:[一二三四五六七八九十{_DIGITS}]段)?(?:[{_DIGITS}]+(?:巷|弄))*"
_CN = (rf"(?:[{_HAN}]{{2,4}}(?:省|自治区|自治區))?[{_HAN}]{{1,5}}市(?:[{_HAN}]{{1,5}}(?:区|县|區|縣))?"
       rf"[{_HAN}]{{1,8}}(?:路|街|道|大道|巷|弄){_SECTION}\s?[{_DIGITS}]+\s?{_NUMBER_SIGN}{_UNIT}")
_CN_ROAD = rf"[{_HAN}]{{1,8}}(?:路|街|大道|巷|弄){_SECTION}\s?[{_DIGITS}]+\s?{_NUMBER_SIGN}{_UNIT}"  # "文三路 388 号"
# Korean road-name address: (province/metropolis) city/county/district (district) road + number (, 동 호).
_KR = (r"(?:[가-힣]{1,6}(?:특별시|광역시|특별자치시|특별자치도|도)\s)?[가-힣]{1,6}(?:시|군|구)"
       r"(?:\s[가-힣]{1,6}(?:구|군|읍|면))?\s[가-힣0-9]{1,10}(?:로|길|대로)(?:\s?\d{1,4}번?길)?\s?\d{1,4}(?:-\d{1,4})?(?:,?\s?\d{1,4}동)?(?:\s?\d{1,5}호)?(?:,?\s?\d{1,3}층)?")
_KR_ROAD = (r"[가-힣0-9]{1,10}(?:로|길|대로)(?:\s?\d{1,4}번?길)?\s?\d{1,4}(?:-\d{1,4})?(?:,?\s?\d{1,4}동)?"
            r"(?:\s?\d{1,5}호)?(?:,?\s?\d{1,3}층)?")  # a floor: "들안로 118, 3층"
# Labels and verbs a Chinese address run may start with, which the 1-5 characters before 市 would take in.
_LEAD = re.compile(r"(?:收货地址|收貨地址|送货地址|送貨地址|地址|住址|寄到|送到|发到|發到|寄往|送往"
                   r"|住在|位于|位於|我在|在|是|为|為)+")
ADDRESS = re.compile("|".join(f"(?:{p})" for p in (_CN, _KR, _JP, _CN_ROAD, _KR_ROAD)))

_HONORIFIC = r"(?:様|さま|さん|殿|氏|先生|女士|小姐|고객님|님|씨)"
_JA_NAME = rf"[{_HAN}]{{1,4}}(?:\s[{_HAN}{_KANA}]{{1,4}})?"
_KO_NAME = r"[가-힣]{2,4}"
NAME_BEFORE_HONORIFIC = re.compile(rf"(?<![{_HAN}가-힣])({_JA_NAME}|{_KO_NAME})(?=\s?{_HONORIFIC})")
_LABEL = r"(?:收件人|収件人|联系人|姓名|宛名|お名前|氏名|受取人|받는\s?분|받는\s?사람|수령인|이름|성함)"
NAME_AFTER_LABEL = re.compile(rf"{_LABEL}\s?[:：]?\s?({_JA_NAME}|{_KO_NAME})(?![{_HAN}가-힣])")
# The most common Japanese surnames of two or three characters (one-character ones are ordinary words too: 林, 森, 東):
# before the copula of a self-introduction ("岡田です", "渡辺 健二と申します"), or alone on a line with the given name
# (a signature: "森田 裕子")
_JA_SURNAMES = re.findall(r"\S+", """
佐藤 鈴木 高橋 田中 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 斎藤 斉藤 清水 山崎 池田
橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本 福田 太田 西村 藤井 金子
岡本 藤原
中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 内田 柴田 酒井 宮崎 横山 高木 安藤 宮本 大野 小島
谷口 今井 工藤 高田 増田 丸山 杉山 村田 大塚 新井 小山 平野 藤本 河野 上野 野口 武田 松井 千葉 岩崎 菅原 木下 久保
佐野 野村 松尾 市川 菊地 杉本 古川 大西 島田 水野 桜井 高野 渡部 吉川 山内 西田 飯田 菊池 西川 小松 北村 安田 五十嵐
川口 平田 中田 久保田 服部 岩田 土屋 川崎 福島 本田 樋口 秋山 田口 永井 山中 中西 吉村 川上 大橋 石原 松岡 浜田 馬場
森本 矢野 浅野 松下 星野 大久保 吉岡 小池 野田 荒木 大谷 内藤 松浦 熊谷 黒田 尾崎 永田 川村 望月 田辺 松村 荒井
北岡 高山 宮田 片山 本間 早川 小西 岡崎 堀 上原 横田 須藤 小田 中尾
""")
_JA_SURNAME = "|".join(sorted(_JA_SURNAMES, key=len, reverse=True))
_JA_GIVEN = rf"(?:[ 　][{_HAN}{_KANA}]{{1,3}}|[{_HAN}]{{2}})?"  # written apart, or two characters ("山田太郎")
JA_SELF_NAME = re.compile(rf"(?:(?<![{_HAN}{_KANA}])|(?<=[はがもを、。]))((?:{_JA_SURNAME}){_JA_GIVEN})"
                          rf"(?=です|と申します|でございます)")
JA_SIGNATURE = re.compile(rf"(?m)^[ \t　]*((?:{_JA_SURNAME})[ 　][{_HAN}{_KANA}]{{1,3}})[ \t　]*$")
_NOT_NAMES = frozenset(("お客", "客", "担当", "店長", "先生", "皆", "皆さ", "고객", "사장", "선생", "여러분", "관리자",
                        "기사"))


@dataclass
class CjkRecognizer:
    """STREET_ADDRESS for CJK address runs and PERSON for names before honorifics or after recipient labels."""

    name: str = "cjk"
    address_score: float = 0.85
    name_score: float = 0.8

    @property
    def entities(self) -> tuple[str, ...]:
        return ("STREET_ADDRESS", "PERSON")

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        if not re.search(rf"[{_HAN}{_KANA}가-힣]", text):
            return []
        out = []
        for m in ADDRESS.finditer(text):
            lead = _LEAD.match(m.group())  # "地址是台北市...": the label and verb the Han run before 市 took in
            start = m.start() + (lead.end() if lead else 0)
            out.append(Finding("STREET_ADDRESS", start, m.end(), self.address_score, self.name))
        for regex in (NAME_BEFORE_HONORIFIC, NAME_AFTER_LABEL, JA_SELF_NAME, JA_SIGNATURE):
            for m in regex.finditer(text):
                if m.group(1) not in _NOT_NAMES:
                    out.append(Finding("PERSON", m.start(1), m.end(1), self.name_score, self.name))
        return out
