"""The committee's pages: marking (blind), adjudication, the chair's progress, assignments and publication.

Thin views: a permission check (404 to everyone else), one service call, a page or a redirect.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from exams.errors import ExamError
from exams.models import Attempt, AttemptStatus, Item, Sitting

from . import services
from .models import ItemScore, KeyCorrection, MarkingAssignment, ResultPublication
from .selectors import answers_to_mark, blind_answer, marking_queue, sitting_progress
from .services.results import GradingError, sitting_readiness

MARKER, ADJUDICATOR = MarkingAssignment.Role.MARKER, MarkingAssignment.Role.ADJUDICATOR


def _require(request: HttpRequest, *permissions: str) -> None:
    if not any(request.user.has_perm(f"grading.{p}") for p in permissions):
        raise Http404


@login_required
@never_cache
def committee_home(request: HttpRequest) -> HttpResponse:
    _require(request, "mark_answers", "adjudicate", "chair_marking", "correct_keys", "view_item_analysis")
    return render(request, "grading/committee_home.html", {
        "to_mark": marking_queue(request.user, MARKER), "to_adjudicate": marking_queue(request.user, ADJUDICATOR),
        "sittings": Sitting.objects.select_related("exam").order_by("-starts_at")[:30]
        if request.user.has_perm("grading.chair_marking") else [],
    })


@login_required
@never_cache
def mark_next(request: HttpRequest, sitting_id: int, item_id: int) -> HttpResponse:
    """The blind marking screen: the next answer of an item that this marker has not marked."""
    _require(request, "mark_answers")
    if not MarkingAssignment.objects.filter(sitting_id=sitting_id, item_id=item_id, user=request.user, role=MARKER).exists():
        raise Http404
    if request.method == "POST":
        try:
            services.mark_submit(item_score_id=int(request.POST.get("answer", 0)), marker=request.user,
                                 points=request.POST.get("points", ""), comment=request.POST.get("comment", ""))
            messages.success(request, "✓")
        except ExamError as exc:
            messages.error(request, exc.message)
        return redirect("grading:mark_next", sitting_id, item_id)
    score = answers_to_mark(request.user, sitting_id, item_id).select_related("attempt_item__item_version__item").first()
    if score is None:
        messages.success(request, "✓")
        return redirect("grading:committee_home")
    remaining = answers_to_mark(request.user, sitting_id, item_id).count()
    return render(request, "grading/mark.html", {"blind": blind_answer(score), "remaining": remaining,
                                                 "item": score.attempt_item.item_version.item, "adjudicating": False})


@login_required
@never_cache
def adjudicate(request: HttpRequest, sitting_id: int, item_id: int) -> HttpResponse:
    """The adjudicator's screen: an answer whose two marks differ, with both marks and comments."""
    _require(request, "adjudicate")
    if not MarkingAssignment.objects.filter(sitting_id=sitting_id, item_id=item_id, user=request.user, role=ADJUDICATOR).exists():
        raise Http404
    if request.method == "POST":
        try:
            services.adjudication_submit(item_score_id=int(request.POST.get("answer", 0)), adjudicator=request.user,
                                         points=request.POST.get("points", ""), comment=request.POST.get("comment", ""))
        except ExamError as exc:
            messages.error(request, exc.message)
        return redirect("grading:adjudicate", sitting_id, item_id)
    score = (
        ItemScore.objects.filter(attempt__enrolment__sitting_id=sitting_id, attempt_item__item_version__item_id=item_id,
                                 marking=ItemScore.Marking.ADJUDICATION)
        .exclude(marks__marker=request.user).select_related("attempt_item__item_version__item").order_by("attempt_id").first()
    )
    if score is None:
        return redirect("grading:committee_home")
    return render(request, "grading/mark.html", {"blind": blind_answer(score), "item": score.attempt_item.item_version.item,
                                                 "marks": list(score.marks.all()), "adjudicating": True})


