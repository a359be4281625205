"""The learned PII detector: a spaCy NER model trained locally on synthetic text (issue 12).

`synth` generates the corpus, `train` builds the model shipped in `model/`, `runtime` verifies and loads it.
Importing this package imports neither spaCy nor Faker.
"""

from __future__ import annotations

from anonymize.detector.runtime import (
    DetectorModelError,
    LearnedRecognizer,
    detector_manifest,
    detector_version,
    load_detector,
)

__all__ = ["DetectorModelError", "LearnedRecognizer", "detector_manifest", "detector_version", "load_detector"]
