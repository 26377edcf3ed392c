"""Lists of people in the order the reader's language sorts names (ICU's collation, issue 12).

By code point, Mongolian's Ө and Ү come after Я, and Chinese names fall in the order of their
characters' numbers; ICU sorts them as a Mongolian or Chinese reader looks for them (Chinese by
pinyin)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import icu
from django.utils.translation import get_language, to_locale

T = TypeVar("T")

# One collator per language and thread: ICU's collators are not to be shared between threads.
_local = threading.local()


def _collator(language: str) -> icu.Collator:
    collators = _local.__dict__.setdefault("collators", {})
    if language not in collators:
        collators[language] = icu.Collator.createInstance(icu.Locale(to_locale(language)))
    return collators[language]


def name_sort_key(language: str | None = None) -> Callable[[Any], tuple[bytes, bytes, str]]:
    """A key for sorted() over users: family name, then given name, by the collation of `language`
    (the active language if None); the username breaks ties."""
    sort_key = _collator(language or get_language() or "en").getSortKey
    return lambda user: (
        sort_key(user.last_name.strip()),
        sort_key(user.first_name.strip()),
        user.get_username(),
    )


def sorted_by_name(
    items: Iterable[T], person: Callable[[T], Any] = lambda item: item, language: str | None = None
) -> list[T]:
    """`items` sorted by the name of `person(item)` (the item itself by default)."""
    key = name_sort_key(language)
    return sorted(items, key=lambda item: key(person(item)))
