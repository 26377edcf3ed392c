from __future__ import annotations

from django.urls import path

from . import views

app_name = "signin"

urlpatterns = [
    path("staff/throttles/", views.throttles, name="throttles"),
]
