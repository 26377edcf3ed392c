from __future__ import annotations

from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("", views.home, name="home"),
    path("sittings/<int:sitting_id>/", views.sitting_page, name="sitting"),
    path("sittings/<int:sitting_id>/live/", views.sitting_live_part, name="sitting_live"),
    path("sittings/<int:sitting_id>/members/", views.council_members, name="council_members"),
    path("reports/<int:report_id>/", views.report_action, name="report_action"),
    path("sittings/<int:sitting_id>/absentees/", views.absentees_page, name="absentees"),
    path("sittings/<int:sitting_id>/absentees.<str:fmt>", views.sitting_absentees_download, name="sitting_absentees_download"),
    path("rooms/<int:room_id>/absentees.<str:fmt>", views.room_absentees_download, name="room_absentees_download"),
]
