"""The candidate's pages. Thin: access check, one service call, render or redirect."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import services
from .batching import acks, batcher
from .errors import ExamError
from .failures import unavailable
from .fallback import Refusal, json_endpoint, save_body
from .forms import IdentityAnswerForm, StartForm, first_error
from .models import Attempt, AttemptItem, AttemptStatus, Enrolment, Sitting, SubmittedBy
from .payload import attempt_payload, clock_payload
from .selectors import attempt_form


def _get_attempt_for_candidate(request: HttpRequest, attempt_id: int) -> Attempt:
    """Return the attempt if it is the requesting candidate's; anyone else gets 404."""
    return get_object_or_404(Attempt.objects.select_related("exam", "enrolment__sitting"), pk=attempt_id, candidate=request.user)


def _get_enrolment_for_candidate(request: HttpRequest, enrolment_id: int) -> Enrolment:
    return get_object_or_404(
        Enrolment.objects.select_related("sitting__exam", "room"), pk=enrolment_id, candidate=request.user
    )


def _submit_if_overdue(attempt: Attempt) -> Attempt:
    if attempt.is_overdue(timezone.now()):
        return services.attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CLOCK)
    return attempt


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    enrolments = list(
        request.user.enrolments.select_related("sitting__exam", "sitting__practice_exam", "room", "checkin").order_by("sitting__starts_at")
    )
    attempts = {a.enrolment_id: a for a in Attempt.objects.filter(candidate=request.user, is_practice=False).select_related("score")}
    practice_attempts = list(
        Attempt.objects.filter(candidate=request.user, is_practice=True).select_related("exam", "score")[:10]
    )
    rows = [{"enrolment": e, "attempt": attempts.get(e.pk), "practice_open": bool(e.sitting.practice_exam and now < e.sitting.starts_at),
             "can_start": e.sitting.can_start(now), "entry_open": e.sitting.is_entry_open(now),
             "missed": now > e.sitting.entry_closes_at and e.pk not in attempts,
             "absent": getattr(getattr(e, "checkin", None), "status", "") == "absent"} for e in enrolments]
    from proctoring.access import rooms_in_order

    watched_rooms = rooms_in_order(request.user, now)[:20]
    return render(request, "exams/home.html", {"rows": rows, "practice_attempts": practice_attempts, "now": now,
                                               "watched_rooms": watched_rooms,
                                               "has_complaints": request.user.complaints.exists(),
                                               "oversight": _may_see_oversight(request.user, watched_rooms)})


def _may_see_oversight(user, watched_rooms) -> bool:
    """Council members, proctors and the staff who keep absentee lists get a link to the oversight pages."""
    return bool(watched_rooms) or user.has_perm("exams.view_absentees") or user.has_perm("exams.manage_oversight") \
        or Sitting.objects.filter(council_members__user=user).exists()


