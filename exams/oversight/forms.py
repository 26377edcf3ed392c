"""The forms behind the oversight pages' POSTs."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from exams.models import Council

# A report is a few pages; far past that is a paste gone wrong, not a report.
REPORT_TEXT_LIMIT = 100_000


class ReportActionForm(forms.Form):
    """Edit, sign or file a council's report."""

    action = forms.ChoiceField(
        choices=[("edit", _("Save")), ("sign", _("Sign")), ("file", _("File"))]
    )
    text = forms.CharField(max_length=REPORT_TEXT_LIMIT, required=False, strip=False)
    # The revision the editor started from; anything but a number counts as stale (revision 0).
    revision = forms.CharField(max_length=20, required=False)
    sha256 = forms.CharField(
        max_length=64,
        required=False,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", _("This is not the hash of a text."))],
    )

    def clean_revision(self) -> int:
        revision = self.cleaned_data["revision"]
        return int(revision) if revision.isdigit() else 0


class CouncilMemberForm(forms.Form):
    """Appoint someone to a council, or take them off it."""

    username = forms.CharField(max_length=150, label=_("Username"))
    council = forms.ChoiceField(choices=Council.choices, label=_("Council"))
    action = forms.ChoiceField(
        choices=[("add", _("Appoint")), ("remove", _("Remove"))], required=False
    )
