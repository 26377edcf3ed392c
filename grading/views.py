"""The committee's pages: marking (blind), adjudication, the chair's progress, assignments and publication.

Thin views: a permission check (404 to everyone else), one service call, a page or a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from exams.audit import audit_append
from exams.errors import ExamError
from exams.models import Attempt, AttemptStatus, Item, Sitting

from . import services
from .forms import AssignOneForm, BulkAssignForm, ClinicalForm, CorrectionForm, MarkForm
from .models import ItemScore, KeyCorrection, MarkingAssignment, ResultPublication
from .registry import registry_file as registry_file_bytes
from .selectors import (
    answer_for_token,
    answers_to_adjudicate,
    answers_to_mark,
    blind_answer,
    marking_queue,
    next_in_queue,
    sitting_progress,
)
from .services.results import GradingError, sitting_open_for_writing, sitting_readiness

MARKER, ADJUDICATOR = MarkingAssignment.Role.MARKER, MarkingAssignment.Role.ADJUDICATOR


def _require(request: HttpRequest, *permissions: str) -> None:
    if not any(request.user.has_perm(f"grading.{p}") for p in permissions):
        raise Http404


@login_required
@never_cache
def committee_home(request: HttpRequest) -> HttpResponse:
    _require(
        request, "mark_answers", "adjudicate", "chair_marking", "correct_keys", "view_item_analysis"
    )
    return render(
        request,
        "grading/committee_home.html",
        {
            "to_mark": marking_queue(request.user, MARKER),
            "to_adjudicate": marking_queue(request.user, ADJUDICATOR),
            "sittings": Sitting.objects.select_related("exam").order_by("-starts_at")[:30]
            if request.user.has_perm("grading.chair_marking")
            else [],
        },
    )


def _mark_post(request: HttpRequest, sitting_id: int, item_id: int, *, purpose: str) -> None:
    """Validate a mark's form, find the answer its token names for this person, call the service."""
    form = MarkForm(request.POST)
    if not form.is_valid():
        if "answer" in form.errors:
            messages.error(request, _("No such answer."))
        for name, errors in form.errors.items():
            if name != "answer":
                messages.error(request, f"{form.fields[name].label}: {' '.join(errors)}")
        return
    answer_id = answer_for_token(
        request.user, form.cleaned_data["answer"], sitting_id, item_id, purpose=purpose
    )
    if answer_id is None:  # forged, stale, or another marker's
        messages.error(request, _("No such answer."))
        return
    submit = services.mark_submit if purpose == "mark" else services.adjudication_submit
    person = {"marker": request.user} if purpose == "mark" else {"adjudicator": request.user}
    try:
        submit(
            item_score_id=answer_id,
            points=form.cleaned_data["points"],
            comment=form.cleaned_data["comment"],
            **person,
        )
        if purpose == "mark":
            messages.success(request, _("Mark saved."))
    except ExamError as exc:
        messages.error(request, exc.message)


@login_required
@never_cache
def mark_next(request: HttpRequest, sitting_id: int, item_id: int) -> HttpResponse:
    """The blind marking screen: the next answer of an item that this marker has not marked."""
    _require(request, "mark_answers")
    if not MarkingAssignment.objects.filter(
        sitting_id=sitting_id, item_id=item_id, user=request.user, role=MARKER
    ).exists():
        raise Http404
    if request.method == "POST":
        _mark_post(request, sitting_id, item_id, purpose="mark")
        return redirect("grading:mark_next", sitting_id, item_id)
    waiting = answers_to_mark(request.user, sitting_id, item_id)
    score = next_in_queue(request.user, waiting)
    if score is None:
        messages.success(request, _("Nothing more waits for you on this item."))
        return redirect("grading:committee_home")
    return render(
        request,
        "grading/mark.html",
        {
            "blind": blind_answer(score, request.user),
            "remaining": waiting.count(),
            "item": score.attempt_item.item_version.item,
            "adjudicating": False,
        },
    )


