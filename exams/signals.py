from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from .models import Attempt, AttemptStatus

# Sent inside the transaction that submits an attempt, with `attempt_id`: grading (an app above
# this one) scores it once the transaction commits, without exams importing grading.
attempt_submitted = Signal()


@receiver(user_logged_in)
def lock_running_attempts_on_second_login(sender, request, user, **kwargs) -> None:
    """A login from another device while an attempt runs locks the attempt (R-TAKE-2)."""
    from .services import attempt_open_on_device

    device_id = getattr(request, "device_id", "")
    if not device_id:
        return
    running = Attempt.objects.filter(candidate=user, status=AttemptStatus.IN_PROGRESS).exclude(device_id=device_id)
    for attempt_id in running.values_list("pk", flat=True):
        attempt_open_on_device(attempt_id=attempt_id, device_id=device_id)
