"""history_layout "items": one input position per history item (the sum of its code-token embeddings, TIGER / GRID
handbook) instead of one token per code level; the tiny model still learns the toy sequence, decodes valid unseen
items through the trie, round-trips through save/load, and exports to an ONNX decoder that the torch-free serving
decoder drives to the same lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from appliance.config import GenConfig
from appliance.data.splits import Split, split_from_sequences
from appliance.generative.model import GenerativeError, GenerativeRecommender
from appliance.generative.tasks import TaskData, build_epoch, negative_examples, seq_prompt, text_examples
from appliance.generative.tokenizer import build_tokenizer
from appliance.generative.train import embed_inputs, item_token_table
from appliance.models.metrics import evaluate

N_ITEMS = 9
# as in test_model.py: item i is followed by item i + 1 (mod 9); the first code level names the item
CODES = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS, int), np.zeros(N_ITEMS, int)], 1)
TEXTS = [f"item {i} shade {['rose', 'amber', 'mint'][i % 3]}" for i in range(N_ITEMS)]
CFG = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=40, patience=8, batch_size=16, lr=3e-2,
                dropout=0.0, hidden_dropout=0.0, beam=5, valid_users=0, history_len=2, history_layout="items")

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def toy_split() -> Split:
    return split_from_sequences([np.array([(u + j) % N_ITEMS for j in range(6)]) for u in range(36)], N_ITEMS)


@pytest.fixture(scope="module")
def fitted(toy_split: Split) -> GenerativeRecommender:
    model = GenerativeRecommender(CFG, CODES, item_texts=TEXTS)
    model.fit(toy_split)
    return model


def test_prompts_hold_one_entry_per_item_and_tasks_follow() -> None:
    tok = build_tokenizer(TEXTS, (9, 2, 1, 1), vocab_size=40)
    history = np.array([3, 4, 5])
    tokens = seq_prompt(tok, CODES, history, 20)
    items = seq_prompt(tok, CODES, history, 20, item_positions=True)
    assert len(tokens) == 3 + 4 * 3 and len(items) == 3 + 3
    assert items[2:5] == [-4, -5, -6] and items[:2] == tokens[:2] and items[-1] == tokens[-1]
    data = TaskData(tok, CODES, [np.array([0, 1, 2, 3])], TEXTS, None, item_positions=True)
    code2item = [e for e in text_examples(data, 8) if min(e.prompt) < 0]
    assert len(code2item) == N_ITEMS and all(sum(t < 0 for t in e.prompt) == 1 for e in code2item)
    negs = negative_examples(data, 20, 20, np.random.default_rng(0))
    assert negs and all(e.prompt[-2] < 0 for e in negs)  # the candidate is one item entry too
    with pytest.raises(GenerativeError, match="history_layout"):
        build_epoch(dataclasses.replace(CFG, history_layout="grid"), data, 1, np.random.default_rng(0))


def test_an_item_entry_is_the_sum_of_its_code_embeddings(fitted: GenerativeRecommender) -> None:
    table = item_token_table(fitted.tokenizer, fitted.codes)
    ids = torch.tensor([[fitted.tokenizer.token_id("[BOS]"), -3, -8]])
    with torch.no_grad():
        embeds = embed_inputs(fitted.lm, ids, table)
        rows = fitted.lm.get_input_embeddings().weight
        torch.testing.assert_close(embeds[0, 0], rows[ids[0, 0]])
        torch.testing.assert_close(embeds[0, 1], rows[fitted.tokenizer.encode_codes(CODES[2])].sum(0))
        torch.testing.assert_close(embeds[0, 2], rows[fitted.tokenizer.encode_codes(CODES[7])].sum(0))


def test_item_layout_learns_and_decodes_valid_unseen_items(fitted: GenerativeRecommender, toy_split: Split) -> None:
    losses = [row["loss"] for row in fitted.fit_report.history]
    assert losses[-1] < 0.5 * losses[0]
    assert evaluate(fitted, toy_split, "test", ks=(1, 5))["recall@1"] >= 0.8
    items, scores = fitted.recommend_topk(np.arange(toy_split.n_users), 5, "test")
    history = toy_split.history("test")
    for u, row in enumerate(items):
        found = row[row >= 0]
        assert len(found) == len(set(found.tolist())) == N_ITEMS - 5
        assert not set(found.tolist()) & set(history[u].indices.tolist())
        assert np.all(np.diff(scores[u][row >= 0]) <= 0)
    # 6 prompt positions (BOS, <seq>, 2 items, SEP) + 4 targets - 1, not 14: the positions counted are the short ones
    assert fitted.fit_report.positions <= fitted.fit_report.steps * CFG.batch_size * (5 + 4)


def test_item_layout_round_trips_and_exports(fitted: GenerativeRecommender, toy_split: Split,
                                            tmp_path: Path) -> None:
    fitted.save(tmp_path / "gen")
    loaded = GenerativeRecommender.load(tmp_path / "gen")
    assert loaded.cfg.history_layout == "items" and loaded.item_positions
    loaded.bind(toy_split)
    users = np.arange(12)
    np.testing.assert_allclose(loaded.score(users, "valid"), fitted.score(users, "valid"), rtol=1e-5)
    from appliance.serve.decoder import GenerativeDecoder
    from export.generative import FP32_MAX_ABS, export_generative

    gate = export_generative(fitted, tmp_path / "bundle", split=toy_split, quantize=False)
    assert gate["fp32_max_abs"] < FP32_MAX_ABS and gate["fp32_topk_identical_share"] == 1.0
    decoder = GenerativeDecoder(tmp_path / "bundle")
    assert decoder.item_positions
    histories = [toy_split.sequences("test")[u] for u in range(toy_split.n_users)]
    onnx_items, onnx_scores = decoder.recommend_scored(histories, 4)
    torch_items, torch_scores = fitted.recommend_for(histories, histories, 4)
    assert (onnx_items == torch_items).all()
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-4)


def test_a_model_saved_before_the_layout_option_loads_as_tokens(fitted: GenerativeRecommender) -> None:
    arrays, meta = fitted.to_state()
    del meta["gen_config"]["history_layout"]  # artifacts written before the option: L code tokens per item
    old = GenerativeRecommender.from_state(arrays, meta)
    assert old.cfg.history_layout == "tokens" and not old.item_positions
    assert GenConfig().history_layout == "items"  # the measured default (docs/bench/gen.md)


def test_item_embeddings_add_a_vector_per_item_and_survive_save_and_export(toy_split: Split, tmp_path: Path) -> None:
    from appliance.config import ApplianceConfig, ConfigError, check_config
    from appliance.generative.train import ITEM_TABLE

    model = GenerativeRecommender(dataclasses.replace(CFG, item_embeddings=True, max_epochs=30), CODES,
                                  item_texts=TEXTS)
    model.fit(toy_split)
    assert evaluate(model, toy_split, "test", ks=(1,))["recall@1"] >= 0.8
    own = getattr(model.lm, ITEM_TABLE).weight
    table = item_token_table(model.tokenizer, model.codes)
    with torch.no_grad():
        embeds = embed_inputs(model.lm, torch.tensor([[-3]]), table)
        rows = model.lm.get_input_embeddings().weight
        torch.testing.assert_close(embeds[0, 0], rows[model.tokenizer.encode_codes(CODES[2])].sum(0) + own[2])
    model.save(tmp_path / "gen")
    loaded = GenerativeRecommender.load(tmp_path / "gen")
    loaded.bind(toy_split)
    users = np.arange(12)
    np.testing.assert_allclose(loaded.score(users, "valid"), model.score(users, "valid"), rtol=1e-5)
    from appliance.serve.decoder import GenerativeDecoder
    from export.generative import FP32_MAX_ABS, export_generative

    gate = export_generative(model, tmp_path / "bundle", split=toy_split, quantize=False)
    assert gate["fp32_max_abs"] < FP32_MAX_ABS and gate["fp32_topk_identical_share"] == 1.0
    histories = [toy_split.sequences("test")[u] for u in range(toy_split.n_users)]
    onnx_items, _ = GenerativeDecoder(tmp_path / "bundle").recommend_scored(histories, 4)
    assert (onnx_items == model.recommend_for(histories, histories, 4)[0]).all()
    with pytest.raises(GenerativeError, match="history_layout"):
        GenerativeRecommender(dataclasses.replace(CFG, item_embeddings=True, history_layout="tokens"), CODES).build()
    with pytest.raises(ConfigError, match="item_embeddings"):
        check_config(ApplianceConfig(gen=GenConfig(item_embeddings=True, history_layout="tokens")))
