"""The committee's forms: every POST of grading is validated here before a service is called."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from languages.names import person_name

from .models import KeyCorrection, MarkingAssignment


def people_with(*codenames: str) -> QuerySet:
    """Return the users granted any of these grading permissions, directly or through a group."""
    users = get_user_model().objects.filter(is_active=True)
    direct = Q(
        user_permissions__content_type__app_label="grading",
        user_permissions__codename__in=codenames,
    )
    grouped = Q(
        groups__permissions__content_type__app_label="grading",
        groups__permissions__codename__in=codenames,
    )
    return users.filter(pk__in=users.filter(direct | grouped).values("pk")).order_by("username")


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = person_name(obj)
        return f"{obj.get_username()} ({name})" if name != obj.get_username() else name


class MarkForm(forms.Form):
    """One mark or adjudication: the answer by its opaque token (issue 10, point 16), points, comment."""

    answer = forms.CharField(max_length=64, widget=forms.HiddenInput)
    points = forms.DecimalField(
        label=_("Points"), min_value=Decimal(0), max_digits=12, decimal_places=4
    )
    comment = forms.CharField(label=_("Comment (optional)"), max_length=1000, required=False)


class BulkAssignForm(forms.Form):
    """Markers and adjudicators for many items at once (issue 10, point 12)."""

    SPLITS = [
        (
            "balanced",
            _(
                "Balanced: two of the chosen markers per item, the work spread evenly; an adjudicator who is neither"
            ),
        ),
        ("everyone", _("Everyone chosen on every item (the first two to open an answer mark it)")),
    ]

    items = forms.MultipleChoiceField(label=_("Items"), widget=forms.CheckboxSelectMultiple)
    markers = PersonChoice(
        label=_("Markers"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    adjudicators = PersonChoice(
        label=_("Adjudicators"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    split = forms.ChoiceField(
        label=_("How to share the work"),
        choices=SPLITS,
        initial="balanced",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, items: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(str(pk), code) for pk, code in items]
        self.fields["items"].initial = [str(pk) for pk, _code in items]
        self.fields["markers"].queryset = people_with("mark_answers")
        self.fields["adjudicators"].queryset = people_with("adjudicate")

    def clean(self):
        data = super().clean()
        if (
            data.get("split") == "balanced"
            and data.get("markers") is not None
            and len(data["markers"]) < 2
        ):
            self.add_error(
                "markers", _("Choose at least two markers: every answer is marked twice.")
            )
        return data

    def item_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["items"]]


class AssignOneForm(forms.Form):
    """One person, one item, one role: the chair's adjustment of a single item."""

    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    user = forms.ModelChoiceField(
        label=_("Committee member"), queryset=get_user_model().objects.none()
    )
    role = forms.ChoiceField(label=_("Role"), choices=MarkingAssignment.Role.choices)
    action = forms.ChoiceField(choices=[("assign", _("Assign")), ("unassign", _("Take back"))])

    def __init__(self, *args, items: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(pk, code) for pk, code in items]
        self.fields["user"].queryset = people_with("mark_answers", "adjudicate")
        self.fields["user"].label_from_instance = lambda u: u.get_username()


class ClinicalForm(forms.Form):
    attempt = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    points = forms.DecimalField(
        label=_("Points"), min_value=Decimal(0), max_digits=6, decimal_places=2
    )
    max_points = forms.DecimalField(
        label=_("Of"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2
    )


class CorrectionForm(forms.Form):
    """A new key correction (a dry run first). On a refusal the page shows it again as typed."""

    item = forms.CharField(label=_("Item code"), max_length=64)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        label=_("What to do"),
        choices=KeyCorrection.Action.choices,
        widget=forms.RadioSelect,
        initial=KeyCorrection.Action.CHANGE_KEY,
    )
    keys = forms.CharField(
        label=_(
            "Accepted key(s): option ids, e.g. “B”, or “A,D” for a multiple-response key; several keys separated by “|”"
        ),
        max_length=1000,
        required=False,
    )
    reason = forms.CharField(label=_("Reason (recorded with your name)"), max_length=1000)

    def accepted_keys(self) -> list[list[str]]:
        """ "B" → [["B"]]; "A,D | B,D" → [["A","D"], ["B","D"]] (several accepted keys)."""
        text = self.cleaned_data["keys"]
        return [
            [part.strip() for part in key.split(",") if part.strip()]
            for key in text.split("|")
            if key.strip()
        ]
