"""RFC 6962 Merkle tree hash, audit paths and consistency proofs, checked against the published reference vectors
(certificate-transparency's 8-leaf test tree) and against the RFC's properties with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.privacy.audit.chain import AuditVerificationError
from appliance.privacy.audit.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    merkle_tree_hash,
    verify_consistency,
    verify_inclusion,
)

LEAF_DATA = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f")]
LEAVES = [hash_leaf(d) for d in LEAF_DATA]
ROOTS = [  # MTH of the first n leaves, n = 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (0-based leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
trees = st.lists(st.binary(max_size=6), min_size=1, max_size=70).map(lambda data: [hash_leaf(d) for d in data])


def _flip(digest: bytes) -> bytes:
    return bytes([digest[0] ^ 1]) + digest[1:]


@pytest.mark.parametrize("n", range(len(ROOTS)))
def test_roots_match_the_reference_tree(n: int) -> None:
    frontier = MerkleFrontier()
    for leaf in LEAVES[:n]:
        frontier.append(leaf)
    assert merkle_tree_hash(LEAVES[:n]).hex() == ROOTS[n]
    assert frontier.root().hex() == ROOTS[n] and frontier.size == n


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(LEAVES[:size], index)
    assert [p.hex() for p in proof] == path
    verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size]))
    with pytest.raises(AuditVerificationError):
        verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(old: int, new: int, path: list[str]) -> None:
    proof = consistency_proof(LEAVES[:new], old)
    assert [p.hex() for p in proof] == path
    verify_consistency(old, new, proof, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]))


@given(trees)
def test_every_leafs_inclusion_proof_verifies_and_a_wrong_root_fails(leaves: list[bytes]) -> None:
    root, n = merkle_tree_hash(leaves), len(leaves)
    for index, leaf in enumerate(leaves):
        proof = inclusion_proof(leaves, index)
        verify_inclusion(leaf, index, n, proof, root)
        with pytest.raises(AuditVerificationError):
            verify_inclusion(leaf, index, n, proof, _flip(root))
        with pytest.raises(AuditVerificationError):
            verify_inclusion(_flip(leaf), index, n, proof, root)


@given(trees, st.data())
def test_consistency_between_any_m_and_n_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    m = data.draw(st.integers(0, n), label="m")
    proof = consistency_proof(leaves, m)
    old, new = merkle_tree_hash(leaves[:m]), merkle_tree_hash(leaves)
    verify_consistency(m, n, proof, old, new)
    if m:  # every tree extends the empty tree, whatever its root
        with pytest.raises(AuditVerificationError):
            verify_consistency(m, n, proof, old, _flip(new))
        with pytest.raises(AuditVerificationError):
            verify_consistency(m, n, proof, _flip(old), new)


@given(trees)
def test_frontier_root_equals_mth_at_every_size(leaves: list[bytes]) -> None:
    frontier = MerkleFrontier()
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == merkle_tree_hash(leaves[:n])


@given(trees, st.data())
def test_a_proof_for_another_leaf_fails(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    if leaves[i] != leaves[j] and i != j:
        with pytest.raises(AuditVerificationError):
            verify_inclusion(leaves[j], i, n, inclusion_proof(leaves, i), merkle_tree_hash(leaves))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: verify_inclusion(LEAVES[0], 8, 8, [], bytes.fromhex(ROOTS[8])), "outside"),
    (lambda: verify_inclusion(LEAVES[0], 0, 1, [LEAVES[1]], LEAVES[0]), "longer"),
    (lambda: verify_consistency(5, 4, [], EMPTY_ROOT, EMPTY_ROOT), "larger"),
    (lambda: verify_consistency(2, 5, [], bytes.fromhex(ROOTS[2]), bytes.fromhex(ROOTS[5])), "empty"),
    (lambda: verify_consistency(3, 3, [LEAVES[0]], bytes.fromhex(ROOTS[3]), bytes.fromhex(ROOTS[3])), "not consistent"),
    (lambda: verify_consistency(0, 3, [], LEAVES[0], bytes.fromhex(ROOTS[3])), "not consistent"),
])
def test_malformed_proofs_are_rejected(call, message: str) -> None:
    with pytest.raises(AuditVerificationError, match=message):
        call()


def test_proof_builders_reject_out_of_range_sizes() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ValueError, match="outside"):
        consistency_proof(LEAVES[:3], 4)
