"""The steps of an upload: create, check (the preview), import or cancel, and its progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ..audit import audit_append
from ..enrolling import EnrolmentRefused, enrolment_import
from ..enrolling import summary_lines as enrolment_lines
from ..importing import ImportRefused, import_items, summary_lines
from ..models import Sitting, Topic, Upload

logger = logging.getLogger(__name__)
# Long enough for the slowest import; the page shows the state once the entry is gone.
PROGRESS_SECONDS = 6 * 3600
SERVER_FAULT = gettext_lazy(
    "The server failed while handling this file; nothing was imported. The fault is logged: "
    "tell the board's IT staff, then upload the file again."
)


def upload_create(
    *,
    kind: str,
    file: UploadedFile,
    topic: Topic | None = None,
    sitting: Sitting | None = None,
    by,
) -> Upload:
    upload = Upload(
        kind=kind,
        name=Path(file.name).name,
        topic=topic,
        sitting=sitting,
        created_by=by,
        language=translation.get_language() or "",
    )
    upload.file.save(upload.name, file, save=False)
    upload.save()
    return upload


def upload_check(upload_id: int) -> None:
    """Check the upload and store its preview; write nothing to the bank."""
    _run(upload_id, Upload.State.CHECKING, _checked)


def upload_decide(upload: Upload, *, decision: str) -> bool:
    """Record the keeper's decision ("all", "passed" or "cancel"); return whether to import.

    Only a checked upload can be decided on, and only once: two clicks start one import.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload.pk)
        if upload.state != Upload.State.CHECKED:
            return False
        if decision == "cancel":
            _finish(upload, Upload.State.CANCELLED, [])
            return False
        upload.only_passed = decision == "passed"
        upload.state = Upload.State.IMPORTING
        upload.save(update_fields=["only_passed", "state"])
    return True


def upload_import(upload_id: int) -> None:
    """Import the upload as the keeper decided, all or nothing, telling the progress as it goes."""
    _run(upload_id, Upload.State.IMPORTING, _imported)


def _run(upload_id: int, state: str, work: Callable[[Upload], None]) -> None:
    """Do one step of an upload in the keeper's language; a refusal or a fault closes it."""
    upload = Upload.objects.select_related("topic", "sitting", "created_by").get(pk=upload_id)
    if upload.state != state:
        return  # a task delivered twice
    with translation.override(upload.language or settings.LANGUAGE_CODE):
        try:
            work(upload)
        except (ImportRefused, EnrolmentRefused) as exc:
            # The file, or at the import the bank changed since the check: nothing is written.
            _finish(upload, Upload.State.REFUSED, exc.message.splitlines())
        except Exception:
            # A fault of ours, not of the file: the keeper hears so instead of waiting forever.
            logger.exception("upload %s failed while %s", upload.pk, state)
            _finish(upload, Upload.State.REFUSED, [str(SERVER_FAULT)])


def _checked(upload: Upload) -> None:
    upload.preview = _preview(upload)
    upload.state = Upload.State.CHECKED
    upload.save(update_fields=["preview", "state"])


def _imported(upload: Upload) -> None:
    lines = _import(upload)
    with transaction.atomic():
        _finish(upload, Upload.State.IMPORTED, lines)
        audit_append(
            f"{upload.kind}.uploaded",
            subject=upload.name,
            data={"upload": upload.pk, "only_passed": upload.only_passed, "report": lines[:20]},
            actor=upload.created_by,
        )


def upload_progress(upload: Upload) -> tuple[int, int] | None:
    """Return (done, total) of a running import, or None when it has not said yet."""
    value = cache.get(_progress_key(upload.pk))
    return tuple(value) if value else None


def _preview(upload: Upload) -> dict:
    path = Path(upload.file.path)
    if upload.kind == Upload.Kind.ENROLMENT:
        summary = enrolment_import(sitting=upload.sitting, rows_source=path, dry_run=True)
        return {"lines": enrolment_lines(upload.sitting, summary)}
    summary = import_items(path, dry_run=True, only_passed=True, default_topic=_topic_code(upload))
    return {
        "created": summary.created,
        "revised": summary.revised,
        "unchanged": summary.unchanged,
        "topics_created": summary.topics_created,
        "rows": [
            {
                "source": row.source,
                "line": row.line,
                "code": row.code,
                "kind": row.kind,
                "topic": row.topic,
                "topic_name": row.topic_name,
                "stem": row.stem[:200],
                "outcome": row.outcome,
                "differences": row.differences,
                "lost": row.lost,
            }
            for row in summary.rows
        ],
        "refused": [str(problem) for problem in summary.refused],
    }


def _import(upload: Upload) -> list[str]:
    path = Path(upload.file.path)

    def told(done: int, total: int) -> None:
        cache.set(_progress_key(upload.pk), (done, total), PROGRESS_SECONDS)

    if upload.kind == Upload.Kind.ENROLMENT:
        summary = enrolment_import(sitting=upload.sitting, rows_source=path, progress=told)
        return enrolment_lines(upload.sitting, summary)
    summary = import_items(
        path,
        only_passed=upload.only_passed,
        default_topic=_topic_code(upload),
        by=upload.created_by,
        progress=told,
    )
    return summary_lines(summary)


def _finish(upload: Upload, state: str, report: list[str]) -> None:
    """Close the upload and remove its file: it may hold a whole bank, keys and all."""
    if upload.file:
        upload.file.delete(save=False)
    upload.state, upload.report, upload.finished_at = state, report, timezone.now()
    upload.save(update_fields=["state", "report", "finished_at", "file"])
    cache.delete(_progress_key(upload.pk))


def _topic_code(upload: Upload) -> str | None:
    return upload.topic.code if upload.topic else None


def _progress_key(upload_id: int) -> str:
    return f"upload-progress:{upload_id}"
