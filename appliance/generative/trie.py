"""A trie of valid item codes and the numpy step of trie-constrained beam search (TIGER, Rajput et al. 2023;
Semantic Convergence, Li et al. 2025: decoding constrained to valid semantic IDs).

Pure numpy, no torch: the torch decoder (appliance.generative.model) and a torch-free ONNX decoder share `beam_step`.
Codes are integer arrays (n_items, L); the value at level d is in 0..level_sizes[d]-1. Nodes are numbered level by
level (root 0); children of a node are contiguous, sorted by value, so "which values may follow this prefix" is a
slice. A candidate is allowed only if it follows a trie edge and the subtree below it still holds at least one item
the user does not already have, so a finished beam is always a valid, unknown-to-the-user item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.errors import UserError

NEG_INF = np.float32(-np.inf)


class TrieError(UserError, ValueError):
    """The codes cannot form a trie (wrong shape, negative values, or two items sharing one code)."""


class CodeTrie:
    """Trie over the rows of `codes` (n_items, L); row i is item index i."""

    def __init__(self, codes: np.ndarray, level_sizes: tuple[int, ...] | None = None) -> None:
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] == 0 or not np.issubdtype(codes.dtype, np.integer):
            raise TrieError(f"codes must be a non-empty integer array (n_items, levels), got {codes.shape}")
        if (codes < 0).any():
            raise TrieError("codes must be >= 0")
        self.codes = codes.astype(np.int64)
        self.depth = codes.shape[1]
        observed = tuple(int(m) + 1 for m in self.codes.max(axis=0))
        self.level_sizes = tuple(level_sizes) if level_sizes is not None else observed
        if len(self.level_sizes) != self.depth or any(o > s for o, s in zip(observed, self.level_sizes, strict=True)):
            raise TrieError(f"level sizes {self.level_sizes} do not fit codes with maxima+1 {observed}")
        self._build()

    @property
    def n_items(self) -> int:
        return self.codes.shape[0]

    def _build(self) -> None:
        order = np.lexsort(self.codes.T[::-1])  # rows sorted lexicographically
        sorted_codes = self.codes[order]
        if self.n_items > 1 and not (np.diff(sorted_codes, axis=0) != 0).any(axis=1).all():
            raise TrieError("two items share one code: make codes unique (the last level exists for that)")
        values, parents = [np.zeros(1, np.int64)], [np.full(1, -1, np.int64)]
        item_path = np.zeros((self.n_items, self.depth), np.int64)
        level_parent = np.zeros(self.n_items, np.int64)  # node of each sorted row's prefix at the previous level
        next_id = 1
        for d in range(self.depth):
            new = np.ones(self.n_items, bool)  # a row opens a new node when its prefix up to d differs
            new[1:] = (np.diff(sorted_codes[:, : d + 1], axis=0) != 0).any(axis=1)
            node = next_id + np.cumsum(new) - 1
            first = np.flatnonzero(new)
            values.append(sorted_codes[first, d])
            parents.append(level_parent[first])
            item_path[order, d] = node
            level_parent, next_id = node, next_id + len(first)
        self.values = np.concatenate(values)  # (n_nodes,) value on the edge into each node
        self.parents = np.concatenate(parents)  # (n_nodes,) parent node, -1 for the root
        n_nodes = next_id
        # children of each node are contiguous because nodes were numbered in sorted order
        counts = np.bincount(self.parents[1:], minlength=n_nodes)
        self.child_start = np.concatenate([[1], 1 + np.cumsum(counts)[:-1]]).astype(np.int64)
        self.child_count = counts.astype(np.int64)
        self.item_path = item_path  # (n_items, L) node after each level
        self.leaf_item = np.full(n_nodes, -1, np.int64)
        self.leaf_item[item_path[:, -1]] = np.arange(self.n_items)
        self.leaves_under = np.zeros(n_nodes, np.int64)
        np.add.at(self.leaves_under, item_path.ravel(), 1)
        self.leaves_under[0] = self.n_items

    @property
    def n_nodes(self) -> int:
        return len(self.values)

    def contains(self, code: np.ndarray) -> bool:
        """True when `code` (L,) is the code of some item."""
        return self.lookup(code) >= 0

    def lookup(self, code: np.ndarray) -> int:
        """Item index of `code`, or -1."""
        node = 0
        for value in np.asarray(code).tolist():
            lo, n = self.child_start[node], self.child_count[node]
            hit = np.searchsorted(self.values[lo: lo + n], value)
            if hit >= n or self.values[lo + hit] != value:
                return -1
            node = lo + hit
        return int(self.leaf_item[node])

    def children(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (row, child node) pairs for `nodes` (M,); a node < 0 (a dead beam) has no children."""
        nodes = np.asarray(nodes, np.int64)
        counts = np.where(nodes >= 0, self.child_count[np.maximum(nodes, 0)], 0)
        rows = np.repeat(np.arange(len(nodes)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return rows, self.child_start[np.maximum(nodes, 0)][rows] + offsets


@dataclass(frozen=True)
class Exclusions:
    """Per-user counts of excluded items below each node: sorted keys user_row * n_nodes + node."""

    keys: np.ndarray
    counts: np.ndarray


def build_exclusions(trie: CodeTrie, histories: list[np.ndarray]) -> Exclusions:
    """Exclusions for a batch: histories[b] are item indices user b already has (never recommended)."""
    parts = [b * trie.n_nodes + trie.item_path[np.unique(np.asarray(h, np.int64))].ravel()
             for b, h in enumerate(histories) if len(h)]
    flat = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    keys, counts = np.unique(flat, return_counts=True)
    return Exclusions(keys, counts)


def _blocked(trie: CodeTrie, exclusions: Exclusions, users: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """True where every item below `nodes` is excluded for `users` (both (M,))."""
    if len(exclusions.keys) == 0:
        return np.zeros(len(nodes), bool)
    keys = users * trie.n_nodes + nodes
    pos = np.minimum(np.searchsorted(exclusions.keys, keys), len(exclusions.keys) - 1)
    excluded = np.where(exclusions.keys[pos] == keys, exclusions.counts[pos], 0)
    return excluded >= trie.leaves_under[nodes]


@dataclass(frozen=True)
class BeamState:
    """Beams of a batch, flattened (n_users * width,): trie node (-1 = dead), cumulative log-probability."""

    n_users: int
    nodes: np.ndarray
    scores: np.ndarray
    parents: np.ndarray  # (n_users * beam,) flat index of the beam each one extends (to reorder the KV cache)
    values: np.ndarray  # (n_users * beam,) code value chosen at this step (any value for dead beams)


def initial_state(n_users: int) -> BeamState:
    """One live beam per user at the root; the first step expands it to `beam` beams."""
    zeros = np.zeros(n_users, np.int64)
    return BeamState(n_users, zeros, np.zeros(n_users, np.float32), np.arange(n_users), zeros)


def beam_step(trie: CodeTrie, state: BeamState, logprobs: np.ndarray, beam: int,
              exclusions: Exclusions | None = None) -> BeamState:
    """Extend every beam by one code value and keep the best `beam` allowed candidates per user.

    Args:
        state: current beams, (n_users * width,) with width = 1 on the first step, else `beam`.
        logprobs: (n_users * width, level_size) log-probabilities of the next level's values.
    Returns the new state, (n_users * beam,); users with fewer allowed candidates get dead beams (node -1).
    """
    n_users = state.n_users
    per_user = len(state.nodes) // n_users
    rows, child = trie.children(state.nodes)
    users = rows // per_user
    allowed = np.ones(len(rows), bool) if exclusions is None else ~_blocked(trie, exclusions, users, child)
    rows, child, users = rows[allowed], child[allowed], users[allowed]
    cand = state.scores[rows] + logprobs[rows, trie.values[child]]
    cand = np.where(np.isnan(cand), NEG_INF, cand).astype(np.float32)
    # best `beam` per user: sort by (user, -score), then take the first `beam` of each user's run
    order = np.lexsort((-cand, users))
    users_sorted = users[order]
    rank = np.arange(len(order)) - np.searchsorted(users_sorted, users_sorted)
    keep = order[(rank < beam) & np.isfinite(cand[order])]
    rank_of = np.empty_like(rank)
    rank_of[order] = rank  # rank within its user, indexed by candidate
    slot = users[keep] * beam + rank_of[keep]
    nodes = np.full(n_users * beam, -1, np.int64)
    scores = np.full(n_users * beam, NEG_INF, np.float32)
    parents = np.repeat(np.arange(n_users) * per_user, beam)  # dead beams reuse the user's first row
    values = np.zeros(n_users * beam, np.int64)
    nodes[slot], scores[slot], parents[slot] = child[keep], cand[keep], rows[keep]
    values[slot] = trie.values[child[keep]]
    return BeamState(n_users, nodes, scores, parents, values)


def finish(trie: CodeTrie, state: BeamState, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k item indices and scores per user from the final beams; -1 / -inf pad users with fewer items."""
    n_users = state.n_users
    beam = len(state.nodes) // n_users
    nodes = state.nodes.reshape(n_users, beam)
    scores = state.scores.reshape(n_users, beam)
    items = np.where(nodes >= 0, trie.leaf_item[np.maximum(nodes, 0)], -1)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    items, scores = np.take_along_axis(items, order, 1), np.take_along_axis(scores, order, 1)
    if items.shape[1] < k:
        pad = k - items.shape[1]
        items = np.pad(items, ((0, 0), (0, pad)), constant_values=-1)
        scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=NEG_INF)
    return items, scores
