"""Generative decoder export: the ONNX decoder-with-past matches torch (same top-K), the numpy beam search never
returns an invalid code or an excluded item, int8 is gated, bundles sign and verify, and serving imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.config import GenConfig
from appliance.data.keys import SigningKey, public_key_id
from appliance.data.splits import Split, split_from_sequences
from appliance.generative.model import GenerativeRecommender
from appliance.serve.decoder import GenerativeDecoder, GenServeError
from export.bundle import BundleError
from export.generative import FP32_MAX_ABS, GenExportError, export_generative

ROOT = Path(__file__).resolve().parents[2]
N_ITEMS = 24
# three levels with real branching (6 x 2 x 2), so the trie constrains every step
CODES = np.stack([np.arange(N_ITEMS) // 4, (np.arange(N_ITEMS) // 2) % 2, np.arange(N_ITEMS) % 2], 1)
TEXTS = [f"item {i} shade {['rose', 'amber', 'mint'][i % 3]}" for i in range(N_ITEMS)]
CFG = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=3, patience=3, batch_size=32, lr=3e-2,
                dropout=0.0, hidden_dropout=0.0, beam=6, valid_users=0, history_len=4)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def split() -> Split:
    # item i is followed by i + 1 or i + 5: a few epochs give a model with non-uniform, non-trivial scores
    rng = np.random.default_rng(0)
    seqs = []
    for u in range(48):
        seq = [u % N_ITEMS]
        for _ in range(int(rng.integers(4, 9))):
            seq.append((seq[-1] + (1 if rng.random() < 0.7 else 5)) % N_ITEMS)
        seqs.append(np.array(seq))
    return split_from_sequences(seqs, N_ITEMS)


@pytest.fixture(scope="module")
def model(split: Split) -> GenerativeRecommender:
    m = GenerativeRecommender(CFG, CODES, item_texts=TEXTS)
    m.fit(split)
    assert m.tokenizer.vocab_size < 80 and m.lm.config.hidden_size == 16
    return m


@pytest.fixture(scope="module")
def fp32_bundle(model: GenerativeRecommender, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen") / "bundle"
    return out, export_generative(model, out, quantize=False)


def _histories(split: Split) -> list[np.ndarray]:
    return [split.sequences("test")[u] for u in range(split.n_users)]


def test_fp32_gates_pass_and_bundle_is_complete(fp32_bundle: tuple[Path, dict]) -> None:
    out, gate = fp32_bundle
    assert gate["fp32_max_abs"] < FP32_MAX_ABS and gate["fp32_topk_identical_share"] == 1.0
    assert gate["fp32_topk_score_max_abs"] < 1e-4
    assert gate["chosen"] == "fp32"
    assert {p.name for p in out.iterdir()} == {"decoder.onnx", "tokenizer.json", "codes.npy", "generative.json",
                                               "metrics.json"}
    assert json.loads((out / "metrics.json").read_text())["gate"]["size_bytes"] == (out / "decoder.onnx").stat().st_size


@pytest.mark.parametrize("k", [1, 5, 10])
def test_onnx_beam_search_matches_torch(model: GenerativeRecommender, split: Split,
                                        fp32_bundle: tuple[Path, dict], k: int) -> None:
    histories = _histories(split)  # test-stage inputs: lengths differ from the export's samples, so padding varies
    decoder = GenerativeDecoder(fp32_bundle[0])
    torch_items, torch_scores = model.recommend_for(histories, histories, k, batch_users=16)
    items, scores = decoder.recommend_scored(histories, k, batch_users=16)
    np.testing.assert_array_equal(items, torch_items)
    np.testing.assert_allclose(scores, torch_scores, atol=1e-4)
    assert (items >= 0).mean() > 0.9  # the lists are real lists, not all padding


def test_decoder_never_returns_invalid_or_excluded_items(fp32_bundle: tuple[Path, dict]) -> None:
    decoder = GenerativeDecoder(fp32_bundle[0])
    rng = np.random.default_rng(1)
    histories = [rng.choice(N_ITEMS, int(rng.integers(1, 12)), replace=False) for _ in range(40)]
    exclude = [rng.choice(N_ITEMS, int(rng.integers(0, 18)), replace=False) for _ in range(40)]
    items = decoder.recommend(histories, 10, exclude)
    for row, hist, exc in zip(items, histories, exclude, strict=True):
        got = row[row >= 0]
        allowed = N_ITEMS - len(np.union1d(hist, exc))
        assert len(got) == min(10, allowed)  # beam 10: every allowed item is reachable until the beam is full
        assert len(np.unique(got)) == len(got) and not np.isin(got, np.union1d(hist, exc)).any()
        assert all(np.array_equal(CODES[i], decoder.trie.codes[i]) and decoder.trie.contains(CODES[i]) for i in got)
        assert (row[len(got):] == -1).all()  # padding only at the end
    # a user who has everything but two items gets exactly those two
    everything_but = [np.setdiff1d(np.arange(N_ITEMS), [3, 17])]
    assert sorted(decoder.recommend(everything_but, 5)[0][:2].tolist()) == [3, 17]
    assert (decoder.recommend(everything_but, 5)[0][2:] == -1).all()


def test_bad_requests_and_missing_bundles_raise(fp32_bundle: tuple[Path, dict], tmp_path: Path) -> None:
    decoder = GenerativeDecoder(fp32_bundle[0])
    with pytest.raises(GenServeError, match="item index 99"):
        decoder.recommend([[1, 99]], 5)
    with pytest.raises(GenServeError, match="k must be"):
        decoder.recommend([[1]], 0)
    with pytest.raises(GenServeError, match=r"generative\.json is missing"):
        GenerativeDecoder(tmp_path)


def test_int8_gate_is_measured_and_signed_bundle_verifies(model: GenerativeRecommender, tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    key = SigningKey(public_key_id(private.public_key()), private)
    out = tmp_path / "bundle"
    gate = export_generative(model, out, signing_key=key, gate_users=24)
    assert gate["gate_users"] == 24 and 0.0 <= gate["ndcg10_fp32"] <= 1.0
    assert gate["int8_valid_share"] == 1.0
    assert (gate["chosen"] == "int8") == (gate["relative_drop"] <= 0.01)
    assert all("embed_tokens" in n or "lm_head" in n for n in gate["int8_excluded_nodes"])
    decoder = GenerativeDecoder(out, public_keys=[private.public_key()])
    assert decoder.recommend([[0, 1, 2]], 3).shape == (1, 3)
    with pytest.raises(BundleError):
        GenerativeDecoder(out, public_keys=[Ed25519PrivateKey.generate().public_key()])
    (out / "codes.npy").write_bytes((out / "codes.npy").read_bytes()[:-8] + bytes(8))
    with pytest.raises(BundleError, match=r"codes\.npy"):
        GenerativeDecoder(out, public_keys=[private.public_key()])


def test_export_needs_samples_or_a_split(model: GenerativeRecommender, tmp_path: Path) -> None:
    unbound = GenerativeRecommender(CFG, CODES)
    with pytest.raises(GenExportError, match="not fitted"):
        export_generative(unbound, tmp_path)
    unbound.lm, unbound.tokenizer = model.lm, model.tokenizer
    with pytest.raises(GenExportError, match="no sample histories"):
        export_generative(unbound, tmp_path)
    gate = export_generative(unbound, tmp_path / "b", [[1, 2, 3], [5]])  # explicit samples: no int8 gate possible
    assert gate["chosen"] == "fp32" and "no validation users" in gate["reason"]


def test_serving_decoder_imports_no_training_stack(fp32_bundle: tuple[Path, dict]) -> None:
    code = ("import sys\nfrom appliance.serve.decoder import GenerativeDecoder\n"
            f"d = GenerativeDecoder({str(fp32_bundle[0])!r})\n"
            "print(d.recommend([[0, 1, 2], [5]], 4).tolist())\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'optimum')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    items, heavy = out.stdout.strip().splitlines()
    assert heavy == "[]"
    assert len(json.loads(items)) == 2


def test_failing_int8_retries_with_token_tables_fp32_then_ships_fp32(model: GenerativeRecommender, tmp_path: Path,
                                                                      monkeypatch) -> None:
    import export.generative as gen

    monkeypatch.setattr(gen, "MAX_RELATIVE_NDCG_DROP", -1.0)  # no int8 model can gain 100%: both attempts fail
    gate = export_generative(model, tmp_path / "b", gate_users=8)
    assert gate["chosen"] == "fp32" and gate["ndcg10_fp32"] > 0
    names = gate["int8_excluded_nodes"]
    assert any("embed_tokens" in n for n in names) and any("lm_head" in n for n in names)
    assert "token tables fp32" in gate["reason"]
    import onnx

    graph = onnx.load(str(tmp_path / "b" / "decoder.onnx")).graph
    assert not any(n.op_type in ("DynamicQuantizeLinear", "MatMulInteger") for n in graph.node)  # fp32 shipped
