"""The default recognizer set: validated patterns, retail identifiers, addresses, a name gazetteer and spaCy NER."""

from __future__ import annotations

from anonymize.recognizers.address import postcode_recognizer, street_recognizer
from anonymize.recognizers.base import Pattern, Recognizer, RegexRecognizer
from anonymize.recognizers.contact import (
    PhoneRecognizer,
    email_recognizer,
    ip_recognizer,
    spelled_email_recognizer,
    url_recognizer,
)
from anonymize.recognizers.dates import date_recognizer
from anonymize.recognizers.financial import card_recognizer, iban_recognizer, ssn_recognizer
from anonymize.recognizers.name_cues import NameCueRecognizer
from anonymize.recognizers.names import NameRecognizer
from anonymize.recognizers.ner import DEFAULT_MODEL, NerRecognizer, NlpLoadError, load_nlp
from anonymize.recognizers.places import PlaceRecognizer
from anonymize.recognizers.retail import (
    gift_card_recognizer,
    loyalty_recognizer,
    order_recognizer,
    secret_recognizer,
)

__all__ = ["DEFAULT_MODEL", "NameCueRecognizer", "NameRecognizer", "NerRecognizer", "NlpLoadError", "Pattern",
           "PhoneRecognizer", "PlaceRecognizer", "Recognizer", "RegexRecognizer", "default_recognizers", "load_nlp"]


def default_recognizers() -> list[Recognizer]:
    """Every rule-based recognizer (NER is added by the engine when enabled)."""
    return [
        email_recognizer(), spelled_email_recognizer(), url_recognizer(), ip_recognizer(), PhoneRecognizer(),
        card_recognizer(), iban_recognizer(), ssn_recognizer(), date_recognizer(), street_recognizer(),
        postcode_recognizer(), order_recognizer(), gift_card_recognizer(), loyalty_recognizer(), secret_recognizer(),
        NameRecognizer(), NameCueRecognizer(), PlaceRecognizer(),
    ]
