"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1, with SHA-256.

The audit log is a list of entries D[0], D[1], ...; the tree over them commits to the whole list in
one 32-byte root. Two kinds of proof let an outsider check the log against a signed (size, root)
pair, the tree head, without the entries themselves:

- an inclusion proof (PATH, section 2.1.3) shows that one entry is leaf ``index`` of the tree;
- a consistency proof (PROOF, section 2.1.4) shows that the tree of ``old_size`` leaves is a prefix
  of the tree of ``new_size`` leaves, that is, the log was only appended to.

The functions here work on leaf hashes (``leaf_hash(entry_bytes)``), not on the entries: the
sequencer stores one hash per entry and never needs the entries again. Building proofs takes O(n)
time, because it rehashes the subtrees from the leaves; they are for checking and tooling. The
verifiers follow the RFC's own iterative algorithms step by step (sections 2.1.3.2 and 2.1.4.2) and
answer False, never raise, for anything malformed: a verifier's input comes from whoever sent the
proof. ``Frontier`` keeps the right edge of the tree so appending costs O(log n).

A proof binds a leaf to a root, not to a size: for some sizes the same proof verifies against two
different sizes (leaf 0 of 3 leaves has the same path shape as leaf 0 of 4). The size must come
from the signed tree head together with the root, as RFC 9162 has it; never take it from the proof
sender alone.

No Django here on purpose: the module is pure so a verifier outside the system (an auditor's
script) can copy it as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
"""Bytes in a SHA-256 digest; every leaf hash, node hash, root and proof element has this size."""

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
"""Different prefixes for leaves and interior nodes (RFC 9162, 2.1.1), so no leaf hash can equal
an interior node's hash: a proof cannot pass off a subtree as a single entry."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(): the root of the tree with no leaves (e3b0c442...b855)."""


def leaf_hash(data: bytes) -> bytes:
    """HASH(0x00 || data): the hash of one log entry, the leaf of the tree."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): the hash of an interior node from its two children."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


# --- Building: roots and proofs from the list of leaf hashes -------------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]), the Merkle Tree Hash of RFC 9162, 2.1.1, over the given leaf hashes."""
    _check_leaf_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162, 2.1.3.1: the sibling hashes from the leaf up to the root.

    Raises ValueError when ``index`` is not a leaf of the tree: unlike the verifiers, this runs on
    the log's own data, where a bad index is a programming error.
    """
    _check_leaf_hashes(leaf_hashes)
    if not _is_count(index) or index >= len(leaf_hashes):
        raise ValueError(f"index {index!r} is not a leaf of a tree of {len(leaf_hashes)} leaves")
    return _path(index, leaf_hashes, 0, len(leaf_hashes))


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162, 2.1.4.1: that the first ``old_size`` leaves are a prefix.

    The RFC defines the proof for 0 < old_size < n only. For old_size 0 or n there is nothing to
    prove and the proof is empty, which ``verify_consistency`` accepts. Raises ValueError when
    ``old_size`` is negative or larger than the tree.
    """
    _check_leaf_hashes(leaf_hashes)
    size = len(leaf_hashes)
    if not _is_count(old_size) or old_size > size:
        raise ValueError(f"old size {old_size!r} is not a prefix of a tree of {size} leaves")
    if old_size in (0, size):
        return []
    return _subproof(old_size, leaf_hashes, 0, size, True)


def _split(n: int) -> int:
    """k, the largest power of two below n (n > 1): where the RFC splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(leaf_hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) for a non-empty range, by the RFC's recursive definition."""
    if hi - lo == 1:
        return leaf_hashes[lo]
    k = _split(hi - lo)
    return node_hash(_subtree_root(leaf_hashes, lo, lo + k), _subtree_root(leaf_hashes, lo + k, hi))


