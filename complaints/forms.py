"""The complaint pages' POSTs, validated: a malformed value gets a message, never a 500.

The rules themselves (which kind is open, how long the grounds must be, which decision goes with
which remedy) stay in complaints.services; these forms only make sure what reaches it is well formed.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import MAX_GROUNDS

MAX_POSITIONS_TEXT = 1_000


class FilingForm(forms.Form):
    kind = forms.CharField(required=False, max_length=20)
    grounds = forms.CharField(required=False, strip=False, max_length=MAX_GROUNDS * 2)
    positions = forms.CharField(required=False, max_length=MAX_POSITIONS_TEXT)

    def clean_positions(self) -> list[int]:
        """Question numbers as typed: "3, 17 42" → [3, 17, 42]; anything else is refused by name."""
        parts = [p for p in re.split(r"[\s,;]+", self.cleaned_data["positions"] or "") if p]
        if any(
            not (p.isascii() and p.isdigit()) or len(p) > 5 for p in parts
        ):  # "²" is a digit to isdigit()
            raise forms.ValidationError(_("Question numbers are whole numbers, e.g. 3, 17, 42."))
        return [int(p) for p in parts]


class AssignForm(forms.Form):
    member = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        error_messages={"invalid": _("Choose a member of the committee.")},
    )


class DecideForm(forms.Form):
    decision = forms.CharField(required=False, max_length=20)
    remedy = forms.CharField(required=False, max_length=20)
    reasons = forms.CharField(required=False, max_length=MAX_GROUNDS)

