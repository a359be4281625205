"""The egress pair's speed work changes no output: the structured rules shared by both layers run once per text, the
check layer's spaCy pass skips the tok2vec no entity depends on, and a batch split over a child process
(anonymize.split) gives the findings of one process. Each is compared with the pair built the way it was before."""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest

from anonymize.engine import Anonymizer, AnonymizerError, RuleCache
from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding
from anonymize.layers import CHECK, PRIMARY, LayeredAnonymizer, default_layered
from anonymize.recognizers import default_recognizers
from anonymize.recognizers import ner as ner_module
from anonymize.split import MIN_SPLIT, SplitDetectionError, SplitDetector, split_point

# Synthetic texts written for this test: names, places, addresses, phones, ids, e-mail, one ALL-CAPS and one
# lower-case text (the re-cased pass), a text with no personal data, and one with an egress placeholder.
TEXTS = [
    "Hi, this is Margit Solberg from Tromsø, call me on +47 912 34 567 about order ORD-2024-118842.",
    "DELIVER TO PIOTR WISNIEWSKI, UL. KWIATOWA 12, 31-042 KRAKOW. PHONE 0048 601 222 333.",
    "my neighbour jonas berg in uppsala took the parcel, his email is jonas.berg@example.se",
    "The kettle is great and the lid closes properly. Five stars, would buy again.",
    "Customer <CUSTOMER_ID_1> (card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32) asked for a refund.",
    "Ship to Ana Beatriz Gonçalves, Rua das Flores 27, 4050-262 Porto; DNI 12345678Z, born 03/07/1961.",
]


class Counting:
    """A rule recognizer that counts its calls (and finds every "Ravi")."""

    name, entities = "counting", ("PERSON",)

    def __init__(self) -> None:
        self.calls = 0

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        self.calls += 1
        start = text.find("Ravi")
        return [] if start < 0 else [Finding("PERSON", start, start + 4, 0.9, self.name)]


def _explained(pair: LayeredAnonymizer, texts: list[str]) -> list[tuple[str, list[dict], list[dict]]]:
    """Masked text, findings with their layers and detections, and the residual check (run on the original text,
    where it finds what the masking found)."""
    return [(r.text, [f.explain() for f in r.findings], [f.explain() for f in pair.residual(text)])
            for text, r in zip(texts, pair.anonymize_batch(texts), strict=True)]


def test_a_rule_both_layers_hold_runs_once_per_text_with_the_same_findings() -> None:
    shared = Counting()
    pair = LayeredAnonymizer(Anonymizer(use_ner=False, recognizers=[shared]),
                             Anonymizer(use_ner=False, ner_backend="spacy", recognizers=[shared]))
    texts = ["Ravi called", "nobody", "Ravi and Ravi"]
    found = pair.analyze_many(texts)
    assert shared.calls == len(texts)
    assert [[(f.start, f.end, f.layer) for f in per_text] for per_text in found] == [
        [(0, 4, "both")], [], [(0, 4, "both"), (9, 13, "both")]]  # the second "Ravi": refine.propagate_names
    own = [Counting(), Counting()]  # the same rule as two objects: each layer runs its own
    apart = LayeredAnonymizer(Anonymizer(use_ner=False, recognizers=[own[0]]),
                              Anonymizer(use_ner=False, ner_backend="spacy", recognizers=[own[1]]))
    assert apart.analyze_many(texts) == found and [c.calls for c in own] == [3, 3]


def test_rule_cache_keeps_unshared_recognizers_out() -> None:
    shared, other = Counting(), Counting()
    cache = RuleCache([shared])
    assert cache.holds(shared) and not cache.holds(other)
    assert cache.analyze(shared, "Ravi") is cache.analyze(shared, "Ravi") and shared.calls == 1


def test_default_pair_holds_the_layers_rule_sets() -> None:
    pair = default_layered(use_ner=False)
    for name, layer in pair.layers.items():
        assert [r.name for r in layer.recognizers] == [r.name for r in default_recognizers(name)]
    primary, check = pair.layers[PRIMARY].recognizers, pair.layers[CHECK].recognizers
    assert all(a is b for a, b in zip(primary, check, strict=False))  # the structured rules: the same objects


def _reference_pair(allow: tuple[str, ...]) -> LayeredAnonymizer:
    """The pair as built before: each layer its own rule objects (nothing shared)."""
    return LayeredAnonymizer(Anonymizer(allow_list=allow, recognizers=default_recognizers(PRIMARY)),
                             Anonymizer(allow_list=allow, ner_backend="spacy", recognizers=default_recognizers(CHECK)))


