"""The batched residual check (`residual_many`: one NER pass per layer for all texts of an egress request) finds what
per-text `residual` calls find, span for span and in the same order, and the egress step's residual passes give the
same texts, findings and refusals with it as with per-text checks, while checking each text no more often."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from anonymize.engine import Anonymizer
from anonymize.findings import Finding
from anonymize.layers import default_layered
from appliance.privacy.egress_prepare import Refused, _anonymized

# Synthetic texts written for this test: the originals hold names, places, addresses, phones, ids and an e-mail (an
# ALL-CAPS and a lower-case one for the re-cased pass); the rest are already masked, some with a name or number
# the masking left behind, one clean, one with a customer placeholder and an egress token.
TEXTS = [
    "Hi, this is Margit Solberg from Tromsø, call me on +47 912 34 567 about order ORD-2024-118842.",
    "DELIVER TO PIOTR WISNIEWSKI, UL. KWIATOWA 12, 31-042 KRAKOW. PHONE 0048 601 222 333.",
    "my neighbour jonas berg in uppsala took the parcel, his email is jonas.berg@example.se",
    "<PERSON_1> Solberg wrote again: the parcel for <PERSON_2> went to 14 Harbour Lane, Whitby YO21 3PU.",
    "The kettle is great and the lid closes properly. Five stars, would buy again.",
    "Customer <CUSTOMER_ID_1> (ext-0123456789abcdef-0123456789abcdef0123456789abcdef) asked Dr. Amara Okafor.",
    "Ship to <PERSON_1>, Rua das Flores 27, 4050-262 Porto; call +351 912 345 678 or write to ana@example.pt.",
]


def _spans(found: Sequence[Finding]) -> list[dict]:
    return [f.explain() if hasattr(f, "explain") else f.to_dict() for f in found]


@pytest.fixture(scope="module")
def pair() -> Any:
    return default_layered(allow_list=("Ella Rose",))


def test_residual_many_finds_what_per_text_calls_find(pair: Any) -> None:
    masked = [r.text for r in pair.anonymize_batch(TEXTS)]
    texts = TEXTS + masked + [TEXTS[0]]  # a repeated text too (the rule cache is keyed by text)
    batched = pair.residual_many(texts)
    assert [_spans(found) for found in batched] == [_spans(pair.residual(t)) for t in texts]
    assert all(batched[i] for i in (0, 1, 2, 3, 6))  # real findings were compared, not empty lists
    for threshold in (0.0, 0.9):
        assert ([_spans(f) for f in pair.residual_many(texts, threshold)]
                == [_spans(pair.residual(t, threshold)) for t in texts])
    assert pair.residual_many([]) == []


def test_one_layer_residual_many_equals_residual() -> None:
    rules = Anonymizer(use_ner=False)
    assert [_spans(f) for f in rules.residual_many(TEXTS)] == [_spans(rules.residual(t)) for t in TEXTS]
    assert any(rules.residual_many(TEXTS))


class _PerText:
    """A real anonymizer (rules only) that records the texts its residual checks see; no `residual_many`."""

    def __init__(self) -> None:
        self.inner = Anonymizer(use_ner=False)
        self.calls, self.checked = 0, []

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]:
        return self.inner.anonymize_many(texts)

    def residual(self, text: str) -> list[Finding]:
        self.calls += 1
        self.checked.append(text)
        return self.inner.residual(text)


class _Batched(_PerText):
    def residual_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        self.calls += 1
        self.checked += list(texts)
        return self.inner.residual_many(texts)


class _Leaky:
    """anonymize_many leaves the texts at `leak` unmasked, so the residual passes have something to mask."""

    def __init__(self, inner: Any, leak: tuple[int, ...]) -> None:
        self.inner, self.leak = inner, leak

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def anonymize_many(self, texts: Sequence[str]) -> list[Any]:
        results = self.inner.anonymize_many(texts)
        return [type(r)(t, []) if i in self.leak else r for i, (t, r) in enumerate(zip(texts, results, strict=True))]


def test_the_egress_step_gives_the_same_request_with_batched_checks() -> None:
    texts = ["Call me on 0207 946 0958 please.", "Mail jane.doe@example.com or +44 20 7946 0958 today.",
             "Nothing personal here at all.", "Card 4111 1111 1111 1111, mail ravi@example.org.", "Thanks!"]
    for passes in (1, 2):
        per_text, batched = _PerText(), _Batched()
        old = _anonymized(_Leaky(per_text, (1, 3)), list(texts), passes)
        new = _anonymized(_Leaky(batched, (1, 3)), list(texts), passes)
        assert old[0] == new[0] and _spans(old[1]) == _spans(new[1])
        assert "<EMAIL_ADDRESS>" in new[0][1] and "<PHONE_NUMBER>" in new[0][1]  # the residual passes masked them
        assert "<CREDIT_CARD>" in new[0][3] and "<PHONE_NUMBER_1>" in new[0][0]
        # one batched check of the request, then one of the two texts it changed (found clean: no third)
        assert batched.calls == 2 and batched.checked[5:] == [new[0][1], new[0][3]]
        assert per_text.checked == batched.checked and per_text.calls == 7


def test_the_egress_step_refuses_alike_with_batched_checks() -> None:
    texts = ["Call me on 0207 946 0958 please.", "Nothing personal here at all."]
    refusals = []
    for counting in (_PerText(), _Batched()):
        with pytest.raises(Refused) as refused:
            _anonymized(_Leaky(counting, (0,)), texts, 0)  # no residual pass: any finding refuses
        refusals.append((str(refused.value), refused.value.fields))
        assert "0207" not in str(refused.value)
    assert refusals[0] == refusals[1]
    assert refusals[0][1]["categories"] == {"PHONE_NUMBER": 1}
