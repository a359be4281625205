"""The engine: fail-closed detection, offsets into the original text, allow/deny lists, request-wide numbering,
policies and the residual (pre-send) check. Rule-based recognizers only (the check layer's, which include the name
gazetteer), so these run without a model; the backend choice and the recognizer layers are checked at the end."""

from __future__ import annotations

import pytest

from anonymize.engine import Anonymizer, AnonymizerError, AnonymizeResult
from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding
from anonymize.policy import Policy, PolicyError
from anonymize.recognizers import NameCueRecognizer, NameRecognizer, PlaceRecognizer, default_recognizers
from anonymize.recognizers.cues import IntroNameRecognizer
from anonymize.recognizers.world_names import WorldNameRecognizer
from anonymize.recognizers.world_places import WorldPlaceRecognizer

TEXT = "my husband dave (dave.smith@example.com, 07700 900123) lives at 12 Baker Street, NW1 6XE"


class Exploding:
    name, entities = "exploding", ("PERSON",)

    def analyze(self, text: str, doc: object) -> list[Finding]:
        raise KeyError("boom")


class OutOfRange:
    name, entities = "out-of-range", ("PERSON",)

    def analyze(self, text: str, doc: object) -> list[Finding]:
        return [Finding("PERSON", 0, len(text) + 5, 0.9, self.name)]


@pytest.mark.parametrize("bad", [Exploding(), OutOfRange()])
def test_a_failing_recognizer_fails_the_whole_call(bad: object) -> None:
    anonymizer = Anonymizer(use_ner=False, recognizers=[*default_recognizers("check"), bad])
    with pytest.raises(AnonymizerError) as info:
        anonymizer.anonymize(TEXT)
    assert "dave" not in str(info.value)  # the error message never carries the text
    with pytest.raises(AnonymizerError):
        anonymizer.anonymize_many([TEXT, "fine"])
    with pytest.raises(AnonymizerError):
        anonymizer.residual("<PERSON_1> ok")


def test_ner_load_failure_fails_closed() -> None:
    anonymizer = Anonymizer(ner_backend="spacy", nlp_model="no_such_spacy_model_xyz")
    with pytest.raises(AnonymizerError, match="not installed"):
        anonymizer.anonymize("Dave lives in Leeds")


def test_ner_runtime_failure_fails_closed_without_quoting_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    anonymizer = Anonymizer()

    def broken(texts: list[str]) -> list[object]:
        raise ValueError(f"cannot tokenize {texts[0]!r}")

    monkeypatch.setattr(anonymizer.ner, "docs", broken)
    with pytest.raises(AnonymizerError) as info:
        anonymizer.anonymize_many(["call dave on 07700 900123"])
    assert "dave" not in str(info.value) and "ValueError" in str(info.value)


def test_non_string_input_is_refused(rules: Anonymizer) -> None:
    with pytest.raises(AnonymizerError):
        rules.analyze(None)  # type: ignore[arg-type]


def test_findings_refer_to_the_original_text(rules: Anonymizer) -> None:
    result = rules.anonymize(TEXT)
    values = {f.entity_type: TEXT[f.start:f.end] for f in result.findings}
    assert values == {"PERSON": "dave", "EMAIL_ADDRESS": "dave.smith@example.com", "PHONE_NUMBER": "07700 900123",
                      "STREET_ADDRESS": "12 Baker Street", "POSTCODE": "NW1 6XE"}
    assert result.text == ("my husband <PERSON_1> (<EMAIL_ADDRESS_1>, <PHONE_NUMBER_1>) lives at <STREET_ADDRESS_1>, "
                           "<POSTCODE_1>")


def test_numbering_is_consistent_across_one_request(rules: Anonymizer) -> None:
    a, b = rules.anonymize_many(["dave and kieran came", "then DAVE left, kieran@example.com stayed"])
    assert a.text == "<PERSON_1> and <PERSON_2> came"
    assert b.text == "then <PERSON_1> left, <EMAIL_ADDRESS_1> stayed"
    fresh = rules.anonymize_batch(["kieran came", "kieran came"])  # independent requests restart numbering
    assert [r.text for r in fresh] == ["<PERSON_1> came", "<PERSON_1> came"]


def test_allow_list_beats_detection_and_deny_list_always_masks() -> None:
    text = "Ella Rose gloss: my sister ella loves it, sam too; shop at Ravenswood"
    plain = Anonymizer(use_ner=False, ner_backend="spacy").anonymize(text)
    assert plain.text == "<PERSON_1> gloss: my sister <PERSON_2> loves it, <PERSON_3> too; shop at Ravenswood"
    listed = Anonymizer(use_ner=False, ner_backend="spacy", allow_list=["ella rose", "sam"],
                        deny_list=["Ravenswood"]).anonymize(text)
    assert listed.text == "Ella Rose gloss: my sister <PERSON_1> loves it, sam too; shop at <CUSTOM_1>"
    denied = Anonymizer(use_ner=False, ner_backend="spacy", allow_list=["sam"], deny_list=["sam"]).anonymize("hi sam")
    assert denied.text == "hi <CUSTOM_1>"


