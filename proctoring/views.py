"""The live room over HTTP: the proctor's room page and actions, the candidate's waiting room and system check.

Thin views: an access helper (404 to outsiders), one service call, JSON or a page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from exams.errors import ExamError
from exams.forms import first_message
from exams.models import Attempt, Enrolment

from . import services
from .access import can_act, can_watch, enrolment_for_proctor, room_for_watcher, rooms_in_order
from .errors import ProctoringError
from .forms import (
    ExtendForm,
    HandOverForm,
    IncidentForm,
    MessageForm,
    ReasonForm,
    RoomAdvanceForm,
    SystemCheckForm,
)
from .models import CheckIn, IncidentKind, Recording, Still
from .selectors import candidate_tile, room_session_payload
from .strings import candidate_strings, proctor_strings

MAX_UPLOAD_PROBE_BYTES = 8 * 1024 * 1024


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise ProctoringError(_("Malformed request.")) from exc
        if not isinstance(data, dict):
            raise ProctoringError(_("Malformed request."))
        return {key: value for key, value in data.items() if value is not None}
    return request.POST.dict()


def _clean(form_class: type[forms.Form], body: dict[str, Any]) -> dict[str, Any]:
    """Return the form's clean values, or refuse with its first error (a 400 with the reason).

    The errors of these forms are whole sentences ("Choose the kind of incident."), shown beside the
    control that sent them, so they go without the field's name.
    """
    form = form_class(body)
    if not form.is_valid():
        raise ProctoringError(first_message(form), code="invalid")
    return form.cleaned_data


def json_action(view: Callable[..., dict[str, Any]]) -> Callable[..., JsonResponse]:
    """A POST that answers JSON: the view's dict, or {"error": ...} with 400 when a rule refuses."""

    @wraps(view)
    @login_required
    @require_POST
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        try:
            return JsonResponse({"ok": True, **view(request, _body(request), *args, **kwargs)})
        except ExamError as exc:  # ProctoringError, and the exam rules it relies on (a hand-over)
            if exc.code == "not_found":
                raise Http404 from exc
            return JsonResponse({"ok": False, "error": exc.message, "code": exc.code}, status=400)

    return wrapper


# --- the proctor --------------------------------------------------------------------------------
@login_required
@never_cache
def rooms(request: HttpRequest) -> HttpResponse:
    return render(request, "proctoring/rooms.html", {"rooms": rooms_in_order(request.user, timezone.now())})


@login_required
@never_cache
def room_page(request: HttpRequest, room_id: int) -> HttpResponse:
    room = room_for_watcher(request.user, room_id)
    payload = {
        "room": room.pk, "ws": f"/ws/proctoring/room/{room.pk}/",
        "incidentKinds": [{"id": k, "label": str(IncidentKind(k).label)} for k in IncidentKind.proctor_kinds()],
        "startCodeRequired": room.sitting.start_code_required,
        "urls": {
            "advance": reverse("proctoring:room_advance", args=[room.pk]),
            "candidate": reverse("proctoring:candidate_evidence", args=[0]).replace("/0/", "/{id}/"),
            "action": "/proctoring/candidates/{id}/{action}/",
            "attemptAction": "/proctoring/attempts/{id}/{action}/",
            "still": reverse("proctoring:still", args=[0]).replace("/0/", "/{id}/"),
        },
        "strings": proctor_strings(),
    }
    return render(request, "proctoring/room.html", {"room": room, "payload": payload})


@json_action
def room_advance(request: HttpRequest, body: dict, room_id: int) -> dict:
    room = room_for_watcher(request.user, room_id)
    if not can_act(request.user, room.pk):
        raise Http404  # an observer watches; only the room's proctors take its steps
    step = _clean(RoomAdvanceForm, body)
    session = services.room_advance(room_id=room.pk, by=request.user, to=step["to"], force=step["force"])
    return {"session": room_session_payload(session)}


@json_action
def admit(request: HttpRequest, body: dict, enrolment_id: int) -> dict:
    enrolment = enrolment_for_proctor(request.user, enrolment_id)
    services.checkin_admit(enrolment_id=enrolment.pk, by=request.user)
    return {"tile": candidate_tile(enrolment.pk)}


