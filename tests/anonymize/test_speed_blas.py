"""Both NER passes multiply matrices with numpy's BLAS instead of thinc's bundled BLIS
(anonymize.recognizers.ner.numpy_blas): once the pair has run, every model node of both pipelines holds thinc's
`NumpyOps(use_blis=False)`, the pair's output equals its output with BLIS, and the embeddings agree to float32
rounding."""

from __future__ import annotations

from collections.abc import Iterator

import numpy
import pytest
from thinc.api import NumpyOps

from anonymize.detector.runtime import load_detector
from anonymize.layers import default_layered
from anonymize.recognizers import ner as ner_module

# Synthetic texts written for this test (names, places, an address, phones, ids, an ALL-CAPS text for the re-cased
# pass, a text without personal data).
TEXTS = [
    "Hello, Ingrid Halvorsen here from Bergen; my mobile is 0047 415 22 908, order ORD-2025-004417.",
    "PLEASE SEND IT TO MARCO DE LUCA, VIA GARIBALDI 14, 20121 MILANO, TEL 02 8734 1190.",
    "Lovely mug, the handle is sturdy and it survived the dishwasher. Would buy again.",
    "Thanks to Ms. Okafor at the Leeds store, she swapped the blender; my email is t.nwosu@example.co.uk",
    "Deliver to 48 Kingsley Close, Bristol BS8 3QT, and ring Dvořák Svoboda on +420 601 123 456 first.",
]


def _nodes() -> Iterator[object]:
    for nlp in (ner_module.load_nlp(ner_module.DEFAULT_MODEL), load_detector()):
        for _, pipe in nlp.pipeline:
            if hasattr(getattr(pipe, "model", None), "walk"):  # the attribute ruler and lemmatizer have no model
                yield from pipe.model.walk()


def _explained(pair: object, texts: list[str]) -> list[tuple[str, list[dict]]]:
    return [(r.text, [f.explain() for f in r.findings]) for r in pair.anonymize_batch(texts)]


@pytest.fixture
def pair() -> Iterator[object]:
    pair = default_layered(allow_list=("Ella Rose",))
    pair.anonymize_batch(TEXTS[:1])  # loads both pipelines (and routes them)
    yield pair
    for node in _nodes():  # whatever a test switched, the cached pipelines leave as the library runs them
        node.ops = ner_module._numpy_ops()


def test_both_pipelines_multiply_with_numpy(pair: object) -> None:
    nodes = list(_nodes())
    assert any(node.name == "maxout" for node in nodes)  # the layers that call gemm are among them
    assert all(isinstance(node.ops, NumpyOps) and not node.ops.use_blis for node in nodes)


def test_the_pair_finds_the_same_with_blis(pair: object) -> None:
    fast = _explained(pair, TEXTS)
    blis = NumpyOps(use_blis=True)
    for node in _nodes():
        node.ops = blis
    assert _explained(pair, TEXTS) == fast
    found = {d["recognizer"] for _, findings in fast for f in findings for d in f["detections"]}
    assert {"spacy-ner", "learned-ner"} <= found


def test_the_embeddings_agree_to_float_rounding(pair: object) -> None:
    nlp = ner_module.load_nlp(ner_module.DEFAULT_MODEL)
    tok2vec = nlp.get_pipe("ner").model.get_ref("tok2vec")
    docs = [nlp.make_doc(t) for t in TEXTS]
    fast = tok2vec.predict(docs)
    for node in tok2vec.walk():
        node.ops = NumpyOps(use_blis=True)
    slow = tok2vec.predict(docs)
    fast, slow = (numpy.concatenate(x) if isinstance(x, list) else x for x in (fast, slow))  # one row per token
    assert fast.shape == slow.shape and fast.shape[0] >= sum(len(d) for d in docs)
    numpy.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_ner_passes_hold_blas_to_one_thread(pair: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_limits

    from anonymize.detector.runtime import LearnedRecognizer

    seen: list[set[int]] = []
    for cls in (LearnedRecognizer, ner_module.NerRecognizer):
        original = cls.docs

        def recording(self: object, texts: list[str], original: object = original) -> object:
            seen.append(_blas_threads())
            return original(self, texts)

        monkeypatch.setattr(cls, "docs", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("this numpy's BLAS does not take a thread count")
        pair.anonymize_batch(TEXTS)
        assert _blas_threads() == {2}  # restored after the passes
        with ner_module.one_blas_thread():  # overlapping passes: the last one out restores
            with ner_module.one_blas_thread():
                assert _blas_threads() == {1}
            assert _blas_threads() == {1}
        assert _blas_threads() == {2}
    assert len(seen) == 2 and all(threads == {1} for threads in seen)


def test_the_learned_detector_alone_holds_blas_to_one_thread(pair: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """`LearnedRecognizer.analyze(text, None)` (no engine around it) runs its pass under one BLAS thread too."""
    from threadpoolctl import threadpool_limits

    from anonymize.detector import runtime

    nlp, seen = load_detector(), []

    class Recording:  # the detector's pipeline, noting the BLAS thread count when a pass starts
        def pipe(self, texts: list[str], batch_size: int) -> object:
            seen.append(_blas_threads())
            return nlp.pipe(texts, batch_size=batch_size)

    monkeypatch.setattr(runtime, "load_detector", lambda path=None: Recording())
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("this numpy's BLAS does not take a thread count")
        findings = runtime.LearnedRecognizer().analyze(TEXTS[0], None)
        assert _blas_threads() == {2}
    assert seen == [{1}] and any(f.entity_type == "PERSON" for f in findings)


def test_a_blas_library_loaded_during_the_first_pass_is_held_too() -> None:
    """In a fresh process the first pass may be what imports numpy (loading the models): its BLAS was not there
    when the engine's hold began, and the detector's own (nested) hold limits it; everything is restored after."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import sys
from anonymize.recognizers import ner
assert "numpy" not in sys.modules, "this check needs a process without numpy"
def threads():
    from threadpoolctl import threadpool_info
    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
with ner.one_blas_thread():  # the engine's hold, before any model is loaded
    import numpy, scipy.sparse  # what loading the models imports
    from threadpoolctl import threadpool_limits
    before = threads()
    with ner.one_blas_thread():  # the recognizer's own hold inside it
        inside = threads()
after = threads()
print(before, inside, after)
assert inside == [1], inside
assert after == before and after != [1], (before, after)
"""
    env = {"OPENBLAS_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
