"""`manage.py media_server`: the WebRTC media server on the configured channel layer.

Runs until SIGTERM or SIGINT, then closes every peer connection (recordings are finished and
reported) and exits 0. Logs one line per publish, view and close.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the proctoring media server (WebRTC) on the channel layer until SIGTERM/SIGINT."

    def handle(self, *args, **options) -> None:
        # The settings' root level is WARNING; the publish/view/close lines are this command's output.
        logging.getLogger("proctoring.media").setLevel(logging.INFO)
        asyncio.run(self._serve())
        self.stdout.write("media server stopped")

    async def _serve(self) -> None:
        from channels.layers import get_channel_layer

        from proctoring.media.evidence import drain_hooks
        from proctoring.media.server import MediaServer

        layer = get_channel_layer()
        server = asyncio.ensure_future(MediaServer(layer).serve())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.cancel)
        self.stdout.write(f"media server ready ({type(layer).__name__})")
        self.stdout.flush()
        try:
            await server
        except asyncio.CancelledError:
            pass
        # Recordings finished during close() call the hook from their threads: let it run.
        await loop.run_in_executor(None, drain_hooks)