@json_action
def refuse(request: HttpRequest, body: dict, enrolment_id: int) -> dict:
    enrolment = enrolment_for_proctor(request.user, enrolment_id)
    services.checkin_refuse(enrolment_id=enrolment.pk, by=request.user, reason=_clean(ReasonForm, body)["reason"])
    return {"tile": candidate_tile(enrolment.pk)}


@json_action
def message(request: HttpRequest, body: dict, enrolment_id: int) -> dict:
    enrolment = enrolment_for_proctor(request.user, enrolment_id)
    services.message_send(enrolment_id=enrolment.pk, author=request.user, text=_clean(MessageForm, body)["text"])
    return {}


@json_action
def read(request: HttpRequest, body: dict, enrolment_id: int) -> dict:
    enrolment = enrolment_for_proctor(request.user, enrolment_id)
    services.messages_mark_read(enrolment_id=enrolment.pk, by_proctor=True)
    return {}


@json_action
def incident(request: HttpRequest, body: dict, enrolment_id: int) -> dict:
    enrolment = enrolment_for_proctor(request.user, enrolment_id)
    data = _clean(IncidentForm, body)
    recorded = services.incident_record(enrolment_id=enrolment.pk, by=request.user, kind=data["kind"],
                                        note=data["note"], still_ids=data["stills"])
    return {"incident": recorded.pk}


def _attempt_for_proctor(request: HttpRequest, attempt_id: int) -> Attempt:
    return get_object_or_404(Attempt, pk=attempt_id, is_practice=False, enrolment__room__proctors=request.user)


@json_action
def attempt_action(request: HttpRequest, body: dict, attempt_id: int, action: str) -> dict:
    attempt = _attempt_for_proctor(request, attempt_id)
    if action == "pause":
        services.attempt_pause(attempt_id=attempt.pk, by=request.user, reason=_clean(ReasonForm, body)["reason"])
    elif action == "resume":
        services.attempt_resume(attempt_id=attempt.pk, by=request.user)
    elif action == "extend":
        data = _clean(ExtendForm, body)
        services.attempt_extend(attempt_id=attempt.pk, by=request.user, minutes=data["minutes"], reason=data["reason"])
    elif action == "disqualify":
        services.attempt_disqualify(attempt_id=attempt.pk, by=request.user, reason=_clean(ReasonForm, body)["reason"])
    elif action == "hand-over":
        data = _clean(HandOverForm, body)
        services.attempt_hand_over_by_proctor(attempt_id=attempt.pk, by=request.user, to_new_device=data["to"] == "new",
                                              reason=data["reason"])
    else:
        raise Http404
    return {"tile": candidate_tile(attempt.enrolment_id)}


@login_required
@never_cache
def candidate_evidence(request: HttpRequest, enrolment_id: int) -> JsonResponse:
    """The candidate's check-in stills and newest evidence, for the proctor's focus view."""
    enrolment = get_object_or_404(Enrolment, pk=enrolment_id)
    if not can_watch(request.user, enrolment.room_id):
        raise Http404
    stills = Still.objects.filter(enrolment=enrolment).exclude(purpose=Still.Purpose.PERIODIC)[:30]
    recordings = Recording.objects.filter(enrolment=enrolment)[:50]
    return JsonResponse({
        "stills": [
            {"id": s.pk, "track": s.track, "purpose": s.purpose, "label": str(s.get_purpose_display()),
             "at": timezone.localtime(s.taken_at).strftime("%H:%M:%S"), "url": reverse("proctoring:still", args=[s.pk])}
            for s in stills
        ],
        "recordings": [
            {"id": r.pk, "track": r.track, "at": timezone.localtime(r.started_at).strftime("%H:%M:%S"),
             "url": reverse("proctoring:recording", args=[r.pk])}
            for r in recordings
        ],
    })


def _may_open_evidence(user, item: Still | Recording) -> bool:
    # The room's proctors and observers, and whoever the board gave the right (committee, admins).
    permission = "proctoring.view_still" if isinstance(item, Still) else "proctoring.view_recording"
    return can_watch(user, item.enrolment.room_id) or user.has_perm(permission)