def _path(m: int, leaf_hashes: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]); the sibling nearest the leaf comes first, as the verifier reads them."""
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return _path(m, leaf_hashes, lo, lo + k) + [_subtree_root(leaf_hashes, lo + k, hi)]
    return _path(m - k, leaf_hashes, lo + k, hi) + [_subtree_root(leaf_hashes, lo, lo + k)]


def _subproof(m: int, leaf_hashes: Sequence[bytes], lo: int, hi: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) of RFC 9162, 2.1.4.1.

    ``b`` is true while the old tree's root is a subtree of the new tree on the left edge: the
    verifier already holds that root, so it is left out of the proof.
    """
    if m == hi - lo:
        return [] if b else [_subtree_root(leaf_hashes, lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return _subproof(m, leaf_hashes, lo, lo + k, b) + [_subtree_root(leaf_hashes, lo + k, hi)]
    return _subproof(m - k, leaf_hashes, lo + k, hi, False) + [
        _subtree_root(leaf_hashes, lo, lo + k)
    ]


def _check_leaf_hashes(leaf_hashes: Sequence[bytes]) -> None:
    """Refuse entries passed where their leaf hashes belong, a mistake that would go unnoticed."""
    if not all(_is_hash(h) for h in leaf_hashes):
        raise ValueError(f"leaf hashes must be {HASH_SIZE}-byte digests (use leaf_hash(entry))")


# --- Verifying: RFC 9162, 2.1.3.2 and 2.1.4.2 ----------------------------------------------------


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf_hash`` is leaf ``index`` of the tree (``size``, ``root``).

    RFC 9162, 2.1.3.2. ``leaf_hash`` is to be computed by the verifier from the entry it holds, and
    ``size`` and ``root`` are to come from one signed tree head.
    """
    if not (_is_count(index) and _is_count(size) and index < size):
        return False  # step 1: leaf_index >= tree_size fails
    if not (_is_hash(leaf_hash) and _is_hash(root) and _are_hashes(proof)):
        return False
    return _root_from_inclusion(index, size, leaf_hash, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    RFC 9162, 2.1.4.2, whose algorithm assumes 0 < old_size < new_size. The two cases it leaves out
    are decided as the RFC's definitions imply, with nothing to prove and so an empty proof:
    a tree is consistent with itself (equal sizes need equal roots), and the empty tree, whose root
    can only be EMPTY_ROOT, is a prefix of every tree.
    """
    if not (_is_count(old_size) and _is_count(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _are_hashes(proof)):
        return False
    if old_size == 0 and old_root != EMPTY_ROOT:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    roots = _roots_from_consistency(old_size, new_size, old_root, proof)
    return roots == (old_root, new_root)


def _root_from_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """Steps 2 to 5 of RFC 9162, 2.1.3.2: the root the proof leads to, None if it cannot be one.

    fn and sn are the positions of the current node and of the tree's last node on the current
    level; walking up halves both. Where fn is a right child, or the last node of its level (then
    it has no right sibling and is promoted unchanged until it is a right child), the proof
    element is its left sibling.
    """
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:
            return None  # 4a: the proof is longer than the path
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    return r if sn == 0 else None  # step 5: a shorter proof leaves sn above 0


def _roots_from_consistency(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """Steps 1 to 7 of RFC 9162, 2.1.4.2: the (old, new) roots the proof leads to, or None.

    The proof is the inclusion path of the old tree's last perfect subtree in the new tree, led by
    that subtree's root. fr rebuilds the old root from the left siblings only, sr the new root
    from all of them.
    """
    if not proof:
        return None  # step 1
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # step 2: the old tree is that subtree; the verifier holds it
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4: climb to the root of the old tree's last perfect subtree
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return None  # 6a
        if fn & 1 or fn == sn:  # 6b
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    return (fr, sr) if sn == 0 else None  # step 7 (the caller compares the roots)


def _is_count(value: object) -> bool:
    """A size or an index: a non-negative int (bool is an int to Python but no count here)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    """A SHA-256 digest as bytes; anything else in a proof is malformed, not hashed blindly."""
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _are_hashes(proof: object) -> bool:
    """A proof: a list or tuple of digests (bytes and str are sequences too, but not proofs)."""
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


# --- The sequencer's compact tree ----------------------------------------------------------------


class Frontier:
    """The right edge of the tree: enough to append leaves and get the root, without the leaves.

    A tree of n leaves is a row of perfect subtrees, one for each bit set in n, largest on the
    left (13 = 8 + 4 + 1). ``hashes`` holds their roots, left to right: popcount(n) hashes, at
    most log2(n) + 1. Appending a leaf merges the equal-sized subtrees at the right end, as a
    binary counter carries, so it costs O(log n) hashes; the root folds the row from the right, as
    MTH splits a tree at the largest power of two. Store (size, hashes) with the tree head and
    ``Frontier(size, hashes)`` picks up where the sequencer left off.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hashes = tuple(hashes)
        if not _is_count(size):
            raise ValueError(f"size must be a non-negative int, not {size!r}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes, not {len(hashes)}"
            )
        if not all(_is_hash(h) for h in hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE}-byte digests")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The roots of the perfect subtrees, largest first: the state to store and restore."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash (``leaf_hash(entry)``, not the entry) as leaf number ``size``."""
        if not _is_hash(leaf_hash):
            raise ValueError(
                f"a leaf hash must be a {HASH_SIZE}-byte digest (use leaf_hash(entry))"
            )
        self._push(leaf_hash)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add a batch of leaf hashes in order, all or none: a bad hash changes nothing."""
        batch = list(leaf_hashes)
        if not all(_is_hash(h) for h in batch):
            raise ValueError(f"leaf hashes must be {HASH_SIZE}-byte digests (use leaf_hash(entry))")
        for h in batch:
            self._push(h)

    def root(self) -> bytes:
        """MTH of all leaves appended so far; EMPTY_ROOT before the first."""
        if not self._hashes:
            return EMPTY_ROOT
        r = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            r = node_hash(left, r)
        return r

    def _push(self, h: bytes) -> None:
        """Append a checked leaf hash; each trailing 1 bit of size is an equal subtree to merge."""
        n = self._size
        while n & 1:
            h = node_hash(self._hashes.pop(), h)
            n >>= 1
        self._hashes.append(h)
        self._size += 1

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}...)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # mutable: equal now, not equal after the next append
