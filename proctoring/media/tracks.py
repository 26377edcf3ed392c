"""The track a viewer's peer connection sends: a feed's encoded frames, passed through.

aiortc's sender packetizes an `av.Packet` as it is instead of encoding a frame, so a viewer costs
the server RTP packetization only. The track's timestamps continue smoothly across re-publishes
(each new peer connection starts its RTP clock again), so the viewer's jitter buffer never sees
time run backwards and the viewer keeps playing without doing anything.
"""

from __future__ import annotations

from fractions import Fraction

import av
from aiortc import MediaStreamTrack

from .feeds import EncodedFrame, Feed, Subscription

# Within one source, a timestamp step larger than this is a discontinuity (a looping test clip,
# a sender restarting its clock): the output clock is then carried on by wall time instead.
MAX_STEP_SECONDS = 5.0


class ForwardTrack(MediaStreamTrack):
    """Frames of `feed`, from the moment the viewer's connection starts to pull them."""

    def __init__(self, feed: Feed) -> None:
        super().__init__()
        self.kind = "video" if feed.is_video else "audio"
        self._feed = feed
        self._subscription: Subscription | None = None
        self._source: tuple[int, int] | None = None  # (epoch, source timestamp at base)
        self._base = 0  # output timestamp at the source base
        self._last_out = 0
        self._last_in: EncodedFrame | None = None

    def request_keyframe(self) -> None:
        self._feed.request_keyframe()

    async def recv(self) -> av.Packet:
        # Subscribe on the first pull, not at creation: until the connection is up nobody reads,
        # and a queue filled before that would only be thrown away.
        if self._subscription is None:
            self._subscription = self._feed.subscribe()
        frame = await self._subscription.get()
        packet = av.Packet(frame.data)
        packet.pts = self._output_timestamp(frame)
        packet.time_base = Fraction(1, frame.clock_rate)
        return packet

    def _output_timestamp(self, frame: EncodedFrame) -> int:
        last = self._last_in
        step = None if last is None else frame.timestamp - last.timestamp
        if (
            self._source is None or last is None or frame.epoch != self._source[0]
            or step < 0 or step > MAX_STEP_SECONDS * frame.clock_rate
        ):
            gap = 0 if last is None else max(1, round((frame.arrival - last.arrival) * frame.clock_rate))
            self._base = self._last_out + gap
            self._source = (frame.epoch, frame.timestamp)
        self._last_in = frame
        self._last_out = self._base + frame.timestamp - self._source[1]
        return self._last_out

    def stop(self) -> None:
        super().stop()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
