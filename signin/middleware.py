from __future__ import annotations

from .throttle import remember_device


class KnownDeviceMiddleware:
    """Sets the known-device cookie on the response of a successful sign-in (see throttle.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return remember_device(request, self.get_response(request))
