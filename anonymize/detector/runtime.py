"""Load the shipped learned PII detector and turn its entities into findings.

The model directory (default: `model/` next to this file, built by `python -m anonymize.detector.train`) is trusted
only after every file's sha256 matches MANIFEST.json and no file is missing or extra: the check-then-load pattern of
pip's `--require-hashes` applied to a model directory. The pipeline is loaded once per process and per path.
`LearnedRecognizer` has the shape of `anonymize.recognizers.ner.NerRecognizer` (one batched `nlp.pipe` in `docs`,
findings per text in `analyze`), so the engine runs either backend the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anonymize.errors import AnonymizeUserError
from anonymize.findings import Finding

MODEL_DIR = Path(__file__).resolve().parent / "model"
MANIFEST = "MANIFEST.json"
VERSION_PREFIX = "pii-ner-3+"  # 3: v5 labels (LICENSE_PLATE added); 2: v4 (retail identifiers added); 1: v1-v3
SCORE = 0.85  # spaCy's greedy NER gives no per-span confidence; Presidio scores spaCy entities 0.85 too
REBUILD = ("rebuild it with `python -m anonymize.detector.train --seed 0 --out anonymize/detector/model --texts 18000 "
           "--epochs 6 --embed-size 8000`")
ENTITIES = ("PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "ID_DOCUMENT", "ORDER_NUMBER",
            "GIFT_CARD", "LOYALTY_ID", "LICENSE_PLATE")
_TRAILING = ".,;:!?)]}\"'’"  # punctuation a span may have swallowed at its end


class DetectorModelError(AnonymizeUserError, RuntimeError):
    """The learned detector's model directory is missing, incomplete or altered (its MANIFEST.json hashes differ)."""


def _read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise DetectorModelError(f"the PII detector model at {path} has no {MANIFEST}; {REBUILD}")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict) or not files:
            raise ValueError("no files")
    except (ValueError, KeyError, TypeError):
        raise DetectorModelError(f"the PII detector's {MANIFEST} at {path} is unreadable; {REBUILD}") from None
    return manifest


def verify_model(path: Path) -> dict[str, Any]:
    """The manifest of the model at `path` after checking every file against it; raises DetectorModelError."""
    manifest = _read_manifest(path)
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() and p.name != MANIFEST}
    on_disk = {p for p in on_disk if "__pycache__" not in p}
    missing = sorted(set(manifest["files"]) - on_disk)
    extra = sorted(on_disk - set(manifest["files"]))
    if missing or extra:
        what = f"missing {', '.join(missing)}" if missing else f"unexpected {', '.join(extra)}"
        raise DetectorModelError(f"the PII detector model at {path} does not match its manifest ({what}); {REBUILD}")
    for name, expected in sorted(manifest["files"].items()):
        if hashlib.sha256((path / name).read_bytes()).hexdigest() != expected:
            raise DetectorModelError(f"the PII detector model file {name} at {path} does not match its sha256 in "
                                     f"{MANIFEST} (altered or corrupted); {REBUILD}")
    return manifest


@functools.cache
def _load(path: str) -> tuple[Any, dict[str, Any]]:
    model = Path(path)
    if not model.is_dir():
        raise DetectorModelError(f"the PII detector model directory {model} does not exist; {REBUILD}")
    manifest = verify_model(model)
    import spacy  # lazy: spaCy takes seconds to import

    try:
        nlp = spacy.load(model)
    except Exception as exc:  # a version mismatch or a broken config: say so without a traceback of spaCy internals
        raise DetectorModelError(f"the PII detector model at {model} failed to load ({type(exc).__name__}); "
                                 f"{REBUILD}") from exc
    from anonymize.recognizers.ner import numpy_blas  # lazy: anonymize.recognizers imports this module

    return numpy_blas(nlp), manifest  # every load multiplies alike: numpy's BLAS, not thinc's BLIS (see there)


def load_detector(path: str | Path | None = None) -> Any:
    """The detector's spaCy pipeline, verified against its manifest; cached per process and path."""
    return _load(str(Path(path).resolve() if path is not None else MODEL_DIR))[0]


def detector_manifest(path: str | Path | None = None) -> dict[str, Any]:
    """The verified manifest of the detector at `path` (default: the shipped model)."""
    return _load(str(Path(path).resolve() if path is not None else MODEL_DIR))[1]


def detector_version(path: str | Path | None = None) -> str:
    """"pii-ner-3+<first 12 hex of the model's sha256>", for the policy fingerprint (reads only the manifest)."""
    model = Path(path).resolve() if path is not None else MODEL_DIR
    return VERSION_PREFIX + str(_read_manifest(model).get("model_sha256", ""))[:12]


@dataclass
class LearnedRecognizer:
    """PERSON, LOCATION, STREET_ADDRESS, POSTCODE, PHONE_NUMBER, ID_DOCUMENT, retail-id and LICENSE_PLATE spans from
    the learned detector."""

    path: str | None = None  # model directory; None: the shipped model
    name: str = "learned-ner"

    @property
    def entities(self) -> tuple[str, ...]:
        return ENTITIES

    @property
    def model(self) -> str:
        return detector_version(self.path)

    def docs(self, texts: Sequence[str]) -> list[Any]:
        """spaCy docs of all texts from one batched `nlp.pipe`, numpy's BLAS held to one thread (reentrant: the
        engine holds it around both layers' passes; this covers a caller of `analyze(text, None)`)."""
        from anonymize.recognizers.ner import one_blas_thread  # lazy: anonymize.recognizers imports this module

        with one_blas_thread():
            return list(load_detector(self.path).pipe(texts, batch_size=64))

    def analyze(self, text: str, doc: Any | None) -> list[Finding]:
        if doc is None:
            doc = self.docs([text])[0]
        out = []
        for ent in doc.ents:
            if ent.label_ not in ENTITIES:
                continue
            start, end = ent.start_char, ent.end_char
            while end > start and (text[end - 1] in _TRAILING or text[end - 1].isspace()):
                if text[end - 1] == ")" and "(" in text[start:end]:
                    break  # "(0141) 496 0155" keeps its bracket
                if text[end - 1] == "." and end - start <= 3:
                    break  # an initial "J."
                end -= 1
            if not any(ch.isalnum() for ch in text[start:end]):
                continue  # punctuation or an emoji alone ("🥰", "؟") is never PII
            out.append(Finding(ent.label_, start, end, SCORE, self.name))
        return out
