"""Encoded frames fanned out from whoever publishes a session's track to whoever watches it.

A Feed belongs to a session and one published kind ("camera", "camera_grid", "audio", …), not to
a peer connection: it outlives re-publishes, so a viewer subscribed to it keeps its track while
the candidate's page reloads, and a viewer that came first simply waits for frames. Frames stay
encoded (VP8/Opus) all the way: no decode, no re-encode per viewer (STYLE.md: MediaRelay's
per-viewer encode is what this avoids).

Everything here runs on the event loop; it is pure Python and knows nothing of aiortc.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

# A subscriber that falls this far behind is cut back to the next keyframe instead of queueing:
# a slow viewer must never make the server's memory grow.
VIDEO_QUEUE_FRAMES = 45
AUDIO_QUEUE_FRAMES = 100
# Browsers answer a keyframe request with a large frame; asking more often than this only costs.
KEYFRAME_REQUEST_INTERVAL = 0.5


@dataclass(slots=True, frozen=True)
class EncodedFrame:
    """One encoded picture or audio packet, as it came off a publisher's jitter buffer."""

    data: bytes
    timestamp: int  # RTP timestamp, in clock_rate units, starting near 0 for each receiver
    clock_rate: int
    keyframe: bool
    arrival: float  # time.monotonic() when it was complete
    epoch: int  # the publish (peer connection) it came from
    width: int = 0  # keyframes only
    height: int = 0


class Subscription:
    """A bounded queue of one viewer track on one feed."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.queue: asyncio.Queue[EncodedFrame] = asyncio.Queue(
            VIDEO_QUEUE_FRAMES if feed.is_video else AUDIO_QUEUE_FRAMES
        )
        # A video viewer can only start (or restart after a drop) at a keyframe.
        self.waiting_for_keyframe = feed.is_video

    def offer(self, frame: EncodedFrame) -> None:
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                self.feed.request_keyframe()
                return
            self.waiting_for_keyframe = False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._drop_backlog()
            if not self.feed.is_video:
                self.queue.put_nowait(frame)

    def _drop_backlog(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        if self.feed.is_video:
            self.waiting_for_keyframe = True
            self.feed.request_keyframe()

    async def get(self) -> EncodedFrame:
        return await self.queue.get()

    def close(self) -> None:
        self.feed.subscriptions.discard(self)


class Feed:
    """The current source of one kind of a session, and the subscriptions that read it."""

    def __init__(self, kind: str, *, is_video: bool) -> None:
        self.kind = kind
        self.is_video = is_video
        self.subscriptions: set[Subscription] = set()
        self._keyframe_waiters: list[asyncio.Future[EncodedFrame]] = []
        self._requester: Callable[[], None] | None = None
        self._epoch: int | None = None
        self._last_request = 0.0

    def attach(self, epoch: int, request_keyframe: Callable[[], None]) -> None:
        """Make the publish `epoch` the source; later pushes from older epochs are ignored."""
        self._epoch, self._requester = epoch, request_keyframe
        self._last_request = 0.0

    def detach(self, epoch: int) -> None:
        if self._epoch == epoch:
            self._epoch, self._requester = None, None

    @property
    def attached(self) -> bool:
        return self._epoch is not None

    def push(self, frame: EncodedFrame) -> None:
        if frame.epoch != self._epoch:
            return  # a replaced peer connection still draining
        for subscription in tuple(self.subscriptions):
            subscription.offer(frame)
        if frame.keyframe and self._keyframe_waiters:
            waiters, self._keyframe_waiters = self._keyframe_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(frame)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self.subscriptions.add(subscription)
        if self.is_video:
            self.request_keyframe()
        return subscription

    def request_keyframe(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._requester is None or (not force and now - self._last_request < KEYFRAME_REQUEST_INTERVAL):
            return
        self._last_request = now
        self._requester()

    async def next_keyframe(self, timeout: float) -> EncodedFrame | None:
        """Ask the publisher for a keyframe and return it, or None if none came in time."""
        waiter: asyncio.Future[EncodedFrame] = asyncio.get_running_loop().create_future()
        self._keyframe_waiters.append(waiter)
        self.request_keyframe(force=True)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return None
        finally:
            if waiter in self._keyframe_waiters:
                self._keyframe_waiters.remove(waiter)


class Hub:
    """A session's feeds: one per published kind, created on first use by a publisher or viewer."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.feeds: dict[str, Feed] = {}

    def feed(self, kind: str) -> Feed:
        if kind not in self.feeds:
            self.feeds[kind] = Feed(kind, is_video=kind != "audio")
        return self.feeds[kind]

    @property
    def idle(self) -> bool:
        """Return True when nobody publishes or watches: the hub can be forgotten."""
        return all(not feed.attached and not feed.subscriptions for feed in self.feeds.values())
