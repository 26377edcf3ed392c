"""Enrolling candidates from a CSV file (R-SCHED-2): accounts, enrolments and credentials e-mails.

`enrolment_import` is the one path for this rule; `manage.py enroll` calls it. See docs/enrolment.md.

Passwords. A new account gets a random password, which is mailed and never stored in clear. An
existing account (same username) is reused: its password is replaced only when the account has
never been used to log in (`last_login` is None), because then nobody can know its password except
from an e-mail we are about to (re)send, and the newest e-mail must work. An account that has logged
in keeps its password, and its e-mail says so instead of carrying one.

The parts: parse_csv (the file into checked rows), checks (the rows against the database), write
(enrolment_import: its transaction and the writes), passwords, mail (the credentials e-mail, sent
after commit), problems (the refusal), summary (what was done).
"""

from __future__ import annotations

from .mail import credentials_message
from .parse_csv import CandidateRow, RowsSource
from .passwords import generate_password
from .problems import EnrolmentRefused, Problem
from .summary import EnrolmentSummary, summary_lines
from .write import enrolment_import

__all__ = [
    "CandidateRow",
    "EnrolmentRefused",
    "EnrolmentSummary",
    "Problem",
    "RowsSource",
    "credentials_message",
    "enrolment_import",
    "generate_password",
    "summary_lines",
]
