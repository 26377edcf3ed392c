"""Recordings: the VP8 and Opus frames a candidate sends, written into WebM as they are.

No decoding, no encoding: muxing ~35 frames a second costs next to nothing, so a recorder keeps up
whatever the picture size. Muxing is file I/O, so it runs in a thread of its own behind a bounded
queue; if the disk stalls, frames are dropped (video until the next keyframe, which is asked for),
never queued without bound. A file is closed and reported to the evidence hook every
PROCTORING_RECORDING_SEGMENT_SECONDS (at a keyframe, so each file plays on its own) and when the
publish ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import struct
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from . import conf, evidence
from .feeds import EncodedFrame

logger = logging.getLogger(__name__)

QUEUE_FRAMES = 300  # ~8 s of camera and microphone
MS = Fraction(1, 1000)
# OpusHead (RFC 7845 §5.1): version 1, 2 channels, 312 samples pre-skip, 48 kHz, no gain, family 0.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48000, 0, 0)
# A timestamp further than this from the arrival clock is a jump in the source: re-anchor.
MAX_DRIFT_MS = 1000


class Recorder:
    """One WebM file at a time for `name` ("camera": camera video + microphone; "screen")."""

    def __init__(self, *, session: str, name: str, video: bool, audio: bool, meta: dict[str, Any],
                 request_keyframe: Callable[[], None]) -> None:
        self.session, self.name, self.meta = session, name, meta
        self._has_video, self._has_audio = video, audio
        self._request_keyframe = request_keyframe
        self._queue: queue.Queue[tuple[str, EncodedFrame] | None] = queue.Queue(QUEUE_FRAMES)
        self._video_gap = False  # loop side: a video frame was dropped, skip to a keyframe
        self.dropped = 0
        self.files: list[Path] = []
        self._container: av.container.OutputContainer | None = None
        self._thread = threading.Thread(target=self._run, name=f"media-record-{name}", daemon=True)
        self._thread.start()

    # --- event-loop side -----------------------------------------------------------------------
    def push(self, stream: str, frame: EncodedFrame) -> None:
        if stream == "video" and self._video_gap:
            if not frame.keyframe:
                return
            self._video_gap = False
        try:
            self._queue.put_nowait((stream, frame))
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 1000 == 0:
                logger.warning("media: recorder of %s %s behind, %d frames dropped", self.session, self.name,
                               self.dropped)
            if stream == "video":
                self._video_gap = True
                self._request_keyframe()

    def close(self) -> None:
        """Finish the current file in the background; returns at once."""
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # the thread is behind: make room for the end marker
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(None)

    def join(self, timeout: float = 10.0) -> None:
        self._thread.join(timeout)

    # --- recording thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._write(*item)
            except Exception:
                logger.exception("media: recording %s %s failed; starting a new file", self.session, self.name)
                self._finish()
        self._finish()

    def _write(self, stream: str, frame: EncodedFrame) -> None:
        if self._container is None:
            if self._has_video and not (stream == "video" and frame.keyframe):
                return  # a file starts with a picture
            self._open(frame)
        elif stream == "video" and frame.keyframe and time.monotonic() - self._opened > conf.segment_seconds():
            self._finish()
            self._open(frame)
        target = self._streams.get(stream)
        if target is None:
            return
        packet = av.Packet(frame.data)
        packet.stream = target
        packet.time_base = MS
        packet.pts = packet.dts = self._pts(stream, frame)
        if frame.keyframe or stream == "audio":
            packet.is_keyframe = True
        self._container.mux(packet)

    def _open(self, first: EncodedFrame) -> None:
        self._started_at = dt.datetime.now(dt.UTC)
        self._opened = time.monotonic()
        self._origin = first.arrival
        self._anchor: dict[str, tuple[int, int]] = {}
        self._last_pts: dict[str, int] = {}
        path = conf.session_dir(self.session) / f"{self.name}-{evidence.utc_stamp(self._started_at)}.webm"
        path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(path), "w", format="webm")
        self._streams: dict[str, Any] = {}
        if self._has_video:
            video = container.add_stream("vp8")
            video.width, video.height = first.width or 640, first.height or 480
            video.time_base = MS
            self._streams["video"] = video
        if self._has_audio:
            audio = container.add_stream("opus", rate=48000)
            audio.codec_context.extradata = OPUS_HEAD
            audio.time_base = MS
            self._streams["audio"] = audio
        self._container, self._path = container, path

    def _pts(self, stream: str, frame: EncodedFrame) -> int:
        by_arrival = round((frame.arrival - self._origin) * 1000)
        anchor = self._anchor.get(stream)
        pts = None
        if anchor is not None:
            pts = anchor[1] + (frame.timestamp - anchor[0]) * 1000 // frame.clock_rate
            if abs(pts - by_arrival) > MAX_DRIFT_MS:
                pts = None
        if pts is None:  # first frame of the stream, or its clock jumped
            self._anchor[stream] = (frame.timestamp, by_arrival)
            pts = by_arrival
        pts = max(pts, self._last_pts.get(stream, -1) + 1)
        self._last_pts[stream] = pts
        return pts

    def _finish(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        try:
            container.close()
        except Exception:
            logger.exception("media: closing %s failed", self._path)
        size = self._path.stat().st_size if self._path.exists() else 0
        self.files.append(self._path)
        evidence.report(kind="recording", session=self.session, track=self.name,
                        path=self._path.relative_to(conf.media_root()).as_posix(),
                        at=self._started_at, size=size, meta=self.meta)