@login_required
@never_cache
def adjudicate(request: HttpRequest, sitting_id: int, item_id: int) -> HttpResponse:
    """The adjudicator's screen: an answer whose two marks differ, with both marks and comments."""
    _require(request, "adjudicate")
    if not MarkingAssignment.objects.filter(
        sitting_id=sitting_id, item_id=item_id, user=request.user, role=ADJUDICATOR
    ).exists():
        raise Http404
    if request.method == "POST":
        _mark_post(request, sitting_id, item_id, purpose="adjudicate")
        return redirect("grading:adjudicate", sitting_id, item_id)
    score = next_in_queue(request.user, answers_to_adjudicate(request.user, sitting_id, item_id))
    if score is None:
        return redirect("grading:committee_home")
    return render(
        request,
        "grading/mark.html",
        {
            "blind": blind_answer(score, request.user, purpose="adjudicate"),
            "item": score.attempt_item.item_version.item,
            "marks": list(score.marks.all()),
            "adjudicating": True,
        },
    )


def _publication_message(publication: ResultPublication, sitting: Sitting) -> str:
    """Say in words what was published (issue 10, point 13): attempts, passes, committee answers."""
    answers = ItemScore.objects.filter(
        attempt__enrolment__sitting=sitting,
        attempt__is_practice=False,
        method=ItemScore.Method.COMMITTEE,
    )
    marked = answers.filter(marking=ItemScore.Marking.RESOLVED).count()
    return " ".join(
        [
            ngettext(
                "Results published for %(n)d attempt, every one scored: %(passed)d passed.",
                "Results published for %(n)d attempts, every one scored: %(passed)d passed.",
                publication.attempts,
            )
            % {"n": publication.attempts, "passed": publication.passed},
            ngettext(
                "%(marked)d of %(total)d committee answer marked.",
                "%(marked)d of %(total)d committee answers marked.",
                answers.count(),
            )
            % {"marked": marked, "total": answers.count()},
        ]
    )


REGISTRY_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@never_cache
def registry_file(request: HttpRequest, sitting_id: int, file_format: str) -> HttpResponse:
    """The sitting's results for the board's registry (grading.registry): the chair's, and logged."""
    _require(request, "chair_marking")
    if file_format not in REGISTRY_TYPES:
        raise Http404
    sitting = get_object_or_404(Sitting.objects.select_related("exam"), pk=sitting_id)
    if not ResultPublication.objects.filter(sitting=sitting).exists():
        # Before publication the results may still change: the registry gets only what was published.
        messages.error(request, _("The results go to the registry once they are published."))
        return redirect("grading:chair_sitting", sitting.pk)
    body = registry_file_bytes(sitting, file_format)
    audit_append(
        "results.exported",
        subject=f"sitting:{sitting.pk}",
        actor=request.user,
        data={"format": file_format, "bytes": len(body)},
    )
    response = HttpResponse(body, content_type=REGISTRY_TYPES[file_format])
    name = get_valid_filename(f"{sitting.exam.code}-{sitting.pk}-results.{file_format}")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@never_cache
