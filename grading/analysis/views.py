"""Item-analysis pages for the committee: thin views over the cached result of `tasks`.

Only holders of `grading.view_item_analysis` see anything; everyone else gets 404, as if the
pages did not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from exams.models import ItemKind, Sitting
from exams.spreadsheets import SafeWriter

from .charts import histogram_chart, scatter_chart
from .stats import GROUP_FRACTION
from .tasks import analysis_progress, analysis_queue, analysis_result, is_running

PERMISSION = "grading.view_item_analysis"
FLAG_LABELS = {
    "miskeyed": gettext_lazy("looks miskeyed"),
    "too_easy": gettext_lazy("too easy"),
    "too_hard": gettext_lazy("too hard"),
}


def _require_analyst(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise Http404


def _get_sitting_for_analyst(request: HttpRequest, sitting_id: int) -> Sitting:
    """Return the sitting if the user may see item analysis; anyone else gets 404."""
    _require_analyst(request)
    return get_object_or_404(Sitting.objects.select_related("exam"), pk=sitting_id)


@login_required
@require_GET
def sittings(request: HttpRequest) -> HttpResponse:
    _require_analyst(request)
    rows = [{"sitting": s, "result": analysis_result(s.pk)}
            for s in Sitting.objects.select_related("exam").filter(exam__is_practice=False)[:200]]
    return render(request, "grading/analysis/sittings.html", {"rows": rows})


@login_required
@never_cache
@require_GET
def sitting_analysis(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting = _get_sitting_for_analyst(request, sitting_id)
    result = analysis_result(sitting.pk)
    context: dict[str, Any] = {"sitting": sitting, "result": result, "running": is_running(sitting.pk),
                               "group_percent": round(GROUP_FRACTION * 100)}
    if result is not None:
        items = result["items"]
        only_flagged = request.GET.get("flagged") == "1"
        context.update(
            computed_at=parse_datetime(result["computed_at"]),
            histogram=histogram_chart(result["summary"]["histogram"], sitting.exam.pass_percent),
            scatter=scatter_chart(items),
            rows=[_row(item) for item in items if item["flags"] or not only_flagged],
            only_flagged=only_flagged, flagged_count=sum(1 for item in items if item["flags"]),
        )
    return render(request, "grading/analysis/sitting.html", context)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    kind = item["info"]["kind"]
    return {**item, "kind_label": ItemKind(kind).label if kind in ItemKind.values else kind,
            "flag_labels": [(flag, FLAG_LABELS.get(flag, flag)) for flag in item["flags"]]}


@login_required
@require_POST
def analysis_start(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting = _get_sitting_for_analyst(request, sitting_id)
    queued = analysis_queue(sitting_id=sitting.pk)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"queued": queued, **_status(sitting.pk)})
    return redirect("grading:item_analysis", sitting_id=sitting.pk)


@login_required
@never_cache
@require_GET
def analysis_status(request: HttpRequest, sitting_id: int) -> JsonResponse:
    sitting = _get_sitting_for_analyst(request, sitting_id)
    return JsonResponse(_status(sitting.pk))


def _status(sitting_id: int) -> dict[str, Any]:
    state = analysis_progress(sitting_id) or {}
    result = analysis_result(sitting_id)
    return {
        "state": state.get("state", "done" if result else "none"), "progress": state.get("progress", 0.0),
        "error": state.get("error", ""), "computed_at": result["computed_at"] if result else None,
    }


@login_required
@require_GET
def analysis_csv(request: HttpRequest, sitting_id: int) -> HttpResponse:
    sitting = _get_sitting_for_analyst(request, sitting_id)
    result = analysis_result(sitting.pk)
    if result is None:
        raise Http404(_("No item analysis yet for this sitting."))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="item-analysis-sitting-{sitting.pk}.csv"'
    write_csv(response, result["items"])
    return response


def write_csv(out, items: list[dict[str, Any]]) -> None:
    """Write one row per item: its numbers, flags, and choice counts per option (all, top, bottom)."""
    option_ids: list[str] = []
    for item in items:
        for option in item["options"]:
            if option["option"] and option["option"] not in option_ids:
                option_ids.append(option["option"])
    writer = SafeWriter(out)  # formula-like text cells neutralised, BOM first (exams.spreadsheets)
    header = ["code", "version", "topic", "kind", "key", "n", "difficulty", "point_biserial", "upper_lower", "flags"]
    for option in [*option_ids, "no_answer"]:
        header += [f"{option}_all", f"{option}_top", f"{option}_bottom"]
    writer.writerow(header)
    for item in items:
        info = item["info"]
        by_option = {o["option"] or "no_answer": o for o in item["options"]}
        row = [info["code"], info["version"], info["topic"], info["kind"], " ".join(info["key"]), item["n"],
               _number(item["difficulty"]), _number(item["point_biserial"]), _number(item["upper_lower"]),
               " ".join(item["flags"])]
        for option in [*option_ids, "no_answer"]:
            counts = by_option.get(option)
            row += [counts["total"], counts["top"], counts["bottom"]] if counts else ["", "", ""]
        writer.writerow(row)


def _number(value: float | None) -> float | str:
    # A number, not its text: a negative point-biserial stays a number the spreadsheet can sort.
    return "" if value is None else round(value, 4)
