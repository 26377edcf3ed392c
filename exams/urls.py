from __future__ import annotations

from django.urls import path

from . import staff_views, views
from .continuity import views as continuity_views
from .uploading import views as upload_views

app_name = "exams"

urlpatterns = [
    path("", views.home, name="home"),
    path("enrolments/<int:enrolment_id>/confirm/", views.confirm_identity, name="confirm_identity"),
    path("enrolments/<int:enrolment_id>/start/", views.attempt_start, name="attempt_start"),
    path("practice/<int:exam_id>/start/", views.practice_start, name="practice_start"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/responses/", views.attempt_save, name="attempt_save"),
    path("attempts/<int:attempt_id>/state/", views.attempt_state, name="attempt_state"),
    path("attempts/<int:attempt_id>/finish/", views.attempt_finish, name="attempt_finish"),
    path("attempts/<int:attempt_id>/result/", views.attempt_result, name="attempt_result"),
    path("attempts/<int:attempt_id>/result/score/", views.attempt_result_part, name="attempt_result_part"),
    path("attempts/<int:attempt_id>/items/<int:position>/image/", views.item_image, name="item_image"),
    path("staff/locked/", staff_views.locked_attempts, name="locked_attempts"),
    path("staff/locked/<int:attempt_id>/", staff_views.hand_over, name="hand_over"),
    path("staff/outages/", continuity_views.outages, name="outages"),
    path("staff/uploads/new/<str:kind>/", upload_views.upload_new, name="upload_new"),
    path("staff/uploads/<int:upload_id>/", upload_views.upload_page, name="upload"),
    path(
        "staff/uploads/<int:upload_id>/decision/",
        upload_views.upload_decision,
        name="upload_decision",
    ),
]
