"""Camera, microphone and screen of candidates: evidence stills, recordings, relay to proctors.

The only package that imports aiortc/av. The rest of the app talks to it through the channel
layer with the messages of `interface` (which imports neither), so a real SFU can replace it.

Production: `manage.py media_server`, a process of its own on the Redis channel layer. Embedded
mode (in-memory channel layer, one web process): the web process calls `ensure_in_process()` from
async code (e.g. a consumer's connect) and the server runs as a task in its event loop.
"""

from __future__ import annotations

import asyncio
import logging

from .interface import MEDIA_CHANNEL  # noqa: F401 - the name the web side needs most

logger = logging.getLogger("proctoring.media")

_in_process: asyncio.Task | None = None


def ensure_in_process() -> bool:
    """Start the media server in the running event loop once, if the channel layer is in-memory.

    Returns True when a server runs (or now starts) in this process, False when the layer is
    another one (then `manage.py media_server` must run). Call it from a coroutine.
    """
    global _in_process
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if not isinstance(layer, InMemoryChannelLayer):
        return False
    loop = asyncio.get_running_loop()
    if _in_process is not None and not _in_process.done() and _in_process.get_loop() is loop:
        return True
    from .server import MediaServer  # aiortc and av load only when the server is wanted

    _in_process = loop.create_task(MediaServer(layer).serve(), name="proctoring-media-server")
    logger.info("media server started inside this process (in-memory channel layer)")
    return True
