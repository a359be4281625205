"""Merkle tree hash, audit paths and consistency proofs of RFC 6962 section 2.1, verified with the algorithms of
RFC 9162 sections 2.1.3.2 and 2.1.4.2 (sigstore `merkle.py` style: named prefixes, small pure functions).

All functions work on leaf *hashes* (`hash_leaf(data)`); trees are lists of them in log order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from appliance.privacy.audit.chain import AuditVerificationError

_LEAF_HASH_PREFIX = b"\x00"  # RFC 6962 2.1: leaf hashes and node hashes can never collide
_NODE_HASH_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256 of the empty string


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF_HASH_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_HASH_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_tree_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 2.1, recursively; `MerkleFrontier` gives the same root incrementally."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return hash_children(merkle_tree_hash(leaves[:k]), merkle_tree_hash(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1: the audit path of leaf `index`, leaf level first."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of size {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(leaves[:k], index), merkle_tree_hash(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), merkle_tree_hash(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 2.1.2: shows the tree of the first m leaves is a prefix of D[n]."""
    if not 0 <= m <= len(leaves):
        raise ValueError(f"old size {m} is outside 0..{len(leaves)}")
    if m in (0, len(leaves)):
        return []
    return _subproof(leaves, m, True)


def _subproof(leaves: Sequence[bytes], m: int, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [merkle_tree_hash(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves[:k], m, complete), merkle_tree_hash(leaves[k:])]
    return [*_subproof(leaves[k:], m - k, False), merkle_tree_hash(leaves[:k])]


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2: raise AuditVerificationError unless `proof` shows leaf `index` is in the tree `root`."""
    if not 0 <= index < tree_size:
        raise AuditVerificationError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise AuditVerificationError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise AuditVerificationError(f"inclusion proof of leaf {index} does not lead to the root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 2.1.4.2: raise AuditVerificationError unless tree (size1, root1) is a prefix of (size2, root2)."""
    if not 0 <= size1 <= size2:
        raise AuditVerificationError(f"old tree size {size1} is larger than the new size {size2}")
    if size1 in (0, size2):  # the empty tree is a prefix of all; equal sizes need equal roots and no proof
        if proof or (size1 == 0 and root1 != EMPTY_ROOT) or (size1 == size2 and root1 != root2):
            raise AuditVerificationError(f"trees of size {size1} and {size2} are not consistent")
        return
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    if not proof:
        raise AuditVerificationError("consistency proof is empty")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise AuditVerificationError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if fr != root1 or sr != root2 or sn != 0:
        raise AuditVerificationError(f"tree of size {size1} is not a prefix of the tree of size {size2}")


class MerkleFrontier:
    """The roots of the perfect subtrees on the tree's right edge (a compact range): append a leaf and read MTH of
    everything appended so far in O(log n), so checkpoints and verification never rehash the whole log."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (subtree leaf count, subtree root), left to right

    def append(self, leaf_hash: bytes) -> None:
        self._stack.append((1, leaf_hash))
        self.size += 1
        while len(self._stack) > 1 and self._stack[-1][0] == self._stack[-2][0]:
            (count, left), (_, right) = self._stack[-2], self._stack[-1]
            self._stack[-2:] = [(2 * count, hash_children(left, right))]

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            root = hash_children(left, root)
        return root

    def compact_range(self) -> list[bytes]:
        """The roots of the perfect subtrees over the leaves so far, largest first: with the size, all that is
        needed to go on appending and computing roots (a range export's prefix record carries them)."""
        return [root for _, root in self._stack]

    @classmethod
    def from_compact_range(cls, size: int, roots: Sequence[bytes]) -> MerkleFrontier:
        """The frontier of a tree of `size` leaves given its `compact_range()`; one root per set bit of `size`."""
        counts = [1 << bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
        if size < 0 or len(counts) != len(roots):
            raise AuditVerificationError(f"a compact range of a tree of size {size} holds {len(counts)} hashes, "
                                         f"not {len(roots)}")
        frontier = cls()
        frontier.size, frontier._stack = size, list(zip(counts, roots, strict=True))
        return frontier
