"""The candidate's complaint pages and the committee's list and case file.

Thin views: who may see what (404 to everyone else), one service call, a page or a redirect.
A candidate reaches only their own complaints; the committee sees a complainant's name only on a
case assigned to them (R-SEC-1: markers see anonymised answers).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from exams.audit import audit_append
from exams.errors import ExamError
from exams.forms import first_message
from exams.models import Enrolment
from languages.collation import sorted_by_name
from proctoring.models import Still
from proctoring.services import evidence_open

from . import services
from .case_file import case_file
from .forms import AssignForm, DecideForm, FilingForm
from .models import Complaint, ComplaintFile
from .selectors import committee_rows, complainant_code, filing_choices

COMMITTEE_PERMISSIONS = ("complaints.view_complaint", "complaints.decide_complaint", "complaints.assign_complaint")


def _is_committee(user) -> bool:
    return any(user.has_perm(p) for p in COMMITTEE_PERMISSIONS)


def _require_committee(request: HttpRequest) -> None:
    if not _is_committee(request.user):
        raise Http404


def _own_complaint(request: HttpRequest, reference: str) -> Complaint:
    return get_object_or_404(Complaint.objects.select_related("enrolment__sitting__exam"), reference=reference, candidate=request.user)


@login_required
@never_cache
def mine_list(request: HttpRequest) -> HttpResponse:
    complaints = Complaint.objects.filter(candidate=request.user).select_related("enrolment__sitting__exam").order_by("-filed_at")
    return render(request, "complaints/mine_list.html", {"complaints": complaints})


@login_required
@never_cache
def new(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = get_object_or_404(Enrolment.objects.select_related("sitting__exam"), pk=enrolment_id, candidate=request.user)
    attempt = services.exam_attempt(enrolment)
    form = {"kind": "", "grounds": "", "positions": ""}  # what the page shows again after a refusal
    if request.method == "POST":
        form = {key: request.POST.get(key, "")[:20_000] for key in form}
        filing = FilingForm(request.POST)
        try:
            if not filing.is_valid():
                raise services.ComplaintError(first_message(filing))
            complaint = services.complaint_file(
                enrolment_id=enrolment.pk, candidate=request.user, kind=filing.cleaned_data["kind"],
                grounds=filing.cleaned_data["grounds"], positions=filing.cleaned_data["positions"],
                uploads=request.FILES.getlist("files"))
        except ExamError as exc:
            messages.error(request, exc.message)
            if request.FILES:
                messages.info(request, _("Nothing was filed. Please attach your files again."))
        else:
            messages.success(request, _("Your complaint is filed: reference %(ref)s. We have sent you an e-mail.")
                             % {"ref": complaint.reference})
            return redirect("complaints:mine", complaint.reference)
    return render(request, "complaints/new.html", {
        "enrolment": enrolment, "exam": enrolment.sitting.exam, "attempt": attempt, "form": form,
        "choices": filing_choices(enrolment, timezone.now()),
        "earlier": Complaint.objects.filter(enrolment=enrolment, candidate=request.user).order_by("-filed_at"),
    }, status=400 if request.method == "POST" else 200)


@login_required
@never_cache
def mine(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _own_complaint(request, reference)
    return render(request, "complaints/mine.html", {"complaint": complaint, "files": complaint.files.all()})


@login_required
def attachment(request: HttpRequest, reference: str, file_id: int) -> FileResponse:
    """A supporting file, to its complainant and the committee; never shown inline (PDFs are downloads)."""
    complaint = get_object_or_404(Complaint, reference=reference)
    own = complaint.candidate_id == request.user.pk
    if not own:
        _require_committee(request)
    item = get_object_or_404(ComplaintFile, pk=file_id, complaint=complaint)
    if not own:
        # Only once the file is found and may be seen: an entry for a 404 says someone read what they did not.
        audit_append("complaint.file_opened", subject=f"complaint:{complaint.pk}", actor=request.user,
                     data={"file": item.pk, "address": request.META.get("REMOTE_ADDR", "")})
    inline = item.content_type.startswith("image/")
    response = FileResponse(item.stored.open("rb"), content_type=item.content_type, as_attachment=not inline,
                            filename=item.stored.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@login_required
@never_cache
def committee(request: HttpRequest) -> HttpResponse:
    _require_committee(request)
    show = request.GET.get("show", "open")
    return render(request, "complaints/committee.html", {
        "rows": committee_rows(request.user, timezone.now(), decided=show == "decided"), "show": show,
    })


def _case(request: HttpRequest, reference: str) -> Complaint:
    _require_committee(request)
    return get_object_or_404(Complaint.objects.select_related("enrolment__sitting__exam", "enrolment__room", "attempt", "candidate",
                                                              "assigned_to", "decided_by"), reference=reference)


@login_required
@never_cache
def case(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    deciding = complaint.assigned_to_id == request.user.pk
    # By name, in the reader's collation: the select shows names (issue 12).
    members = sorted_by_name(services.deciders()) if services.may_assign(request.user) else []
    with timezone.override(complaint.exam.time_zone):  # times in the timeline's details: the exam's clock
        case = case_file(complaint)
    return render(request, "complaints/case.html", {
        "case": case, "complaint": complaint, "deciding": deciding,
        "anonymous": complainant_code(complaint), "members": members,
        "may_decide": services.may_decide(request.user), "may_assign": services.may_assign(request.user),
        "decisions": Complaint.Decision.choices, "remedies": Complaint.Remedy.choices, "now": timezone.now(),
        "time_zone": complaint.exam.time_zone,
    })


@login_required
@require_POST
def case_assign(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_message(form))
        return redirect("complaints:case", reference)
    member = request.user
    if form.cleaned_data["member"]:
        member = get_object_or_404(get_user_model(), pk=form.cleaned_data["member"], is_active=True)
    try:
        services.complaint_assign(complaint_id=complaint.pk, member=member, by=request.user)
        messages.success(request, _("The case is assigned to %(name)s.") % {"name": member.get_username()})
    except ExamError as exc:
        messages.error(request, exc.message)
    return redirect("complaints:case", reference)


@login_required
@require_POST
def case_decide(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _case(request, reference)
    form = DecideForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ComplaintError(first_message(form))
        services.complaint_decide(complaint_id=complaint.pk, by=request.user, decision=form.cleaned_data["decision"],
                                  reasons=form.cleaned_data["reasons"], remedy=form.cleaned_data["remedy"])
        messages.success(request, _("The decision is recorded; the candidate is told by e-mail."))
    except ExamError as exc:
        messages.error(request, exc.message)
    return redirect("complaints:case", reference)


@login_required
def case_still(request: HttpRequest, reference: str, still_id: int) -> FileResponse:
    """A still of the complained-about attempt, to the committee; every opening is logged (R-PROC-6)."""
    complaint = _case(request, reference)
    still = get_object_or_404(Still, pk=still_id, enrolment_id=complaint.enrolment_id)
    path = evidence_open(user=request.user, item=still, address=request.META.get("REMOTE_ADDR"))
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
