"""The passwords mailed to candidates."""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import make_password

# Lower case without 0/o, 1/l/i: candidates copy the password by hand from a printout or a phone,
# often on a keyboard set to another script. Three groups of four: about 59 bits.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS = 3


def generate_password() -> str:
    """Return a random password that is easy to read and type: xxxx-xxxx-xxxx."""
    groups = (
        "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(4))
        for _g in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)


def password_and_hash() -> tuple[str, str]:
    """Return a new password and its hash (PBKDF2: a fraction of a second each)."""
    password = generate_password()
    return password, make_password(password)
