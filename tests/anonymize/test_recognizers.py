"""Every rule-based recognizer on positive and negative examples (no NER: these must hold without spaCy)."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer

POSITIVE = [  # (text, entity type, the exact value that must be found)
    ("write to jo.smith+shop@mail.example.co.uk please", "EMAIL_ADDRESS", "jo.smith+shop@mail.example.co.uk"),
    ("call me on +44 20 7946 0958 after six", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("my mobile is 07700 900123", "PHONE_NUMBER", "07700 900123"),
    ("ring (415) 555-2671 tomorrow", "PHONE_NUMBER", "(415) 555-2671"),
    ("reach me at +49 30 901820", "PHONE_NUMBER", "+49 30 901820"),
    ("paid with 4111 1111 1111 1111 yesterday", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 5555-5555-5555-4444 was charged", "CREDIT_CARD", "5555-5555-5555-4444"),
    ("refund to GB82 WEST 1234 5698 7654 32 please", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
    ("logged in from 192.168.10.24 at home", "IP_ADDRESS", "192.168.10.24"),
    ("server 2001:db8::8a2e:370:7334 again", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("my ssn is 536-22-1234", "US_SSN", "536-22-1234"),
    ("see https://www.instagram.com/sarah_k_makeup.", "URL", "https://www.instagram.com/sarah_k_makeup"),
    ("my blog daves-reviews.blog has photos", "URL", "daves-reviews.blog"),
    ("born 1987-04-23, still going", "DATE_OF_BIRTH", "1987-04-23"),
    ("DOB: March 3rd, 2001 (for the age check)", "DATE_OF_BIRTH", "March 3rd, 2001"),
    ("send it to 221B Baker Street please", "STREET_ADDRESS", "221B Baker Street"),
    ("deliver to flat 4, 12 high road", "STREET_ADDRESS", "flat 4, 12 high road"),
    ("we live on Maple Avenue now", "STREET_ADDRESS", "Maple Avenue"),
    ("i live on maple avenue now", "STREET_ADDRESS", "maple avenue"),
    ("post it to PO Box 4410", "STREET_ADDRESS", "PO Box 4410"),
    ("postcode SW1A 1AA, London", "POSTCODE", "SW1A 1AA"),
    ("my postcode is sw1a 1aa", "POSTCODE", "sw1a 1aa"),
    ("Springfield, IL 62704 is home", "POSTCODE", "62704"),
    ("zip 94105-1234 please", "POSTCODE", "94105-1234"),
    ("my zip is 94105", "POSTCODE", "94105"),
    ("about order ORD-2024-889123 again", "ORDER_NUMBER", "ORD-2024-889123"),
    ("my order number is 58213377", "ORDER_NUMBER", "58213377"),
    ("order #771203 never came", "ORDER_NUMBER", "771203"),
    ("marketplace 112-7654321-9876543 refund", "ORDER_NUMBER", "112-7654321-9876543"),
    ("my gift card X7KQ-2M9P-4RTA-88ZD did not work", "GIFT_CARD", "X7KQ-2M9P-4RTA-88ZD"),
    ("the voucher 6006 4912 3456 7890 was rejected", "GIFT_CARD", "6006 4912 3456 7890"),
    ("loyalty LOY-00918273 points missing", "LOYALTY_ID", "LOY-00918273"),
    ("my rewards number 99120044 has no points", "LOYALTY_ID", "99120044"),
    ("key sk-proj-abcdefghijklmnopqrstuvwxyz123456 leaked", "SECRET", "sk-proj-abcdefghijklmnopqrstuvwxyz123456"),
    ("AKIAIOSFODNN7EXAMPLE in a log", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("my password is hunter2!!", "SECRET", "hunter2!!"),
    ("pwd: Tr0ub4dor&3 for the account", "SECRET", "Tr0ub4dor&3"),
    ("we drove up from leeds", "LOCATION", "leeds"),
    ("SHIPPED TO GLASGOW TWICE", "LOCATION", "GLASGOW"),
    ("moved to New York last year", "LOCATION", "New York"),
    ("a weekend in bath", "LOCATION", "bath"),
]

NEGATIVE = [  # (text, entity type that must not be found)
    ("size 12 fits well, 3 out of 5", "PHONE_NUMBER"),
    ("the 4111 1111 1111 1112 digits fail Luhn", "CREDIT_CARD"),
    ("GB83WEST12345698765432 has a bad check", "IBAN_CODE"),  # compact and mistyped (print form: masked)
    ("version 1.2.3.4000 of the app", "IP_ADDRESS"),
    ("ships in 12:30:45 hours", "IP_ADDRESS"),
    ("000-12-3456 is no ssn", "US_SSN"),
    ("bought it in March 2024 and again last week", "DATE_TIME"),
    ("it arrived on 12 March 2024 at last", "DATE_TIME"),  # an order or delivery date identifies no one
    ("delivered March 3rd, 2024 to me", "DATE_OF_BIRTH"),
    ("a proper high street brand, shop it on the high street", "STREET_ADDRESS"),
    ("I paid 12345 yen for it", "POSTCODE"),
    ("it lasted 123456 hours", "ORDER_NUMBER"),
    ("shade 12345678 is my favourite", "LOYALTY_ID"),
    ("the pass was great fun", "SECRET"),
    ("sku ABCD-EFGH-IJKL is sold out", "GIFT_CARD"),
    ("a nice bath bomb, like reading in the tub", "LOCATION"),
]


@pytest.mark.parametrize(("text", "entity", "value"), POSITIVE, ids=[p[1] + ":" + p[2] for p in POSITIVE])
def test_recognizer_finds(rules: Anonymizer, text: str, entity: str, value: str) -> None:
    found = [(f.entity_type, text[f.start:f.end]) for f in rules.analyze(text)]
    assert (entity, value) in found, found


@pytest.mark.parametrize(("text", "entity"), NEGATIVE, ids=[n[1] + ":" + n[0][:20] for n in NEGATIVE])
def test_recognizer_ignores(rules: Anonymizer, text: str, entity: str) -> None:
    found = [(f.entity_type, text[f.start:f.end]) for f in rules.analyze(text)]
    assert entity not in {e for e, _ in found}, found