def test_allow_list_never_hides_a_card_number() -> None:
    anonymizer = Anonymizer(use_ner=False, allow_list=["4111 1111 1111 1111"])
    assert anonymizer.anonymize("card 4111 1111 1111 1111").text == "card <CREDIT_CARD_1>"


def test_policies_and_thresholds() -> None:
    text = "dave at SW1A 1AA on 12 March 2024"
    rules = {"use_ner": False, "ner_backend": "spacy"}
    # an order date identifies no one: DATE_TIME is above the default threshold only when an admin lowers it
    assert Anonymizer(Policy(operator="redact"), **rules).anonymize(text).text == \
        "<REDACTED> at <REDACTED> on 12 March 2024"
    assert Anonymizer(Policy(operator="redact"), **rules).anonymize("dave, born 12 March 1984").text == \
        "<REDACTED>, born <REDACTED>"
    dated = Policy(operator="generalize", thresholds=(("DATE_TIME", 0.6),))
    assert Anonymizer(dated, **rules).anonymize(text).text == "<PERSON_1> at SW1A on March 2024"
    hashed = Anonymizer(Policy(operator="keyed_hash"), hash_key=bytes(32), **rules).anonymize(text).text
    assert "dave" not in hashed and hashed.startswith("<PERSON#")
    strict = Anonymizer(Policy(thresholds=(("PERSON", 0.95),)), **rules).anonymize(text)
    assert "PERSON" not in {f.entity_type for f in strict.findings}
    only = Anonymizer(Policy(entities=("POSTCODE",)), **rules).anonymize(text)
    assert only.text == "dave at <POSTCODE_1> on 12 March 2024"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"operator": "shred"}, "unknown anonymization operator"), ({"entities": ("SHOE_SIZE",)}, "unknown entity"),
    ({"threshold": 1.5}, "outside 0..1"),
])
def test_bad_policy(kwargs: dict, match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        Policy(**kwargs)


def test_keyed_hash_needs_a_key() -> None:
    with pytest.raises(PolicyError, match="secret key"):
        Anonymizer(Policy(operator="keyed_hash"), use_ner=False)


def test_residual_ignores_our_placeholders_and_flags_leftovers(rules: Anonymizer) -> None:
    clean = rules.anonymize(TEXT).text
    assert rules.residual(clean) == []
    leaked = clean + " also call 07700 900456"
    assert [f.entity_type for f in rules.residual(leaked)] == ["PHONE_NUMBER"]
    weak = "dave"  # a lone first name scores 0.6: below a strict threshold, above a lenient one
    assert rules.residual(weak, threshold=0.7) == [] and len(rules.residual(weak, threshold=0.5)) == 1


@pytest.mark.parametrize("text", [TEXT, "MY WIFE SARAH JONES, 4111 1111 1111 1111, GB82 WEST 1234 5698 7654 32",
                                  "order ORD-2024-889123 for mrs patel, password: hunter2!!"])
def test_anonymizing_twice_equals_once(rules: Anonymizer, text: str) -> None:
    once = rules.anonymize(text)
    assert isinstance(once, AnonymizeResult)
    assert rules.anonymize(once.text).text == once.text


def test_recognizer_layers() -> None:
    primary = {type(r) for r in default_recognizers("primary")}
    check = {type(r) for r in default_recognizers("check")}
    check_only = {NameRecognizer, NameCueRecognizer, PlaceRecognizer, IntroNameRecognizer, WorldNameRecognizer,
                  WorldPlaceRecognizer}
    assert check_only.isdisjoint(primary)
    assert check - primary == check_only
    assert {r.name for r in Anonymizer(use_ner=False).recognizers} == {r.name for r in default_recognizers("primary")}
    assert {r.name for r in Anonymizer(use_ner=False, ner_backend="spacy").recognizers} == \
        {r.name for r in default_recognizers("check")}
    with pytest.raises(ValueError, match="unknown recognizer layer"):
        default_recognizers("both")


def test_backends() -> None:
    assert Anonymizer().ner.name == "learned-ner" and Anonymizer(ner_backend="spacy").ner.name == "spacy-ner"
    with pytest.raises(AnonymizeUserError, match="unknown NER backend"):
        Anonymizer(ner_backend="bert")
    # the primary rules alone find no lone first name: names are the learned detector's
    assert Anonymizer(use_ner=False).analyze("my husband dave says hi") == []


def test_missing_detector_model_fails_closed(tmp_path: object) -> None:
    anonymizer = Anonymizer(detector_path=str(tmp_path))
    with pytest.raises(AnonymizerError, match=r"DetectorModelError.*python -m anonymize\.detector\.train"):
        anonymizer.anonymize("Dave lives in Leeds")
