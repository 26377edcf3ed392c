"""The question bank: topics, items and their immutable versions (R-BANK-1, R-BANK-2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Topic(models.Model):
    """A blueprint area: the exam's blueprint says how many items to draw from each."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class ItemKind(models.TextChoices):
    SINGLE = "single", _("Single best answer")
    MULTIPLE = "multiple", _("Multiple response")
    CAUSE_EFFECT = "cause_effect", _("Cause–effect (assertion–reason)")
    FILL_IN = "fill_in", _("Fill in the blank")
    FREE_TEXT = "free_text", _("Free text")

    @classmethod
    def choice_kinds(cls) -> frozenset[str]:
        """Return the kinds answered by picking options (and so scored by the machine)."""
        return frozenset({cls.SINGLE, cls.MULTIPLE, cls.CAUSE_EFFECT})

    @classmethod
    def single_choice_kinds(cls) -> frozenset[str]:
        """Return the kinds where exactly one option may be picked."""
        return frozenset({cls.SINGLE, cls.CAUSE_EFFECT})


# Assertion–reason items always offer the same five options, in this fixed order: shuffling them
# would break the scale a candidate has learnt, so their option order is never randomised.
CAUSE_EFFECT_OPTIONS = [
    {"id": "A", "text": _("Both statements are true and the reason explains the assertion")},
    {
        "id": "B",
        "text": _("Both statements are true but the reason does not explain the assertion"),
    },
    {"id": "C", "text": _("The assertion is true, the reason is false")},
    {"id": "D", "text": _("The assertion is false, the reason is true")},
    {"id": "E", "text": _("Both statements are false")},
]


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    RETIRED = "retired", _("Retired")


class Difficulty(models.TextChoices):
    EASY = "easy", _("Easy")
    MEDIUM = "medium", _("Medium")
    HARD = "hard", _("Hard")


class Item(models.Model):
    """An item's identity and bookkeeping; its wording lives in versions."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("The committee's reference, e.g. SURG-0042"),
    )
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="items"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices)
    difficulty = models.CharField(
        _("difficulty"), max_length=10, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.DRAFT
    )
    is_sample = models.BooleanField(
        _("sample item"), default=False, help_text=_("Shown in practice exams; never in a real one")
    )
    current_version = models.ForeignKey(
        "ItemVersion",
        verbose_name=_("current version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("item")
        # A context: elsewhere "items" counts them ("100 items"), which Chinese says otherwise.
        verbose_name_plural = pgettext_lazy("the question bank's", "items")
        ordering = ["code"]
        indexes = [models.Index(fields=["status", "topic", "kind"])]

    def __str__(self) -> str:
        return self.code


class ItemVersion(models.Model):
    """The wording, options and key of an item as candidates saw it. Never edited once used."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version number"))
    stem = models.TextField(_("stem"))
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Cause–effect items: the reason statement")
    )
    options = models.JSONField(
        _("options"), default=list, blank=True, help_text=_('[{"id": "A", "text": "…"}, …]')
    )
    key = models.JSONField(
        _("answer key"),
        default=list,
        blank=True,
        help_text=_("Choice items: the right option ids; fill-in: the accepted answers"),
    )
    guide = models.TextField(
        _("marking guide"), blank=True, help_text=_("Marking guide for the committee")
    )
    image = models.ImageField(_("image"), upload_to="items/", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="item_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.item.code} v{self.number}"

    def option_ids(self) -> list[str]:
        """Return the option ids in the bank's order."""
        return [option["id"] for option in self.options]
