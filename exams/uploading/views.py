"""The upload pages, in the admin's frame: the form, the preview with the decision, the report."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import ItemKind, Topic, Upload
from ..tasks import check_upload, import_upload
from .forms import DecisionForm, EnrolmentUploadForm, ItemUploadForm
from .services import upload_create, upload_decide, upload_progress

# Who may bring a file in: the same people who may add what it holds in the admin.
PERMISSIONS = {
    Upload.Kind.ITEMS: ("exams.add_item", "exams.change_item"),
    Upload.Kind.ENROLMENT: ("exams.add_enrolment", "exams.change_enrolment"),
}
FORMS = {Upload.Kind.ITEMS: ItemUploadForm, Upload.Kind.ENROLMENT: EnrolmentUploadForm}


@staff_member_required
def upload_new(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in FORMS:
        raise PermissionDenied
    _require(request, kind)
    form = FORMS[kind](request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = upload_create(
            kind=kind,
            file=form.cleaned_data["file"],
            topic=form.cleaned_data.get("topic"),
            sitting=form.cleaned_data.get("sitting"),
            by=request.user,
        )
        # In the embedded default the task runs here and now; with Redis, on a worker.
        check_upload.delay(upload.pk)
        return redirect("exams:upload", upload_id=upload.pk)
    recent = Upload.objects.filter(kind=kind).select_related("created_by")[:10]
    context = {**admin.site.each_context(request), "form": form, "kind": kind, "recent": recent}
    return render(request, "exams/upload_new.html", context)


@staff_member_required
def upload_page(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(Upload.objects.select_related("topic", "sitting"), pk=upload_id)
    _require(request, upload.kind)
    preview = upload.preview or {}
    refused = preview.get("refused", [])
    rows = _shown(preview.get("rows", []))
    context = {
        **admin.site.each_context(request),
        "upload": upload,
        "preview": preview,
        "rows": rows,
        "refused": refused,
        "progress": upload_progress(upload),
        "running": upload.state in (Upload.State.CHECKING, Upload.State.IMPORTING),
        "may_import_all": upload.state == Upload.State.CHECKED and not refused,
        "may_import_passed": upload.state == Upload.State.CHECKED and refused and rows,
    }
    return render(request, "exams/upload.html", context)


@staff_member_required
@require_POST
def upload_decision(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(Upload, pk=upload_id)
    _require(request, upload.kind)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to import."))
    else:
        decision = form.cleaned_data["decision"]
        if decision == "all" and (upload.preview or {}).get("refused"):
            # The page offers no such button; a hand-made POST gets the rule said plainly.
            messages.error(
                request,
                _("Some items cannot be imported: import only the items that passed, or nothing."),
            )
        elif upload_decide(upload, decision=decision):
            import_upload.delay(upload.pk)
    return redirect("exams:upload", upload_id=upload.pk)


def _shown(rows: list[dict]) -> list[dict]:
    """Return the preview's rows with the kind and the topic as a person reads them."""
    names = dict(
        Topic.objects.filter(code__in={row["topic"] for row in rows}).values_list("code", "name")
    )
    kinds = dict(ItemKind.choices)
    return [
        {
            **row,
            "kind_label": kinds.get(row["kind"], row["kind"]),
            "topic_label": names.get(row["topic"]) or row.get("topic_name") or row["topic"],
        }
        for row in rows
    ]


def _require(request: HttpRequest, kind: str) -> None:
    if not request.user.has_perms(PERMISSIONS[kind]):
        raise PermissionDenied
