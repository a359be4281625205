"""The catalog allow-list at egress: the anonymizer the gateway builds from the appliance (home_anonymizer) leaves the
store's own brands alone, `anonymize.catalog_allow_list = false` turns that off, and the cue-found retail types
(order numbers, customer numbers, plates, birth dates) never arrive at the endpoint. Rules only (use_ner off), so
no model is loaded; what arrives is read from the loopback LLM stand-in."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert

from appliance.config import EgressConfig
from appliance.data.home import Home
from appliance.data.store import Item, User
from appliance.demo.llm_standin import LLMStandin
from appliance.privacy.anonymizer import home_anonymizer
from appliance.privacy.egress import open_gateway
from appliance.privacy.policy import current_policy

BRAND = "Ella Rose"  # a brand that reads as a person's name to the name gazetteer of the check layer


@pytest.fixture
def standin() -> Iterator[LLMStandin]:
    with LLMStandin() as server:
        yield server


@pytest.fixture
def catalog_home(home: Home) -> Home:
    with home.engine.begin() as conn:
        conn.execute(insert(Item), [{"sku": "SKU-1", "title": "Ella Rose Night Serum 30ml", "brand": BRAND}])
    return home


def _send(home: Home, standin: LLMStandin, text: str, **anonymize: Any) -> str:
    cfg = dataclasses.replace(home.config.anonymize, use_ner=False, **anonymize)
    egress = EgressConfig(enabled=True, base_url=standin.base_url, model="tiny", allowed_hosts=("127.0.0.1",),
                          api_key_env="", timeout_s=5.0, allow_weakened_policy=True)
    with open_gateway(home, cfg=egress, anonymizer=home_anonymizer(cfg, home), env={}) as gateway:
        gateway.chat([{"role": "user", "content": text}], purpose="test")
    return standin.requests[-1].json()["messages"][0]["content"]


def test_catalog_brands_are_not_masked_but_customers_are(catalog_home: Home, standin: LLMStandin) -> None:
    arrived = _send(catalog_home, standin, "Ella Rose serum was great, thanks Ella Rose team! Signed, Megan Hollis")
    assert arrived.count(BRAND) == 2 and "Megan" not in arrived and "<PERSON_1>" in arrived


def test_the_switch_turns_the_catalog_allow_list_off(catalog_home: Home, standin: LLMStandin) -> None:
    arrived = _send(catalog_home, standin, "Ella Rose serum was great", catalog_allow_list=False)
    assert BRAND not in arrived and arrived.startswith("<PERSON_1>")
    on = current_policy(catalog_home.config)
    off = current_policy(dataclasses.replace(catalog_home.config, anonymize=dataclasses.replace(
        catalog_home.config.anonymize, catalog_allow_list=False)))
    assert on.fingerprint != off.fingerprint  # the audit record tells the two apart


def test_retail_ids_plates_and_birth_dates_never_arrive(home: Home, standin: LLMStandin) -> None:
    text = ("Bestellnummer DE-2026-77120, Kundennummer KD-4410928, Kennzeichen M-KL 4412, geb. am 14.02.1987; "
            "bestellt am 12.11.2026")
    arrived = _send(home, standin, text)
    for value in ("DE-2026-77120", "KD-4410928", "M-KL 4412", "14.02.1987"):
        assert value not in arrived
    assert "<LICENSE_PLATE_1>" in arrived and "<DATE_OF_BIRTH_1>" in arrived and "<CUSTOMER_ID_1>" in arrived
    assert "12.11.2026" in arrived  # an order date is not personal data


def test_a_stored_customer_id_arrives_as_its_egress_token_not_masked(home: Home, standin: LLMStandin) -> None:
    with home.engine.begin() as conn:
        conn.execute(insert(User), [{"pseudonym": home.store_pseudonym("C036007"),
                                     "key_id": home.pseudonym_key.key_id}])
    arrived = _send(home, standin, "Customer c036007 asked about a refund")
    assert "036007" not in arrived and re.search(r"Customer ext-[0-9a-f]{16}-[0-9a-f]{32} asked", arrived)
