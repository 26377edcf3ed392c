from __future__ import annotations

from django.urls import path

from .consumers import CandidateConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/proctoring/candidate/<int:enrolment_id>/", CandidateConsumer.as_asgi()),
    path("ws/proctoring/room/<int:room_id>/", RoomConsumer.as_asgi()),
]
