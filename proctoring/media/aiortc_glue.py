"""The few places where this package relies on aiortc's internals, kept together and checked.

aiortc decodes every received frame in a thread per receiver; the media server needs none of that
(it records, forwards and takes stills from the encoded VP8/Opus frames), and decoding was more
than half of a candidate's CPU cost. So each receiver's queue to its decoder thread is wrapped:
complete encoded frames go to our sink instead, and only the end-of-stream marker passes through,
so that the receiver's track still ends when the connection does. Checked against aiortc 1.14-1.16;
`check_aiortc()` fails loudly at start-up if these internals move.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)

logger = logging.getLogger(__name__)

_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
START_KBPS = 1000
MEDIA_CODECS = {"video": "video/VP8", "audio": "audio/opus"}


def new_peer_connection(ice_servers: list[RTCIceServer] | None = None) -> RTCPeerConnection:
    """Return a peer connection for one publisher or viewer.

    MAX_BUNDLE: with the default policy a second video track (camera + screen in one connection)
    is mixed into the first or lost (STYLE.md). Without ICE servers aioice's host candidates (every
    non-loopback address of this machine) are what a browser reaches, and it learns the browser's
    address from its connectivity checks even when the browser hides its own behind mDNS; with
    them (ice.media_server_ice) a relay candidate on the TURN server is offered too.
    """
    return RTCPeerConnection(
        RTCConfiguration(iceServers=ice_servers or [], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


def check_aiortc() -> None:
    """Raise RuntimeError if the aiortc internals this package uses are not there."""
    if _DECODER_QUEUE not in RTCRtpReceiver.__init__.__code__.co_names:
        raise RuntimeError("aiortc changed: RTCRtpReceiver has no decoder queue to tap")
    for name in ("_send_rtcp_pli", "getSynchronizationSources"):
        if not hasattr(RTCRtpReceiver, name):
            raise RuntimeError(f"aiortc changed: RTCRtpReceiver.{name} is gone")
    if not hasattr(RTCRtpSender, "_send_keyframe"):
        raise RuntimeError("aiortc changed: RTCRtpSender._send_keyframe is gone")


class _TapQueue:
    """Stands in for the receiver's queue.Queue to its decoder thread.

    The receiver puts into it; the decoder thread, when started after the tap, gets from it.
    """

    def __init__(self, original: Any, sink: Callable[[Any, Any], None]) -> None:
        self._original, self._sink = original, sink

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._original.get(*args, **kwargs)

    def put(self, item: Any) -> None:
        if item is None:  # end of stream: let the decoder thread end the track
            self._original.put(None)
            return
        codec, encoded_frame = item
        try:
            self._sink(codec, encoded_frame)
        except Exception:  # a bug in a sink must not kill aiortc's RTP handling
            logger.exception("media: frame sink failed")


def tap_receiver(receiver: RTCRtpReceiver, sink: Callable[[int, Any], None]) -> None:
    """Send the receiver's complete encoded frames to `sink(clock_rate, frame)`, never decode them.

    `frame.data` is the whole encoded frame (VP8 payload descriptors removed), `frame.timestamp`
    its RTP timestamp counted from the receiver's first frame. Called on the event loop.
    """
    original = getattr(receiver, _DECODER_QUEUE, None)
    if original is None or not hasattr(original, "put"):
        raise RuntimeError("aiortc changed: RTCRtpReceiver has no decoder queue to tap")
    setattr(
        receiver,
        _DECODER_QUEUE,
        _TapQueue(original, lambda codec, frame: sink(codec.clockRate, frame)),
    )


def only_media_codecs(pc: RTCPeerConnection) -> str | None:
    """Keep VP8 and Opus (and VP8's retransmission) in every transceiver, before createAnswer.

    The server records and forwards the very bytes it receives, so it must receive the codecs it
    records (WebM holds VP8 and Opus) and send viewers the codec they get. Returns a reason when
    the offer lacks one of them.
    """
    for transceiver in pc.getTransceivers():
        wanted = MEDIA_CODECS.get(transceiver.kind)
        codecs = transceiver._codecs  # noqa: SLF001 - negotiated by setRemoteDescription
        kept = [c for c in codecs if c.mimeType.lower() == wanted.lower()]
        if not kept:
            return f"the offer has no {wanted} for {transceiver.kind}"
        payload_types = {c.payloadType for c in kept}
        kept += [
            c
            for c in codecs
            if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in payload_types
        ]
        transceiver._codecs = kept  # noqa: SLF001
    return None


def without_receiver_estimates(pc: RTCPeerConnection) -> None:
    """Stop aiortc from sending REMB bandwidth estimates to a publisher, before createAnswer.

    REMB is one estimate for the whole connection, but each aiortc receiver sends its own (one
    stream's rate); Chromium took the smallest as the cap for everything and held camera and
    screen at 30 kbps, 320x240. aiortc estimates only from the abs-send-time header extension,
    so not negotiating it turns REMB off; Chromium then raises its rate on the receiver reports'
    loss figures, up to the maxBitrate publisher.js sets on each stream.
    """
    for transceiver in pc.getTransceivers():
        for codec in transceiver._codecs:  # noqa: SLF001
            if codec.mimeType.lower() == "video/vp8":
                # Without an estimate from us Chromium starts at 300 kbps for all its streams and
                # sends a smaller camera for half a minute; start where publisher.js's caps are.
                codec.parameters["x-google-start-bitrate"] = START_KBPS
        transceiver._headerExtensions = [  # noqa: SLF001 - negotiated by setRemoteDescription
            extension
            for extension in transceiver._headerExtensions  # noqa: SLF001
            if not extension.uri.endswith("abs-send-time")
        ]


def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Send a picture loss indication to the publisher of this receiver's stream (no wait)."""
    sources = receiver.getSynchronizationSources()
    if sources:
        asyncio.ensure_future(receiver._send_rtcp_pli(sources[-1].source))  # noqa: SLF001


def forward_keyframe_requests(sender: RTCRtpSender, request: Callable[[], None]) -> None:
    """When a viewer's browser asks this sender for a keyframe, ask the publisher instead.

    The sender forwards frames it did not encode, so its own "force a keyframe" flag means
    nothing; the request goes upstream to the candidate's encoder.
    """
    sender._send_keyframe = request  # noqa: SLF001 - instance attribute shadows the method


def vp8_keyframe_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) if `data` is a VP8 keyframe (RFC 6386 §9.1), else None."""
    if len(data) < 10 or data[0] & 0x01 or data[3:6] != b"\x9d\x01\x2a":
        return None
    return (data[6] | data[7] << 8) & 0x3FFF, (data[8] | data[9] << 8) & 0x3FFF
