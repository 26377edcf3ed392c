"""The Merkle tree of the audit log (issue 15) against RFC 9162, section 2.1.

The reference here is written again from the RFC's recursive definitions (MTH, PATH, SUBPROOF),
apart from audit.merkle, and the known answers are the RFC 6962 test vectors of the CT reference
implementation (google/certificate-transparency, carried over into transparency-dev/merkle).
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300  # every tree size up to this is checked in full
SMALL = 40  # every tampering of every proof up to this size; Hypothesis samples the rest

# Twice as many entries as the largest tree: the tampering tests ask for doubled sizes too.
ENTRIES = [f"audit entry {i}".encode() for i in range(2 * MAX_SIZE + 2)]
LEAVES = [leaf_hash(e) for e in ENTRIES]
OTHER = hashlib.sha256(b"not in the tree").digest()


# --- The reference: RFC 9162, 2.1, as written -----------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """MTH(D_n) over the entries themselves, straight from 2.1.1."""
    if not entries:
        return sha256(b"")
    if len(entries) == 1:
        return sha256(b"\x00" + entries[0])
    k = largest_power_of_two_below(len(entries))
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


@cache
def ref_root(lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over ENTRIES, remembered, so every size up to MAX_SIZE stays affordable."""
    if hi - lo == 1:
        return sha256(b"\x00" + ENTRIES[lo])
    k = largest_power_of_two_below(hi - lo)
    return sha256(b"\x01" + ref_root(lo, lo + k) + ref_root(lo + k, hi))


def tree_root(n: int) -> bytes:
    return sha256(b"") if n == 0 else ref_root(0, n)


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]) of 2.1.3.1."""
    if hi - lo == 1:
        return []
    k = largest_power_of_two_below(hi - lo)
    if m < k:
        return ref_path(m, lo, lo + k) + [ref_root(lo + k, hi)]
    return ref_path(m - k, lo + k, hi) + [ref_root(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) of 2.1.4.1."""
    if m == hi - lo:
        return [] if b else [ref_root(lo, hi)]
    k = largest_power_of_two_below(hi - lo)
    if m <= k:
        return ref_subproof(m, lo, lo + k, b) + [ref_root(lo + k, hi)]
    return ref_subproof(m - k, lo + k, hi, False) + [ref_root(lo, lo + k)]