def _serve_evidence(request: HttpRequest, item: Still | Recording, content_type: str) -> FileResponse:
    if not _may_open_evidence(request.user, item):
        raise Http404
    path = services.evidence_open(user=request.user, item=item, address=request.META.get("REMOTE_ADDR"))
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def still(request: HttpRequest, still_id: int) -> FileResponse:
    item = get_object_or_404(Still.objects.select_related("enrolment"), pk=still_id)
    return _serve_evidence(request, item, "image/jpeg")


@login_required
def recording(request: HttpRequest, recording_id: int) -> FileResponse:
    item = get_object_or_404(Recording.objects.select_related("enrolment"), pk=recording_id)
    return _serve_evidence(request, item, "video/webm" if item.path.endswith(".webm") else "application/octet-stream")


# --- the candidate ----------------------------------------------------------------------------
@login_required
@never_cache
def system_check(request: HttpRequest) -> HttpResponse:
    enrolment_id = request.GET.get("enrolment")
    payload = {"enrolment": int(enrolment_id) if enrolment_id and enrolment_id.isdigit() else None,
               "urls": {"result": reverse("proctoring:system_check_result"), "upload": reverse("proctoring:upload_probe")},
               "passingUploadMbps": services.PASSING_UPLOAD_MBPS, "strings": candidate_strings()}
    return render(request, "proctoring/system_check.html", {"payload": payload})


@json_action
def system_check_result(request: HttpRequest, body: dict) -> dict:
    data = _clean(SystemCheckForm, body)
    check = services.system_check_record(
        candidate=request.user, enrolment_id=data["enrolment"], user_agent=request.META.get("HTTP_USER_AGENT", ""),
        is_chrome=data["isChrome"], is_phone=data["isPhone"], camera=data["camera"], microphone=data["microphone"],
        screen=data["screen"], upload_mbps=data["uploadMbps"], upload_goodput_mbps=data["uploadGoodputMbps"],
        upload_latency_ms=data["uploadLatencyMs"],
    )
    return {"passed": check.passed, "problems": check.problems, "uploadMbps": check.upload_mbps}


@login_required
@require_POST
def upload_probe(request: HttpRequest) -> JsonResponse:
    """Receive and drop a blob, so the page can time its upload against this server (R-TAKE-1)."""
    began, received = time.perf_counter(), 0
    while chunk := request.read(64 * 1024):
        received += len(chunk)
        if received > MAX_UPLOAD_PROBE_BYTES:
            return JsonResponse({"error": _("Too large.")}, status=413)
    return JsonResponse({"received": received, "serverSeconds": time.perf_counter() - began})


@login_required
@never_cache
def waiting_room(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = get_object_or_404(Enrolment.objects.select_related("sitting__exam", "room"), pk=enrolment_id, candidate=request.user)
    attempt = Attempt.objects.filter(enrolment=enrolment, is_practice=False).first()
    if attempt is not None:
        return redirect("exams:attempt", attempt.pk)
    if enrolment.identity_confirmed_at is None:
        return redirect("exams:confirm_identity", enrolment.pk)
    try:
        checkin = services.checkin_arrive(enrolment_id=enrolment.pk, candidate=request.user)
    except ProctoringError as exc:
        from django.contrib import messages

        messages.error(request, exc.message)
        return redirect("exams:home")
    payload = {
        "enrolment": enrolment.pk, "ws": f"/ws/proctoring/candidate/{enrolment.pk}/",
        "checkin": checkin.status, "reason": checkin.reason,
        "room": services.room_session_for(enrolment.room_id).stage,
        "startCodeRequired": enrolment.sitting.start_code_required,
        "urls": {"start": reverse("exams:attempt_start", args=[enrolment.pk]),
                 "result": reverse("proctoring:system_check_result"), "upload": reverse("proctoring:upload_probe")},
        "passingUploadMbps": services.PASSING_UPLOAD_MBPS, "strings": candidate_strings(),
    }
    return render(request, "proctoring/waiting_room.html", {"enrolment": enrolment, "payload": payload,
                                                            "absent": checkin.status == CheckIn.Status.ABSENT})
