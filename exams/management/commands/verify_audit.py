"""`manage.py verify_audit`: check the audit log's hash chain, then the answer log against the sealed
answer batches; name the first bad entry (exit 1)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from exams.audit import ChainFault, verify_answer_batches, verify_chain


class Command(BaseCommand):
    help = ("Check every link of the audit log's hash chain, then every answer-log row against the sealed "
            "answer batches, and name the first entry that does not hold.")

    def add_arguments(self, parser):
        parser.add_argument("--chain-only", action="store_true",
                            help="Check the chain's links and seals only, not the answer log against the batches.")

    def handle(self, *args, **options):
        outermost = not connection.in_atomic_block  # else (a test) the caller's transaction decides
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                # One snapshot for both checks: a batch committing meanwhile (its rows and its
                # entry together) must not look like rows without a seal.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            checked, fault = verify_chain()
            if fault is not None:
                raise CommandError(f"audit log broken at entry #{fault.seq}: {fault.reason} ({checked} entries read)")
            summary = f"audit log intact: {checked} entries, every link and seal checks"
            if not options["chain_only"]:
                batches, fault = verify_answer_batches()
                if fault is not None:
                    raise CommandError(f"answer log does not match the audit log{_at(fault)}: {fault.reason} "
                                       f"({batches} answer batches read)")
                summary += f"; answer log matches its {batches} sealed batches"
        self.stdout.write(summary)


def _at(fault: ChainFault) -> str:
    return f" at entry #{fault.seq}" if fault.seq is not None else ""
