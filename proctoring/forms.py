"""Forms for the live room's POSTs: the views get clean values or a clear error, never a 500."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SystemCheckForm(forms.Form):
    """What the system check page measured (R-TAKE-1), as static/proctoring/js/candidate/run_check.js sends it."""

    isChrome = forms.BooleanField(required=False)  # noqa: N815 - the page's JSON keys
    isPhone = forms.BooleanField(required=False)  # noqa: N815
    camera = forms.BooleanField(required=False)
    microphone = forms.BooleanField(required=False)
    screen = forms.BooleanField(required=False)
    # The line's rate the page computed, the data rate it came from, and the fixed cost of a
    # request it took off (see check.js: what "4 Mbps" means). None: the upload did not work.
    uploadMbps = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1_000_000,  # noqa: N815
        error_messages={"invalid": _("The upload speed must be a number.")},
    )
    uploadGoodputMbps = forms.FloatField(required=False, min_value=0, max_value=1_000_000)  # noqa: N815
    uploadLatencyMs = forms.IntegerField(required=False, min_value=0, max_value=3_600_000)  # noqa: N815
    enrolment = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def error_text(self) -> str:
        return " ".join(str(message) for messages in self.errors.values() for message in messages)
