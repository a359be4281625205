"""Company names are no person's or place's data: anonymize.recognizers.organisations (made-up firms)."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.recognizers.organisations import is_organisation


def _finding(text: str, value: str, entity: str = "PERSON") -> Finding:
    start = text.index(value)
    return Finding(entity, start, start + len(value), 0.85, "t")


@pytest.mark.parametrize(("text", "value", "entity", "organisation"), [
    ("Invoice to Harbour Lane Bakery Ltd, VAT GB123", "Harbour Lane Bakery Ltd", "PERSON", True),  # inside the span
    ("Lieferant: Schreinerei Vogt GmbH, Ust-Id DE1", "Schreinerei Vogt", "PERSON", True),  # right after it
    ("Pedido para Ferragens Souza Irmãos LTDA, CNPJ", "Ferragens", "PERSON", True),  # three words later
    ("Fornitore: Ottica Ferri S.r.l. - P.IVA 0123", "Ottica Ferri", "PERSON", True),  # dotted form
    ("Zamówienie od firmy Piekarnia Nowak sp. z o.o.", "Piekarnia Nowak", "PERSON", True),
    ("Faktura pro Truhlářství Dvořák s.r.o., IČO 123", "Truhlářství Dvořák", "PERSON", True),
    ("Toimittaja: Saarinen Rakennus Oy, Y-tunnus 123", "Saarinen Rakennus", "PERSON", True),  # an exact form
    ("Order from Vogt & Söhne KG today", "Vogt", "PERSON", True),  # a joiner between
    ("請求先：株式会社青葉商店 御中", "株式会社青葉商店 御中", "PERSON", True),  # a prefix form inside the span
    ("宛先: 株式会社 青葉商店", "青葉商店", "PERSON", True),  # a prefix form right before it
    ("Поставщик: ООО Ромашка, ИНН 7701", "Ромашка", "PERSON", True),
    ("Harbour Lane Bakery Ltd", "Harbour", "LOCATION", True),  # places too: "Lisboa Imports Lda"
    ("Pedido de Ferretería Gómez S.L., CIF B12", "Ferretería Gómez S.L", "LOCATION", True),  # its dot ends the sentence
    ("PO from Lakeside Dental Group, Attn: Dr. Ruiz", "Lakeside Dental Group", "PERSON", True),  # a head noun ends it
    ("Order from Shree Ganesh Traders, GSTIN 29AA", "Shree Ganesh Traders", "LOCATION", True),
    ("Proveedor: Distribuidora Alvarez, RFC AAA", "Distribuidora Alvarez", "PERSON", True),  # a Romance head opens it
    ("Deliver to Oak Hill Farm Stall (Pty) Ltd, VAT 4", "Oak Hill Farm Stall (Pty) Ltd", "STREET_ADDRESS", True),
    # not companies
    ("Call Dana Whitfield, Whitfield Ltd handles the rest", "Dana Whitfield", "PERSON", False),  # a comma ends her
    ("Send it to Adelaide SA 5000", "Adelaide", "LOCATION", False),  # a state code, not "S.A."
    ("We moved to Calgary AB last year", "Calgary", "LOCATION", False),  # Alberta, not "aktiebolag"
    ("Ship to Reno NV 89501", "Reno", "LOCATION", False),
    ("Ship to Denver CO 80202", "Denver", "LOCATION", False),
    ("Kylie Parrish limited edition palette", "Kylie Parrish", "PERSON", False),  # prose, not "Limited"
    ("MY NAME IS JOHN SMITH AS YOU KNOW", "JOHN SMITH", "PERSON", False),  # "AS" in shouting is English
    ("Anna Berg\nBerg Consulting GmbH", "Anna Berg", "PERSON", False),  # a signature: the firm is the next line
    ("Ask Tom Vogt about the GmbH paperwork", "Tom Vogt", "PERSON", False),  # the designation is too far
    ("Anna Berg CEO Berg Consulting GmbH", "Anna Berg", "PERSON", False),  # her role stands between
    ("Ltd was all the label said", "Ltd", "PERSON", False),  # a designation alone is no firm's name
    ("Harbour Lane Bakery Ltd", "Harbour Lane Bakery Ltd", "ORDER_NUMBER", False),  # names and places only
    ("Unit 4, Harbour Lane Ltd", "Unit 4, Harbour Lane", "STREET_ADDRESS", False),  # a numbered street line
    ("Sent by Maria Lopez, group leader", "Maria Lopez", "PERSON", False),  # no head noun inside the name
    ("Ask for Group at the desk", "Group", "PERSON", False),  # a head noun alone is no firm's name
    ("I'll send it with GIG Logistics tomorrow.", "GIG", "PERSON", True),  # a head noun right after the name
    ("Kargo Aras Kargo ile gidecek.", "Aras", "PERSON", True),
    ("Hi, ni Otieno wa Otieno Electronics.", "Otieno Electronics", "PERSON", True),  # inside the span, as before
])
def test_organisations(text: str, value: str, entity: str, organisation: bool) -> None:
    assert is_organisation(text, _finding(text, value, entity)) is organisation


def test_the_firm_is_not_masked_but_its_contact_is(rules: Anonymizer) -> None:
    """Through the engine: the given-names rule finds "Grace Whitfield Interiors" (a firm named after its founder) and
    the contact; only the contact stays a finding."""
    text = "Supplier: Grace Whitfield Interiors Ltd. Contact: Dana Whitfield, 0161 496 0000."
    before = [text[f.start:f.end] for f in rules.analyze(text) if f.entity_type == "PERSON"]
    assert before == ["Dana Whitfield"]


def test_a_name_before_a_head_noun_stays_when_the_text_names_the_owner_apart() -> None:
    text = "Hi, ni Otieno wa Otieno Electronics."  # masking the owner but not the firm would leak "Otieno"
    start = text.index("Otieno Electronics")
    assert is_organisation(text, Finding("PERSON", start, start + len("Otieno"), 0.85, "t")) is False
    text = "Hi, ni Amina wa Otieno Electronics."
    start = text.index("Otieno Electronics")
    assert is_organisation(text, Finding("PERSON", start, start + len("Otieno"), 0.85, "t")) is True
