"""The forms of an upload: the file with what it needs, and the keeper's decision."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ..importing.format import IMPORT_SUFFIXES, unknown_suffix
from ..models import Sitting, Topic

# What the enrolment reads (by content): a CSV, Excel's "Unicode text" (.txt) or a workbook.
ENROLMENT_SUFFIXES = (".csv", ".txt", ".xlsx")


def _checked_size(file) -> None:
    limit = int(getattr(settings, "ITEM_IMPORT_MAX_BYTES", 20_000_000))
    if file.size > limit:
        raise forms.ValidationError(
            _("The file is larger than %(max)s; split it into several files.")
            % {"max": f"{limit / 1_000_000:.1f} MB"}
        )


class ItemUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Item file"),
        help_text=_(
            "The bank's own .json, .csv or .xlsx; Moodle XML (.xml); a QTI item (.xml) or "
            "content package (.zip); GIFT (.gift, .txt)."
        ),
    )
    topic = forms.ModelChoiceField(
        label=_("Topic for items that name none"),
        queryset=Topic.objects.order_by("code"),
        required=False,
        help_text=_("A QTI item or a GIFT file without categories names no topic."),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        wrong = unknown_suffix(Path(file.name), IMPORT_SUFFIXES)
        if wrong:
            raise forms.ValidationError(wrong)
        _checked_size(file)
        return file


class EnrolmentUploadForm(forms.Form):
    sitting = forms.ModelChoiceField(
        label=_("Sitting"),
        queryset=Sitting.objects.select_related("exam").order_by("-starts_at"),
    )
    file = forms.FileField(
        label=_("Enrolment file"),
        help_text=_("A CSV file, Excel's Unicode text (.txt) or an Excel workbook (.xlsx)."),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if Path(file.name).suffix.lower() not in ENROLMENT_SUFFIXES:
            raise forms.ValidationError(
                _("%(name)s is not a .csv, .txt or .xlsx file.") % {"name": Path(file.name).name}
            )
        _checked_size(file)
        return file


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("all", _("Import the whole file")),
            ("passed", _("Import only the items that passed")),
            ("cancel", _("Import nothing")),
        ]
    )
