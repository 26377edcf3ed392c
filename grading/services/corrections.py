"""Key corrections (R-GRADE-4): a dry run first, then every affected attempt re-scored exactly once.

The re-score is driven by the database, not by the queue: an attempt is done when its ScoreChange
row for the correction exists. Tasks may be lost (a worker killed) or run twice; the periodic
`rescore_pending` queues whatever is still missing, and the unique row makes a second run a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Attempt, AttemptStatus, ItemKind, ItemVersion

from ..anonymity import anonymous_code
from ..models import AttemptScore, ItemScore, KeyCorrection, ScoreChange
from ..results import final_percent, passes
from ..scoring import is_auto_scored, keyed_points
from .results import GradingError
from .scoring import attempt_score


def _affected_attempts(version: ItemVersion):
    return Attempt.objects.filter(items__item_version=version, is_practice=False, status=AttemptStatus.SCORED).distinct()


def _clean_keys(version: ItemVersion, action: str, accepted_keys) -> list[list[str]]:
    if action == KeyCorrection.Action.DROP:
        return []
    kind = version.item.kind
    if not is_auto_scored(kind):
        raise GradingError(_("Only a choice item has a key to correct; a marked item can only be dropped."))
    option_ids = {o["id"] for o in version.options} if kind != ItemKind.CAUSE_EFFECT else {"A", "B", "C", "D", "E"}
    if not isinstance(accepted_keys, list) or not accepted_keys:
        raise GradingError(_("Choose the right answer."))
    keys = []
    for key in accepted_keys:
        key = sorted(set(map(str, key))) if isinstance(key, list | tuple) else []
        if not key or not set(key) <= option_ids:
            raise GradingError(_("A key must name options of the item."))
        if kind in ItemKind.single_choice_kinds() and len(key) != 1:
            raise GradingError(_("This item has one right option per key."))
        keys.append(key)
    if action == KeyCorrection.Action.CHANGE_KEY and len(keys) != 1:
        raise GradingError(_("A changed key is one key; to accept several answers, choose that action."))
    return keys


@dataclass(frozen=True)
class Preview:
    correction: KeyCorrection
    flips: list[dict]       # anonymous code, old and new percent, for every pass/fail change


def key_correction_preview(*, item_version_id: int, action: str, accepted_keys, reason: str, by: AbstractBaseUser,
                           now: datetime | None = None) -> Preview:
    """Dry run: how many attempts change score, and which change pass or fail. Nothing is re-scored."""
    now = now or timezone.now()
    if action not in KeyCorrection.Action.values:
        raise GradingError(_("Choose what to do with the item."))
    if not reason.strip():
        raise GradingError(_("Give the reason for the correction."))
    version = ItemVersion.objects.select_related("item").get(pk=item_version_id)
    keys = _clean_keys(version, action, accepted_keys)
    changed, flips, affected = 0, [], 0
    slots = ItemScore.objects.filter(attempt_item__item_version=version, attempt__in=_affected_attempts(version)).select_related(
        "attempt__exam", "attempt__score", "attempt_item")
    from exams.models import Response

    answers = dict(Response.objects.filter(attempt_item__item_version=version).values_list("attempt_item_id", "value"))
    for slot in slots:
        affected += 1
        score: AttemptScore = slot.attempt.score
        weight = slot.attempt_item.points
        if action == KeyCorrection.Action.DROP:
            new_points, new_max = Decimal(0), Decimal(0)
        else:
            new_points = keyed_points(kind=version.item.kind, accepted_keys=keys, answer=answers.get(slot.attempt_item_id),
                                      points=weight, rule=slot.attempt.exam.multiple_response_scoring)
            new_max = slot.max_points
        old_points = slot.points or Decimal(0)
        if new_points == old_points and new_max == slot.max_points:
            continue
        changed += 1
        if score.percent is None:
            continue
        written = score.auto_points + score.committee_points - old_points + new_points
        written_max = score.auto_max_points + score.committee_max_points - slot.max_points + new_max
        clinical = getattr(slot.attempt, "clinical_score", None)
        new_percent = final_percent(written_points=written, written_max=written_max,
                                    clinical_points=clinical.points if clinical else None,
                                    clinical_max=clinical.max_points if clinical else None,
                                    clinical_weight=slot.attempt.exam.clinical_weight_percent)
        pass_mark = slot.attempt.exam.pass_percent
        if passes(new_percent, pass_mark) != passes(score.percent, pass_mark):
            flips.append({"code": anonymous_code(slot.attempt_id), "old": score.percent, "new": new_percent})
    correction = KeyCorrection.objects.create(
        item_version=version, action=action, accepted_keys=keys, reason=reason.strip()[:1000], created_by=by, created_at=now,
        affected=affected, changed=changed, flips=len(flips), flip_list=flips,
    )
    return Preview(correction=correction, flips=flips)


def key_correction_apply(*, correction_id: int, by: AbstractBaseUser, now: datetime | None = None) -> KeyCorrection:
    """Confirm a previewed correction: it becomes the item's key for scoring, and re-scoring starts."""
    now = now or timezone.now()
    with transaction.atomic():
        correction = KeyCorrection.objects.select_for_update().get(pk=correction_id)
        if correction.applied_at is not None:
            raise GradingError(_("This correction is already applied."))
        newer = KeyCorrection.objects.filter(item_version_id=correction.item_version_id, applied_at__gt=correction.created_at)
        if newer.exists():
            raise GradingError(_("Another correction of this item was applied after this dry run; run it again."))
        correction.applied_at, correction.applied_by = now, by
        # The numbers of the dry run may have moved since; the re-score counts what is there now.
        correction.affected = _affected_attempts(correction.item_version).count()
        correction.save(update_fields=["applied_at", "applied_by", "affected"])
        from ..tasks import rescore_for_correction

        transaction.on_commit(lambda: rescore_for_correction.delay(correction.pk), robust=True)
        return correction


def pending_attempt_ids(correction: KeyCorrection) -> list[int]:
    """Return the attempts this applied correction has not re-scored yet."""
    done = ScoreChange.objects.filter(correction=correction).values("attempt_id")
    return list(_affected_attempts(correction.item_version).exclude(pk__in=done).values_list("pk", flat=True))


def attempt_rescore(*, correction_id: int, attempt_id: int, now: datetime | None = None) -> ScoreChange | None:
    """Re-score one attempt for a correction, exactly once; a second call returns None."""
    now = now or timezone.now()
    with transaction.atomic():
        Attempt.objects.select_for_update(no_key=True).get(pk=attempt_id)  # one re-score of an attempt at a time
        if ScoreChange.objects.filter(correction_id=correction_id, attempt_id=attempt_id).exists():
            return None
        before = AttemptScore.objects.get(attempt_id=attempt_id)
        old_points = before.auto_points + before.committee_points
        after = attempt_score(attempt_id=attempt_id, now=now)
        try:
            with transaction.atomic():
                return ScoreChange.objects.create(
                    correction_id=correction_id, attempt_id=attempt_id, old_points=old_points,
                    new_points=after.auto_points + after.committee_points, old_percent=before.percent, new_percent=after.percent,
                    at=now,
                )
        except IntegrityError:
            return None


def correction_progress(correction: KeyCorrection) -> dict[str, int]:
    return {"done": ScoreChange.objects.filter(correction=correction).count(), "total": correction.affected}
