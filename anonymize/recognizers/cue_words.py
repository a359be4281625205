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
