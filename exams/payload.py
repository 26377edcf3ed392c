"""What a candidate's browser is sent about an attempt. Keys and guides never appear here (R-SEC-1).

Choice options are sent as texts in the candidate's order; the page answers with display
indexes, which the server maps back to option ids. Nothing in the payload says which is right.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import CAUSE_EFFECT_OPTIONS, Attempt, ItemKind
from .selectors import FormSlot


def _display_value(slot: FormSlot, value: Any) -> Any:
    if value is None:
        return None
    if slot.option_order:
        return sorted(
            slot.option_order.index(option_id)
            for option_id in value
            if option_id in slot.option_order
        )
    return value


def item_payload(attempt: Attempt, slot: FormSlot) -> dict[str, Any]:
    content = slot.content
    item: dict[str, Any] = {"pos": slot.position, "kind": content.kind, "stem": content.stem}
    if content.kind == ItemKind.CAUSE_EFFECT:
        item["reason"] = content.reason
        # The standard scale, in the reader's language.
        texts = {o["id"]: str(o["text"]) for o in CAUSE_EFFECT_OPTIONS}
    else:
        texts = content.options
    if slot.option_order:
        item["options"] = [texts[option_id] for option_id in slot.option_order]
    if content.has_image:
        item["image"] = reverse("exams:item_image", args=[attempt.pk, slot.position])
    return item


def response_payload(slot: FormSlot) -> dict[str, Any] | None:
    if slot.response is None:
        return None
    value, flagged, seq = slot.response
    return {"value": _display_value(slot, value), "flagged": flagged, "seq": seq}


def clock_payload(attempt: Attempt, now: datetime) -> dict[str, Any]:
    """Return what the page needs to show the server's clock, whatever the computer's clock says."""
    return {
        "status": attempt.status,
        "serverNow": int(now.timestamp() * 1000),
        "deadline": int(attempt.deadline.timestamp() * 1000),
        "deadlineLabel": attempt.exam.clock(attempt.deadline),
        "graceMs": int((attempt.answers_close_at() - attempt.deadline).total_seconds() * 1000),
        "lastSeq": attempt.last_seq,
        "locked": attempt.is_locked,
        "lockReason": attempt.lock_reason,
        # While paused the page shows the time left frozen at the pause (R-TAKE-7).
        "pausedAt": int(attempt.paused_at.timestamp() * 1000) if attempt.paused_at else None,
        "pauseReason": attempt.pause_reason,
        "endReason": attempt.end_reason,
    }


def ui_strings() -> dict[str, Any]:
    """Return the exam page's texts in the reader's language."""
    return {
        "itemOf": _("Item %(n)s of %(total)s"),
        "assertion": _("Assertion:"),
        "reason": _("Reason:"),
        "chooseAll": _("Choose every option that applies."),
        "clear": _("Clear my answer"),
        "yourAnswer": _("Your answer"),
        "online": _("Online"),
        "offline": _("Offline"),
        "allSaved": _("All answers saved"),
        "unsent": _("%(n)s answers waiting to be sent"),
        "offlineBanner": _(
            "You are offline. Keep working: your answers are kept on this computer and sent when the "
            "connection returns (%(n)s waiting)."
        ),
        "refused": _("Not saved (items %(items)s):"),
        "lockedTitle": _("This attempt is locked"),
        "movedTitle": _("This attempt continues on another device"),
        "moved": _("The exam staff moved this attempt to another device."),
        "submittedTitle": _("Your answers have been submitted"),
        "submitted": _("Opening your result…"),
        "timeUp": _("Time is up"),
        "pausedTitle": _("The exam is paused"),
        "paused": _(
            "Your proctor paused the exam: %(reason)s. The clock has stopped; no time is lost."
        ),
        "endedTitle": _("Your proctor ended this attempt"),
        "signedOutTitle": _("You are signed out"),
        "signedOut": _("Your session has ended. Sign in again: every answer you gave is kept."),
        "otherTabTitle": _("This exam is open in another tab"),
        "otherTab": _(
            "You opened this exam again in another tab or window of this browser. Continue there; "
            "the answers from this tab went with it."
        ),
        "loginUrl": reverse("login"),
        "signIn": _("Sign in again"),
        "seeResult": _("See your result"),
        "finishSummary": _(
            "You answered %(answered)s of %(total)s items; %(unanswered)s unanswered, %(flagged)s flagged."
        ),
        "cannotFinishOffline": _(
            "%(n)s answers are not on the server yet. Check your connection and try again; nothing is lost."
        ),
        # Shown and announced at 10 and 5 minutes left (static/exams/js/attempt.js warnOfTime).
        "timeWarnings": {
            minutes: ngettext(
                "%(n)d minute left: the exam ends at %(end)s.",
                "%(n)d minutes left: the exam ends at %(end)s.",
                minutes,
            )
            % {"n": minutes, "end": "%(end)s"}
            for minutes in (10, 5)
        },
    }


def attempt_payload(attempt: Attempt, slots: list[FormSlot], now: datetime) -> dict[str, Any]:
    return {
        "attempt": attempt.pk,
        "title": attempt.exam.title,
        "isPractice": attempt.is_practice,
        "items": [item_payload(attempt, slot) for slot in slots],
        "responses": {
            slot.position: r for slot in slots if (r := response_payload(slot)) is not None
        },
        "strings": ui_strings(),
        "urls": {
            "ws": f"/ws/attempt/{attempt.pk}/",
            "save": reverse("exams:attempt_save", args=[attempt.pk]),
            "state": reverse("exams:attempt_state", args=[attempt.pk]),
            "finish": reverse("exams:attempt_finish", args=[attempt.pk]),
            "result": reverse("exams:attempt_result", args=[attempt.pk]),
        },
        **clock_payload(attempt, now),
    }
