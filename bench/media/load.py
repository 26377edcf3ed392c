"""Load processes of bench/media_grid.py: `python -m bench.media.load candidates|proctor …`.

candidates FIRST COUNT PREFIX: COUNT candidates (sessions PREFIX-FIRST …) each publishing camera,
    microphone, screen and the two grid copies from the pre-encoded clips: sending costs packetizing
    only, as in a browser that already encoded them. Prints "ready" once all are connected.
proctor QUALITY SESSION…: one proctor viewing every SESSION (grid or focus); prints "frames N" (all
    video frames received so far) every second.
Both speak the channel-layer contract (proctoring.media.interface) on REDIS_URL, and run until
SIGTERM.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import signal
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import av  # noqa: E402
from aiortc import (  # noqa: E402
    MediaStreamError,
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from channels.layers import get_channel_layer  # noqa: E402

from bench.media.clips import CLIPS, clip_path, load_packets  # noqa: E402
from proctoring.media import interface as api  # noqa: E402

GROUP = os.environ.get("BENCH_MEDIA_GROUP", "bench-media")


class ClipTrack(MediaStreamTrack):
    """Pre-encoded frames of a clip at their frame rate, looping, with timestamps that keep going."""

    def __init__(self, kind: str, packets: list[bytes], fps: float, clock_rate: int) -> None:
        super().__init__()
        self.kind = kind
        self._packets, self._interval, self._clock_rate = packets, 1 / fps, clock_rate
        self._ticks = round(clock_rate / fps)
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count * self._interval - time.monotonic()))
        packet = av.Packet(self._packets[self._count % len(self._packets)])
        packet.pts = self._count * self._ticks
        packet.time_base = fractions.Fraction(1, self._clock_rate)
        self._count += 1
        return packet


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


async def run_candidates(first: int, count: int, prefix: str) -> None:
    layer = get_channel_layer()
    packets = {kind: load_packets(clip_path(kind)) for kind in (*CLIPS, "audio")}
    pcs = []

    async def publish(index: int) -> None:
        pc = new_pc()
        tracks = {kind: ClipTrack("video", packets[kind], clip.fps, 90000) for kind, clip in CLIPS.items()}
        tracks["audio"] = ClipTrack("audio", packets["audio"], 50, 48000)
        transceivers = {kind: pc.addTransceiver(track, direction="sendonly") for kind, track in tracks.items()}
        await pc.setLocalDescription(await pc.createOffer())
        reply_to = await layer.new_channel("bench-candidate.")
        await api.send_publish(layer=layer, session=f"{prefix}-{index}", sdp=pc.localDescription.sdp,
                               kinds={t.mid: kind for kind, t in transceivers.items()}, reply_to=reply_to,
                               notify_group=GROUP, meta={"bench": index})
        reply = await asyncio.wait_for(layer.receive(reply_to), 30)
        if reply["type"] != api.ANSWER:
            raise SystemExit(f"publish {index}: {reply}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        pcs.append(pc)

    for index in range(first, first + count):  # one by one, as candidates trickle in
        await publish(index)
    while any(pc.connectionState != "connected" for pc in pcs):
        await asyncio.sleep(0.2)
    print("ready", flush=True)
    await asyncio.Event().wait()


async def run_proctor(quality: str, sessions: list[str]) -> None:
    layer = get_channel_layer()
    frames = [0]

    async def read(track) -> None:
        try:
            while True:
                await track.recv()
                frames[0] += 1
        except MediaStreamError:
            pass

    for session in sessions:
        pc = new_pc()
        for kind in ("video", "video", *(["audio"] if quality == "focus" else [])):
            pc.addTransceiver(kind, direction="recvonly")
        pc.on("track", lambda track: asyncio.ensure_future(read(track)) if track.kind == "video"
              else asyncio.ensure_future(drain(track)))
        await pc.setLocalDescription(await pc.createOffer())
        reply_to = await layer.new_channel("bench-proctor.")
        await api.send_view(layer=layer, session=session, quality=quality, sdp=pc.localDescription.sdp,
                            reply_to=reply_to, view_id=f"{quality}-{session}")
        reply = await asyncio.wait_for(layer.receive(reply_to), 30)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    while True:
        print(f"frames {frames[0]}", flush=True)
        await asyncio.sleep(1)


async def drain(track) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass


def main() -> None:
    role, *args = sys.argv[1:]
    loop = asyncio.new_event_loop()
    if role == "candidates":
        job = loop.create_task(run_candidates(int(args[0]), int(args[1]), args[2]))
    else:
        job = loop.create_task(run_proctor(args[0], args[1:]))
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, job.cancel)
    try:
        loop.run_until_complete(job)
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    main()
