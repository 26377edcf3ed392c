"""The forms behind the candidate's and the exam staff's POSTs: a view gets clean values or errors, never a 500."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class IdentityAnswerForm(forms.Form):
    """The candidate's answer to "is this you?" before the exam day."""

    answer = forms.ChoiceField(
        choices=[("yes", _("Yes, this is me")), ("not_me", _("This is not me"))]
    )


class StartForm(forms.Form):
    """Start: the start code the proctor reads out, when the sitting asks for one."""

    start_code = forms.CharField(max_length=40, required=False, strip=True)


class HandOverForm(forms.Form):
    """Move a locked attempt to the new device, or back to the first one (R-TAKE-2)."""

    to = forms.ChoiceField(
        choices=[("new", _("Move to the new device")), ("first", _("Keep on the first device"))]
    )
    reason = forms.CharField(max_length=500)


def first_message(form: forms.Form) -> str:
    """Return the form's first error as it is: for forms whose errors are whole sentences."""
    return str(next(iter(form.errors.values()))[0]) if form.errors else ""


def first_error(form: forms.Form) -> str:
    """Return one of the form's errors as a sentence to show the person, prefixed by its field's label."""
    for name in form.errors:
        field = form.fields.get(name)
        if field is None:  # a form-wide error
            return first_message(form)
        return f"{field.label or name.replace('_', ' ').capitalize()}: {form.errors[name][0]}"
    return ""
