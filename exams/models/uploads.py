"""Files a bank keeper uploads in the browser: checked and previewed first, imported when asked."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from .bank import Topic
from .schedule import Sitting


def _stored_name(upload: Upload, filename: str) -> str:
    # A folder of its own keeps the keeper's file name (its suffix says the format) and never
    # meets another upload's file.
    return f"uploads/{uuid.uuid4().hex}/{get_valid_filename(Path(filename).name) or 'file'}"


class Upload(models.Model):
    """An item or enrolment file on its way in: its preview, its progress and what became of it."""

    class Kind(models.TextChoices):
        ITEMS = "items", _("items")
        ENROLMENT = "enrolment", _("enrolment")

    class State(models.TextChoices):
        CHECKING = "checking", _("being checked")
        CHECKED = "checked", _("checked, waiting for a decision")
        REFUSED = "refused", _("refused")
        IMPORTING = "importing", _("being imported")
        IMPORTED = "imported", _("imported")
        CANCELLED = "cancelled", _("cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.CHECKING
    )
    # Removed once the upload is imported, refused or cancelled: it may hold a whole bank's keys.
    file = models.FileField(_("file"), upload_to=_stored_name, blank=True, max_length=300)
    name = models.CharField(_("file name"), max_length=255)
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("topic for items that name none"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    sitting = models.ForeignKey(
        Sitting, verbose_name=_("sitting"), null=True, blank=True, on_delete=models.PROTECT
    )
    only_passed = models.BooleanField(_("only the items that passed"), default=False)
    # The keeper's language when uploading: the worker writes the preview and report in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # What the check found (per item, or the enrolment's numbers) and what the import did.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    report = models.JSONField(_("report"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
