"""What the web side and the media process say to each other over the channel layer.

The web side imports this module only (never aiortc/av): swapping the media server for a real
SFU later changes proctoring/media/ and nothing else. Every message is a msgpack/JSON-safe dict.

web → media, sent to the plain channel MEDIA_CHANNEL (one media process receives on it):

``media.publish``
    ``{"type", "session": str, "sdp": <offer>, "kinds": {<mid>: <kind>}, "reply_to": <channel>,
    "notify_group": <group>, "meta": {...}}``. ``kinds`` names what each sent transceiver carries:
    "camera", "screen", "audio", and optionally "camera_grid" / "screen_grid" — small, slow copies
    of camera and screen that publisher.js encodes in the browser so that the server can hand grid
    viewers a small picture without decoding or encoding anything. A publish for a session that
    is already publishing replaces the old peer connection (reload, network drop: publish again).
    Answer on reply_to: ``media.answer`` ``{"session", "sdp"}`` or ``media.error``
    ``{"session", "reason"}``.
``media.view``
    ``{"type", "session", "quality": "grid"|"focus", "sdp": <offer, recvonly: video, video
    [, audio for focus]>, "reply_to", "view_id": str}``. Answered with ``media.answer``
    ``{"session", "view_id", "sdp"}`` even when the candidate is not publishing yet: the tracks
    start once they do, and follow every re-publish without the viewer doing anything. The
    offer's video transceivers are camera then screen, in that order.
``media.unview``
    ``{"type", "reply_to", "view_id"}``: close that view.
``media.hangup``
    ``{"type", "reply_to"}``: that WebSocket closed; close every peer connection published or
    viewed through it.
``media.snapshot``
    ``{"type", "session", "kinds": ["camera"|"screen", ...], "reply_to", "meta": {...}}``: take
    stills now. Answer ``media.snapshot_taken`` ``{"session", "stills": [{"kind", "path", "at"}]}``
    (path relative to MEDIA_ROOT, at ISO 8601), or ``media.error`` when no picture came.

media → web:

``media.state`` to the publish's notify_group, whenever it changes:
    ``{"type", "session", "connection": "connecting"|"connected"|"failed"|"closed",
    "tracks": {"camera"|"screen"|"audio": "live"|"ended"|"missing"}, "at": ISO 8601}``.
    "ended" also covers a track that stopped sending for TRACK_STALL_SECONDS (e.g. the candidate
    pressed "Stop sharing"); a replaced peer connection reports nothing more.
"""

from __future__ import annotations

from typing import Any, Literal

from channels.layers import get_channel_layer

MEDIA_CHANNEL = "proctoring-media"

PUBLISH = "media.publish"
VIEW = "media.view"
UNVIEW = "media.unview"
HANGUP = "media.hangup"
SNAPSHOT = "media.snapshot"
ANSWER = "media.answer"
ERROR = "media.error"
SNAPSHOT_TAKEN = "media.snapshot_taken"
STATE = "media.state"

PUBLISHED_KINDS = ("camera", "screen", "audio", "camera_grid", "screen_grid")
STILL_KINDS = ("camera", "screen")
REPORTED_TRACKS = ("camera", "screen", "audio")
Quality = Literal["grid", "focus"]


def publish_message(*, session: str, sdp: str, kinds: dict[str, str], reply_to: str,
                    notify_group: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a media.publish message; ValueError for a kind the server would not understand."""
    unknown = sorted(set(kinds.values()) - set(PUBLISHED_KINDS))
    if unknown:
        raise ValueError(f"unknown media kinds {unknown}; expected some of {PUBLISHED_KINDS}")
    return {"type": PUBLISH, "session": str(session), "sdp": sdp, "kinds": dict(kinds),
            "reply_to": reply_to, "notify_group": notify_group, "meta": dict(meta or {})}


def view_message(*, session: str, quality: Quality, sdp: str, reply_to: str,
                 view_id: str) -> dict[str, Any]:
    """Return a media.view message."""
    if quality not in ("grid", "focus"):
        raise ValueError(f"quality must be 'grid' or 'focus', not {quality!r}")
    return {"type": VIEW, "session": str(session), "quality": quality, "sdp": sdp,
            "reply_to": reply_to, "view_id": str(view_id)}


def snapshot_message(*, session: str, kinds: list[str], reply_to: str,
                     meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a media.snapshot message."""
    unknown = sorted(set(kinds) - set(STILL_KINDS))
    if unknown or not kinds:
        raise ValueError(f"snapshot kinds must be some of {STILL_KINDS}, got {kinds!r}")
    return {"type": SNAPSHOT, "session": str(session), "kinds": list(kinds), "reply_to": reply_to,
            "meta": dict(meta or {})}


async def _send(message: dict[str, Any], layer=None) -> None:
    await (layer or get_channel_layer()).send(MEDIA_CHANNEL, message)


async def send_publish(*, layer=None, **fields: Any) -> None:
    """Ask the media server to take this offer; it answers on reply_to."""
    await _send(publish_message(**fields), layer)


async def send_view(*, layer=None, **fields: Any) -> None:
    """Ask the media server to answer a viewer's offer; it answers on reply_to."""
    await _send(view_message(**fields), layer)


async def send_unview(*, reply_to: str, view_id: str, layer=None) -> None:
    """Close one view."""
    await _send({"type": UNVIEW, "reply_to": reply_to, "view_id": str(view_id)}, layer)


async def send_hangup(*, reply_to: str, layer=None) -> None:
    """Close everything published or viewed through this channel (call on WebSocket disconnect)."""
    await _send({"type": HANGUP, "reply_to": reply_to}, layer)


async def send_snapshot(*, layer=None, **fields: Any) -> None:
    """Ask for stills now; media.snapshot_taken or media.error comes back on reply_to."""
    await _send(snapshot_message(**fields), layer)
