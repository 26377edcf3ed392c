"""Writing and checking the audit log (R-AUD-1). See exams.models.audit for the chain's design."""

from .answers import BATCH_KIND, audit_answer_batch, verify_answer_batches
from .chain import GENESIS, ChainFault, audit_append, entry_hash, verify_chain

__all__ = ["BATCH_KIND", "GENESIS", "ChainFault", "audit_answer_batch", "audit_append", "entry_hash", "verify_answer_batches",
           "verify_chain"]
