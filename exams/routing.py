from __future__ import annotations

from django.urls import path

from .consumers import AttemptConsumer

websocket_urlpatterns = [path("ws/attempt/<int:attempt_id>/", AttemptConsumer.as_asgi())]
