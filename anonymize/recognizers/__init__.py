"""The rule-based recognizer sets: validated patterns, retail identifiers and addresses (both layers), plus a name
gazetteer, name cues and a place list for the independent check layer."""

from __future__ import annotations

from anonymize.recognizers.address import postcode_recognizer, street_recognizer
from anonymize.recognizers.admin_areas import admin_area_recognizer
from anonymize.recognizers.base import Pattern, Recognizer, RegexRecognizer
from anonymize.recognizers.cjk import CjkRecognizer
from anonymize.recognizers.contact import (
    PhoneRecognizer,
    email_recognizer,
    handle_recognizer,
    ip_recognizer,
    phone_cue_recognizer,
    reply_handle_recognizer,
    spelled_email_recognizer,
    url_recognizer,
)
from anonymize.recognizers.cues import IntroNameRecognizer, cue_recognizers
from anonymize.recognizers.cues_world import WRAPPED, world_cue_recognizers
from anonymize.recognizers.dates import date_recognizer
from anonymize.recognizers.financial import card_recognizer, iban_print_recognizer, iban_recognizer, ssn_recognizer
from anonymize.recognizers.name_cues import NameCueRecognizer
from anonymize.recognizers.names import NameRecognizer
from anonymize.recognizers.native_places import NativePlaceRecognizer
from anonymize.recognizers.ner import DEFAULT_MODEL, NerRecognizer, NlpLoadError, load_nlp
from anonymize.recognizers.places import PlaceRecognizer
from anonymize.recognizers.regions import LocalityLineRecognizer, SubdivisionRecognizer, TownRegionRecognizer
from anonymize.recognizers.retail import (
    gift_card_recognizer,
    loyalty_recognizer,
    order_recognizer,
    secret_recognizer,
)
from anonymize.recognizers.spoken import spoken_digits_recognizer
from anonymize.recognizers.streets_world import landmark_recognizer, world_street_recognizer
from anonymize.recognizers.world_names import WorldNameRecognizer
from anonymize.recognizers.world_places import WorldPlaceRecognizer

__all__ = ["DEFAULT_MODEL", "NameCueRecognizer", "NameRecognizer", "NerRecognizer", "NlpLoadError", "Pattern",
           "PhoneRecognizer", "PlaceRecognizer", "Recognizer", "RegexRecognizer", "check_recognizers",
           "default_recognizers", "load_nlp", "structured_recognizers"]


LAYERS = ("primary", "check")


def structured_recognizers() -> list[Recognizer]:
    """The structured and retail rules: contact data, payment data, dates, street and postcode patterns, retail ids,
    and cities written in a non-Latin script (which the learned detector, trained on Latin script, misses)."""
    cues = cue_recognizers()
    return [
        email_recognizer(), spelled_email_recognizer(), url_recognizer(), ip_recognizer(), PhoneRecognizer(),
        phone_cue_recognizer(),
        handle_recognizer(), reply_handle_recognizer(), card_recognizer(), iban_recognizer(), iban_print_recognizer(),
        ssn_recognizer(),
        date_recognizer(), street_recognizer(),
        postcode_recognizer(), order_recognizer(), gift_card_recognizer(), loyalty_recognizer(), secret_recognizer(),
        *(c for c in cues if c.name not in WRAPPED), *world_cue_recognizers(cues), CjkRecognizer(),
        TownRegionRecognizer(), LocalityLineRecognizer(), SubdivisionRecognizer(), world_street_recognizer(),
        landmark_recognizer(), NativePlaceRecognizer(), spoken_digits_recognizer(), admin_area_recognizer(),
    ]


def check_recognizers() -> list[Recognizer]:
    """The rules only the check layer runs: the name gazetteers (English, and world given names), the name cues and
    introductions, the place list."""
    return [NameRecognizer(), NameCueRecognizer(), PlaceRecognizer(), IntroNameRecognizer(), WorldNameRecognizer(),
            WorldPlaceRecognizer()]


def default_recognizers(layer: str = "primary") -> list[Recognizer]:
    """The rule-based recognizers of one detection layer (the engine adds the NER backend when enabled).

    "primary" (beside the learned detector): the structured and retail rules only; names and places are the
    detector's. "check" (the independent second layer, beside spaCy's en_core_web_sm): the structured rules plus the
    name gazetteer, the name cues (English, and the multilingual introductions of cues.IntroNameRecognizer) and the
    place list.
    """
    if layer == "primary":
        return structured_recognizers()
    if layer == "check":
        return [*structured_recognizers(), *check_recognizers()]
    raise ValueError(f"unknown recognizer layer {layer!r}; expected one of {', '.join(LAYERS)}")
