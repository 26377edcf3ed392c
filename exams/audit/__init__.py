"""Writing and checking the audit log (R-AUD-1). See exams.models.audit for the chain's design."""

from .chain import GENESIS, audit_append, entry_hash, verify_chain

__all__ = ["GENESIS", "audit_append", "entry_hash", "verify_chain"]
