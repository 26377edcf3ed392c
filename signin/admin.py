from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import throttle
from .models import SignInThrottle


@admin.register(SignInThrottle)
class SignInThrottleAdmin(admin.ModelAdmin):
    list_display = [
        "scope",
        "username",
        "source_label",
        "failures",
        "refused",
        "last_failure_at",
        "blocked_until",
    ]
    list_filter = ["scope"]
    search_fields = ["username"]
    actions = ["clear"]
    readonly_fields = [f.name for f in SignInThrottle._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # clearing is audited: through the action, never a bare delete

    def has_clear_permission(self, request):
        return request.user.has_perm("signin.clear_signinthrottle")

    @admin.action(description=_("Clear the selected sign-in throttles"), permissions=["clear"])
    def clear(self, request, queryset):
        cleared = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                throttle.throttle_clear(throttle_id=pk, by=request.user, reason="admin")
            except throttle.ThrottleError:
                continue  # cleared meanwhile by someone else
            cleared += 1
        self.message_user(
            request,
            ngettext("%(count)d throttle cleared.", "%(count)d throttles cleared.", cleared)
            % {"count": cleared},
            messages.SUCCESS,
        )
