"""The administrator's tools: the bank, exams and blueprints, sittings, enrolments, attempts."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .admin_columns import yes_no
from .errors import ExamError
from .models import (
    Attempt,
    AttemptEvent,
    BlueprintEntry,
    Enrolment,
    Exam,
    Item,
    ItemKind,
    ItemVersion,
    Room,
    Sitting,
    Topic,
)
from .services import item_revise, sitting_check_blueprint
from .services.bank import ItemContent, validated_content

# The admin's titles in the reader's language (Django's own say "Django administration").
admin.site.site_header = _("Board examinations: administration")
admin.site.site_title = _("Board examinations")
admin.site.index_title = _("The bank, the schedule and the people")

OPTION_LETTERS = "ABCDE"


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ItemForm(forms.ModelForm):
    """Edits the item's current wording; saving a live item makes a new version (R-BANK-2)."""

    stem = forms.CharField(label=_("stem"), widget=forms.Textarea(attrs={"rows": 4}))
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Cause–effect items only"),
    )
    option_a = forms.CharField(label=_("option A"), required=False)
    option_b = forms.CharField(label=_("option B"), required=False)
    option_c = forms.CharField(label=_("option C"), required=False)
    option_d = forms.CharField(label=_("option D"), required=False)
    option_e = forms.CharField(label=_("option E"), required=False)
    key = forms.CharField(
        label=_("answer key"),
        required=False,
        help_text=_(
            "Choice items: right letters, e.g. B or A, D. Fill-in: accepted answers separated by |"
        ),
    )
    guide = forms.CharField(
        label=_("marking guide"),
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Marking guide")
    )
    image = forms.ImageField(label=_("picture"), required=False)

    class Meta:
        model = Item
        fields = ["code", "topic", "kind", "status", "difficulty", "is_sample"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            self.initial.update(stem=version.stem, reason=version.reason, guide=version.guide)
            for option in version.options:
                self.initial[f"option_{option['id'].lower()}"] = option["text"]
            joiner = " | " if self.instance.kind == ItemKind.FILL_IN else ", "
            self.initial["key"] = joiner.join(version.key)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        separator = "|" if kind == ItemKind.FILL_IN else ","
        options = [
            {"id": letter, "text": data.get(f"option_{letter.lower()}", "")}
            for letter in OPTION_LETTERS
        ]
        if kind not in ItemKind.choice_kinds() or kind == ItemKind.CAUSE_EFFECT:
            options = []
        content = ItemContent(
            stem=data.get("stem", ""),
            reason=data.get("reason", ""),
            guide=data.get("guide", ""),
            options=options,
            key=[
                k.strip().upper() if kind in ItemKind.choice_kinds() else k.strip()
                for k in (data.get("key") or "").split(separator)
                if k.strip()
            ],
            image=data.get("image") or None,
        )
        try:
            self.content = validated_content(kind, content)
        except ExamError as exc:
            raise ValidationError(exc.message) from exc
        return data


class ReadOnlyInline(admin.StackedInline):
    """History shown beside its owner: never added to, edited or deleted from the admin."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ItemVersionInline(ReadOnlyInline):
    model = ItemVersion
    fields = ["number", "stem", "key", "created_at", "created_by"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    form = ItemForm
    list_display = ["code", "topic", "kind", "status", "difficulty", yes_no(Item, "is_sample"), "version"]
    list_filter = ["status", "kind", "topic", "difficulty", "is_sample"]
    search_fields = ["code", "current_version__stem"]
    inlines = [ItemVersionInline]
    fieldsets = [
        (None, {"fields": ["code", "topic", "kind", "status", "difficulty", "is_sample"]}),
        (
            _("Wording (saving a live item makes a new version)"),
            {
                "fields": [
                    "stem",
                    "reason",
                    "option_a",
                    "option_b",
                    "option_c",
                    "option_d",
                    "option_e",
                    "key",
                    "guide",
                    "image",
                ]
            },
        ),
    ]

    @admin.display(description=_("version"))
    def version(self, item: Item) -> int | None:
        return item.current_version.number if item.current_version else None

    def save_model(self, request, obj, form, change):
        obj.save()
        item_revise(item=obj, content=form.content, by=request.user)


class BlueprintInline(admin.StackedInline):
    model = BlueprintEntry
    extra = 1


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "title",
        yes_no(Exam, "is_practice"),
        "item_count",
        "duration_minutes",
        "points",
        "pass_percent",
        "evidence_retention_days",
    ]
    inlines = [BlueprintInline]


class RoomInline(admin.StackedInline):
    model = Room
    extra = 1
    # Plain multiple selects, not filter_horizontal: its search icons carry an aria-label on a bare
    # span, which a screen reader ignores (axe: aria-prohibited-attr).


class SittingForm(forms.ModelForm):
    class Meta:
        model = Sitting
        fields = "__all__"
        # One labelled field for the start, not the admin's date and time boxes, whose second box
        # has no label a screen reader can read (axe: label).
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            )
        }

    def clean(self):
        data = super().clean()
        exam = data.get("exam")
        if exam is not None:
            try:
                # Refused at scheduling time, not on the day (issue 2, R-FORM-1).
                sitting_check_blueprint(exam=exam)
            except ExamError as exc:
                raise ValidationError(exc.message) from exc
        return data


@admin.register(Sitting)
class SittingAdmin(admin.ModelAdmin):
    form = SittingForm
    list_display = ["name", "exam", "starts_at", "entry_opens", "entry_closes"]
    inlines = [RoomInline]

    @admin.display(description=_("entry opens at"))
    def entry_opens(self, sitting: Sitting):
        return sitting.entry_opens_at

    @admin.display(description=_("entry closes at"))
    def entry_closes(self, sitting: Sitting):
        return sitting.entry_closes_at


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = [
        "ticket_number",
        "candidate",
        "sitting",
        "room",
        "seat",
        "grade",
        "identity_confirmed_at",
    ]
    list_filter = ["sitting", "room"]
    search_fields = ["ticket_number", "candidate__username", "candidate__last_name"]


class AttemptEventInline(ReadOnlyInline):
    model = AttemptEvent
    fields = ["at", "kind", "actor", "detail"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "candidate",
        "exam",
        "is_practice",
        "status",
        "started_at",
        "deadline",
        "submitted_at",
        "locked_at",
    ]
    list_filter = ["status", "is_practice", "exam"]
    readonly_fields = [f.name for f in Attempt._meta.fields]
    inlines = [AttemptEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