@login_required
@never_cache
def chair_sitting(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """The chair's page: progress per item and marker, assignments, and publishing the results."""
    _require(request, "chair_marking")
    sitting = get_object_or_404(Sitting.objects.select_related("exam"), pk=sitting_id)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "publish":
                publication = services.sitting_results_publish(sitting_id=sitting.pk, by=request.user)
                messages.success(request, f"{publication.attempts} / {publication.passed}")
            elif request.POST.get("action") == "clinical":
                attempt = get_object_or_404(Attempt, pk=request.POST.get("attempt"), enrolment__sitting=sitting)
                services.clinical_score_enter(attempt_id=attempt.pk, by=request.user, points=_decimal(request.POST.get("points")),
                                              max_points=_decimal(request.POST.get("max_points")))
            else:
                services.assignment_set(
                    sitting_id=sitting.pk, item_id=get_object_or_404(Item, pk=request.POST.get("item")).pk,
                    user=get_object_or_404(get_user_model(), pk=request.POST.get("user")), role=request.POST.get("role", ""),
                    assigned=request.POST.get("action") == "assign", by=request.user,
                )
        except ExamError as exc:
            messages.error(request, exc.message)
        return redirect("grading:chair_sitting", sitting.pk)
    committee = get_user_model().objects.filter(
        user_permissions__content_type__app_label="grading", user_permissions__codename__in=["mark_answers", "adjudicate"]
    ).distinct() | get_user_model().objects.filter(
        groups__permissions__content_type__app_label="grading", groups__permissions__codename__in=["mark_answers", "adjudicate"]
    ).distinct()
    clinical = (
        Attempt.objects.filter(enrolment__sitting=sitting, is_practice=False, status=AttemptStatus.SCORED)
        .select_related("enrolment", "candidate", "clinical_score").order_by("enrolment__ticket_number")
        if sitting.exam.clinical_weight_percent else []
    )
    # Imported here: complaints builds on grading, not the other way round.
    from complaints.services import score_window

    return render(request, "grading/chair_sitting.html", {
        "complaint_window": score_window(sitting.exam, timezone.now()),
        "sitting": sitting, "progress": sitting_progress(sitting), "readiness": sitting_readiness(sitting), "clinical": clinical,
        "publication": ResultPublication.objects.filter(sitting=sitting).first(), "committee": committee.distinct().order_by("username"),
    })


def _decimal(raw) -> Decimal:
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise GradingError(_("Give the points as a number.")) from exc


def _parse_keys(text: str) -> list[list[str]]:
    """"B" → [["B"]]; "A,D | B,D" → [["A","D"], ["B","D"]] (several accepted keys)."""
    return [[part.strip() for part in key.split(",") if part.strip()] for key in text.split("|") if key.strip()]


@login_required
@never_cache
def corrections(request: HttpRequest) -> HttpResponse:
    """Key corrections: the list, and a new dry run (R-GRADE-4)."""
    _require(request, "correct_keys")
    if request.method == "POST":
        item = Item.objects.filter(code=request.POST.get("item", "").strip()).select_related("current_version").first()
        version_id = request.POST.get("version") or (item.current_version_id if item else None)
        if item is None or not version_id:
            messages.error(request, _("No item with that code."))
            return redirect("grading:corrections")
        try:
            preview = services.key_correction_preview(
                item_version_id=int(version_id), action=request.POST.get("action", ""),
                accepted_keys=_parse_keys(request.POST.get("keys", "")), reason=request.POST.get("reason", ""), by=request.user,
            )
        except ExamError as exc:
            messages.error(request, exc.message)
            return redirect("grading:corrections")
        return redirect("grading:correction", preview.correction.pk)
    recent = KeyCorrection.objects.select_related("item_version__item", "created_by")[:50]
    return render(request, "grading/corrections.html", {"corrections": recent, "actions": KeyCorrection.Action.choices})


@login_required
@never_cache
def correction(request: HttpRequest, correction_id: int) -> HttpResponse:
    """One correction: the dry run's findings, Apply, then the re-score's progress."""
    _require(request, "correct_keys")
    found = get_object_or_404(KeyCorrection.objects.select_related("item_version__item", "created_by"), pk=correction_id)
    if request.method == "POST":
        try:
            services.key_correction_apply(correction_id=found.pk, by=request.user)
        except ExamError as exc:
            messages.error(request, exc.message)
        return redirect("grading:correction", found.pk)
    return render(request, "grading/correction.html", {"correction": found, "progress": services.correction_progress(found)})


@login_required
@never_cache
def correction_progress(request: HttpRequest, correction_id: int) -> JsonResponse:
    _require(request, "correct_keys")
    return JsonResponse(services.correction_progress(get_object_or_404(KeyCorrection, pk=correction_id)))
