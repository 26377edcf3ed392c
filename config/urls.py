from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.metrics import metrics
from exams import health
from languages.views import choose_language
from signin.views import SignInView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("login/", SignInView.as_view(), name="login"),
    path("signin/", include("signin.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch on every page (templates/base.html); remembered per user.
    path("language/", choose_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("proctoring/", include("proctoring.urls")),
    path("grading/", include("grading.urls")),
    path("oversight/", include("exams.oversight.urls")),
    path("complaints/", include("complaints.urls")),
    path("", include("exams.urls")),
]

# A proper page when something fails, and 503 "temporarily unavailable" when Redis or the
# database is what failed (issue 10, point 23).
handler500 = "exams.health.server_error"
