from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.handlers import get_asgi_application  # noqa: E402

# Django's handler, but no request keeps a pool connection however it ends (issue 11, point 2).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from exams.continuity.heartbeat import start_heartbeat  # noqa: E402

# Server outages are seen as gaps in this heartbeat and credited to the candidates (R-TAKE-7).
start_heartbeat()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin is checked against ALLOWED_HOSTS, login through the session cookie.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
