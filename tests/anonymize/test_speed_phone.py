"""The phone rule's length bound changes no match: libphonenumber never calls a number valid that is shorter than
`shortest_valid` (checked on random short candidates in every shape the matcher extracts), and the matcher that
skips such candidates returns the library's own matches on texts full of numbers, dates, codes and phones."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from anonymize.recognizers import contact
from anonymize.recognizers.contact import (
    PHONE_REGIONS,
    SCRIPT_REGIONS,
    PhoneRecognizer,
    _ValidMatcher,
    shortest_valid,
)

SEPARATORS = ["", " ", "-", ".", "/", " - ", "x", "X", "(", ")", "~", "\u00a0", "\u2010"]
LEADS = ["", "+", "\uff0b", "(", "+(", "00", "011", "0011", "0", "(0)", "tel: "]
# every region the recognizer may parse in: the default ones and those a text's script adds
ALL_REGIONS = tuple(dict.fromkeys([*PHONE_REGIONS, *(r for _, regions in SCRIPT_REGIONS for r in regions)]))


def _short_candidate(rng: random.Random, alnum: int) -> str:
    """A string of exactly `alnum` letters and digits in a phone-like shape (a lead, digit groups, separators,
    sometimes vanity letters or an extension word), so that parse() gets as many chances as it can."""
    parts = [rng.choice(LEADS)]
    left = alnum - sum(ch.isalnum() for ch in parts[0])
    while left > 0:
        size = rng.randint(1, left)
        if rng.random() < 0.15:  # vanity letters ("1-800-FLOWERS") or an extension marker
            group = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(size))
        else:
            group = "".join(rng.choice("0123456789") for _ in range(size))
        parts += [group, rng.choice(SEPARATORS)]
        left -= size + sum(ch.isalnum() for ch in parts[-1])
    return "".join(parts)


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_no_valid_number_is_shorter_than_the_bound(region: str) -> None:
    rng = random.Random(f"bound-{region}")
    tried = 0
    for plus in (False, True):
        bound = shortest_valid(region, plus)
        for alnum in range(2, bound):
            for _ in range(300):
                candidate = _short_candidate(rng, alnum)
                if any(p in candidate for p in contact._PLUS) != plus:
                    continue
                count = sum(ch.isalnum() for ch in candidate)
                if count >= bound:
                    continue
                tried += 1
                try:
                    number = phonenumbers.parse(candidate, region, keep_raw_input=True)
                except phonenumbers.NumberParseException:
                    continue
                assert not phonenumbers.is_valid_number(number), (region, candidate)
    assert tried > 200


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_the_bound_admits_every_example_number(region: str) -> None:
    """libphonenumber's own example numbers of every type, written nationally and internationally, reach the bound
    (the bound is a floor, and a floor above a real number would drop it)."""
    for kind in phonenumbers.PhoneNumberType.values():
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for fmt, plus in ((phonenumbers.PhoneNumberFormat.NATIONAL, False),
                          (phonenumbers.PhoneNumberFormat.INTERNATIONAL, True)):
            written = phonenumbers.format_number(number, fmt)
            assert sum(ch.isalnum() for ch in written) >= shortest_valid(region, plus), (region, written)


def _shortest_numbers(rng: random.Random) -> list[phonenumbers.PhoneNumber]:
    """Valid numbers of each region at or just above its bound, found by random search: the numbers a bound one
    or two too high would drop."""
    out = []
    for region in PHONE_REGIONS:
        for length in range(shortest_valid(region, False), shortest_valid(region, False) + 3):
            found = 0
            for _ in range(1500):
                digits = rng.choice(["", "0"]) + "".join(rng.choice("0123456789") for _ in range(length))
                try:
                    number = phonenumbers.parse(digits[:length], region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_valid_number(number):
                    out.append(number)
                    found += 1
                    if found == 3:
                        break
    return out


def _texts() -> list[str]:
    """Synthetic retail texts: real numbers of every region in national, international and E.164 form (the
    library's example numbers and the shortest valid ones) beside short codes, postcodes, dates, times, prices,
    order numbers, extensions and lone digit groups."""
    rng = random.Random(7)
    numbers = [n for r in PHONE_REGIONS for k in phonenumbers.PhoneNumberType.values()
               if (n := phonenumbers.example_number_for_type(r, k)) is not None] + _shortest_numbers(rng)
    formats = [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
               phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.RFC3966]
    noise = ["order 55120", "PIN 4471", "1105 MW", "10115 Berlin", "on 03/07/2024", "at 14:30", "£12.99",
             "ORD-2024-118842", "ext. 12", "x123", "room 12 - 4", "(41) 552-908", "512 77 301", "8831 2046",
             "001-212-555-0147", "2012-01-02 08:00", "pages 211-227 (2003)", "+47 912 34 567", "0800 001 8263",
             "DK-3626", "SW1A 1AA", "７８９０１２３", "call 020 7946 0018 x 44"]
    texts = []
    for _ in range(120):
        pieces = []
        for _ in range(rng.randint(2, 6)):
            if rng.random() < 0.4:
                pieces.append(phonenumbers.format_number(rng.choice(numbers), rng.choice(formats)))
            else:
                pieces.append(rng.choice(noise))
            pieces.append(rng.choice([" and ", ", ", " or call ", "; ", " / ", " - ", "\n", " "]))
        texts.append("Hi, " + "".join(pieces) + "thanks")
    return texts


def _matches(matcher: type, text: str, region: str) -> list[tuple[int, int, str, str]]:
    return [(m.start, m.end, m.raw_string, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
            for m in matcher(text, region, leniency=phonenumbers.Leniency.VALID)]


def test_the_matcher_finds_what_the_library_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = {"calls": 0}
    library = phonenumbers.PhoneNumberMatcher._parse_and_verify

    def counting(self: phonenumbers.PhoneNumberMatcher, candidate: str, offset: int) -> object:
        parsed["calls"] += 1
        return library(self, candidate, offset)

    texts = _texts()
    expected = {(t, r): _matches(phonenumbers.PhoneNumberMatcher, t, r) for t in texts for r in PHONE_REGIONS}
    assert sum(map(len, expected.values())) > 500  # the texts do hold many numbers
    monkeypatch.setattr(phonenumbers.PhoneNumberMatcher, "_parse_and_verify", counting)
    plain = sum(len(_matches(phonenumbers.PhoneNumberMatcher, t, r)) for t in texts for r in PHONE_REGIONS)
    all_calls, parsed["calls"] = parsed["calls"], 0
    for (text, region), found in expected.items():
        assert _matches(_ValidMatcher, text, region) == found, (region, text)
    assert plain == sum(map(len, expected.values()))
    assert parsed["calls"] < 0.9 * all_calls  # candidates were skipped, so the bound is in effect


def test_the_recognizer_uses_the_bounded_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()[:40]
    fast = [PhoneRecognizer().analyze(t) for t in texts]
    monkeypatch.setattr(contact, "_ValidMatcher", phonenumbers.PhoneNumberMatcher)
    assert [PhoneRecognizer().analyze(t) for t in texts] == fast
    assert sum(map(len, fast)) > 20