def ref_proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, D_n) = SUBPROOF(m, D_n, true), for 0 < m < n."""
    return ref_subproof(m, 0, n, True)


def sides(m: int, n: int) -> tuple[str, ...]:
    """On which side each element of PATH(m, D_n) joins the path: the shape of the proof."""
    if n == 1:
        return ()
    k = largest_power_of_two_below(n)
    return sides(m, k) + ("right",) if m < k else sides(m - k, n - k) + ("left",)


def flipped(proof: list[bytes], i: int, byte: int) -> list[bytes]:
    element = bytearray(proof[i])
    element[byte] ^= 0x01
    return proof[:i] + [bytes(element)] + proof[i + 1 :]


# --- Hashes and roots -----------------------------------------------------------------------------


def test_the_empty_root_is_sha256_of_nothing():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT == Frontier().root()


def test_leaves_and_nodes_hash_with_different_prefixes():
    assert leaf_hash(b"x") == sha256(b"\x00x")
    assert node_hash(b"a" * 32, b"b" * 32) == sha256(b"\x01" + b"a" * 32 + b"b" * 32)
    # The prefixes keep a pair of leaves from reading as one leaf of their concatenation.
    assert leaf_hash(LEAVES[0] + LEAVES[1]) != node_hash(LEAVES[0], LEAVES[1])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8])
def test_root_is_the_merkle_tree_hash(n):
    assert root([leaf_hash(e) for e in ENTRIES[:n]]) == mth(ENTRIES[:n])


def test_root_of_every_size_is_the_merkle_tree_hash():
    for n in range(MAX_SIZE + 1):
        assert root(LEAVES[:n]) == tree_root(n), n


def test_root_shapes_by_hand():
    a, b, c = LEAVES[:3]
    assert root([a]) == a
    assert root([a, b]) == node_hash(a, b)
    assert root([a, b, c]) == node_hash(node_hash(a, b), c)


@pytest.mark.parametrize("bad", [[b"entry"], [LEAVES[0], "x" * 32], [bytearray(32)]])
def test_building_refuses_what_is_not_a_leaf_hash(bad):
    with pytest.raises(ValueError):
        root(bad)
    with pytest.raises(ValueError):
        inclusion_proof(0, bad)
    with pytest.raises(ValueError):
        consistency_proof(0, bad)


# --- Known answers: the RFC 6962 test vectors -----------------------------------------------------

VECTOR_HEX = (
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)
VECTOR_ENTRIES = [bytes.fromhex(h) for h in VECTOR_HEX]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [  # (index, size, path)
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
]  # fmt: skip
VECTOR_CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def test_the_rfc_6962_vectors_roots():
    leaves = [leaf_hash(e) for e in VECTOR_ENTRIES]
    assert [root(leaves[:n]).hex() for n in range(1, 9)] == VECTOR_ROOTS


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_the_rfc_6962_vectors_inclusion(index, size, path):
    leaves = [leaf_hash(e) for e in VECTOR_ENTRIES[:size]]
    proof = [bytes.fromhex(h) for h in path]
    assert inclusion_proof(index, leaves) == proof
    assert verify_inclusion(
        index, size, leaves[index], proof, bytes.fromhex(VECTOR_ROOTS[size - 1])
    )


@pytest.mark.parametrize(("old", "new", "hashes"), VECTOR_CONSISTENCY)
def test_the_rfc_6962_vectors_consistency(old, new, hashes):
    leaves = [leaf_hash(e) for e in VECTOR_ENTRIES[:new]]
    proof = [bytes.fromhex(h) for h in hashes]
    assert consistency_proof(old, leaves) == proof
    old_root, new_root = (bytes.fromhex(VECTOR_ROOTS[s - 1]) for s in (old, new))
    assert verify_consistency(old, new, old_root, new_root, proof)


# --- Every proof of every size up to MAX_SIZE -----------------------------------------------------


def test_every_inclusion_proof_is_rfc_path_and_verifies():
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            proof = ref_path(i, 0, n)
            assert verify_inclusion(i, n, LEAVES[i], proof, tree_root(n)), (i, n)
    for n in range(1, 65):  # the module's own builder, O(n) a proof, on the sizes to 64
        for i in range(n):
            assert inclusion_proof(i, LEAVES[:n]) == ref_path(i, 0, n), (i, n)


def test_every_consistency_proof_is_rfc_proof_and_verifies():
    for n in range(1, MAX_SIZE + 1):
        for m in range(1, n):
            proof = ref_proof(m, n)
            assert verify_consistency(m, n, tree_root(m), tree_root(n), proof), (m, n)
        assert verify_consistency(0, n, EMPTY_ROOT, tree_root(n), [])
        assert verify_consistency(n, n, tree_root(n), tree_root(n), [])
    for n in range(1, 65):
        for m in range(n + 1):
            expected = ref_proof(m, n) if 0 < m < n else []
            assert consistency_proof(m, LEAVES[:n]) == expected, (m, n)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_built_proofs_match_the_rfc_for_larger_trees(data):
    n = data.draw(st.integers(65, MAX_SIZE), label="size")
    i = data.draw(st.integers(0, n - 1), label="index")
    m = data.draw(st.integers(0, n), label="old size")
    assert inclusion_proof(i, LEAVES[:n]) == ref_path(i, 0, n)
    assert consistency_proof(m, LEAVES[:n]) == (ref_proof(m, n) if 0 < m < n else [])


def test_proof_builders_refuse_indexes_outside_the_tree():
    for bad in (-1, 3, 4, True, 1.0):
        with pytest.raises(ValueError):
            inclusion_proof(bad, LEAVES[:3])
    for bad in (-1, 4, None):
        with pytest.raises(ValueError):
            consistency_proof(bad, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(0, [])


# --- Tampering: an inclusion proof verifies for its own leaf, index, size and root only -----------


def assert_inclusion_tampering_fails(i: int, n: int) -> None:
    proof, good_root, leaf = ref_path(i, 0, n), tree_root(n), LEAVES[i]
    assert verify_inclusion(i, n, leaf, proof, good_root)
    for k in range(len(proof)):
        for byte in (0, 31):
            assert not verify_inclusion(i, n, leaf, flipped(proof, k, byte), good_root), (i, n, k)
    for j in range(n + 2):  # another leaf's index, also past the end
        assert j == i or not verify_inclusion(j, n, leaf, proof, good_root), (i, n, j)
    for s in range(i + 1, 2 * n + 2):
        # The proof carries no size: a size whose path has the same shape takes the same proof,
        # which is why the size has to come from the signed tree head.
        assert verify_inclusion(i, s, leaf, proof, good_root) == (sides(i, s) == sides(i, n))
    for other_leaf in (LEAVES[(i + 1) % MAX_SIZE], OTHER, EMPTY_ROOT, good_root):
        assert other_leaf == leaf or not verify_inclusion(i, n, other_leaf, proof, good_root)
    for other_root in (EMPTY_ROOT, OTHER, tree_root(n - 1), tree_root(n + 1), leaf):
        assert other_root == good_root or not verify_inclusion(i, n, leaf, proof, other_root)
    for wrong in (proof[:-1], proof[1:], proof + [good_root], proof + [OTHER], [OTHER] + proof):
        if wrong != proof:
            assert not verify_inclusion(i, n, leaf, wrong, good_root), (i, n, len(wrong))


def test_tampered_inclusion_proofs_fail_for_every_small_tree():
    for n in range(1, SMALL + 1):
        for i in range(n):
            assert_inclusion_tampering_fails(i, n)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_tampered_inclusion_proofs_fail_for_larger_trees(data):
    n = data.draw(st.integers(SMALL + 1, MAX_SIZE - 1), label="size")
    assert_inclusion_tampering_fails(data.draw(st.integers(0, n - 1), label="index"), n)


def test_a_proof_of_one_size_may_verify_for_another_of_the_same_shape():
    """Documents the reason for taking the size from the tree head: leaf 0 of 3 and of 4."""
    proof = ref_path(0, 0, 3)
    assert verify_inclusion(0, 4, LEAVES[0], proof, tree_root(3))
    assert not verify_inclusion(0, 4, LEAVES[0], proof, tree_root(4))


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "tree"),
    [
        (0, 0, LEAVES[0], [], EMPTY_ROOT),  # nothing is in the empty tree
        (1, 1, LEAVES[0], [], LEAVES[0]),
        (-1, 2, LEAVES[0], [LEAVES[1]], tree_root(2)),
        (True, 2, LEAVES[1], [LEAVES[0]], tree_root(2)),
        (0, 2.0, LEAVES[0], [LEAVES[1]], tree_root(2)),
        (0, 2, LEAVES[0][:31], [LEAVES[1]], tree_root(2)),
        (0, 2, LEAVES[0], [LEAVES[1][:31]], tree_root(2)),
        (0, 2, LEAVES[0], [LEAVES[1] + b"\x00"], tree_root(2)),
        (0, 2, LEAVES[0], [LEAVES[1].hex()], tree_root(2)),
        (0, 2, LEAVES[0], [None], tree_root(2)),
        (0, 2, LEAVES[0], None, tree_root(2)),
        (0, 2, LEAVES[0], LEAVES[1], tree_root(2)),
        (0, 2, LEAVES[0], [LEAVES[1]], None),
        (0, 2, LEAVES[0], [LEAVES[1]], tree_root(2).hex()),
        (0, 1, ENTRIES[0], [], tree_root(1)),  # the entry where its leaf hash belongs
    ],
)
def test_malformed_inclusion_proofs_fail_without_raising(index, size, leaf, proof, tree):
    assert verify_inclusion(index, size, leaf, proof, tree) is False


def test_an_inclusion_proof_may_be_a_tuple():
    assert verify_inclusion(2, 3, LEAVES[2], tuple(ref_path(2, 0, 3)), tree_root(3))


# --- Tampering: a consistency proof verifies for its own sizes and roots only ---------------------


def assert_consistency_tampering_fails(m: int, n: int) -> None:
    proof, old, new = ref_proof(m, n), tree_root(m), tree_root(n)
    assert verify_consistency(m, n, old, new, proof)
    for k in range(len(proof)):
        for byte in (0, 31):
            assert not verify_consistency(m, n, old, new, flipped(proof, k, byte)), (m, n, k)
    assert not verify_consistency(m, n, new, old, proof)  # swapped roots
    for other in (EMPTY_ROOT, OTHER, tree_root(m - 1), tree_root(m + 1)):
        assert not verify_consistency(m, n, other, new, proof)
    for other in (EMPTY_ROOT, OTHER, tree_root(n - 1), tree_root(n + 1), old):
        assert not verify_consistency(m, n, old, other, proof)
    wrongs = [[], proof[:-1], proof[1:], proof + [new], proof + [old], [old] + proof]
    wrongs += [[proof[0]] + proof, proof + [OTHER], proof[::-1]]
    for wrong in wrongs:
        if wrong != proof:
            assert not verify_consistency(m, n, old, new, wrong), (m, n, len(wrong))
    for m2, n2 in ((m - 1, n), (m + 1, n), (m ^ 2, n), (m, n + 1), (m, n - 1), (m, 2 * n)):
        # A size changed so that the proof has another length always fails (see the inclusion
        # tampering above for why the same length may not: the tree head binds the sizes).
        if (m2, n2) != (m, n) and 0 < m2 < n2 and len(ref_proof(m2, n2)) != len(proof):
            assert not verify_consistency(m2, n2, old, new, proof), (m, n, m2, n2)
    assert not verify_consistency(n, m, new, old, proof)  # time running backwards
    assert not verify_consistency(0, n, EMPTY_ROOT, new, proof)
    assert not verify_consistency(n, n, new, new, proof)


def test_tampered_consistency_proofs_fail_for_every_small_tree():
    for n in range(2, SMALL + 1):
        for m in range(1, n):
            assert_consistency_tampering_fails(m, n)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_tampered_consistency_proofs_fail_for_larger_trees(data):
    n = data.draw(st.integers(SMALL + 1, MAX_SIZE - 1), label="new size")
    assert_consistency_tampering_fails(data.draw(st.integers(1, n - 1), label="old size"), n)


def test_the_cases_the_rfc_algorithm_leaves_out():
    one, two = tree_root(1), tree_root(2)
    # A tree is consistent with itself, with an empty proof and equal roots only.
    assert verify_consistency(2, 2, two, two, [])
    assert not verify_consistency(2, 2, two, one, [])
    assert not verify_consistency(2, 2, two, two, [two])
    assert not verify_consistency(1, 1, one, one, [one])
    # The empty tree, whose root is EMPTY_ROOT, is a prefix of every tree, with an empty proof.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, one, [])
    assert verify_consistency(0, 2, EMPTY_ROOT, OTHER, [])  # nothing ties a size to a root here
    assert not verify_consistency(0, 2, EMPTY_ROOT, two, [one])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 2, OTHER, two, [])  # not the empty tree's root
    assert not verify_consistency(0, 0, OTHER, OTHER, [])
    # Otherwise the RFC's step 1: an empty proof fails.
    assert not verify_consistency(1, 2, one, two, [])


@pytest.mark.parametrize(
    ("old_size", "new_size", "old", "new", "proof"),
    [
        (2, 1, tree_root(2), tree_root(1), []),
        (2, 1, tree_root(2), tree_root(1), [LEAVES[1]]),
        (-1, 2, tree_root(1), tree_root(2), [LEAVES[1]]),
        (1, True, tree_root(1), tree_root(1), []),
        (1.0, 2, tree_root(1), tree_root(2), [LEAVES[1]]),
        (1, 2, tree_root(1)[:31], tree_root(2), [LEAVES[1]]),
        (1, 2, tree_root(1), None, [LEAVES[1]]),
        (1, 2, tree_root(1), tree_root(2), [LEAVES[1][:16]]),
        (1, 2, tree_root(1), tree_root(2), [LEAVES[1].hex()]),
        (1, 2, tree_root(1), tree_root(2), [None]),
        (1, 2, tree_root(1), tree_root(2), None),
        (1, 2, tree_root(1), tree_root(2), LEAVES[1]),
        (1, 2, tree_root(1), tree_root(2), iter([LEAVES[1]])),
    ],
)
def test_malformed_consistency_proofs_fail_without_raising(old_size, new_size, old, new, proof):
    assert verify_consistency(old_size, new_size, old, new, proof) is False


# --- The frontier ---------------------------------------------------------------------------------

batches = st.lists(st.lists(st.binary(max_size=8), max_size=40), max_size=12)


@settings(max_examples=60, deadline=None)
@given(batches=batches)
def test_the_frontier_root_is_the_tree_root_after_every_append(batches):
    frontier, leaves = Frontier(), []
    for batch in batches:
        for entry in batch:
            leaves.append(leaf_hash(entry))
            frontier.append(leaves[-1])
            assert frontier.size == len(leaves)
            assert frontier.root() == root(leaves)
            assert len(frontier.hashes) == len(leaves).bit_count() <= len(leaves).bit_length()


@settings(max_examples=60, deadline=None)
@given(batches=batches)
def test_the_frontier_extends_in_batches_and_restores_from_size_and_hashes(batches):
    frontier, leaves = Frontier(), []
    for batch in batches:
        hashes = [leaf_hash(entry) for entry in batch]
        leaves += hashes
        frontier.extend(hashes)
        assert frontier.root() == root(leaves)
        stored = (frontier.size, frontier.hashes)
        frontier = Frontier(*stored)  # as after a restart of the sequencer
        assert (frontier.size, frontier.hashes) == stored
        assert frontier.root() == root(leaves)
    one_by_one = Frontier()
    for h in leaves:
        one_by_one.append(h)
    assert one_by_one == frontier


def test_the_frontier_holds_the_roots_of_the_perfect_subtrees():
    frontier = Frontier()
    frontier.extend(LEAVES[:13])  # 13 = 8 + 4 + 1
    assert frontier.hashes == (ref_root(0, 8), ref_root(8, 12), ref_root(12, 13))
    for n in range(14, MAX_SIZE + 1):
        frontier.append(LEAVES[n - 1])
        assert frontier.root() == tree_root(n), n


@pytest.mark.parametrize(
    ("size", "hashes"),
    [
        (1, ()),
        (0, (LEAVES[0],)),
        (3, (LEAVES[0],)),
        (4, (LEAVES[0], LEAVES[1])),
        (5, (LEAVES[0], LEAVES[1], LEAVES[2])),
        (2, (LEAVES[0][:31],)),
        (2, ("x" * 32,)),
        (-1, ()),
        (True, (LEAVES[0],)),
        (1.0, (LEAVES[0],)),
    ],
)
def test_the_frontier_refuses_hashes_that_do_not_fit_the_size(size, hashes):
    with pytest.raises(ValueError):
        Frontier(size, hashes)


def test_the_frontier_refuses_entries_for_leaf_hashes_and_a_bad_batch_whole():
    frontier = Frontier()
    frontier.extend(LEAVES[:5])
    before = (frontier.size, frontier.hashes)
    with pytest.raises(ValueError):
        frontier.append(b"an entry, not its hash")
    with pytest.raises(ValueError):
        frontier.extend([LEAVES[5], LEAVES[6], b"short"])
    assert (frontier.size, frontier.hashes) == before
    frontier.extend(iter(LEAVES[5:9]))  # any iterable, read once
    assert frontier.root() == tree_root(9)


def test_a_frontier_proves_nothing_yet_but_its_roots_are_the_ones_proofs_check():
    """Tree heads a sequencer signs from a frontier verify against proofs built from the leaves."""
    frontier, heads = Frontier(), {}
    for n, h in enumerate(LEAVES[:70], start=1):
        frontier.append(h)
        heads[n] = frontier.root()
    for m, n in ((1, 70), (13, 64), (64, 65), (33, 69)):
        proof = consistency_proof(m, LEAVES[:n])
        assert verify_consistency(m, n, heads[m], heads[n], proof)
    assert verify_inclusion(42, 70, LEAVES[42], inclusion_proof(42, LEAVES[:70]), heads[70])