@login_required
def confirm_identity(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _get_enrolment_for_candidate(request, enrolment_id)
    if request.method == "POST":
        form = IdentityAnswerForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Answer with one of the two buttons."))
            return redirect("exams:confirm_identity", enrolment.pk)
        if form.cleaned_data["answer"] == "not_me":
            logout(request)
            messages.error(request, _("You were signed out. If the name or grade shown was wrong, contact the exam board before the exam."))
            return redirect("login")
        services.enrolment_confirm_identity(enrolment_id=enrolment.pk, candidate=request.user)
        messages.success(request, _("Thank you, your identity is confirmed."))
        return redirect("exams:home")
    return render(request, "exams/confirm_identity.html", {"enrolment": enrolment})


@login_required
@require_POST
def attempt_start(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = _get_enrolment_for_candidate(request, enrolment_id)
    form = StartForm(request.POST)
    try:
        if not form.is_valid():
            raise ExamError(first_error(form))
        attempt = services.attempt_start(candidate=request.user, enrolment_id=enrolment.pk, device_id=request.device_id,
                                         start_code=form.cleaned_data["start_code"])
    except ExamError as exc:
        messages.error(request, exc.message)
        if enrolment.sitting.proctored and enrolment.sitting.is_entry_open(timezone.now()):
            return redirect("proctoring:waiting_room", enrolment.pk)
        return redirect("exams:home")
    return redirect("exams:attempt", attempt.pk)


@login_required
@require_POST
def practice_start(request: HttpRequest, exam_id: int) -> HttpResponse:
    try:
        attempt = services.practice_attempt_start(candidate=request.user, exam_id=exam_id, device_id=request.device_id)
    except ExamError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("exams:home")
    return redirect("exams:attempt", attempt.pk)


@login_required
@never_cache
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _submit_if_overdue(_get_attempt_for_candidate(request, attempt_id))
    if not attempt.is_in_progress:
        return redirect("exams:attempt_result", attempt.pk)
    attempt = services.attempt_open_on_device(attempt_id=attempt.pk, device_id=request.device_id)
    payload = attempt_payload(attempt, attempt_form(attempt), timezone.now())
    payload["thisDevice"] = attempt.device_id == request.device_id
    proctoring = _proctoring_payload(attempt)
    if proctoring is not None:
        proctoring["thisDevice"] = payload["thisDevice"]
    return render(request, "exams/attempt.html", {"attempt": attempt, "payload": payload, "proctoring": proctoring})


def _proctoring_payload(attempt: Attempt) -> dict | None:
    """What the exam page's proctoring panel needs, for an attempt in a proctored sitting."""
    if attempt.enrolment_id is None or not attempt.enrolment.sitting.proctored:
        return None
    from proctoring.strings import candidate_strings

    return {"enrolment": attempt.enrolment_id, "ws": f"/ws/proctoring/candidate/{attempt.enrolment_id}/",
            "strings": candidate_strings()}


# The HTTP fallback answers JSON whatever happens (exams.fallback has the contract).
@json_endpoint(methods=("POST",))
async def attempt_save(request: HttpRequest, user: AbstractBaseUser, attempt_id: int) -> JsonResponse:
    """The page's fallback when its WebSocket cannot connect: the same rules and the same group
    commit as the socket (exams.batching), so a server's pages falling back to HTTP at once are
    written in a few transactions, not one each (issue 11, point 1)."""
    raw_changes = save_body(request)
    received_at = timezone.now()
    if not await database_sync_to_async(_owns_attempt)(user, attempt_id):
        raise Http404
    try:
        changes = services.changes_from_message(raw_changes, attempt_id=attempt_id, candidate_id=user.pk,
                                                device_id=request.device_id, received_at=received_at)
    except services.MalformedSave as refusal:
        raise Refusal(413 if refusal.code == "too_many" else 400, refusal.reason, refusal.code) from None
    outcomes = await batcher().save(changes)
    if changes and all(isinstance(outcome, BaseException) for outcome in outcomes):
        # Nothing stored (the database down, the pool exhausted): the page waits Retry-After before
        # its next save instead of sending it again at once, as it would after error acks.
        return unavailable()
    return JsonResponse({"results": acks(changes, outcomes)})


def _owns_attempt(user: AbstractBaseUser, attempt_id: int) -> bool:
    return Attempt.objects.filter(pk=attempt_id, candidate=user).exists()


@json_endpoint(methods=("GET",))
async def attempt_state(request: HttpRequest, user: AbstractBaseUser, attempt_id: int) -> JsonResponse:
    return JsonResponse(await database_sync_to_async(_attempt_state)(user, attempt_id, request.device_id))


def _attempt_state(user: AbstractBaseUser, attempt_id: int, device_id: str) -> dict:
    attempt = _submit_if_overdue(get_object_or_404(Attempt.objects.select_related("exam"), pk=attempt_id, candidate=user))
    return {**clock_payload(attempt, timezone.now()), "thisDevice": attempt.device_id == device_id}


@login_required
@require_POST
def attempt_finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _get_attempt_for_candidate(request, attempt_id)
    if attempt.device_id != request.device_id:
        messages.error(request, _("This attempt is open on another device."))
        return redirect("exams:home")
    try:
        services.attempt_submit(attempt_id=attempt.pk, by=SubmittedBy.CANDIDATE, actor=request.user)
    except ExamError as exc:
        messages.error(request, exc.message)
        return redirect("exams:attempt", attempt.pk)
    return redirect("exams:attempt_result", attempt.pk)


def _result_context(attempt: Attempt) -> dict:
    from grading.selectors import published_result

    score = getattr(attempt, "score", None) if attempt.status == AttemptStatus.SCORED else None
    published = published_result(attempt) if score is not None and attempt.enrolment_id else None
    return {"attempt": attempt, "score": score, "published": published}


@login_required
@never_cache
def attempt_result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _submit_if_overdue(_get_attempt_for_candidate(request, attempt_id))
    if attempt.is_in_progress:
        return redirect("exams:attempt", attempt.pk)
    return render(request, "exams/result.html", _result_context(attempt))


@login_required
@never_cache
def attempt_result_part(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The score box alone: the result page polls it until the scoring task has run."""
    attempt = _get_attempt_for_candidate(request, attempt_id)
    return render(request, "exams/_score.html", _result_context(attempt))


@login_required
def item_image(request: HttpRequest, attempt_id: int, position: int) -> FileResponse:
    """An item's picture, only to the candidate whose form holds the item."""
    attempt = _get_attempt_for_candidate(request, attempt_id)
    slot = get_object_or_404(AttemptItem.objects.select_related("item_version"), attempt=attempt, position=position)
    if not slot.item_version.image:
        raise Http404
    response = FileResponse(slot.item_version.image.open("rb"))
    response["Cache-Control"] = "private, max-age=86400"
    return response
