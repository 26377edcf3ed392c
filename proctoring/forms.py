"""Forms for the live room's POSTs: the views get clean values or a clear error, never a 500."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IncidentKind, RoomSession
from .services.messages import MAX_MESSAGE_LENGTH


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


class RoomAdvanceForm(forms.Form):
    """The room's next step; `force` collects while candidates still have time (asked twice on the page)."""

    to = forms.ChoiceField(
        choices=RoomSession.Stage.choices, error_messages={"invalid_choice": _("No such step.")}
    )
    force = forms.BooleanField(required=False)


class ReasonForm(forms.Form):
    """An action that needs only a reason: refuse at check-in, pause, disqualify; the services say when it is required."""

    reason = forms.CharField(max_length=500, required=False)


class MessageForm(forms.Form):
    text = forms.CharField(max_length=MAX_MESSAGE_LENGTH, required=False)


# An incident shows the stills of its moment: a handful, never more than this.
MAX_STILLS = 50


class StillIdsField(forms.Field):
    """The ids of the stills of the moment an incident shows.

    The page sends ids it was given; anything else in the list (a forged or stale entry) is dropped
    rather than refusing the incident, which the proctor needs recorded now.
    """

    def to_python(self, value) -> list[int]:
        if not isinstance(value, list):
            return []
        ids = [
            int(item)
            for item in value[:MAX_STILLS]
            if isinstance(item, int | str) and str(item).isdigit()
        ]
        return [still_id for still_id in ids if 0 < still_id < 2**63]  # ids are bigints


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind, kind) for kind in IncidentKind.proctor_kinds()],
        error_messages={
            "required": _("Choose the kind of incident."),
            "invalid_choice": _("Choose the kind of incident."),
        },
    )
    note = forms.CharField(max_length=1000, required=False)
    stills = StillIdsField(required=False)


class ExtendForm(ReasonForm):
    # A whole number; the service holds the range (1 to MAX_EXTENSION_MINUTES) and says it.
    minutes = forms.IntegerField(
        error_messages={
            "required": _("Give the minutes as a whole number."),
            "invalid": _("Give the minutes as a whole number."),
        },
    )


class HandOverForm(ReasonForm):
    to = forms.ChoiceField(
        choices=[("new", "new"), ("first", "first")],
        error_messages={
            "required": _("Say which device the attempt goes to: the new one or the first."),
            "invalid_choice": _("Say which device the attempt goes to: the new one or the first."),
        },
    )
