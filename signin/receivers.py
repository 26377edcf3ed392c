"""Every sign-in, whichever page it came through (the login page, /admin/login/), feeds the throttle."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from . import throttle


@receiver(user_login_failed)
def count_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username")
    # authenticate() without a request (the test client's login(), a management command) is no
    # one trying passwords over the network.
    if isinstance(request, HttpRequest) and isinstance(username, str) and username.strip():
        throttle.signin_failed(request, username)


@receiver(user_logged_in)
def clear_after_sign_in(sender, request, user, **kwargs) -> None:
    if isinstance(request, HttpRequest):
        throttle.signin_succeeded(request, user)
