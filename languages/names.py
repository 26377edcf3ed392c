"""A person's name as each language writes it (issue 12)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language

# Han ideographs (with extensions A and the compatibility block), the script of a Chinese name.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Languages that put the family name first: Chinese, and Mongolian official style (овог, then нэр).
_FAMILY_FIRST = ("zh", "mn")


def _is_han(text: str) -> bool:
    return bool(_HAN.search(text))


def person_name(user: Any, language: str | None = None) -> str:
    """The name of `user` for a page or letter in `language` (the active one if None): family name
    first in Chinese and Mongolian, given name first in English. A name written in Chinese characters
    is family first with no space whatever the language (王小明, not 小明 王). The username when the
    account has no name."""
    given, family = user.first_name.strip(), user.last_name.strip()
    if not (given and family):
        return given or family or user.get_username()
    if _is_han(given) and _is_han(family):
        return family + given
    language = (language or get_language() or "").lower()
    if language.startswith(_FAMILY_FIRST):
        return f"{family} {given}"
    return f"{given} {family}"
