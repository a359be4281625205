"""World given names in the check layer (anonymize/recognizers/world_names.py): a listed first name with the
capitalised words after it, or alone inside a sentence; the committed list is exactly what its build command writes.
The sentences are written for this test."""

from __future__ import annotations

import pytest

from anonymize.recognizers import check_recognizers, structured_recognizers
from anonymize.recognizers.world_names import NAMES_FILE, WorldNameRecognizer, build_names, first_names, is_first_name


@pytest.mark.parametrize(("text", "found"), [
    ("Vielen Dank an Maja für die schnelle Hilfe", ["Maja"]),  # a lone name inside a sentence
    ("the courier left it with Bronwen next door", ["Bronwen"]),
    ("Odbiorca Mehmet Yılmaz, Kraków", ["Mehmet Yılmaz"]),  # first name + capitalised words
    ("Получатель Игорь Смирнов", ["Игорь Смирнов"]),
    ("Maja bought two", []),  # a lone name opening a text may be an ordinary word
    ("Agent: Bronwen here", []),  # ... or opening a chat turn
    ("MAJA AND BRONWEN", []),  # ALL CAPS carries no case signal
    ("it will ship in may", []),  # common words are not in the list
    ("Odbiorca Kasım Yılmaz, Kraków", ["Kasım Yılmaz"]),  # the list writes Faker's Turkish names in ASCII
    ("Zeynep'e söyledim, kargo yarın gelecek.", ["Zeynep"]),  # a Turkish case ending: a proper noun, even first
    ("Mehmet’in siparişi iptal edildi.", ["Mehmet"]),
])
def test_listed_given_names_are_found_by_position(text: str, found: list[str]) -> None:
    assert [text[f.start:f.end] for f in WorldNameRecognizer().analyze(text)] == found


def test_the_list_holds_names_of_many_countries_and_no_stop_words() -> None:
    names = first_names()
    assert {"maja", "mads", "bronwen", "mehmet", "игорь", "fatma", "kwame", "ngozi", "sigríður"} <= names
    assert not {"can", "nur", "will", "may", "der", "und"} & names


@pytest.mark.parametrize(("word", "listed"), [
    ("ayşe", True), ("ayse", True), ("kasım", True), ("łukasz", True), ("sigríður", True),
    ("että", False),  # a Finnish stop word whose accentless form is a name ("Etta")
    ("mesa", False), ("über", False), ("november", False),  # not Icelandic "nóvember" without its accent
])
def test_names_are_looked_up_with_and_without_their_accents(word: str, listed: bool) -> None:
    assert is_first_name(word) is listed


def test_the_committed_list_is_what_the_build_command_writes() -> None:
    pytest.importorskip("faker")
    committed = [line for line in NAMES_FILE.read_text("utf-8").splitlines() if not line.startswith("#")]
    assert committed == build_names()


def test_only_the_check_layer_runs_it() -> None:
    assert "world-names" in {r.name for r in check_recognizers()}
    assert "world-names" not in {r.name for r in structured_recognizers()}
