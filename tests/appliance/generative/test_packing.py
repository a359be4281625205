"""gen.pack: a user's sequential examples in one row that reads the history once. The packed rows must hold exactly
the examples of `sequential_examples` (same prompts' positions, same targets), and the loss of a packed batch must
equal the loss of the same examples one per row, in both history layouts and with prompts cut at history_len."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from appliance.config import GenConfig
from appliance.data.splits import split_from_sequences
from appliance.generative.model import GenerativeRecommender, build_lm
from appliance.generative.tasks import (
    Example,
    Packed,
    TaskData,
    build_epoch,
    packed_sequential_examples,
    sequential_examples,
    targets,
    text_examples,
)
from appliance.generative.tokenizer import PAD, SEP, build_tokenizer
from appliance.generative.train import _batches, _row, collate, collate_packed, item_token_table, target_loss

N_ITEMS = 9
CODES = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS, int), np.zeros(N_ITEMS, int)], 1)
TEXTS = [f"item {i} shade {['rose', 'amber', 'mint'][i % 3]}" for i in range(N_ITEMS)]
SEQUENCES = [np.array([(3 * u + j) % N_ITEMS for j in range(2 + u % 7)]) for u in range(12)]  # lengths 2..8

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _data(items: bool) -> TaskData:
    tok = build_tokenizer(TEXTS, (9, 2, 1, 1), vocab_size=40)
    return TaskData(tok, CODES, SEQUENCES, TEXTS, None, item_positions=items)


def _unpacked(data: TaskData, packed: list[Packed]) -> list[tuple[list[int], list[int]]]:
    """The (prompt, target) pairs a packed row stands for: the first `seen` track entries plus SEP."""
    sep = data.tokenizer.token_id(SEP)
    return [([*row.track[:seen], sep], target) for row in packed for seen, target in row.branches]


@pytest.mark.parametrize("items", [True, False])
@pytest.mark.parametrize("history_len", [20, 3, 0])
@pytest.mark.parametrize("windows", [0, 2])
def test_packed_rows_hold_the_same_examples(items: bool, history_len: int, windows: int) -> None:
    data = _data(items)
    plain = sequential_examples(data, history_len, windows, np.random.default_rng(5))
    packed = packed_sequential_examples(data, history_len, windows, np.random.default_rng(5))
    assert [(e.prompt, e.target) for e in plain] == _unpacked(data, packed)
    assert sum(targets(e) for e in packed) == len(plain)
    if history_len == 20 and windows == 0:
        assert len(packed) == len(SEQUENCES)  # one row per user when every prompt starts at the first item
    if history_len == 3:
        assert len(packed) > len(SEQUENCES)  # prefixes longer than 3 items start later: rows of their own


def test_positions_and_visibility_of_a_packed_row() -> None:
    data = _data(True)
    row = packed_sequential_examples(data, 20, 0, np.random.default_rng(0))[3]  # user 3: 5 items, 4 branches
    ids, positions, branch, visible, labels = _row(row, data.tokenizer.token_id(SEP))
    n = len(row.track)
    assert n == 2 + 4 and len(ids) == n + 4 * 4
    assert positions[:n] == list(range(n))
    for j, (seen, target) in enumerate(row.branches, start=1):
        at = [i for i, b in enumerate(branch) if b == j]
        assert [positions[i] for i in at] == list(range(seen, seen + 4))  # where the prompt alone puts them
        assert {visible[i] for i in at} == {seen} and [labels[i] for i in at] == target
    assert all(label == -100 for label in labels[:n])


@pytest.mark.parametrize("items", [True, False])
@pytest.mark.parametrize("history_len", [20, 3])
def test_packed_loss_equals_the_loss_of_the_separate_examples(items: bool, history_len: int) -> None:
    data = _data(items)
    cfg = GenConfig(preset="tiny", text_vocab=40, dropout=0.0, history_layout="items" if items else "tokens")
    lm = build_lm(cfg, data.tokenizer).eval()
    table = item_token_table(data.tokenizer, CODES) if items else None
    pad, sep = data.tokenizer.token_id(PAD), data.tokenizer.token_id(SEP)
    plain = sequential_examples(data, history_len, 0, np.random.default_rng(0))
    packed = packed_sequential_examples(data, history_len, 0, np.random.default_rng(0))
    with torch.no_grad():
        expected = target_loss(lm, collate(plain, pad), table)
        for bool_mask in (True, False):
            got = target_loss(lm, collate_packed(packed, pad, sep, bool_mask), table)
            assert torch.allclose(got, expected, atol=1e-5), (got, expected)
        # plain examples (other tasks) go through the packed collator unchanged, mixed with packed rows
        text = text_examples(data, 8)[:5]
        mixed = target_loss(lm, collate_packed([*packed[:4], *text], pad, sep), table)
        alone = target_loss(lm, collate([*[Example(p, t, "seq") for p, t in _unpacked(data, packed[:4])], *text],
                                        pad), table)
        assert torch.allclose(mixed, alone, atol=1e-5)


def test_batches_count_branches_and_epochs_mix_packed_rows_with_other_tasks() -> None:
    data = _data(True)
    packed = packed_sequential_examples(data, 20, 0, np.random.default_rng(0))
    batches = _batches(packed, 10, np.random.default_rng(0))
    assert sorted(id(e) for b in batches for e in b) == sorted(id(e) for e in packed)
    assert sum(1 for b in batches if sum(targets(e) for e in b) < 10) <= 1  # one short batch at most per bucket
    cfg = GenConfig(tasks=("seq", "text"), text_weight=0.5, history_layout="items", pack=True)
    epoch = build_epoch(cfg, data, 1, np.random.default_rng(0))
    n_seq = sum(targets(e) for e in epoch if isinstance(e, Packed))
    assert n_seq == sum(len(s) - 1 for s in SEQUENCES)
    assert sum(1 for e in epoch if isinstance(e, Example) and e.task == "text") == round(0.5 * n_seq)


def test_a_packed_fit_learns_the_toy_sequence() -> None:
    split = split_from_sequences([np.array([(u + j) % N_ITEMS for j in range(6)]) for u in range(36)], N_ITEMS)
    cfg = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=40, patience=8, batch_size=16, lr=3e-2,
                    dropout=0.0, hidden_dropout=0.0, beam=5, valid_users=0, history_len=2, history_layout="items",
                    pack=True)
    model = GenerativeRecommender(cfg, CODES, item_texts=TEXTS)
    info = model.fit(split)
    assert info.extra["examples_per_epoch"] == sum(max(0, len(s) - 1) for s in split.sequences("valid"))
    items, _ = model.recommend_topk(np.arange(6), 1, "test")
    expected = [split.heldout("test")[u].indices[0] for u in range(6)]
    assert items[:, 0].tolist() == expected
    off = GenerativeRecommender(dataclasses.replace(cfg, pack=False), CODES, item_texts=TEXTS)
    assert off.fit(split).extra["examples_per_epoch"] == info.extra["examples_per_epoch"]
