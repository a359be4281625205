"""CodeTrie and the numpy constrained beam step: only valid, non-excluded codes can ever come out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.generative.trie import CodeTrie, TrieError, beam_step, build_exclusions, finish, initial_state


def _random_codes(rng: np.random.Generator, n: int, sizes: tuple[int, ...]) -> np.ndarray:
    """n unique random codes (n <= product of sizes)."""
    flat = rng.choice(int(np.prod(sizes)), n, replace=False)
    return np.stack(np.unravel_index(flat, sizes), axis=1).astype(np.int64)


def _decode(trie: CodeTrie, logprobs: list[np.ndarray], beam: int, k: int, histories: list[np.ndarray]):
    state = initial_state(len(histories))
    exclusions = build_exclusions(trie, histories)
    for level, lp in enumerate(logprobs):
        rows = len(state.nodes)
        state = beam_step(trie, state, lp[:rows, : trie.level_sizes[level]], beam, exclusions)
    return finish(trie, state, k)


def test_lookup_and_structure() -> None:
    codes = np.array([[0, 1, 0, 0], [0, 1, 0, 1], [2, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    trie = CodeTrie(codes)
    assert [trie.lookup(c) for c in codes] == [0, 1, 2, 3, 4]
    assert trie.lookup([0, 1, 1, 0]) == -1 and not trie.contains([3, 0, 0, 0])
    assert trie.leaves_under[0] == 5 and trie.level_sizes == (3, 2, 2, 2)


@pytest.mark.parametrize("codes", [np.array([[0, 1], [0, 1]]), np.array([[-1, 0]]), np.zeros((0, 4), int)])
def test_invalid_codes_raise(codes: np.ndarray) -> None:
    with pytest.raises(TrieError):
        CodeTrie(codes)


def test_excluded_prefix_is_pruned() -> None:
    """A prefix whose only items are all in the history is never followed, even if it is the most likely."""
    codes = np.array([[0, 0], [0, 1], [1, 0]])
    trie = CodeTrie(codes)
    high_first = [np.log(np.array([[0.99, 0.01]], np.float32)), np.log(np.full((3, 2), 0.5, np.float32))]
    items, _ = _decode(trie, high_first, beam=3, k=3, histories=[np.array([0, 1])])
    assert items.tolist() == [[2, -1, -1]]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_items=st.integers(1, 40), beam=st.integers(1, 8),
       n_users=st.integers(1, 4), depth=st.integers(1, 4))
def test_beam_search_never_leaves_the_trie(seed: int, n_items: int, beam: int, n_users: int, depth: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = tuple(int(s) for s in rng.integers(2, 6, depth))
    n_items = min(n_items, int(np.prod(sizes)))
    trie = CodeTrie(_random_codes(rng, n_items, sizes), sizes)
    histories = [rng.choice(n_items, int(rng.integers(0, n_items + 1)), replace=False) for _ in range(n_users)]
    # random logits, some -inf and huge values, over the whole level (invalid values included)
    logprobs = []
    for size in sizes:
        lp = rng.normal(0, 5, (n_users * beam, size)).astype(np.float32)
        if seed % 2:
            lp[rng.random(lp.shape) < 0.1] = -np.inf
        logprobs.append(lp)
    items, scores = _decode(trie, logprobs, beam, beam, histories)
    for u, hist in enumerate(histories):
        found = [i for i in items[u] if i >= 0]
        assert len(found) == len(set(found))  # unique items
        assert not set(found) & set(hist.tolist())  # nothing the user already has
        for i in found:
            assert trie.lookup(trie.codes[i]) == i
        assert np.all(np.diff(scores[u][: len(found)]) <= 0)  # best first
        # every kept beam leads to an available item, so with finite logits the beam never runs dry early
        available = np.setdiff1d(np.arange(n_items), hist)
        if not np.isinf(np.concatenate([lp.ravel() for lp in logprobs])).any():
            assert len(found) >= min(beam, len(np.unique(trie.codes[available, 0])))
