from __future__ import annotations

from django.urls import include, path

from . import views

app_name = "grading"

urlpatterns = [
    path("", views.committee_home, name="committee_home"),
    path("sittings/<int:sitting_id>/items/<int:item_id>/mark/", views.mark_next, name="mark_next"),
    path("sittings/<int:sitting_id>/items/<int:item_id>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("sittings/<int:sitting_id>/", views.chair_sitting, name="chair_sitting"),
    path("sittings/<int:sitting_id>/results.<str:file_format>", views.registry_file, name="registry_file"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/<int:correction_id>/", views.correction, name="correction"),
    path("corrections/<int:correction_id>/progress/", views.correction_progress, name="correction_progress"),
    path("analysis/", include("grading.analysis.urls")),
]
