"""Python stand-ins for a candidate's page (publisher) and a proctor's page (viewer).

They speak the message contract of proctoring.media.interface over a channel layer, like the
web side will, and use aiortc the way a browser uses WebRTC: one peer connection, MAX_BUNDLE,
the whole offer sent once ICE gathering is complete.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import av
from aiortc import (
    MediaStreamError,
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)

from proctoring.media import interface as api

CAMERA_COLOUR = (200, 40, 40)  # red: recognisable in a decoded still
SCREEN_COLOUR = (40, 60, 200)  # blue


class ColourTrack(MediaStreamTrack):
    """A video track of one colour with a moving white square, at `fps` frames a second."""

    kind = "video"

    def __init__(self, width: int, height: int, fps: float, colour: tuple[int, int, int]) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        from PIL import Image, ImageDraw

        self._frames = []
        for step in range(8):  # a few pictures, prepared once: the client must stay cheap
            image = Image.new("RGB", (width, height), colour)
            side = max(8, height // 6)
            x = (width - side) * step // 7
            ImageDraw.Draw(image).rectangle((x, 0, x + side, side), fill=(255, 255, 255))
            self._frames.append(av.VideoFrame.from_image(image).reformat(format="yuv420p"))
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = self._frames[self._count % len(self._frames)]
        frame.pts = round(self._count * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self._count += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone, 20 ms frames, mono 48 kHz."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        samples = 960
        pcm = b"".join(
            int(8000 * math.sin(2 * math.pi * 440 * i / 48000)).to_bytes(2, "little", signed=True)
            for i in range(samples)
        )
        self._pcm, self._samples, self._count = pcm, samples, 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count * 0.02 - time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=self._samples)
        frame.planes[0].update(self._pcm)
        frame.sample_rate = 48000
        frame.pts = self._count * self._samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._count += 1
        return frame


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


async def wait_reply(layer, channel: str, timeout: float = 20.0) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout)


@dataclass
class Candidate:
    """A publishing peer connection: camera, microphone, screen (and small grid copies)."""

    layer: object
    session: str
    notify_group: str = "media-test"
    grid_copies: bool = True
    meta: dict = field(default_factory=lambda: {"enrolment": 1})
    pc: RTCPeerConnection | None = None
    reply_to: str = ""

    async def publish(self, tracks: dict[str, MediaStreamTrack] | None = None) -> dict:
        """Publish, return the server's answer message (media.answer or media.error)."""
        if not self.reply_to:
            self.reply_to = await self.layer.new_channel("candidate.")
        tracks = tracks or default_tracks(self.grid_copies)
        self.pc = new_pc()
        transceivers = {kind: self.pc.addTransceiver(track, direction="sendonly") for kind, track in tracks.items()}
        await self.pc.setLocalDescription(await self.pc.createOffer())
        kinds = {t.mid: kind for kind, t in transceivers.items()}
        await api.send_publish(layer=self.layer, session=self.session, sdp=self.pc.localDescription.sdp,
                               kinds=kinds, reply_to=self.reply_to, notify_group=self.notify_group, meta=self.meta)
        reply = await wait_reply(self.layer, self.reply_to)
        if reply["type"] == api.ANSWER:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        return reply

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()


def default_tracks(grid_copies: bool = True) -> dict[str, MediaStreamTrack]:
    tracks: dict[str, MediaStreamTrack] = {
        "camera": ColourTrack(320, 240, 10, CAMERA_COLOUR),
        "audio": ToneTrack(),
        "screen": ColourTrack(640, 360, 5, SCREEN_COLOUR),
    }
    if grid_copies:
        tracks["camera_grid"] = ColourTrack(160, 120, 3, CAMERA_COLOUR)
        tracks["screen_grid"] = ColourTrack(320, 180, 2, SCREEN_COLOUR)
    return tracks


class Proctor:
    """A viewing peer connection that counts and keeps the latest frame of each kind."""

    def __init__(self, layer, session: str, quality: str, view_id: str = "v1") -> None:
        self.layer, self.session, self.quality, self.view_id = layer, session, quality, view_id
        self.frames: dict[str, int] = defaultdict(int)
        self.latest: dict[str, av.frame.Frame] = {}
        self.pc: RTCPeerConnection | None = None
        self.reply_to = ""
        self._readers: list[asyncio.Task] = []

    async def view(self) -> dict:
        self.reply_to = await self.layer.new_channel("proctor.")
        self.pc = new_pc()
        kinds = ["camera", "screen"] + (["audio"] if self.quality == "focus" else [])
        transceivers = []
        for kind in kinds:
            transceivers.append(self.pc.addTransceiver("audio" if kind == "audio" else "video", direction="recvonly"))

        @self.pc.on("track")
        def on_track(track):
            kind = next(k for k, t in zip(kinds, transceivers, strict=True) if t.receiver.track is track)
            self._readers.append(asyncio.ensure_future(self._read(kind, track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await api.send_view(layer=self.layer, session=self.session, quality=self.quality,
                            sdp=self.pc.localDescription.sdp, reply_to=self.reply_to, view_id=self.view_id)
        reply = await wait_reply(self.layer, self.reply_to)
        if reply["type"] == api.ANSWER:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        return reply

    async def _read(self, kind: str, track) -> None:
        try:
            while True:
                frame = await track.recv()
                self.frames[kind] += 1
                self.latest[kind] = frame
        except MediaStreamError:
            pass

    async def frames_after(self, kind: str, more: int, timeout: float = 20.0) -> av.frame.Frame:
        """Wait until `more` frames of `kind` arrived beyond now; return the latest."""
        target = self.frames[kind] + more
        deadline = time.monotonic() + timeout
        while self.frames[kind] < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.quality} viewer got {self.frames[kind]} {kind} frames, wanted {target}")
            await asyncio.sleep(0.1)
        return self.latest[kind]

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        if self.pc is not None:
            await self.pc.close()
