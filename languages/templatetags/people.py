"""{{ user|person_name }}: a person's name in the page's language (a builtin of the templates)."""

from __future__ import annotations

from typing import Any

from django import template

from ..names import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user: Any) -> str:
    return _person_name(user) if user is not None else ""
