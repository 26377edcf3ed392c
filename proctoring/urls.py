from __future__ import annotations

from django.urls import path

from . import views

app_name = "proctoring"

urlpatterns = [
    path("rooms/", views.rooms, name="rooms"),
    path("rooms/<int:room_id>/", views.room_page, name="room"),
    path("rooms/<int:room_id>/advance/", views.room_advance, name="room_advance"),
    path("candidates/<int:enrolment_id>/admit/", views.admit, name="admit"),
    path("candidates/<int:enrolment_id>/refuse/", views.refuse, name="refuse"),
    path("candidates/<int:enrolment_id>/message/", views.message, name="message"),
    path("candidates/<int:enrolment_id>/read/", views.read, name="read"),
    path("candidates/<int:enrolment_id>/incident/", views.incident, name="incident"),
    path("candidates/<int:enrolment_id>/evidence/", views.candidate_evidence, name="candidate_evidence"),
    path("attempts/<int:attempt_id>/<slug:action>/", views.attempt_action, name="attempt_action"),
    path("evidence/stills/<int:still_id>/", views.still, name="still"),
    path("evidence/recordings/<int:recording_id>/", views.recording, name="recording"),
    path("check/", views.system_check, name="system_check"),
    path("check/result/", views.system_check_result, name="system_check_result"),
    path("check/upload/", views.upload_probe, name="upload_probe"),
    path("enrolments/<int:enrolment_id>/waiting-room/", views.waiting_room, name="waiting_room"),
]
