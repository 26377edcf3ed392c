from __future__ import annotations

from exams.routing import websocket_urlpatterns as exam_ws
from proctoring.routing import websocket_urlpatterns as proctoring_ws

websocket_urlpatterns = [*exam_ws, *proctoring_ws]
