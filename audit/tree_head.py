"""Signed tree heads: the log's size and root hash at a moment, signed with Ed25519.

A tree head is what a witness keeps (an oversight report, a council member's signature): once
signed and handed out, a rewrite of the log's past yields a root that contradicts it, and a
consistency proof (audit.merkle) shows that a later head extends it. The signed bytes are fixed
and versioned, so a head signed today verifies with any later version of this code.

The signing key is derived from a secret of the product's kind (config.secrets: a variable or a
file, generated outside production), so it is kept, rotated and backed up like the others; only
the public key is ever shown.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .merkle import HASH_SIZE

# What the signature is over names what it is, so that it can never pass for a signature of
# anything else this key might sign one day.
CONTEXT = b"board-exams audit tree head v1\n"
KEY_DERIVATION = b"board-exams audit tree head signing key v1"


@dataclass(frozen=True)
class TreeHead:
    """The log at one moment: how many entries, their Merkle root, when (milliseconds, UTC)."""

    size: int
    root_hash: bytes
    timestamp_ms: int

    def __post_init__(self) -> None:
        if self.size < 0 or self.timestamp_ms < 0:
            raise ValueError("a tree head's size and time are never negative")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"a root hash is {HASH_SIZE} bytes, not {len(self.root_hash)}")

    def signed_bytes(self) -> bytes:
        """Return the exact bytes the signature covers."""
        return CONTEXT + (
            f"{self.size}\n{self.root_hash.hex()}\n{self.timestamp_ms}\n".encode("ascii")
        )


def signing_key(secret: str) -> Ed25519PrivateKey:
    """Return the Ed25519 key derived from the product's secret for this one job."""
    if not secret:
        raise ValueError("the tree head signing secret is empty")
    seed = hashlib.sha256(KEY_DERIVATION + b"\0" + secret.encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the public key as base64 of its 32 raw bytes, for a page anyone can read."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Return the public key a witness copied from that page; ValueError if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ValueError("the public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(head: TreeHead, key: Ed25519PrivateKey) -> bytes:
    return key.sign(head.signed_bytes())


def verify(head: TreeHead, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    """Return whether the signature is this key's over exactly this head."""
    try:
        public_key.verify(signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True
