"""The media server: takes the messages of interface.py off the channel layer and runs the calls.

One process (or, in the embedded mode, one task in the web process) receives on MEDIA_CHANNEL.
Messages for one session are handled one at a time, in order (a publish, then a snapshot of it);
different sessions do not wait for each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any

from aiortc import RTCSessionDescription
from channels.layers import get_channel_layer
from django.conf import settings

from . import interface as api
from .aiortc_glue import (
    check_aiortc,
    forward_keyframe_requests,
    new_peer_connection,
    only_media_codecs,
)
from .feeds import Hub
from .heartbeat import beat_forever
from .ice import media_server_ice, with_public_address
from .publisher import Publisher, PublishError
from .tracks import ForwardTrack

logger = logging.getLogger("proctoring.media")

SNAPSHOT_TIMEOUT = 4.0


class Viewer:
    """One proctor's view of one candidate: a peer connection sending forwarded tracks."""

    def __init__(self, message: dict[str, Any], hub: Hub) -> None:
        self.session: str = message["session"]
        self.quality: str = message["quality"]
        self.reply_to: str = message["reply_to"]
        self.view_id: str = str(message["view_id"])
        self.hub = hub
        self.pc = new_peer_connection(media_server_ice())
        self.tracks: list[ForwardTrack] = []

    @property
    def key(self) -> tuple[str, str]:
        return self.reply_to, self.view_id

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        reason = only_media_codecs(self.pc)
        if reason:
            raise PublishError(reason)
        grid = self.quality == "grid"
        video = ["camera_grid", "screen_grid"] if grid else ["camera", "screen"]
        offered = [t.kind for t in self.pc.getTransceivers()]
        kinds = video[: offered.count("video")]
        if not grid and "audio" in offered:
            kinds.append("audio")
        for kind in kinds:
            # addTrack takes the first offered transceiver of the track's kind that has no track
            # yet: camera goes to the first video transceiver, screen to the second.
            track = ForwardTrack(self.hub.feed(kind))
            sender = self.pc.addTrack(track)
            forward_keyframe_requests(sender, track.request_keyframe)
            self.tracks.append(track)
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return with_public_address(self.pc.localDescription.sdp, settings.MEDIA_PUBLIC_ADDRESS)

    async def close(self) -> None:
        for track in self.tracks:
            track.stop()
        await self.pc.close()


