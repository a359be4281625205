"""Extra corpus kinds of the learned PII detector (`kinds=` of anonymize/detector/synth.py, `--kinds` of train.py):
one kind of synth_decoys / synth_v7 added on top of a recipe, with its own weight, and the recipes' corpora left
exactly as they were without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("faker")  # the generator needs the [pii-train] (or dev) extra

from anonymize.detector import synth_decoys, synth_v7
from anonymize.detector.synth import EXTRA_KINDS, generate, recipe_templates
from anonymize.detector.synth_templates import KIND_WEIGHTS, TEMPLATES

# sha256 of the first 400 texts of seed 0 (text, spans, locale, template; spaCy's blank English tokenizer;
# PYTHONHASHSEED 0 as train.py runs) drawn by HEAD's generator before `kinds` existed (commit of 2026-12-05).
BEFORE = {"v5": "c06f8e6715dfe6b9521224038ac70ba0b9b238149c525eacea96aa386058a17c",
          "v6": "13429ac8904412754eda615d99db7c6af2479c7c74d716134c9af50cf489cbfa",
          "v7": "4b4dfbef3ebd9f96a3a80c295e8f2182ab002a9093c6ce492f23505df5256579"}
_DIGEST = """
import hashlib, json, sys
import spacy
from anonymize.detector.synth import generate
nlp = spacy.blank("en")
for arg in sys.argv[1:]:
    recipe, _, kinds = arg.partition("+")
    h = hashlib.sha256()
    for it in generate(400, 0, nlp, recipe, tuple(k for k in kinds.split(",") if k)):
        h.update(json.dumps([it.text, it.spans, it.locale, it.template], ensure_ascii=False).encode() + b"\\n")
    print(arg, h.hexdigest())
"""
ROOT = Path(__file__).resolve().parents[2]


def _digests(*corpora: str) -> dict[str, str]:
    """Digest of each corpus ("v5", "v5+people3", ...) drawn in a fresh process under PYTHONHASHSEED 0."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _DIGEST, *corpora], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(line.split() for line in done.stdout.splitlines())


def _kind(item: Any) -> set[str]:
    return {part.split(":")[0] for part in item.template.split("+")}


@pytest.mark.slow  # 4 x 400 texts in a process of its own: about 20 s on a quiet 2-core machine
def test_no_extra_kinds_draws_each_recipes_corpus_byte_for_byte() -> None:
    got = _digests("v5", "v6", "v7", "v5+people3")
    assert {r: got[r] for r in BEFORE} == BEFORE
    assert got["v5+people3"] != BEFORE["v5"]  # the check can fail: one more kind changes the draws


def test_recipe_templates_adds_the_named_kinds_only() -> None:
    assert recipe_templates("v5") == TEMPLATES
    plus = recipe_templates("v5", ["people3"])
    assert list(plus) == [*TEMPLATES, "people3"] and plus["people3"] == synth_decoys.TEMPLATES["people3"]
    both = recipe_templates("v5", ["dates7", "chatturns"])  # canonical order, whatever order they are named in
    assert list(both) == [*TEMPLATES, "chatturns", "dates7"] and both["dates7"] == synth_v7.TEMPLATES["dates7"]
    assert list(recipe_templates("v6", ["streets7"]))[-1] == "streets7"
    assert set(EXTRA_KINDS) == {*synth_decoys.TEMPLATES, *synth_v7.TEMPLATES}
    assert all(k in synth_decoys.KIND_WEIGHTS or k in synth_v7.KIND_WEIGHTS for k in EXTRA_KINDS)


@pytest.mark.parametrize(("recipe", "kinds", "match"), [
    ("v5", ["nope"], "unknown extra kind"),
    ("v5", ["people3", "people3"], "more than once"),
    ("v7", ["people3"], "already has"),
    ("v6", ["dates"], "already has"),
    ("v8", [], "unknown corpus recipe"),
])
def test_bad_kinds_are_errors(recipe: str, kinds: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        recipe_templates(recipe, kinds)


def test_a_kind_on_top_of_v5_is_drawn_by_its_weight() -> None:
    import spacy

    items = generate(1200, seed=31, nlp=spacy.blank("en"), kinds=["people3"])
    kinds = set().union(*(_kind(item) for item in items))
    assert "people3" in kinds and not (set(EXTRA_KINDS) - {"people3"}) & kinds
    share = sum("people3" in _kind(item) for item in items) / len(items)
    # weight 1.0 beside v5's kinds (and the "world" shapes that bypass kinds): a few percent of texts, not none
    weight = synth_decoys.KIND_WEIGHTS["people3"]
    expected = weight / (weight + sum(KIND_WEIGHTS[k] for k in (*TEMPLATES, "intl")))
    assert 0.3 * expected < share < 2.0 * expected
    reordered = generate(60, seed=31, kinds=["people3", "chatturns"])
    assert reordered == generate(60, seed=31, kinds=["chatturns", "people3"])


def test_train_cli_rejects_bad_kinds_before_generating(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from anonymize.detector.train import main

    for argv, message in ((["--kinds", "nope"], "unknown extra kind"), (["--kinds", "people3,people3"], "more than "
                          "once"), (["--recipe", "v7", "--kinds", "people3"], "already has")):
        with pytest.raises(SystemExit) as exc:
            main(["--out", str(tmp_path / "m"), *argv])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow  # a tiny real build: about 20 s
def test_manifest_records_the_extra_kinds(tmp_path: Path) -> None:
    from anonymize.detector.train import main

    assert main(["--seed", "2", "--out", str(tmp_path / "m"), "--texts", "60", "--dev-texts", "20", "--epochs", "1",
                 "--kinds", "people3"]) == 0
    manifest = json.loads((tmp_path / "m" / "MANIFEST.json").read_text("utf-8"))
    assert manifest["kinds"] == ["people3"] and "recipe" not in manifest
    assert manifest["command"].endswith("--kinds people3")


def test_faker_sees_the_reference_day_while_a_corpus_is_drawn() -> None:
    """The corpus is the same on any day: Faker's clock is pinned while texts are drawn, and put back after."""
    import datetime as dt

    import faker
    import faker.providers.date_time as date_time_module

    from anonymize.detector.synth_clock import REFERENCE_DAY, reference_day

    fake = faker.Faker("en_US")
    fake.seed_instance(0)
    with reference_day():
        inside = fake.date_between(start_date="today", end_date="today")
        assert isinstance(dt.datetime(2020, 1, 1), date_time_module.datetime)  # real dates still pass checks
    assert inside == REFERENCE_DAY
    assert date_time_module.datetime is dt.datetime  # put back
    assert abs((fake.date_between(start_date="-1d", end_date="today") - dt.date.today()).days) <= 1
