"""Every browser gets a device id, so an attempt can be held to one device (R-TAKE-2)."""

from __future__ import annotations

import secrets

from django.conf import settings

DEVICE_COOKIE = "exam_device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600


def new_device_id() -> str:
    return secrets.token_hex(16)


class DeviceCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        device_id = request.COOKIES.get(DEVICE_COOKIE, "")
        issued = not (len(device_id) == 32 and all(c in "0123456789abcdef" for c in device_id))
        if issued:
            device_id = new_device_id()
        request.device_id = device_id
        response = self.get_response(request)
        if issued:
            response.set_cookie(
                DEVICE_COOKIE,
                device_id,
                max_age=DEVICE_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
