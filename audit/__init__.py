"""The audit log as a transparency log (RFC 9162): every audit entry of the exam system becomes a
leaf of an append-only Merkle tree, so whoever holds a signed tree head can check that an entry is
in the log and that a later log only added to an earlier one, without trusting the server (issue
15). This package becomes the audit app; for now it holds the Merkle tree, pure and without Django.
"""
