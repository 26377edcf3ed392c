from __future__ import annotations

from django.contrib import admin

from proctoring.admin import ReadOnlyAdmin

from .models import Complaint, ComplaintRules


@admin.register(ComplaintRules)
class ComplaintRulesAdmin(admin.ModelAdmin):
    list_display = ("exam", "day_starts", "day_ends", "conduct_filing_hours", "conduct_decision_working_days",
                    "score_filing_working_hours", "reminder_hours")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Read-only: complaints are filed by candidates and decided on the committee's pages, with their audit entries."""

    list_display = ("reference", "kind", "status", "decision", "filed_at", "decision_due_at", "assigned_to")
    list_filter = ("kind", "status", "decision")
    search_fields = ("reference",)
