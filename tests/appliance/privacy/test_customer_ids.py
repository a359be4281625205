"""Customer ids in outgoing free text (appliance.privacy.customer_ids): stored customers' ids are found in any case
and before "_" or punctuation with one store lookup per request, named ids likewise, admin patterns become
<CUSTOMER_ID_n>, and a pattern that cannot compile fails when the config loads."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import pytest
from sqlalchemy import insert

from appliance.config import ConfigError, EgressConfig, load_config
from appliance.data.home import Home
from appliance.data.store import User
from appliance.privacy.customer_ids import (
    CustomerIdError,
    EgressPseudonyms,
    candidates,
    replace_customer_ids,
    stored_users,
)

STORED = ("C036007", "cust-0042", "Zoë77")  # a plain id, one with a hyphen, one with a non-ASCII letter


@pytest.fixture
def pseudonyms(home: Home) -> EgressPseudonyms:
    with home.engine.begin() as conn:
        conn.execute(insert(User), [{"pseudonym": home.store_pseudonym(raw), "key_id": home.pseudonym_key.key_id}
                                    for raw in STORED])
    return EgressPseudonyms(home.pseudonym_key, home.store_pseudonym, stored_users(home.engine))


def _token(p: EgressPseudonyms, raw: str) -> str:
    return p.token(p.store_pseudonym(raw))


@pytest.mark.parametrize(("text", "raw", "stored_as"), [
    ("Customer C036007 asked about her order", "C036007", "C036007"),
    ("customer c036007 asked", "c036007", "C036007"),  # lower case of an upper-case id
    ("ref C036007_2024 attached", "C036007", "C036007"),  # "_" ends a candidate
    ("ticket:C036007.", "C036007", "C036007"),  # punctuation too
    ("from CUST-0042, again", "CUST-0042", "cust-0042"),  # an id with a hyphen, upper case
    ("Zoe\u0308" + "77 wrote", "Zoe\u0308" + "77", "Zoë77"),  # decomposed ë: NFC as ingest normalises
])
def test_stored_ids_in_the_text_become_egress_tokens(pseudonyms: EgressPseudonyms, text: str, raw: str,
                                                      stored_as: str) -> None:
    (out,), count = replace_customer_ids([text], pseudonyms, (), ())
    assert raw not in out and count == 1
    assert _token(pseudonyms, stored_as) in out


def test_unknown_words_and_ids_stay(pseudonyms: EgressPseudonyms) -> None:
    text = "C036008 is not a customer; C0360071 neither; order 42 for a lipstick"
    assert replace_customer_ids([text], pseudonyms, (), ()) == ([text], 0)


def test_one_store_lookup_per_request(pseudonyms: EgressPseudonyms) -> None:
    calls: list[int] = []
    lookup = pseudonyms.known
    assert lookup is not None

    def counting(found: Collection[str]) -> set[str]:
        calls.append(len(found))
        return lookup(found)

    counted = EgressPseudonyms(pseudonyms.key, pseudonyms.store_pseudonym, counting)
    texts = ["C036007 and cust-0042", "hello c036007", "nothing here"]
    out, count = replace_customer_ids(texts, counted, (), ())
    assert len(calls) == 1 and count == 3 and not any("036007" in t or "0042" in t for t in out)


def test_named_ids_match_in_any_case_and_before_underscore(pseudonyms: EgressPseudonyms) -> None:
    named = EgressPseudonyms(pseudonyms.key, pseudonyms.store_pseudonym)  # no store lookup: only the named id
    text = "ABC-99 wrote; abc-99_backup; xabc-99 is another word"
    (out,), count = replace_customer_ids([text], named, ["ABC-99"], ())
    token = _token(named, "ABC-99")
    assert out == f"{token} wrote; {token}_backup; xabc-99 is another word" and count == 2


def test_store_tokens_become_egress_tokens(home: Home, pseudonyms: EgressPseudonyms) -> None:
    store_token = home.store_pseudonym("someone")
    (out,), count = replace_customer_ids([f"user {store_token} asked"], pseudonyms, (), ())
    assert out == f"user {pseudonyms.token(store_token)} asked" and count == 1


def test_patterns_give_numbered_placeholders_even_for_unknown_ids(pseudonyms: EgressPseudonyms) -> None:
    patterns = [re.compile(r"(?i)\bK\d{5}\b")]
    texts = ["K12345 and k12345 and K99999", "again K99999; stored C036007"]
    out, count = replace_customer_ids(texts, pseudonyms, (), patterns)
    assert out[0] == "<CUSTOMER_ID_1> and <CUSTOMER_ID_1> and <CUSTOMER_ID_2>"
    assert out[1] == f"again <CUSTOMER_ID_2>; stored {_token(pseudonyms, 'C036007')}" and count == 5


def test_a_stored_id_wins_over_a_pattern_covering_it(pseudonyms: EgressPseudonyms) -> None:
    (out,), _ = replace_customer_ids(["C036007"], pseudonyms, (), [re.compile(r"C\d{6}")])
    assert out == _token(pseudonyms, "C036007")


def test_ids_without_a_key_are_refused() -> None:
    with pytest.raises(CustomerIdError, match="no pseudonym key"):
        replace_customer_ids(["hello"], None, ["C036007"], ())
    assert replace_customer_ids(["K12345"], None, (), [re.compile(r"K\d+")]) == (["<CUSTOMER_ID_1>"], 1)


def test_candidates_cover_pieces_and_joined_runs() -> None:
    text = "x cust-2024_eu. y"
    assert {text[s:e] for s, e in candidates(text)} == {"x", "y", "cust", "2024", "eu", "cust-2024",
                                                        "2024_eu", "cust-2024_eu"}


@pytest.mark.parametrize(("pattern", "message"), [("C(\\d+", "pattern 1 is not a valid Python regular expression"),
                                                  ("C\\d*|", "matches the empty string")])
def test_bad_patterns_fail_at_config_load(tmp_path: Path, pattern: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[egress]\ncustomer_id_patterns = [{pattern!r}]\n".replace("\\\\", "\\"), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})
    assert load_config(None, env={}).egress.customer_id_patterns == ()
    assert EgressConfig(customer_id_patterns=(r"C\d{6}",)).customer_id_patterns == (r"C\d{6}",)


VARIANTS = ("{}", "{}_2024", "({}).", "x-{}", "{}'s", "#{}!", "{}\n")


@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_no_stored_id_survives_any_case_or_neighbour(pseudonyms: EgressPseudonyms, case: object) -> None:
    # An id stored in mixed case ("Zoë77") is found as written only: the text is tried as written, upper- and
    # lower-cased (docs/EGRESS.md), so it is left out of the case changes here.
    ids = [raw for raw in STORED if case is str or raw in (raw.upper(), raw.lower())]
    texts = [f"note {variant.format(case(raw))} end" for raw in ids for variant in VARIANTS]  # type: ignore[operator]
    out, count = replace_customer_ids(texts, pseudonyms, (), ())
    assert count == len(texts) and len(ids) >= 2
    assert not [t for t in out for raw in ids if raw.casefold() in t.casefold()]