def chair_sitting(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """The chair's page: progress per item and marker, assignments, and publishing the results."""
    _require(request, "chair_marking")
    sitting = get_object_or_404(Sitting.objects.select_related("exam"), pk=sitting_id)
    progress = sitting_progress(sitting)
    items = [(i["id"], i["code"]) for i in progress["items"]]
    bulk_form = BulkAssignForm(items=items)
    one_form = AssignOneForm(items=items)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                publication = services.sitting_results_publish(
                    sitting_id=sitting.pk, by=request.user
                )
                messages.success(request, _publication_message(publication, sitting))
            elif action == "clinical":
                form = ClinicalForm(request.POST)
                if not form.is_valid():
                    raise GradingError(_("Give the points as a number, and a maximum above zero."))
                attempt = get_object_or_404(
                    Attempt, pk=form.cleaned_data["attempt"], enrolment__sitting=sitting
                )
                services.clinical_score_enter(
                    attempt_id=attempt.pk,
                    by=request.user,
                    points=form.cleaned_data["points"],
                    max_points=form.cleaned_data["max_points"],
                )
            elif action == "bulk_assign":
                bulk_form = BulkAssignForm(request.POST, items=items)
                if not bulk_form.is_valid():
                    messages.error(request, _("The assignment was not made: see the form."))
                    return _chair_page(request, sitting, progress, bulk_form, one_form, status=400)
                data = bulk_form.cleaned_data
                added = services.assignments_bulk_set(
                    sitting_id=sitting.pk,
                    item_ids=bulk_form.item_ids(),
                    markers=list(data["markers"]),
                    adjudicators=list(data["adjudicators"]),
                    split=data["split"],
                    by=request.user,
                )
                messages.success(
                    request,
                    ngettext("%(n)d assignment added.", "%(n)d assignments added.", added)
                    % {"n": added},
                )
            else:
                one_form = AssignOneForm(request.POST, items=items)
                if not one_form.is_valid():
                    messages.error(request, _("Choose an item, a committee member and a role."))
                    return _chair_page(request, sitting, progress, bulk_form, one_form, status=400)
                data = one_form.cleaned_data
                services.assignment_set(
                    sitting_id=sitting.pk,
                    item_id=data["item"],
                    user=data["user"],
                    role=data["role"],
                    assigned=data["action"] == "assign",
                    by=request.user,
                )
        except ExamError as exc:
            messages.error(request, exc.message)
            if action == "bulk_assign":  # keep what the chair chose
                return _chair_page(request, sitting, progress, bulk_form, one_form, status=400)
        return redirect("grading:chair_sitting", sitting.pk)
    return _chair_page(request, sitting, progress, bulk_form, one_form)


def _chair_page(
    request: HttpRequest,
    sitting: Sitting,
    progress: dict,
    bulk_form: BulkAssignForm,
    one_form: AssignOneForm,
    status: int = 200,
) -> HttpResponse:
    clinical = (
        Attempt.objects.filter(
            enrolment__sitting=sitting, is_practice=False, status=AttemptStatus.SCORED
        )
        .select_related("enrolment", "candidate", "clinical_score")
        .order_by("enrolment__ticket_number")
        if sitting.exam.clinical_weight_percent
        else []
    )
    # Imported here: complaints builds on grading, not the other way round.
    from complaints.services import score_window

    now = timezone.now()
    readiness = sitting_readiness(sitting)
    still_open = sitting_open_for_writing(sitting, now)
    return render(
        request,
        "grading/chair_sitting.html",
        {
            "complaint_window": score_window(sitting.exam, now),
            "sitting": sitting,
            "progress": progress,
            "readiness": readiness,
            "clinical": clinical,
            "still_open": still_open,
            "ready": still_open is None and not any(readiness.values()),
            "publication": ResultPublication.objects.filter(sitting=sitting).first(),
            "bulk_form": bulk_form,
            "one_form": one_form,
        },
        status=status,
    )


@login_required
@never_cache
def corrections(request: HttpRequest) -> HttpResponse:
    """Key corrections: the list, and a new dry run (R-GRADE-4). A refusal keeps what was typed."""
    _require(request, "correct_keys")
    form = CorrectionForm()
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            item = (
                Item.objects.filter(code=data["item"].strip())
                .select_related("current_version")
                .first()
            )
            version_id = data["version"] or (item.current_version_id if item else None)
            if item is None or not version_id:
                form.add_error("item", _("No item with that code."))
            else:
                try:
                    preview = services.key_correction_preview(
                        item_version_id=version_id,
                        action=data["action"],
                        accepted_keys=form.accepted_keys(),
                        reason=data["reason"],
                        by=request.user,
                    )
                    return redirect("grading:correction", preview.correction.pk)
                except ExamError as exc:
                    form.add_error(None, exc.message)
    recent = KeyCorrection.objects.select_related("item_version__item", "created_by")[:50]
    return render(
        request,
        "grading/corrections.html",
        {"corrections": recent, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@never_cache
def correction(request: HttpRequest, correction_id: int) -> HttpResponse:
    """One correction: the dry run's findings, Apply, then the re-score's progress."""
    _require(request, "correct_keys")
    found = get_object_or_404(
        KeyCorrection.objects.select_related("item_version__item", "created_by"), pk=correction_id
    )
    if request.method == "POST":
        try:
            services.key_correction_apply(correction_id=found.pk, by=request.user)
        except ExamError as exc:
            messages.error(request, exc.message)
        return redirect("grading:correction", found.pk)
    return render(
        request,
        "grading/correction.html",
        {"correction": found, "progress": services.correction_progress(found)},
    )


@login_required
@never_cache
def correction_progress(request: HttpRequest, correction_id: int) -> JsonResponse:
    _require(request, "correct_keys")
    return JsonResponse(
        services.correction_progress(get_object_or_404(KeyCorrection, pk=correction_id))
    )
