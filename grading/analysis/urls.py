"""Included at /grading/analysis/ inside the "grading" namespace: reverse as "grading:<name>"."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.sittings, name="item_analysis_sittings"),
    path("sittings/<int:sitting_id>/", views.sitting_analysis, name="item_analysis"),
    path("sittings/<int:sitting_id>/start/", views.analysis_start, name="item_analysis_start"),
    path("sittings/<int:sitting_id>/status/", views.analysis_status, name="item_analysis_status"),
    path("sittings/<int:sitting_id>/items.csv", views.analysis_csv, name="item_analysis_csv"),
]
