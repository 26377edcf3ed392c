from __future__ import annotations

from exams.routing import websocket_urlpatterns as exam_ws

websocket_urlpatterns = [*exam_ws]
