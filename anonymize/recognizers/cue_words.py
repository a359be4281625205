"""Cue phrases shared by the cue recognizers (anonymize.recognizers.cues) and the span refiner
(anonymize.recognizers.refine): a leaf module, so that both can import it without importing each other (STYLE.md
rule 11: imports one-way). Regular expressions per Python's `re` module."""

from __future__ import annotations

import re


def cue(words: str) -> str:
    """A case-insensitive alternation of cue phrases (one per line or "|"-separated), longest first."""
    items = sorted({w.strip() for w in re.split(r"[|\n]", words) if w.strip()}, key=len, reverse=True)
    return r"(?i:(?<![\w])(?:" + "|".join(i.replace(" ", r"\s+") for i in items) + r")(?![^\W\d_]))"


BIRTH_CUES = cue(r"""born|born on|date of birth|d\.o\.b\.?|dob|birth date|birthdate|birthday|b-day|geb\.|geb|geboren
geboren am|geburtsdatum|geburtstag|né le|née le|né|née|date de naissance|nacido el|nacida el|nacido|nacida
fecha de nacimiento|f\. nac\.|nato il|nata il|nato|nata|data di nascita|nascido em|nascida em|data de nascimento
geboren op|geboortedatum|data urodzenia|urodzony|urodzona|ur\.""")

# month names and abbreviations of the cue languages (dates of birth; quantities in refine)
MONTHS = tuple(re.findall(r"\S+", """january february march april may june july august september october november
december jan feb mar apr jun jul aug sep sept oct nov dec januar februar märz mai juni juli oktober dezember janvier
février mars avril juin juillet août septembre octobre novembre décembre enero febrero marzo abril mayo junio julio
agosto septiembre setiembre octubre noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre
ottobre dicembre janeiro fevereiro março maio junho julho setembro outubro dezembro januari februari maart mei
augustus stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia"""))

# month names of more languages, for written dates after a birth cue only (`cues_world`): some are given names too
# ("Kasım", "Nisan"), which the month list above, used on any text, must not hold. Russian, Ukrainian, Czech, Croatian
# and Greek in the genitive a date uses; Hindi, Thai (with the abbreviations a form uses) and Turkish, Indonesian,
# Scandinavian, Finnish, Romanian and Hungarian as written.
WORLD_MONTHS = tuple(re.findall(r"\S+", """января февраля марта апреля мая июня июля августа сентября октября ноября
декабря січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня ledna února března
dubna května června července srpna září října listopadu prosince siječnja veljače ožujka travnja svibnja lipnja
srpnja kolovoza rujna listopada studenoga prosinca ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου ιουλίου
αυγούστου σεπτεμβρίου οκτωβρίου νοεμβρίου δεκεμβρίου जनवरी फ़रवरी फरवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर
सितम्बर अक्टूबर नवंबर नवम्बर दिसंबर दिसम्बर มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม
กันยายน ตุลาคม พฤศจิกายน ธันวาคม ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค. ocak şubat mart
nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık januari februari maret april mei juni juli agustus
september oktober november desember januar februar marts mars maj august december tammikuuta helmikuuta
maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta
ianuarie februarie martie aprilie iunie iulie septembrie octombrie noiembrie decembrie január február március
április május június július augusztus szeptember október"""))
