"""Given names of many countries for the check layer: a first name in Title Case with the capitalised words after it,
or a lone first name inside a sentence ("danke an Maja", "left it with Bronwen").

The list (`world_first_names.txt` beside this module) is the union of the given names in Faker's person providers of
every locale (Faker 40.63.0, MIT licence) and this package's own first-name list, lower case (a lookup also tries an
accented word without its accents, since Faker writes some locales' names in ASCII: "kasim" finds "Kasım"; the
list's ASCII forms of accented names are not added, as they hold English words: "nóvember", "röyal"), without the
stop words spaCy ships for its 76 languages and without `name_lists.COMMON_WORDS` ("will", "may"); it is generated,
not written: `python -m anonymize.recognizers.world_names --build` (needs the `pii-train` extra) rewrites it, and a
test checks that the committed file is what the command writes. It is a gazetteer in the spirit of Presidio's deny-list
recognizers; the learned detector's training corpus draws names from the same Faker lists, but this recognizer is
an independent detector (a list lookup with position rules, no model), as the check layer needs.

Measured on the development sets only (bench/detector_levers.py gazetteers, value "nl"): `PERSON` recall at egress
94.9 -> 95.8 on handwritten_dev at 0.1 point of char precision, the mimesis dev sets unchanged.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonymize.findings import Finding
from anonymize.recognizers.name_lists import COMMON_WORDS, FIRST_NAMES
from anonymize.recognizers.refine import is_month_in_date, is_stop_word
from anonymize.recognizers.words import WORD, fold_latin

NAMES_FILE = Path(__file__).resolve().parent / "world_first_names.txt"
BUILD = "python -m anonymize.recognizers.world_names --build"
_WORD = re.compile(WORD)  # with combining marks: the list holds Devanagari, Tamil, Thai... names
_SUFFIXED = re.compile(r"([^'’]{2,})['’]([a-zçğıöşü]{1,6})")  # "Kerem'le", "Ayşe’nin": a name and its case ending
_SENTENCE_START = re.compile(r"(?:^|[.!?:/\n]\s*|[\"“(¡¿]\s*)$")  # a lone name here may be an ordinary word


def title_case(word: str) -> bool:
    """A word in Title Case of a cased script ("Maja", "Игорь"; not "MAJA", "maja", "수진")."""
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


@functools.cache
def first_names() -> frozenset[str]:
    """The committed list, lower case (comment lines start with "#", accented stop words with "!")."""
    lines = NAMES_FILE.read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith(("#", "!")))


@functools.cache
def _accented_stop_words() -> frozenset[str]:
    """The stop words whose accentless form is a listed name ("että" -> "etta"): the list's "!" lines."""
    lines = NAMES_FILE.read_text("utf-8").splitlines()
    return frozenset(line[1:] for line in lines if line.startswith("!"))


@functools.cache
def stop_words() -> frozenset[str]:
    """The stop words spaCy ships for each of its languages, lower case: for `--build` and the benches only (it imports
    76 language packages, about 4 s); at run time the words after a name are checked against refine's stop list."""
    import spacy.lang

    out: set[str] = set()
    for module in pkgutil.iter_modules(spacy.lang.__path__):
        try:
            out |= {w.lower() for w in importlib.import_module(f"spacy.lang.{module.name}.stop_words").STOP_WORDS}
        except ImportError:
            continue
    return frozenset(out)


def is_first_name(word: str) -> bool:
    """`word` (lower case) is a listed given name, also when written with accents the list leaves out ("ayşe",
    "kasım": Faker's Turkish names are ASCII), unless the word itself is a stop word ("että" is no "etta")."""
    names = first_names()
    if word in names:
        return True
    folded = fold_latin(word)
    return folded != word and folded in names and word not in _accented_stop_words() and not is_stop_word(word)


