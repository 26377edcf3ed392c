"""The live room's records in the admin: logs and evidence are read-only there.

Proctors act in the room page (proctoring.views); the admin is for the board's administrator to
look things up. Evidence files are opened through proctoring.views, where each opening is logged.
"""

from __future__ import annotations

from django.contrib import admin

from exams.admin_columns import yes_no

from .models import (
    CheckIn,
    EvidenceAccess,
    Incident,
    Message,
    Recording,
    RoomEvent,
    RoomSession,
    Still,
    SystemCheck,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record that is appended by the system and never changed by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoomEvent)
class RoomEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "room", "kind", "enrolment", "actor", "reason"]
    list_filter = ["kind", "room__sitting"]
    search_fields = ["reason", "enrolment__ticket_number", "actor__username"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "enrolment",
        "kind",
        yes_no(Incident, "by_system"),
        "ended_at",
        "raised_by",
        "note",
    ]
    list_filter = ["kind", "by_system", "enrolment__room__sitting"]
    search_fields = ["note", "enrolment__ticket_number"]


@admin.register(EvidenceAccess)
class EvidenceAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "path", "address"]
    search_fields = ["path", "user__username"]


@admin.register(Still)
class StillAdmin(ReadOnlyAdmin):
    list_display = ["taken_at", "enrolment", "track", "purpose", "taken_by", "size"]
    list_filter = ["track", "purpose"]


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "enrolment", "track", "size"]


@admin.register(SystemCheck)
class SystemCheckAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "candidate",
        "enrolment",
        yes_no(SystemCheck, "passed"),
        "problems",
        "upload_mbps",
    ]
    list_filter = ["passed"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["at", "enrolment", yes_no(Message, "from_proctor"), "author", "text"]


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["enrolment", "status", "arrived_at", "decided_at", "decided_by", "reason"]
    list_filter = ["status", "enrolment__sitting"]


@admin.register(RoomSession)
class RoomSessionAdmin(ReadOnlyAdmin):
    list_display = ["room", "stage", "started_at", "collected_at", "ended_at"]
