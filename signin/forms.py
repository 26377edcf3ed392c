from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import throttle


class ThrottleCheckMixin:
    """Refuses a sign-in that must still wait, before the password is looked at (the wrong ones
    are counted by signin.receivers, whichever form or backend saw them)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            seconds = throttle.signin_wait(self.request, username)
            if seconds:
                raise forms.ValidationError(
                    ngettext(
                        "Too many failed sign-ins for this account from here. Wait %(seconds)d second and try "
                        "again. If you have forgotten your password, ask the exam staff.",
                        "Too many failed sign-ins for this account from here. Wait %(seconds)d seconds and try "
                        "again. If you have forgotten your password, ask the exam staff.",
                        seconds,
                    )
                    % {"seconds": seconds},
                    code="throttled",
                )
        return super().clean()


class ThrottledAuthenticationForm(ThrottleCheckMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottleCheckMixin, AdminAuthenticationForm):
    pass


class ThrottleSearchForm(forms.Form):
    username = forms.CharField(label=_("Username"), required=False, max_length=150)


class ThrottleClearForm(forms.Form):
    throttle = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
