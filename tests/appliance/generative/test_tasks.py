"""Alignment-task datasets: prompt formats, the mixing schedule, and no leakage of held-out items."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.config import GenConfig
from appliance.data.splits import split_from_sequences
from appliance.generative.tasks import Packed, TaskData, build_epoch, sequential_examples, targets, text_examples
from appliance.generative.tokenizer import build_tokenizer, code_token
from appliance.generative.trie import CodeTrie

N_ITEMS = 11
SIZES = (3, 4, 2, 2)


@pytest.fixture
def codes() -> np.ndarray:
    flat = np.random.default_rng(7).choice(int(np.prod(SIZES)), N_ITEMS, replace=False)
    return np.stack(np.unravel_index(flat, SIZES), axis=1)


@pytest.fixture
def tokenizer():
    texts = [f"item {i} shade {['rose', 'amber', 'mint'][i % 3]}" for i in range(N_ITEMS)]
    return build_tokenizer(texts, SIZES, vocab_size=60, min_frequency=1)


def _items_in(tokens: list[int], trie: CodeTrie, offsets: np.ndarray) -> set[int]:
    """Items whose full code appears as 4 consecutive tokens."""
    found = set()
    for start in range(len(tokens) - len(offsets) + 1):
        values = np.asarray(tokens[start:start + len(offsets)]) - offsets
        if (values >= 0).all() and (values < np.asarray(SIZES)).all():
            item = trie.lookup(values)
            if item >= 0:
                found.add(item)
    return found


def test_code_tokens_are_contiguous(tokenizer) -> None:
    offsets = tokenizer.code_offsets
    for level, size in enumerate(SIZES):
        assert tokenizer.token_id(code_token(level, size - 1)) == offsets[level] + size - 1
    decoded = tokenizer.decode(tokenizer.encode_codes(np.array([2, 3, 1, 0])))
    assert decoded.split() == ["<a_2>", "<b_3>", "<c_1>", "<d_0>"]


def test_sequential_examples_cover_every_prefix(tokenizer, codes) -> None:
    data = TaskData(tokenizer, codes, [np.array([0, 1, 2, 3]), np.array([4])])
    examples = sequential_examples(data, history_len=2, windows_per_user=0, rng=np.random.default_rng(0))
    assert len(examples) == 3  # prefixes of user 0 only; a single-item sequence has no next item
    last = examples[-1]
    assert last.target == tokenizer.encode_codes(codes[3]).tolist()
    assert last.prompt[2:-1] == tokenizer.encode_codes(codes[[1, 2]]).ravel().tolist()  # last 2 items only


def test_text_examples_go_both_ways(tokenizer, codes) -> None:
    data = TaskData(tokenizer, codes, [], item_texts=[f"item {i}" for i in range(N_ITEMS)])
    examples = text_examples(data, text_tokens=8)
    assert len(examples) == 2 * N_ITEMS
    assert examples[0].target == tokenizer.encode_codes(codes[0]).tolist()
    assert examples[1].prompt[2:6] == examples[0].target


def test_no_heldout_item_reaches_training(tokenizer, codes) -> None:
    """Validation and test items (distinct per user here) never appear in a training prompt or target."""
    rng = np.random.default_rng(3)
    sequences = [np.append(rng.choice(7, 4, replace=False), [7 + u % 2, 9 + u % 2]) for u in range(9)]
    split = split_from_sequences(sequences, N_ITEMS)
    heldout = [set(split.valid[u].indices) | set(split.test[u].indices) for u in range(split.n_users)]
    intents = {u: "rose shade lover" for u in range(split.n_users)}
    data = TaskData(tokenizer, codes, split.sequences("valid"), [f"item {i}" for i in range(N_ITEMS)], intents)
    cfg = GenConfig(tasks=("seq", "text", "intent", "neg"), neg_weight=3.0)
    examples = build_epoch(cfg, data, 1, rng)
    assert {e.task for e in examples} == {"seq", "text", "intent", "neg"}
    trie, offsets = CodeTrie(codes, SIZES), tokenizer.code_offsets
    for ex in examples:
        if ex.task == "text":
            continue  # catalog text, no user data
        tokens = ex.track + [t for _, target in ex.branches for t in target] if isinstance(ex, Packed) else \
            ex.prompt + ex.target  # gen.pack (the default) puts a user's sequential examples in one row
        items = _items_in(tokens, trie, offsets)
        assert not items & heldout[ex.user], ex
        assert not items & {7, 8, 9, 10}  # held-out-only items are not even sampled as negatives


def test_mixing_schedule_drops_auxiliary_tasks(tokenizer, codes) -> None:
    data = TaskData(tokenizer, codes, [np.arange(5), np.arange(3, 8)], [f"item {i}" for i in range(N_ITEMS)])
    cfg = GenConfig(tasks=("seq", "text", "neg"), text_weight=1.0, neg_weight=0.5, aux_until_epoch=2)
    rng = np.random.default_rng(0)
    early = build_epoch(cfg, data, 2, rng)
    late = build_epoch(cfg, data, 3, rng)
    n_seq = sum(targets(e) for e in early if e.task == "seq")
    assert sum(e.task == "text" for e in early) == n_seq and sum(e.task == "neg" for e in early) == n_seq // 2
    assert {e.task for e in late} == {"seq"}
    with pytest.raises(ValueError, match="unknown generative tasks"):
        build_epoch(dataclasses.replace(cfg, tasks=("seq", "bogus")), data, 1, rng)
