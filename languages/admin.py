from __future__ import annotations

from django.contrib import admin

from .models import UserLanguage


@admin.register(UserLanguage)
class UserLanguageAdmin(admin.ModelAdmin):
    list_display = ("user", "language", "chosen_at")
    list_filter = ("language",)
    search_fields = ("user__username",)
