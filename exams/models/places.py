"""Checks for where an exam is held: a country the `holidays` package knows, and an IANA time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_country(code: str) -> None:
    if code not in holidays.list_supported_countries():
        raise ValidationError(_("%(code)s is not a country with a known holiday calendar"), params={"code": code})


def validate_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("%(name)s is not a time zone"), params={"name": name}) from None