def test_the_pair_equals_its_unshared_form_with_the_full_spacy_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    allow = ("Ella Rose",)
    fast = _explained(default_layered(allow_list=allow), TEXTS)
    assert "tok2vec" in ner_module._disabled_pipes(ner_module.DEFAULT_MODEL)
    monkeypatch.setattr(ner_module, "_disabled_pipes", lambda model: tuple(  # the pass as it was: tok2vec runs
        p for p in ner_module._DISABLED if p in ner_module.load_nlp(model).pipe_names))
    assert _explained(_reference_pair(allow), TEXTS) == fast
    seen = {(d["layer"], d["recognizer"]) for _, found, _ in fast for f in found for d in f["detections"]}
    assert {(CHECK, "spacy-ner"), (PRIMARY, "learned-ner"), (CHECK, "phone"), (PRIMARY, "phone")} <= seen
    assert all(residual for _, found, residual in fast if found)


@pytest.mark.parametrize(("lengths", "point"), [
    ([100] * 4, 2),  # equal texts: halves
    ([100] * 5, 3),  # the caller keeps the middle text
    ([900] + [50] * 10, 2),  # one long text and short ones: the caller takes the long one and little else
    ([50] * 10 + [900], 10),  # the long one last: the child takes it alone
    ([10, 10], 1),  # one text each, at least
])
def test_split_point_shares_the_characters(lengths: list[int], point: int) -> None:
    assert split_point(["x" * n for n in lengths]) == point


def test_a_split_batch_gives_one_process_findings() -> None:
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 3)]
    assert len(texts) >= MIN_SPLIT
    split = default_layered(allow_list=("Ella Rose",), use_ner=False, workers=2)
    try:
        assert _explained(split, texts) == _explained(default_layered(allow_list=("Ella Rose",), use_ner=False),
                                                      texts)
        assert split.split is not None and split.split._proc is not None  # the child did take half
    finally:
        split.close()
    small = default_layered(use_ner=False, workers=2)
    small.analyze_many(TEXTS)  # fewer than MIN_SPLIT texts: no child
    assert small.split is not None and small.split._proc is None


def test_a_detection_error_in_the_child_fails_the_call_closed() -> None:
    broken = SplitDetector(functools.partial(Anonymizer, detector_path="/nonexistent/pii-model"))
    try:
        with pytest.raises(AnonymizerError, match="NER failed") as caught:
            broken.analyze_many(lambda texts: [[] for _ in texts], ["Ravi called"] * MIN_SPLIT)
        assert "Ravi" not in str(caught.value)
    finally:
        broken.close()


def test_a_child_that_dies_fails_the_call_closed() -> None:
    dead = SplitDetector(functools.partial(os._exit, 3))
    with pytest.raises(SplitDetectionError, match="workers = 1"):
        dead.analyze_many(lambda texts: [[] for _ in texts], ["x"] * MIN_SPLIT)


def test_workers_must_be_one_or_two() -> None:
    with pytest.raises(AnonymizeUserError, match="workers must be 1 or 2"):
        default_layered(use_ner=False, workers=3)


def test_the_config_knob_reaches_the_pair() -> None:
    from appliance.config import AnonymizeConfig
    from appliance.privacy.anonymizer import build_anonymizer

    assert build_anonymizer(AnonymizeConfig(use_ner=False)).split is None
    two = build_anonymizer(AnonymizeConfig(use_ner=False, workers=2))
    assert two.split is not None and two.split._proc is None  # started only by a large batch


def test_an_error_here_leaves_the_child_in_step() -> None:
    split = SplitDetector(functools.partial(default_layered, use_ner=False))
    texts = ["Ravi wrote from jane@example.com"] * MIN_SPLIT

    def failing(texts: Any) -> list:
        raise AnonymizerError("detection failed here")

    try:
        with pytest.raises(AnonymizerError, match="failed here"):
            split.analyze_many(failing, texts)
        here, others = default_layered(use_ner=False), ["call 0207 946 0958 now"] * MIN_SPLIT
        assert split.analyze_many(here.analyze_many, others) == here.analyze_many(others)  # its reply, not stale
    finally:
        split.close()


def test_threads_sharing_a_split_detector_get_their_own_findings() -> None:
    """Two threads on one pair: each call's child reply is its own (without the lock, replies could cross and a
    text would be masked with another text's spans)."""
    import threading
    import time

    split = SplitDetector(functools.partial(default_layered, use_ner=False))
    here = default_layered(use_ner=False)
    batches = [["so " * n + f"mail {n}{i}@example.com or call 0207 946 09{i:02d}" for i in range(MIN_SPLIT)]
               for n in range(4)]  # the spans sit at other offsets in each batch
    results: dict[int, list] = {}

    def run(n: int) -> None:
        def slow_here(texts: list[str]) -> list:  # a later thread finishes its half first: the race, if any
            time.sleep(0.03 * (4 - n))
            return here.analyze_many(texts)

        for _ in range(3):
            results[n] = split.analyze_many(slow_here, batches[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n, texts in enumerate(batches):
            assert results[n] == here.analyze_many(texts)
    finally:
        split.close()