@dataclass
class WorldNameRecognizer:
    """PERSON: a listed first name in Title Case and up to two capitalised words after it on the same line (0.85),
    or a listed first name alone, not at the start of a sentence, line or chat turn (0.6), or anywhere before an
    apostrophe and a Turkish case ending (0.85)."""

    name: str = "world-names"
    score: float = 0.85
    lone_score: float = 0.6

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PERSON",)

    def analyze(self, text: str, doc: Any | None = None) -> list[Finding]:
        tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        out, i = [], 0
        while i < len(tokens):
            start, end, word = tokens[i]
            suffixed = _SUFFIXED.fullmatch(word)
            if suffixed and title_case(word) and is_first_name(suffixed.group(1).lower()):
                # a Turkish case ending set off by an apostrophe, which Turkish writes after proper nouns only
                # ("Kerem'le konuştum", "Emine'ye bırakın"): the name without it, wherever it stands
                out.append(Finding("PERSON", start, start + len(suffixed.group(1)), self.score, self.name))
                i += 1
                continue
            if title_case(word) and is_first_name(word.lower()):
                j = i
                while (j + 1 < len(tokens) and j - i < 2 and text[tokens[j][1]:tokens[j + 1][0]] == " "
                       and title_case(tokens[j + 1][2]) and not is_stop_word(tokens[j + 1][2])):
                    j += 1
                if j > i:
                    out.append(Finding("PERSON", start, tokens[j][1], self.score, self.name))
                    i = j + 1
                    continue
                if not _SENTENCE_START.search(text, 0, start) and not is_month_in_date(text, start, end):
                    out.append(Finding("PERSON", start, end, self.lone_score, self.name))
            i += 1
        return out


def faker_names(attrs: tuple[str, ...] = ("first_names", "first_names_male", "first_names_female")) -> set[str]:
    """The values of `attrs` in Faker's person providers of every locale, lower case (given names by default)."""
    import warnings

    import faker.config
    from faker import Faker

    names: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated locales say so
        for locale in faker.config.AVAILABLE_LOCALES:
            for provider in Faker(locale).factories[0].providers:
                if "person" not in type(provider).__module__:
                    continue
                for attr in attrs:
                    values = getattr(provider, attr, None) or ()
                    names.update(v.strip().lower() for v in (values.keys() if isinstance(values, dict) else values))
    return names


def build_names() -> list[str]:
    """The list as `--build` writes it: Faker's given names of every locale plus FIRST_NAMES, lower case, sorted,
    without stop words, COMMON_WORDS, one-letter names and abbreviations; then,
    each after a "!", the accented stop words whose accentless form is one of them ("!että": no lookup folds it)."""
    bad = stop_words() | set(COMMON_WORDS)
    names = {n for n in faker_names() | set(FIRST_NAMES) if "." not in n}  # not "hans d.", "डा." (a title)
    names = {n for n in names if len(n) > 1 and n not in bad and "\n" not in n}
    folding = {w for w in bad if fold_latin(w) != w and fold_latin(w) in names and w not in names}
    return sorted(names) + ["!" + w for w in sorted(folding)]


def write_names(path: Path = NAMES_FILE) -> int:
    import faker

    header = [f"# Generated by `{BUILD}` from Faker {faker.VERSION} (MIT) and",
              "# anonymize.recognizers.name_lists.FIRST_NAMES; do not edit by hand (see world_names.py)."]
    return write_list(path, header, build_names())


def write_list(path: Path, header: list[str], items: list[str]) -> int:
    """A generated gazetteer file: its comment header, then one item a line; the number of items. Written to a file
    beside it and renamed over it, so a build killed midway, or two at once, never leave a half-written list."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text("\n".join([*header, *items]) + "\n", "utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(items)


def build_main(argv: list[str] | None, doc: str | None, path: Path, source: str, write: Any, what: str) -> int:
    """The `--build` command line of a generated gazetteer module (this one, `world_places`)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help=f"rewrite {path.name} from {source}")
    if not parser.parse_args(argv).build:
        parser.print_help()
        return 2
    print(f"wrote {write()} {what} to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return build_main(argv, __doc__, NAMES_FILE, "the installed Faker", write_names, "names")


if __name__ == "__main__":
    sys.exit(main())
