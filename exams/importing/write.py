"""Importing all or nothing: planning on locked rows and writing through the bank services."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

# The bank services are called as attributes of the package, not imported here by name, so that
# whoever replaces exams.importing.item_create (a test does, to make one write fail) reaches this
# module too: the package's names were this code's names when it was one module.
from .. import importing as package
from ..errors import ExamError
from ..models import ItemVersion, Topic
from ..services.bank import ItemContent
from .plan import Step, plan
from .problems import ImportRefused, Problem, as_clause
from .reading import FileReading, read_file
from .summary import ImportSummary, summary_of

# How often a long import says how far it is: often enough for a progress bar, rarely enough to
# cost nothing beside the writes.
PROGRESS_EVERY = 20


def import_items(
    path: str | Path,
    *,
    dry_run: bool = False,
    only_passed: bool = False,
    default_topic: str | None = None,
    by=None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import an item file, all or nothing; return what was done (or, dry, what would be).

    Raise ImportRefused listing every problem found, each with its line, unless `only_passed`:
    then the items that passed are imported and the summary lists the others with their reasons.
    A file from another system that names no topic for an item files it under `default_topic`.
    `progress(done, total)` is told as the items are written.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="item-import-") as folder:
        reading = read_file(path, folder=Path(folder), default_topic=default_topic)
        return _imported(
            reading, dry_run=dry_run, only_passed=only_passed, by=by, progress=progress
        )


def _imported(
    reading: FileReading, *, dry_run: bool, only_passed: bool, by, progress
) -> ImportSummary:
    refused = list(reading.refused)
    if refused and not only_passed:
        raise ImportRefused(refused)
    if not reading.items:
        raise ImportRefused(refused)
    if dry_run:
        steps, new_topics, kind_changes = plan(reading.items, lock=False)
        return summary_of(steps, new_topics, refused + kind_changes, dry_run=True)
    saved_files: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            # Planned inside the transaction, on locked rows, so that what was compared is what
            # gets revised even when a committee member edits the same item in the admin meanwhile.
            steps, new_topics, kind_changes = plan(reading.items, lock=True)
            if kind_changes and not only_passed:
                raise ImportRefused(kind_changes)
            if not steps:
                raise ImportRefused(refused + kind_changes)
            _write(steps, new_topics, by=by, saved_files=saved_files, progress=progress)
    except BaseException:
        # The rows are rolled back, but files already put in storage are not: remove them so a
        # refused import leaves no orphaned images behind.
        for storage, name in saved_files:
            storage.delete(name)
        raise
    return summary_of(steps, new_topics, refused + kind_changes, dry_run=False)


def _write(
    steps: list[Step],
    new_topics: dict[str, str],
    *,
    by,
    saved_files: list[tuple[Any, str]],
    progress: Callable[[int, int], None] | None,
) -> None:
    topics = {t.code: t for t in Topic.objects.filter(code__in={s.parsed.topic for s in steps})}
    for code, name in new_topics.items():
        topics[code] = package.topic_get_or_create(code=code, name=name)
    with ExitStack() as open_files:
        for done, step in enumerate(steps, 1):
            parsed = step.parsed
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(steps)):
                progress(done, len(steps))
            if step.item is not None and not step.content_changed and not step.item_changes:
                continue
            image = None
            if parsed.image_path is not None and (step.item is None or step.image_changed):
                image = File(
                    open_files.enter_context(parsed.image_path.open("rb")),
                    name=parsed.image_path.name,
                )
            content = dataclasses.replace(parsed.content, image=image)
            try:
                version = _write_item(step, content, topics, by=by)
            except (ExamError, IntegrityError) as exc:
                # Checked above on locked rows, so only a new code created by someone else since
                # then lands here; the transaction is rolled back by raising out of it.
                if isinstance(exc, ExamError):
                    message = as_clause(exc.message)
                else:
                    message = _("someone else saved this item while the import ran; try again")
                raise ImportRefused([Problem(parsed.line, message, parsed.code)]) from exc
            if image is not None and version.image:
                saved_files.append((version.image.storage, version.image.name))


def _write_item(step: Step, content: ItemContent, topics: dict[str, Topic], *, by) -> ItemVersion:
    parsed = step.parsed
    if step.item is None:
        item = package.item_create(
            code=parsed.code,
            topic=topics[parsed.topic],
            kind=parsed.kind,
            content=content,
            status=parsed.status,
            difficulty=parsed.difficulty,
            is_sample=parsed.is_sample,
            by=by,
        )
        return item.current_version
    version = step.item.current_version
    if step.content_changed:
        # Revised under the item's present status: a live item keeps its old version for the
        # attempts that used it, a draft is edited in place, before the file's status applies.
        version = package.item_revise(item=step.item, content=content, by=by)
    if step.item_changes:
        changes = dict(step.item_changes)
        if "topic" in changes:
            changes["topic"] = topics[changes["topic"]]
        package.item_update_metadata(item=step.item, **changes, by=by)
    return version
