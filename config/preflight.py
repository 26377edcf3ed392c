"""Checks a serving process makes against the database before it serves (production only)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError

from exams.demo import logins_with_published_password

log = logging.getLogger(__name__)


def refuse_demo_logins() -> None:
    """Stop a production process while a demo login still opens with the README's password.

    The demo is never loaded in production, but a database copied from a trial machine would
    bring its logins along, the administrator `admin` among them.
    """
    if not settings.PRODUCTION:
        return
    try:
        open_logins = logins_with_published_password()
    except DatabaseError as exc:
        # The database may be starting too: serve, and let /healthz say what is down; the check
        # runs again at the next start.
        log.warning("demo login check skipped, the database did not answer: %s", exc)
        return
    if open_logins:
        raise SystemExit(
            f"Refusing to start: the demo login(s) {', '.join(open_logins)} still open with the password "
            "printed in the README; deactivate them or set new passwords (manage.py changepassword)"
        )
