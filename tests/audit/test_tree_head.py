"""Signed tree heads (issue 15): what a witness keeps verifies, and nothing else does."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.merkle import EMPTY_ROOT, leaf_hash, root
from audit.tree_head import (
    TreeHead,
    public_key_from_text,
    public_key_text,
    sign,
    signing_key,
    verify,
)

SECRET = "a-secret-of-the-products-kind-" * 2
ROOT = root([leaf_hash(b"entry %d" % n) for n in range(5)])


def test_a_signed_head_verifies_with_the_published_key():
    key = signing_key(SECRET)
    head = TreeHead(size=5, root_hash=ROOT, timestamp_ms=1_765_000_000_000)
    published = public_key_text(key)  # what the public page shows
    assert verify(head, sign(head, key), public_key_from_text(published))


@given(
    size=st.integers(min_value=0, max_value=2**40),
    timestamp=st.integers(min_value=0, max_value=2**45),
    byte=st.integers(min_value=0, max_value=31),
)
def test_any_change_to_a_head_breaks_its_signature(size, timestamp, byte):
    key = signing_key(SECRET)
    head = TreeHead(size=size, root_hash=ROOT, timestamp_ms=timestamp)
    signature = sign(head, key)
    flipped = bytearray(ROOT)
    flipped[byte] ^= 1
    for changed in (
        TreeHead(size + 1, ROOT, timestamp),
        TreeHead(size, bytes(flipped), timestamp),
        TreeHead(size, ROOT, timestamp + 1),
    ):
        assert not verify(changed, signature, key.public_key())
    assert not verify(head, signature[:-1] + bytes([signature[-1] ^ 1]), key.public_key())


def test_another_secret_gives_another_key_and_the_same_secret_the_same():
    head = TreeHead(size=0, root_hash=EMPTY_ROOT, timestamp_ms=0)
    signature = sign(head, signing_key(SECRET))
    assert not verify(head, signature, signing_key(SECRET + "x").public_key())
    assert public_key_text(signing_key(SECRET)) == public_key_text(signing_key(SECRET))


def test_the_signed_bytes_are_fixed():
    # A head signed today must verify with any later version of this code.
    head = TreeHead(size=3, root_hash=hashlib.sha256(b"x").digest(), timestamp_ms=42)
    assert head.signed_bytes() == (
        b"board-exams audit tree head v1\n3\n"
        + hashlib.sha256(b"x").hexdigest().encode()
        + b"\n42\n"
    )


@pytest.mark.parametrize("text", ["not base64!", "AAAA", public_key_text(signing_key(SECRET))[:-4]])
def test_a_public_key_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        public_key_from_text(text)


@pytest.mark.parametrize(
    "size, root_hash, timestamp", [(-1, ROOT, 0), (0, ROOT, -1), (0, b"short", 0)]
)
def test_a_head_that_cannot_be_is_refused(size, root_hash, timestamp):
    with pytest.raises(ValueError):
        TreeHead(size, root_hash, timestamp)


def test_an_empty_secret_gives_no_key():
    with pytest.raises(ValueError):
        signing_key("")
