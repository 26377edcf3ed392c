from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from exams import health
from exams.auth_views import ThrottledLoginView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("proctoring/", include("proctoring.urls")),
    path("grading/", include("grading.urls")),
    path("oversight/", include("exams.oversight.urls")),
    path("complaints/", include("complaints.urls")),
    path("", include("exams.urls")),
]
