"""What exam delivery writes to the audit log: sign-ins and every step of an attempt's timeline.

Answer saves are not single entries: at over a thousand a second they would queue behind the
chain's one lock. Each accepted save is a row of AnswerLog (the answers' history), and each batch
of saves, refusals included, is one sealed entry (exams.audit.answers).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from ..models import AttemptEvent
from .chain import audit_append


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    audit_append("login", subject=f"user:{user.pk}", actor=user,
                 data={"address": request.META.get("REMOTE_ADDR", "") if request else "",
                       "device": (getattr(request, "device_id", "") or "")[:8]})


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_append("login.failed", subject=f"username:{str(credentials.get('username', ''))[:60]}",
                 data={"address": request.META.get("REMOTE_ADDR", "") if request else ""})


@receiver(post_save, sender=AttemptEvent)
def audit_attempt_event(sender, instance: AttemptEvent, created: bool, **kwargs) -> None:
    if created:
        audit_append(f"attempt.{instance.kind}", subject=f"attempt:{instance.attempt_id}", actor=instance.actor,
                     at=instance.at, data=instance.detail)
