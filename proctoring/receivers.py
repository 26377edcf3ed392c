"""What the room hears from exam delivery: every attempt change reaches the proctors' tiles."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.audit import audit_append
from exams.groups import attempt_changed
from exams.models import Attempt

from .models import EvidenceAccess, Incident, IncidentKind, RoomEvent
from .services._common import log_room_event, push_tile_after_commit
from .services.incidents import system_incident_close, system_incident_open


@receiver(attempt_changed)
def show_attempt_change_to_room(sender, attempt_id: int, message: dict, **kwargs) -> None:
    attempt = Attempt.objects.select_related("enrolment").filter(pk=attempt_id, is_practice=False).first()
    if attempt is None or attempt.enrolment is None:
        return
    now = timezone.now()
    with transaction.atomic():
        if message.get("type") == "attempt.locked":
            system_incident_open(enrolment=attempt.enrolment, kind=IncidentKind.SECOND_DEVICE, now=now, note=message.get("reason", ""))
        elif message.get("type") == "attempt.unlocked":
            system_incident_close(enrolment=attempt.enrolment, kind=IncidentKind.SECOND_DEVICE, now=now)
        elif message.get("outage"):
            # Issue 10, point 25 (exams.continuity): a server outage was credited, or ended the
            # attempt for rescheduling; the room's log says so, with no proctor as the actor.
            credited = message.get("creditSeconds")
            note = (_("Server outage: %(seconds)s s credited; new end %(end)s.") % {"seconds": credited, "end": attempt.exam.clock(attempt.deadline)}
                    if credited is not None else _("Server outage too long: the attempt ended, to be rescheduled."))
            log_room_event(room_id=attempt.enrolment.room_id, kind=RoomEvent.Kind.EXTENDED, at=now, enrolment=attempt.enrolment,
                           reason=note, attempt=attempt.pk, outage=message["outage"], system=True)
            if credited is None:
                system_incident_close(enrolment=attempt.enrolment, kind=None, now=now)
        elif message.get("type") in ("attempt.submitted", "attempt.ended"):
            # The attempt is over: nothing is "still going on" for the proctor to watch.
            system_incident_close(enrolment=attempt.enrolment, kind=None, now=now)
        push_tile_after_commit(attempt.enrolment.room_id, attempt.enrolment_id)


@receiver(post_save, sender=RoomEvent)
def audit_room_event(sender, instance: RoomEvent, created: bool, **kwargs) -> None:
    """Every proctor action and room step, with who and why, into the audit log (R-AUD-1)."""
    if created:
        audit_append(f"room.{instance.kind}", subject=f"room:{instance.room_id}", actor=instance.actor, at=instance.at,
                     data={"enrolment": instance.enrolment_id, "reason": instance.reason, **instance.detail})


@receiver(post_save, sender=Incident)
def audit_incident(sender, instance: Incident, created: bool, **kwargs) -> None:
    if created:
        audit_append(f"incident.{instance.kind}", subject=f"enrolment:{instance.enrolment_id}", actor=instance.raised_by,
                     at=instance.at, data={"attempt": instance.attempt_id, "by_system": instance.by_system,
                                           "note": instance.note, "still": instance.still_id})


@receiver(post_save, sender=EvidenceAccess)
def audit_evidence_access(sender, instance: EvidenceAccess, created: bool, **kwargs) -> None:
    if created:
        audit_append("evidence.opened", subject=instance.path, actor=instance.user, at=instance.at,
                     data={"address": instance.address})
