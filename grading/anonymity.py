"""Anonymous codes for blind marking (R-GRADE-2, R-SEC-1: a marker sees only anonymised answers).

A code names an attempt without revealing it: an HMAC of its id under the server's secret, so it
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
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{attempt_id}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(digest[:5]).decode()  # 8 characters, no ambiguity between cases
    return f"{text[:4]}-{text[4:]}"