class MediaServer:
    def __init__(self, layer=None) -> None:
        self.layer = layer or get_channel_layer()
        self.hubs: dict[str, Hub] = {}
        self.publishers: dict[str, Publisher] = {}
        self.viewers: dict[tuple[str, str], Viewer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        self._epochs = itertools.count(1)
        self._heartbeat: asyncio.Task | None = None
        self._handlers = {
            api.PUBLISH: self._publish,
            api.VIEW: self._view,
            api.UNVIEW: self._unview,
            api.HANGUP: self._hangup,
            api.SNAPSHOT: self._snapshot,
        }

    async def serve(self) -> None:
        """Handle messages until cancelled; close every peer connection on the way out."""
        check_aiortc()
        logger.info("media server receiving on %s", api.MEDIA_CHANNEL)
        self._heartbeat = asyncio.ensure_future(
            beat_forever(lambda: {"publishers": len(self.publishers), "viewers": len(self.viewers)})
        )
        try:
            while True:
                message = await self.layer.receive(api.MEDIA_CHANNEL)
                task = asyncio.ensure_future(self.handle(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await self.close()

    async def handle(self, message: dict[str, Any]) -> None:
        handler = self._handlers.get(message.get("type"))
        if handler is None:
            logger.warning("media: unknown message type %r", message.get("type"))
            return
        session = message.get("session")
        lock = (
            self._locks.setdefault(session, asyncio.Lock()) if session else contextlib.nullcontext()
        )
        try:
            async with lock:
                await handler(message)
        except Exception as exc:
            if not isinstance(exc, (PublishError, KeyError, ValueError)):
                logger.exception("media: %s for %s failed", message.get("type"), session)
            reason = str(exc) if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}"
            await self._reply(message, {"type": api.ERROR, "session": session, "reason": reason})

    async def _reply(self, request: dict[str, Any], message: dict[str, Any]) -> None:
        if request.get("reply_to"):
            await self.layer.send(request["reply_to"], message)

    def _hub(self, session: str) -> Hub:
        if session not in self.hubs:
            self.hubs[session] = Hub(session)
        return self.hubs[session]

    def _forget_idle(self, session: str) -> None:
        hub = self.hubs.get(session)
        if hub is not None and hub.idle and session not in self.publishers:
            del self.hubs[session]
            self._locks.pop(session, None)

    # --- handlers ------------------------------------------------------------------------------
    async def _publish(self, message: dict[str, Any]) -> None:
        session = message["session"]
        old = self.publishers.pop(session, None)
        if old is not None:
            logger.info("media: %s publishes again; replacing its previous connection", session)
            await old.close(replaced=True)
        publisher = Publisher(
            hub=self._hub(session),
            epoch=next(self._epochs),
            message=message,
            notify=self.layer.group_send,
        )
        publisher.pc.on("connectionstatechange", lambda: self._on_publisher_state(publisher))
        try:
            sdp = await publisher.answer(message["sdp"])
        except Exception:
            await publisher.close(replaced=True)
            raise
        self.publishers[session] = publisher
        logger.info(
            "media: publish %s kinds=%s from %s",
            session,
            sorted(publisher.kinds.values()),
            publisher.reply_to,
        )
        await self._reply(message, {"type": api.ANSWER, "session": session, "sdp": sdp})

    def _on_publisher_state(self, publisher: Publisher) -> None:
        if publisher.pc.connectionState in ("failed", "closed") and not publisher.closed:
            logger.info(
                "media: publish %s connection %s", publisher.session, publisher.pc.connectionState
            )
            self._spawn(self._end_publisher(publisher))

    async def _end_publisher(self, publisher: Publisher) -> None:
        await publisher.close()
        if self.publishers.get(publisher.session) is publisher:
            del self.publishers[publisher.session]
        self._forget_idle(publisher.session)

    async def _view(self, message: dict[str, Any]) -> None:
        hub = self._hub(message["session"])
        viewer = Viewer(message, hub)
        old = self.viewers.pop(viewer.key, None)
        if old is not None:
            await old.close()
        viewer.pc.on("connectionstatechange", lambda: self._on_viewer_state(viewer))
        try:
            sdp = await viewer.answer(message["sdp"])
        except Exception:
            await viewer.close()
            self._forget_idle(viewer.session)
            raise
        self.viewers[viewer.key] = viewer
        logger.info(
            "media: view %s %s by %s/%s",
            viewer.session,
            viewer.quality,
            viewer.reply_to,
            viewer.view_id,
        )
        await self._reply(
            message,
            {"type": api.ANSWER, "session": viewer.session, "view_id": viewer.view_id, "sdp": sdp},
        )

    def _on_viewer_state(self, viewer: Viewer) -> None:
        if (
            viewer.pc.connectionState in ("failed", "closed")
            and self.viewers.get(viewer.key) is viewer
        ):
            self._spawn(self._end_viewer(viewer))

    async def _end_viewer(self, viewer: Viewer) -> None:
        if self.viewers.get(viewer.key) is viewer:
            del self.viewers[viewer.key]
        await viewer.close()
        logger.info(
            "media: view %s closed (%s/%s)", viewer.session, viewer.reply_to, viewer.view_id
        )
        self._forget_idle(viewer.session)

    async def _unview(self, message: dict[str, Any]) -> None:
        viewer = self.viewers.get((message["reply_to"], str(message["view_id"])))
        if viewer is not None:
            await self._end_viewer(viewer)

    async def _hangup(self, message: dict[str, Any]) -> None:
        channel = message["reply_to"]
        for viewer in [v for v in self.viewers.values() if v.reply_to == channel]:
            await self._end_viewer(viewer)
        for publisher in [p for p in self.publishers.values() if p.reply_to == channel]:
            logger.info("media: publish %s closed (hang-up)", publisher.session)
            await self._end_publisher(publisher)

    async def _snapshot(self, message: dict[str, Any]) -> None:
        session = message["session"]
        publisher = self.publishers.get(session)
        if publisher is None:
            raise PublishError("the candidate is not sending video")
        stills = await publisher.stills(
            list(message.get("kinds") or api.STILL_KINDS),
            timeout=SNAPSHOT_TIMEOUT,
            meta=dict(message.get("meta") or {}),
            taken_by_request=True,
        )
        if not stills:
            raise PublishError("no picture came from the candidate in time")
        await self._reply(
            message, {"type": api.SNAPSHOT_TAKEN, "session": session, "stills": stills}
        )

    # --- lifecycle -------------------------------------------------------------------------------
    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Close every peer connection; recordings finish in their threads."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()  # gone from /healthz at once, not when its report expires
        for viewer in list(self.viewers.values()):
            await viewer.close()
        self.viewers.clear()
        for publisher in list(self.publishers.values()):
            if not publisher.closed:
                await publisher.close()
                logger.info("media: publish %s closed (server stopping)", publisher.session)
        recorders = [r for p in self.publishers.values() for r in p.recorders]
        self.publishers.clear()
        self.hubs.clear()
        loop = asyncio.get_running_loop()
        for recorder in recorders:
            await loop.run_in_executor(None, recorder.join)
