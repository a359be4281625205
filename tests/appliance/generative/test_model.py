"""Generative recommender: a tiny LM learns a deterministic toy sequence, decodes only valid unseen items and
round-trips through save/load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from appliance.config import GenConfig
from appliance.data.artifacts import load_artifact, save_artifact
from appliance.data.splits import Split, split_from_sequences
from appliance.generative.model import GenerativeError, GenerativeRecommender
from appliance.models.metrics import evaluate
from appliance.models.registry import create_model

N_ITEMS = 9
# item i is always followed by item i + 1 (mod 9); codes (i, i % 2, 0, 0): the first level names the item, so one
# attention hop suffices and a 1-layer, 16-wide model learns it in a few hundred steps
CODES = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS, int), np.zeros(N_ITEMS, int)], 1)
TEXTS = [f"item {i} shade {['rose', 'amber', 'mint'][i % 3]}" for i in range(N_ITEMS)]
CFG = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=40, patience=8, batch_size=16, lr=3e-2,
                dropout=0.0, hidden_dropout=0.0, beam=5, valid_users=0, history_len=2)  # fixed prompt length


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def toy_split() -> Split:
    return split_from_sequences([np.array([(u + j) % N_ITEMS for j in range(6)]) for u in range(36)], N_ITEMS)


@pytest.fixture(scope="module")
def fitted(toy_split: Split) -> GenerativeRecommender:
    model = GenerativeRecommender(CFG, CODES, item_texts=TEXTS)
    model.fit(toy_split)
    return model


def test_tiny_model_learns_the_next_item(fitted: GenerativeRecommender, toy_split: Split) -> None:
    assert fitted.tokenizer.vocab_size < 70 and fitted.lm.config.hidden_size == 16
    losses = [row["loss"] for row in fitted.fit_report.history]
    assert losses[-1] < 0.5 * losses[0]
    metrics = evaluate(fitted, toy_split, "test", ks=(1, 5))
    assert metrics["recall@1"] >= 0.8  # the deterministic next item is ranked first for most users
    items, _ = fitted.recommend_topk(np.arange(9), 1, "test")
    expected = [(seq[-1] + 1) % N_ITEMS for seq in toy_split.sequences("test")[:9]]
    assert np.mean(items[:, 0] == expected) >= 0.8


def test_recommendations_are_valid_unseen_and_unique(fitted: GenerativeRecommender, toy_split: Split) -> None:
    items, scores = fitted.recommend_topk(np.arange(toy_split.n_users), 5, "test")
    history = toy_split.history("test")
    for u, row in enumerate(items):
        found = row[row >= 0]
        assert len(found) == len(set(found.tolist())) == N_ITEMS - 5  # beam 5 >= the 4 unseen items: all found
        assert not set(found.tolist()) & set(history[u].indices.tolist())
        assert np.all(np.diff(scores[u][row >= 0]) <= 0)


def test_save_load_round_trip(fitted: GenerativeRecommender, toy_split: Split, tmp_path: Path) -> None:
    fitted.save(tmp_path / "gen")
    loaded = GenerativeRecommender.load(tmp_path / "gen")
    loaded.bind(toy_split)
    users = np.arange(12)
    np.testing.assert_allclose(loaded.score(users, "valid"), fitted.score(users, "valid"), rtol=1e-5)
    assert loaded.cfg == fitted.cfg
    arrays, meta = fitted.to_state()
    art = load_artifact(tmp_path, "gen", save_artifact(tmp_path, "gen", arrays, meta).name)
    again = GenerativeRecommender.from_state(art.arrays, art.meta)
    again.bind(toy_split)
    assert (again.recommend_topk(users, 3)[0] == fitted.recommend_topk(users, 3)[0]).all()


def test_unfitted_or_mismatched_model_raises(toy_split: Split, tmp_config) -> None:
    with pytest.raises(GenerativeError, match="not fitted"):
        GenerativeRecommender(CFG, CODES).score(np.arange(2))
    with pytest.raises(GenerativeError, match="codes cover"):
        GenerativeRecommender(CFG, CODES[:8]).fit(toy_split)
    with pytest.raises(GenerativeError, match="unknown preset"):
        GenerativeRecommender(dataclasses.replace(CFG, preset="huge"), CODES, item_texts=TEXTS).build()
    store_model = create_model("generative", tmp_config)  # `tanaban evaluate --model generative`
    assert store_model.name == "generative"
    with pytest.raises(GenerativeError, match="not fitted"):
        store_model.score(np.arange(2))


def test_warm_start_from_a_local_pretrained_directory(tmp_path: Path) -> None:
    """A local checkpoint (here a tiny Llama with a plain word-level tokenizer) gets our special and code tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM

    words = Tokenizer(models.WordLevel({"<unk>": 0, "lipstick": 1, "rose": 2}, unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.save(str(tmp_path / "tokenizer.json"))
    LlamaForCausalLM(LlamaConfig(vocab_size=3, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=32)).save_pretrained(tmp_path)
    model = GenerativeRecommender(dataclasses.replace(CFG, pretrained_dir=str(tmp_path)), CODES)
    model.build()
    assert model.lm.config.model_type == "llama"
    assert model.lm.get_input_embeddings().num_embeddings == model.tokenizer.vocab_size == 3 + 12 + 9 + 2 + 1 + 1
    assert model.tokenizer.encode_text("rose lipstick", 5) == [2, 1]
    with pytest.raises(GenerativeError, match=r"tokenizer\.json"):
        GenerativeRecommender(dataclasses.replace(CFG, pretrained_dir=str(tmp_path / "nothing")), CODES).build()
