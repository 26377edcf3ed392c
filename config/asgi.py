from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.handlers import get_asgi_application  # noqa: E402

# Django's handler, but no request keeps a pool connection however it ends (issue 11, point 2).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.origins import ExactOriginValidator  # noqa: E402
from config.preflight import refuse_demo_logins  # noqa: E402
from config.proxy import TrustedProxyHeaders  # noqa: E402
from config.request_id import RequestId  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from exams.continuity.heartbeat import start_heartbeat  # noqa: E402

# Production does not serve while a demo login still opens with its published password.
refuse_demo_logins()
# Server outages are seen as gaps in this heartbeat and credited to the candidates (R-TAKE-7).
start_heartbeat()

# The request's id (in every log line) first, then the proxy's view of the client (address,
# https), then the socket's origin against it, then the session cookie's user.
application = RequestId(
    TrustedProxyHeaders(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                "websocket": ExactOriginValidator(
                    AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                ),
            }
        )
    )
)
