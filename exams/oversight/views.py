"""The oversight pages: a sitting's councils, live rooms and reports; the absentee lists and downloads.

Thin views: an access helper (404 to outsiders, exams.oversight.access), one service call, a
redirect or a page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from exams.forms import first_error
from exams.models import Council, OversightReport, Sitting

from . import services
from .absentees import Tally, absentee_tally, tally_rows
from .access import (
    MANAGE,
    VIEW_ABSENTEES,
    absentee_rooms,
    is_council_member,
    room_for_absentees,
    sitting_for_oversight,
    sittings_for_oversight,
)
from .export import absentees_csv, absentees_pdf, totals_csv
from .forms import REPORT_TEXT_LIMIT, CouncilMemberForm, ReportActionForm
from .selectors import report_cards, sitting_live

HOME_SITTINGS = 30


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """The sittings whose oversight page or absentee lists the user may open."""
    user = request.user
    oversight = sittings_for_oversight(user).select_related("exam").order_by("-starts_at")[:HOME_SITTINGS]
    if user.has_perm(VIEW_ABSENTEES) or user.has_perm(MANAGE):
        lists = Sitting.objects.all()
    else:
        lists = Sitting.objects.filter(Q(rooms__proctors=user) | Q(council_members__user=user)).distinct()
    lists = lists.select_related("exam").order_by("-starts_at")[:HOME_SITTINGS]
    if not oversight and not lists:
        raise Http404
    return render(request, "oversight/home.html", {"oversight": oversight, "lists": lists})


def _page(request: HttpRequest, sitting: Sitting, *, drafts: dict[int, str] | None = None) -> HttpResponse:
    now = timezone.now()
    cards, ended_at = report_cards(sitting, request.user, now)
    for card in cards:
        if card.report is not None and drafts:
            # A refused edit (another member saved first) shows the editor's own text again, not lost.
            card.draft_text = drafts.get(card.report.pk)
    return render(request, "oversight/sitting.html", {
        "sitting": sitting, "cards": cards, "ended_at": ended_at, "live": sitting_live(sitting),
        "may_watch": is_council_member(request.user, sitting.pk), "may_manage": request.user.has_perm(MANAGE),
        "councils": Council.choices,
    }, status=400 if drafts else 200)


@login_required
@never_cache
def sitting_page(request: HttpRequest, sitting_id: int) -> HttpResponse:
    return _page(request, sitting_for_oversight(request.user, sitting_id))


@login_required
@never_cache
def sitting_live_part(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """The live rooms' table alone: the page refreshes it every few seconds."""
    sitting = sitting_for_oversight(request.user, sitting_id)
    return render(request, "oversight/_live.html", {"sitting": sitting, "live": sitting_live(sitting),
                                                     "may_watch": is_council_member(request.user, sitting.pk)})


@login_required
@require_POST
def report_action(request: HttpRequest, report_id: int) -> HttpResponse:
    """Edit, sign or file a report; the services refuse anyone not on its council."""
    report = OversightReport.objects.filter(pk=report_id).first()
    if report is None:
        raise Http404
    sitting = sitting_for_oversight(request.user, report.sitting_id)
    form = ReportActionForm(request.POST)
    if not form.is_valid():
        if "action" in form.errors:
            raise Http404
        messages.error(request, first_error(form))
        return _page(request, sitting, drafts={report.pk: request.POST.get("text", "")[:REPORT_TEXT_LIMIT]})
    action, data = form.cleaned_data["action"], form.cleaned_data
    try:
        if action == "edit":
            services.report_edit(report_id=report.pk, by=request.user, text=data["text"], revision=data["revision"])
            messages.success(request, _("Saved. Signatures on the earlier text, if any, no longer count."))
        elif action == "sign":
            services.report_sign(report_id=report.pk, by=request.user, sha256=data["sha256"])
            messages.success(request, _("Signed."))
        else:
            services.report_file(report_id=report.pk, by=request.user)
            messages.success(request, _("Filed."))
    except services.OversightError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        messages.error(request, exc.message)
        if action == "edit" and exc.code == "stale":
            return _page(request, sitting, drafts={report.pk: data["text"]})
    return redirect(reverse("oversight:sitting", args=[sitting.pk]) + f"#report-{report.council}")


@login_required
@require_POST
def council_members(request: HttpRequest, sitting_id: int) -> HttpResponse:
    """Appoint or remove a council member (staff with exams.manage_oversight)."""
    if not request.user.has_perm(MANAGE):
        raise Http404
    sitting = sitting_for_oversight(request.user, sitting_id)
    form = CouncilMemberForm(request.POST)
    try:
        if not form.is_valid():
            raise services.OversightError(first_error(form))
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            raise services.OversightError(_("No such user."))
        council = form.cleaned_data["council"]
        if form.cleaned_data["action"] == "remove":
            services.council_member_remove(sitting_id=sitting.pk, council=council, user=user, by=request.user)
        else:
            services.council_member_add(sitting_id=sitting.pk, council=council, user=user, by=request.user)
    except services.OversightError as exc:
        messages.error(request, exc.message)
    return redirect("oversight:sitting", sitting.pk)


@login_required
@never_cache
def absentees_page(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting, rooms, complete = absentee_rooms(request.user, sitting_id)
    nation = absentee_tally(sitting, rooms, now=timezone.now())
    return render(request, "oversight/absentees.html", {
        "sitting": sitting, "nation": nation, "complete": complete, "totals": tally_rows(nation),
        "may_oversee": sittings_for_oversight(request.user).filter(pk=sitting.pk).exists(),
    })


def _download(content: bytes, filename: str, fmt: str) -> HttpResponse:
    content_type = "application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _render_list(sitting: Sitting, nation: Tally, fmt: str, *, complete: bool) -> bytes:
    if fmt == "pdf":
        return absentees_pdf(sitting, nation, now=timezone.now(), complete=complete)
    if fmt == "csv":
        return absentees_csv(nation)
    raise Http404


@login_required
@never_cache
def sitting_absentees_download(request: HttpRequest, sitting_id: int, fmt: str) -> HttpResponse:
    """The whole sitting's list (or its totals, `fmt` = "totals.csv"): only for who sees every room."""
    sitting, rooms, complete = absentee_rooms(request.user, sitting_id)
    if not complete:
        raise Http404  # a proctor's partial view has per-room downloads only
    nation = absentee_tally(sitting, rooms, now=timezone.now())
    name = f"absentees-{slugify(sitting.exam.code)}-{sitting.pk}"
    if fmt == "totals.csv":
        return _download(totals_csv(nation), f"{name}-totals", "csv")
    return _download(_render_list(sitting, nation, fmt, complete=True), name, fmt)


@login_required
@never_cache
def room_absentees_download(request: HttpRequest, room_id: int, fmt: str) -> HttpResponse:
    room = room_for_absentees(request.user, room_id)
    nation = absentee_tally(room.sitting, [room], now=timezone.now())
    name = f"absentees-{slugify(room.sitting.exam.code)}-{room.sitting_id}-{slugify(room.name)}"
    return _download(_render_list(room.sitting, nation, fmt, complete=False), name, fmt)
