"""gen.hidden_dropout (appliance.generative.train.hidden_dropout): dropout on the input embeddings and on each
attention and MLP output while training, as BERT and SASRec do; it acts only inside training, leaves no hook on the
model it returns, and is a checked probability."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM

from appliance.config import ApplianceConfig, ConfigError, GenConfig, check_config
from appliance.data.splits import split_from_sequences
from appliance.generative.model import GenerativeRecommender
from appliance.generative.tasks import GenerativeError
from appliance.generative.train import fit_generative, hidden_dropout

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

N_ITEMS = 9
CODES = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS, int), np.zeros(N_ITEMS, int)], 1)


def _lm() -> Qwen2ForCausalLM:
    torch.manual_seed(0)
    return Qwen2ForCausalLM(Qwen2Config(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                        num_key_value_heads=1, intermediate_size=32))


def _hooks(lm: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in lm.modules())


def test_drops_only_while_training_inside_the_context() -> None:
    lm, x = _lm(), torch.randn(2, 5, 16)
    lm.train()
    plain = lm.base_model(inputs_embeds=x).last_hidden_state
    with hidden_dropout(lm, 0.5):
        assert _hooks(lm) == 1 + 2 * 2  # the inputs, then attention and MLP of each of the 2 layers
        first = lm.base_model(inputs_embeds=x).last_hidden_state
        second = lm.base_model(inputs_embeds=x).last_hidden_state
        lm.eval()
        evaluated = lm.base_model(inputs_embeds=x).last_hidden_state
        lm.train()
    assert not torch.allclose(first, plain) and not torch.allclose(first, second)
    assert torch.allclose(evaluated, plain)
    assert _hooks(lm) == 0
    assert torch.allclose(lm.base_model(inputs_embeds=x).last_hidden_state, plain)


def test_each_place_is_dropped() -> None:
    """The input embeddings, an attention output and an MLP output each see the dropout (zeros at rate 0.5)."""
    lm, x = _lm(), torch.ones(1, 4, 16)
    seen: dict[str, torch.Tensor] = {}

    def record(name: str, value: torch.Tensor) -> None:  # a hook returning None leaves the output as it is
        seen.setdefault(name, value.detach().clone())

    layer = lm.base_model.layers[0]
    layer.input_layernorm.register_forward_pre_hook(lambda m, a: record("embeds", a[0]))  # after the input dropout
    lm.train()
    with hidden_dropout(lm, 0.5):  # registered after the dropout hooks, so they see the dropped outputs
        attention = layer.self_attn.register_forward_hook(lambda m, a, out: record("attn", out[0]))
        mlp = layer.mlp.register_forward_hook(lambda m, a, out: record("mlp", out))
        lm.base_model(inputs_embeds=x)
        attention.remove()
        mlp.remove()
    assert (seen["embeds"] == 0).any() and (seen["embeds"] == 2).any()  # inverted dropout scales kept values by 2
    assert (seen["attn"] == 0).sum() > seen["attn"].numel() // 4
    assert (seen["mlp"] == 0).sum() > seen["mlp"].numel() // 4


def test_training_with_it_learns_the_toy_and_leaves_no_hook() -> None:
    split = split_from_sequences([np.array([(u + j) % N_ITEMS for j in range(6)]) for u in range(36)], N_ITEMS)
    cfg = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=25, patience=100, batch_size=16,
                    lr=3e-2, dropout=0.0, hidden_dropout=0.1, beam=5, valid_users=0, history_len=2)
    model = GenerativeRecommender(cfg, CODES, item_texts=[f"item {i}" for i in range(N_ITEMS)])
    model.bind(split)
    model.build()
    report = fit_generative(model, split)
    assert report.best_score > 0.5  # item i is followed by i + 1: learnable despite the dropout
    assert _hooks(model.lm) == 0 and not model.lm.training
    users = np.arange(4)
    assert np.array_equal(model.score(users, "valid"), model.score(users, "valid"))


@pytest.mark.parametrize("key", ["dropout", "hidden_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.0])
def test_a_dropout_outside_zero_to_one_is_refused(key: str, value: float) -> None:
    cfg = ApplianceConfig(gen=dataclasses.replace(GenConfig(), **{key: value}))
    with pytest.raises(ConfigError, match=f"gen.{key}"):
        check_config(cfg)


def test_a_model_without_decoder_layers_at_model_layers_is_refused_by_name() -> None:
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=20, n_embd=8, n_layer=1, n_head=2, n_positions=16))
    with pytest.raises(GenerativeError, match="GPT2LMHeadModel: set it to 0"), hidden_dropout(gpt2, 0.1):
        pass
    assert _hooks(gpt2) == 0
