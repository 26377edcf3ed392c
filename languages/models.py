"""The language a person chose, remembered across devices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserLanguage(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chosen_language",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES)
    chosen_at = models.DateTimeField(_("chosen at"), auto_now=True)
    # Named by the board's enrolment file rather than chosen on the switch: a later file may change
    # it, but never a choice the person made themselves.
    from_enrolment_file = models.BooleanField(_("from the enrolment file"), default=False)

    class Meta:
        verbose_name = _("language of a user")
        verbose_name_plural = _("languages of users")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
