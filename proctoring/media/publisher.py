"""One candidate's peer connection on the server: what it receives, where the frames go, its state.

Each received track is tapped (aiortc_glue): its encoded frames go to the session's feeds (for
viewers), to a recorder, and to stills; the receiver's own track is still read to its end so that
"ended" is noticed and nothing queues up (STYLE.md: consume every track).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import MediaStreamError, RTCSessionDescription
from django.conf import settings

from . import conf, evidence
from .aiortc_glue import (
    new_peer_connection,
    only_media_codecs,
    request_keyframe,
    tap_receiver,
    vp8_keyframe_size,
    without_receiver_estimates,
)
from .feeds import EncodedFrame, Feed, Hub
from .ice import media_server_ice, with_public_address
from .interface import REPORTED_TRACKS, STATE, STILL_KINDS
from .recorder import Recorder

logger = logging.getLogger(__name__)

# What a published kind also fills when the page did not send the small copy of it: grid viewers
# then get the full-size stream (correct, only heavier for their browser).
GRID_FALLBACK = {"camera": "camera_grid", "screen": "screen_grid"}
CONNECTION_STATES = {
    "new": "connecting",
    "connecting": "connecting",
    "connected": "connected",
    "failed": "failed",
    "closed": "closed",
}


class PublishError(Exception):
    """The offer cannot be taken; the message goes back to the page."""


class Publisher:
    def __init__(
        self,
        *,
        hub: Hub,
        epoch: int,
        message: dict[str, Any],
        notify: Callable[[str, dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.hub, self.epoch = hub, epoch
        self.session: str = message["session"]
        self.reply_to: str = message["reply_to"]
        self.notify_group: str = message.get("notify_group") or ""
        self.meta: dict[str, Any] = dict(message.get("meta") or {})
        self.kinds: dict[str, str] = dict(message.get("kinds") or {})
        self._notify = notify
        self.pc = new_peer_connection(media_server_ice())
        self._targets: dict[str, list[Feed]] = {}
        self._recorders: dict[str, tuple[Recorder, str]] = {}
        self._last_frame: dict[str, float] = {}
        self._ended: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._reported: tuple[str, dict[str, str]] | None = None
        self.replaced = False
        self.closed = False

    # --- setting up ------------------------------------------------------------------------------
    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        reason = only_media_codecs(self.pc)
        if reason:
            raise PublishError(reason)
        without_receiver_estimates(self.pc)
        received: dict[str, Any] = {}
        for transceiver in self.pc.getTransceivers():
            kind = self.kinds.get(transceiver.mid)
            if kind is None or transceiver.receiver.track is None:
                continue  # not described by the page: still read to its end below, never used
            if kind in received:
                raise PublishError(f"two transceivers carry {kind}")
            received[kind] = transceiver.receiver
        for transceiver in self.pc.getTransceivers():
            receiver = transceiver.receiver
            kind = next((k for k, r in received.items() if r is receiver), None)
            if receiver.track is not None:
                self._spawn(self._read_to_end(kind, receiver.track))
            if kind is not None:
                tap_receiver(receiver, self._sink(kind))
        if "camera" not in received and "screen" not in received and "audio" not in received:
            raise PublishError("nothing to publish: no camera, screen or audio transceiver")
        self._wire(received)
        self.pc.on("connectionstatechange", self._report_soon)
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        self._spawn(self._watch())
        self._spawn(self._take_stills())
        return with_public_address(self.pc.localDescription.sdp, settings.MEDIA_PUBLIC_ADDRESS)

    def _wire(self, received: dict[str, Any]) -> None:
        def requester(receiver) -> Callable[[], None]:
            return lambda: request_keyframe(receiver)

        for kind, receiver in received.items():
            targets = [self.hub.feed(kind)]
            fallback = GRID_FALLBACK.get(kind)
            if fallback and fallback not in received:
                targets.append(self.hub.feed(fallback))
            for feed in targets:
                feed.attach(self.epoch, requester(receiver))
            self._targets[kind] = targets
        video, audio = "camera" in received, "audio" in received
        if video or audio:
            recorder = Recorder(
                session=self.session,
                name="camera" if video else "audio",
                video=video,
                audio=audio,
                meta=self.meta,
                request_keyframe=self.hub.feed("camera").request_keyframe,
            )
            self._recorders = {"camera": (recorder, "video"), "audio": (recorder, "audio")}
        if "screen" in received:
            recorder = Recorder(
                session=self.session,
                name="screen",
                video=True,
                audio=False,
                meta=self.meta,
                request_keyframe=self.hub.feed("screen").request_keyframe,
            )
            self._recorders["screen"] = (recorder, "video")

    def _sink(self, kind: str) -> Callable[[int, Any], None]:
        is_video = kind != "audio"
        targets = lambda: self._targets.get(kind, ())  # noqa: E731 - filled by _wire, after tapping

        def sink(clock_rate: int, jitter_frame: Any) -> None:
            now = time.monotonic()
            size = vp8_keyframe_size(jitter_frame.data) if is_video else None
            frame = EncodedFrame(
                data=jitter_frame.data,
                timestamp=jitter_frame.timestamp,
                clock_rate=clock_rate,
                keyframe=size is not None or not is_video,
                arrival=now,
                epoch=self.epoch,
                width=size[0] if size else 0,
                height=size[1] if size else 0,
            )
            self._last_frame[kind] = now
            for feed in targets():
                feed.push(frame)
            recording = self._recorders.get(kind)
            if recording is not None:
                recording[0].push(recording[1], frame)

        return sink

    # --- running -----------------------------------------------------------------------------------
    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_to_end(self, kind: str | None, track) -> None:
        # Frames never come (the tap keeps them from the decoder); the end-of-stream marker does.
        try:
            while True:
                await track.recv()
        except MediaStreamError:
            pass
        if kind is not None:
            self._ended.add(kind)
            self._report_soon()

    async def _watch(self) -> None:
        while not self.closed:
            await self.report()
            await asyncio.sleep(1.0)

    async def _take_stills(self) -> None:
        interval = conf.still_seconds()
        await self._connected()
        while not self.closed:
            started = time.monotonic()
            await self.stills(
                [k for k in STILL_KINDS if k in self._targets],
                timeout=interval,
                meta=self.meta,
                taken_by_request=False,
            )
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def _connected(self) -> None:
        while self.pc.connectionState != "connected" and not self.closed:
            await asyncio.sleep(0.2)

    async def stills(
        self, kinds: list[str], *, timeout: float, meta: dict[str, Any], taken_by_request: bool
    ) -> list[dict[str, str]]:
        """Take a still of each kind this publisher sends; return those that worked."""
        feeds = {k: self._targets[k][0] for k in kinds if k in self._targets}
        results = await asyncio.gather(
            *(
                evidence.take_still(
                    session=self.session,
                    kind=kind,
                    feed=feed,
                    timeout=timeout,
                    meta=meta,
                    taken_by_request=taken_by_request,
                )
                for kind, feed in feeds.items()
            )
        )
        return [r for r in results if r is not None]

    # --- state -----------------------------------------------------------------------------------
    def _state(self) -> tuple[str, dict[str, str]]:
        connection = (
            "closed"
            if self.closed
            else CONNECTION_STATES.get(self.pc.connectionState, "connecting")
        )
        stall = conf.stall_seconds()
        now = time.monotonic()
        tracks = {}
        for kind in REPORTED_TRACKS:
            last = self._last_frame.get(kind)
            if kind in self._ended or (last is not None and (self.closed or now - last > stall)):
                tracks[kind] = "ended"
            elif last is not None:
                tracks[kind] = "live"
            else:
                tracks[kind] = "missing"
        return connection, tracks

    async def report(self) -> None:
        """Tell notify_group the state if it changed since last told (never after a replacement)."""
        if self.replaced or not self.notify_group:
            return
        state = self._state()
        if state == self._reported:
            return
        self._reported = state
        await self._notify(
            self.notify_group,
            {
                "type": STATE,
                "session": self.session,
                "connection": state[0],
                "tracks": state[1],
                "at": dt.datetime.now(dt.UTC).isoformat(),
            },
        )

    def _report_soon(self) -> None:
        if not self.closed:
            self._spawn(self.report())

    # --- ending ------------------------------------------------------------------------------------
    async def close(self, *, replaced: bool = False) -> None:
        if self.closed:
            return
        self.closed, self.replaced = True, replaced
        for targets in self._targets.values():
            for feed in targets:
                feed.detach(self.epoch)
        for task in tuple(self._tasks):
            task.cancel()
        await self.pc.close()
        for recorder in {r for r, _ in self._recorders.values()}:
            recorder.close()
        await self.report()

    @property
    def recorders(self) -> list[Recorder]:
        return list({r for r, _ in self._recorders.values()})
