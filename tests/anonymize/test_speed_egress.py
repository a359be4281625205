"""The egress step skips the residual check of texts the anonymization found nothing in (they are sent as written,
and the check would run the same detection on them) and sends exactly what it sent with the check; an anonymizer
that does not declare `residual_within_analyze` still gets every text checked."""

from __future__ import annotations

from typing import Any

import pytest

from anonymize.engine import Anonymizer
from anonymize.layers import LayeredAnonymizer, default_layered
from appliance.privacy.egress_prepare import RESIDUAL_PASSES, Refused, _anonymized

# Synthetic messages written for this test: some hold personal data, some none (a review, a question, a greeting).
MESSAGES = [
    "The kettle boils fast and the lid closes properly. Five stars, would buy again.",
    "Hi, this is Margit Solberg from Tromsø, call me on +47 912 34 567 about order ORD-2024-118842.",
    "Does the blender come with a spare jug?",
    "my neighbour jonas berg in uppsala took the parcel, his email is jonas.berg@example.se",
    "Thanks, that solved it.",
    "Ship to Ana Beatriz Gonçalves, Rua das Flores 27, 4050-262 Porto.",
]


def _outcome(pair: Any, texts: list[str]) -> Any:
    try:
        clean, found = _anonymized(pair, texts, RESIDUAL_PASSES)
    except Refused as refused:
        return ("refused", str(refused))
    return clean, [f.to_dict() for f in found]


def _checked_texts(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[str]:
    seen: list[str] = []
    original = cls.residual_many

    def recording(self: Any, texts: Any, threshold: Any = None) -> Any:
        seen.extend(texts)
        return original(self, texts, threshold)

    monkeypatch.setattr(cls, "residual_many", recording)
    return seen


@pytest.mark.parametrize("use_ner", [False, True])
def test_skipping_clean_texts_sends_the_same(monkeypatch: pytest.MonkeyPatch, use_ner: bool) -> None:
    pair = default_layered(allow_list=("Ella Rose",), use_ner=use_ner)
    requests = [MESSAGES, MESSAGES[:1], MESSAGES[2:3], MESSAGES[1:2]] + [[m] for m in MESSAGES]
    seen = _checked_texts(monkeypatch, LayeredAnonymizer)
    fast = [_outcome(pair, r) for r in requests]
    clean_texts = {m for m, found in zip(MESSAGES, pair.analyze_many(MESSAGES), strict=True) if not found}
    assert clean_texts and not clean_texts & set(seen)  # clean messages were not checked again
    seen.clear()
    monkeypatch.setattr(LayeredAnonymizer, "residual_within_analyze", False)  # the step as it was: check every text
    assert [_outcome(pair, r) for r in requests] == fast
    assert clean_texts <= set(seen)


def test_residual_finds_nothing_where_analyze_found_nothing() -> None:
    """The invariant the skip relies on, with both NER models and on single engines too."""
    pair = default_layered(allow_list=("Ella Rose",))
    texts = MESSAGES + [m.upper() for m in MESSAGES] + [m.lower() for m in MESSAGES]
    for anonymizer in (pair, pair.primary, pair.check):
        for text, found, left in zip(texts, anonymizer.analyze_many(texts), anonymizer.residual_many(texts),
                                     strict=True):
            assert not left or found, text
            assert {(f.start, f.end) for f in left} <= {(f.start, f.end) for f in found}
    assert Anonymizer.residual_within_analyze and LayeredAnonymizer.residual_within_analyze


class Undeclared:
    """An anonymizer that finds nothing but whose residual check finds something: the skip must not apply."""

    def anonymize_many(self, texts: list[str]) -> list[Any]:
        from anonymize.engine import AnonymizeResult

        return [AnonymizeResult(t, []) for t in texts]

    def residual(self, text: str) -> list[Any]:
        from anonymize.findings import Finding

        return [Finding("PERSON", 0, 2, 0.9, "late")]


def test_an_undeclared_anonymizer_gets_every_text_checked() -> None:
    with pytest.raises(Refused, match="residual personal data"):
        _anonymized(Undeclared(), ["Jo is here"], RESIDUAL_PASSES)
