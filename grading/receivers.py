"""What grading hears: a submitted attempt to score, and what it writes to the audit log
(R-AUD-1): every mark, score change, correction and publication."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from exams.audit import audit_append
from exams.models import Attempt
from exams.signals import attempt_submitted

from .models import ClinicalScore, KeyCorrection, Mark, ResultPublication, ScoreChange
from .tasks import score_attempt


@receiver(attempt_submitted, sender=Attempt)
def score_when_submitted(sender, attempt_id: int, **kwargs) -> None:
    """The candidate sees the machine's score at once after Finish (002:1.6.10): queued on commit.

    robust: the submission stands even if the broker is down this moment; the periodic
    grading.tasks.score_waiting_attempts queues it again.
    """
    transaction.on_commit(lambda: score_attempt.delay(attempt_id), robust=True)


@receiver(post_save, sender=Mark)
def audit_mark(sender, instance: Mark, created: bool, **kwargs) -> None:
    if created:
        audit_append(f"mark.{instance.round}", subject=f"answer:{instance.item_score_id}", actor=instance.marker, at=instance.at,
                     data={"points": instance.points, "comment": instance.comment})


@receiver(post_save, sender=ScoreChange)
def audit_score_change(sender, instance: ScoreChange, created: bool, **kwargs) -> None:
    if created:
        audit_append("score.changed", subject=f"attempt:{instance.attempt_id}", at=instance.at,
                     data={"correction": instance.correction_id, "old_points": instance.old_points, "new_points": instance.new_points,
                           "old_percent": instance.old_percent, "new_percent": instance.new_percent})


@receiver(post_save, sender=KeyCorrection)
def audit_key_correction(sender, instance: KeyCorrection, created: bool, update_fields=None, **kwargs) -> None:
    if created:
        audit_append("key.dry_run", subject=f"item_version:{instance.item_version_id}", actor=instance.created_by,
                     at=instance.created_at, data={"correction": instance.pk, "action": instance.action, "keys": instance.accepted_keys,
                                                   "reason": instance.reason, "changed": instance.changed, "flips": instance.flips})
    elif update_fields and "applied_at" in update_fields:
        audit_append("key.applied", subject=f"item_version:{instance.item_version_id}", actor=instance.applied_by,
                     at=instance.applied_at, data={"correction": instance.pk, "affected": instance.affected})


@receiver(post_save, sender=ClinicalScore)
def audit_clinical(sender, instance: ClinicalScore, **kwargs) -> None:
    audit_append("score.clinical", subject=f"attempt:{instance.attempt_id}", actor=instance.entered_by, at=instance.entered_at,
                 data={"points": instance.points, "max_points": instance.max_points})


@receiver(post_save, sender=ResultPublication)
def audit_publication(sender, instance: ResultPublication, created: bool, **kwargs) -> None:
    if created:
        audit_append("results.published", subject=f"sitting:{instance.sitting_id}", actor=instance.published_by,
                     at=instance.published_at, data={"attempts": instance.attempts, "passed": instance.passed})
