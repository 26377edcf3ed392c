"""Anonymous codes for blind marking (R-GRADE-2, R-SEC-1: a marker sees only anonymised answers).

A code names an attempt without revealing it: an HMAC of its id under a key of its own
(settings.MARKING_CODE_KEY, not the session secret), so it
cannot be turned back into an id or a candidate without the key, and it is stable (the chair and
the markers can talk about "answer 7KQ3-MX").
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings


def anonymous_code(attempt_id: int, *, purpose: str = "marking") -> str:
    """`purpose` keeps codes of different uses apart: a complaint's code does not reveal the marking code."""
    digest = hmac.new(
        settings.MARKING_CODE_KEY.encode(), f"{purpose}:{attempt_id}".encode(), hashlib.sha256
    ).digest()
    text = base64.b32encode(digest[:5]).decode()  # 8 characters, no ambiguity between cases
    return f"{text[:4]}-{text[4:]}"


def _mac(text: str) -> bytes:
    return hmac.new(settings.MARKING_CODE_KEY.encode(), text.encode(), hashlib.sha256).digest()


def answer_token(item_score_id: int, *, user_id: int, purpose: str = "mark") -> str:
    """Return the opaque name under which one marker's form posts an answer (issue 10, point 16).

    The score row's id is sequential (blocks of 100 per attempt) and would tell which answers are
    one candidate's. A keyed hash of it, bound to the marker and the purpose, tells nothing, and a
    token seen by another marker (or for marking instead of adjudicating) names nothing for them.
    """
    return base64.urlsafe_b64encode(_mac(f"{purpose}:{user_id}:{item_score_id}")[:18]).decode()


def token_matches(token: str, item_score_id: int, *, user_id: int, purpose: str = "mark") -> bool:
    return hmac.compare_digest(
        token.encode(), answer_token(item_score_id, user_id=user_id, purpose=purpose).encode()
    )


def queue_key(item_score_id: int, *, user_id: int) -> bytes:
    """Return the key a marker's queue is sorted by: a keyed hash, so the order says nothing of the
    attempt (score rows are numbered in attempt order) and differs from marker to marker."""
    return _mac(f"queue:{user_id}:{item_score_id}")
