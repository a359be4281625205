"""The appliance-side builder: catalog allow-list from the store, config wiring, JSONL record handling."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from anonymize.policy import PolicyError
from appliance.config import AnonymizeConfig
from appliance.data.home import Home
from appliance.data.store import Item
from appliance.privacy.anonymizer import (
    AnonymizeInputError,
    anonymize_records,
    build_anonymizer,
    catalog_allow_list,
    derive_hash_key,
    output_record,
    read_records,
)


def _add_items(home: Home) -> None:
    with Session(home.engine) as session:
        session.add_all([Item(sku="a", title="Rose Gold Shimmer Palette", brand="Ella Rose"),
                         Item(sku="b", title="Dave's Hydrating Moisturiser", brand="Glowco"),
                         Item(sku="c", title="Plain Tee", brand=None)])
        session.commit()


def test_catalog_allow_list_has_brands_and_non_name_title_words(home: Home) -> None:
    _add_items(home)
    allow = catalog_allow_list(home.engine)
    assert {"Ella Rose", "Glowco", "shimmer", "palette", "hydrating", "moisturiser"} <= set(allow)
    assert not {"rose", "dave", "tee"} & set(allow)  # names stay detectable; short words left out


def test_builder_uses_config_and_catalog(home: Home) -> None:
    _add_items(home)
    cfg = AnonymizeConfig(use_ner=False, deny_list=("Ravenswood",), allow_list=("Sam",))
    anonymizer = build_anonymizer(cfg, home.engine)
    result = anonymizer.anonymize("Ella Rose lipstick for my wife sarah and sam, Ravenswood store")
    assert result.text == "Ella Rose lipstick for my wife <PERSON_1> and sam, <CUSTOM_1> store"
    assert build_anonymizer(cfg).anonymize("Ella Rose").text == "<PERSON_1>"  # no store: no catalog allow-list


def test_builder_policy_and_keyed_hash_key(home: Home) -> None:
    cfg = AnonymizeConfig(use_ner=False, policy="redact")
    assert build_anonymizer(cfg).anonymize("hi dave").text == "hi <REDACTED>"
    with pytest.raises(PolicyError, match="tanaban init"):
        build_anonymizer(cfg, policy="keyed_hash")
    key = derive_hash_key(home.pseudonym_key.secret)
    assert len(key) == 32 and key != home.pseudonym_key.secret
    assert build_anonymizer(cfg, policy="keyed_hash", hash_key=key).anonymize("hi dave").text.startswith("hi <PERSON#")


@pytest.mark.parametrize(("line", "match"), [
    ("not json", r"in\.jsonl:2: not valid JSON"), ('{"id": 1}', r"in\.jsonl:2: text: expected"),
    ('["text"]', r"in\.jsonl:2: text: expected"), ('{"text": 5}', r"in\.jsonl:2: text: expected"),
])
def test_bad_input_lines_name_file_and_line(line: str, match: str) -> None:
    with pytest.raises(AnonymizeInputError, match=match):
        read_records(['{"id": 0, "text": "ok"}', line], "in.jsonl")


def test_records_round_trip() -> None:
    records = read_records(['{"id": "r1", "text": "call dave on 07700 900123"}', "", '{"text": "dave again"}'], "x")
    anonymizer = build_anonymizer(AnonymizeConfig(use_ner=False))
    out = [output_record(r, res) for r, res in anonymize_records(anonymizer, records, batch=1)]
    assert [o["id"] for o in out] == ["r1", None]
    assert out[0]["text"] == "call <PERSON_1> on <PHONE_NUMBER_1>" and out[1]["text"] == "<PERSON_1> again"
    assert out[0]["findings"][1] == {"entity_type": "PHONE_NUMBER", "start": 13, "end": 25, "score": 0.95,
                                     "recognizer": "phone"}
