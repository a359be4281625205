"""Word characters as Unicode counts them: letters, digits and the combining marks written inside a word (Unicode
category M: the vowel signs and viramas of Devanagari, Bengali, Tamil, Telugu, Thai, Burmese, Khmer and the other
Brahmic scripts, the points of Hebrew and Arabic, combining accents). UTS #18 (Unicode Regular Expressions, annex C)
puts the marks in `\\w`; Python's `re` module and `str.isalnum` leave them out, so a pattern such as `[^\\W\\d_]+`
reads "सुनीता" as three words ("स", "न", "त") and "கார்த்திக்" as five. A leaf module: imports nothing of the package.
"""

from __future__ import annotations

import unicodedata

# the blocks of the Basic Multilingual Plane that hold combining marks (a test checks that no mark lies outside them):
# scanning them costs a tenth of scanning the whole plane at import
_MARK_BLOCKS = ((0x0300, 0x2000), (0x20D0, 0x2100), (0x2C00, 0x3100), (0xA600, 0xAC00), (0xFB00, 0xFB20),
                (0xFE00, 0xFE30))


def _mark_ranges(blocks: tuple[tuple[int, int], ...] = _MARK_BLOCKS) -> str:
    """The code points of category M in `blocks`, as the body of a regex character class ("\\u0300-\\u036f...")."""
    ranges: list[tuple[int, int]] = []
    for cp in (cp for lo, hi in blocks for cp in range(lo, hi)):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# the body of a character class (put it inside [...]); built from this Python's Unicode database
MARKS = _mark_ranges()
# kana, CJK ideographs (and compatibility ideographs) and Hangul: scripts written without spaces between words, so a
# value, a term or a particle may touch them (the body of a character class)
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# one word: a letter, then letters, digits, marks, apostrophes and hyphens ("सुनीता", "O'Neil", "Jean-Luc")
WORD = r"[^\W\d_][\w" + MARKS + r"'’-]*"


def is_word_char(ch: str) -> bool:
    """A letter, a digit or a combining mark (`str.isalnum` plus category M)."""
    return ch.isalnum() or unicodedata.category(ch)[0] == "M"


def is_letters(word: str) -> bool:
    """`word.isalpha()` with the combining marks counted in: "सुनीता" is letters, "" and "12" are not."""
    return word[:1].isalpha() and all(ch.isalpha() or unicodedata.category(ch)[0] == "M" for ch in word)


# Latin letters Unicode does not decompose (NFD), written as their base letters: Turkish dotless i, Polish ł, Nordic
# ø and æ, Croatian đ, German ß, French œ
_UNDECOMPOSED = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ħ": "h",
                               "Ł": "L", "Ø": "O", "Đ": "D", "Æ": "AE", "Œ": "OE", "Ħ": "H"})


def fold_latin(word: str) -> str:
    """`word` without the accents of the Latin script ("ayşe" -> "ayse", "kasım" -> "kasim", "łukasz" -> "lukasz"),
    as ASCII-folded name lists write it; a word of another script keeps its marks ("सुनीता" stays whole)."""
    if word.isascii():
        return word
    base = unicodedata.normalize("NFD", word.translate(_UNDECOMPOSED))
    return unicodedata.normalize("NFC", "".join(
        ch for i, ch in enumerate(base)
        if not (unicodedata.combining(ch) and i and "LATIN" in unicodedata.name(base[i - 1], ""))))
