"""Columns of the admin's lists that read the same in every language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext as _


def yes_no(model: type[models.Model], field: str) -> Callable[[Any], str]:
    """A yes/no column for a boolean field, as a word in the reader's language: Django's own column
    is an icon whose text says "True" or "False" in every language."""

    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def shown(obj: Any) -> str:
        return _("yes") if getattr(obj, field) else _("no")

    shown.__name__ = f"{field}_shown"
    return shown
