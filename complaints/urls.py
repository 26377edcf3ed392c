from __future__ import annotations

from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.mine_list, name="mine_list"),
    path("new/<int:enrolment_id>/", views.new, name="new"),
    path("committee/", views.committee, name="committee"),
    path("committee/<str:reference>/", views.case, name="case"),
    path("committee/<str:reference>/assign/", views.case_assign, name="case_assign"),
    path("committee/<str:reference>/decide/", views.case_decide, name="case_decide"),
    path("committee/<str:reference>/stills/<int:still_id>/", views.case_still, name="case_still"),
    path("<str:reference>/", views.mine, name="mine"),
    path("<str:reference>/files/<int:file_id>/", views.attachment, name="attachment"),
]
