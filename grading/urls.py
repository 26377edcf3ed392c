from __future__ import annotations

from django.urls import include, path

app_name = "grading"

urlpatterns = [
    path("analysis/", include("grading.analysis.urls")),
]
