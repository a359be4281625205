"""Text encoder: hash verification, clear errors, determinism and batching invariance on a tiny BERT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from appliance.config import TextEncoderConfig
from appliance.text.encoder import DEFAULT_SHA256, TextEncoder, TextEncoderError, file_sha256, mean_pool, resolve_model

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "lip", "##stick", "dog", "food", "trail", "shoe",
         "gloss", "coffee", "bean", "vegan", "cream"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny-bert")
    (out / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(out / "vocab.txt")).save_pretrained(out)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=12, num_hidden_layers=2, num_attention_heads=3,
                        intermediate_size=20, max_position_embeddings=37)
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(out)
    return out


def _cfg(model_dir: Path, **kw: object) -> TextEncoderConfig:
    return TextEncoderConfig(model_dir=str(model_dir), sha256=file_sha256(model_dir / "model.safetensors"), **kw)


def test_custom_dir_without_hash_prints_the_hash(tiny_model_dir: Path) -> None:
    actual = file_sha256(tiny_model_dir / "model.safetensors")
    with pytest.raises(TextEncoderError, match=f"hash to {actual}"):
        resolve_model(TextEncoderConfig(model_dir=str(tiny_model_dir)))


def test_wrong_hash_is_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(TextEncoderError, match="were changed or replaced"):
        TextEncoder(TextEncoderConfig(model_dir=str(tiny_model_dir), sha256="0" * 64))


@pytest.mark.parametrize("setup", ["missing", "no-weights"])
def test_missing_model_files(tmp_path: Path, setup: str) -> None:
    target = tmp_path / "absent" if setup == "missing" else tmp_path
    with pytest.raises(TextEncoderError, match=r"does not exist|holds no weights"):
        resolve_model(TextEncoderConfig(model_dir=str(target), sha256="0" * 64))


def test_encode_shape_norm_and_determinism(tiny_model_dir: Path) -> None:
    texts = ["red lipstick", "dog food", "vegan cream", "trail shoe coffee bean gloss", "red"]
    enc = TextEncoder(_cfg(tiny_model_dir))
    a = enc.encode(texts)
    assert a.shape == (5, 12) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a, TextEncoder(_cfg(tiny_model_dir)).encode(texts))


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_batching_does_not_change_vectors(tiny_model_dir: Path, batch_size: int) -> None:
    texts = ["red lipstick", "dog food food food", "vegan", "trail shoe", "coffee bean gloss red"]
    reference = TextEncoder(_cfg(tiny_model_dir, batch_size=64)).encode(texts)
    calls: list[int] = []
    got = TextEncoder(_cfg(tiny_model_dir, batch_size=batch_size)).encode(texts, progress=calls.append)
    np.testing.assert_allclose(got, reference, atol=1e-5)
    assert sum(calls) == len(texts) and len(calls) == -(-len(texts) // batch_size)


def test_mean_pool_ignores_padding() -> None:
    hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)  # (B=1, T=3, D=2)
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[2.0, 3.0]])


def test_packaged_minilm_is_verified_and_meaningful() -> None:
    _, weights, expected = resolve_model(TextEncoderConfig())
    assert expected == DEFAULT_SHA256 == file_sha256(weights)
    vecs = TextEncoder().encode(["red matte lipstick", "glossy lip colour", "dry dog food for puppies"])
    assert vecs.shape == (3, 384)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
