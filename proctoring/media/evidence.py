"""Stills as JPEG files, and the evidence hook told about every file written.

A still is made from a keyframe the publisher is asked for (a PLI), decoded on its own: the
server never decodes a candidate's stream continuously (see aiortc_glue). Decoding and JPEG
encoding take 8-20 ms a still, so they run in a small thread pool, never on the event loop; the
hook is synchronous ORM code and runs in a thread of its own, one call at a time, in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
from PIL import Image

from . import conf
from .feeds import EncodedFrame, Feed

logger = logging.getLogger(__name__)

JPEG_QUALITY = 70
SCREEN_MAX_WIDTH = 1280

_still_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="media-still")
_hook_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="media-evidence-hook")


def utc_stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")[:-4] + "Z"


def _encode_still(frame: EncodedFrame, kind: str, path: Path) -> int:
    decoder = av.CodecContext.create("libvpx", "r")
    pictures = decoder.decode(av.Packet(frame.data))
    if not pictures:
        raise ValueError("the keyframe did not decode")
    picture = pictures[0]
    width, height = picture.width, picture.height
    if kind == "screen" and width > SCREEN_MAX_WIDTH:
        width, height = SCREEN_MAX_WIDTH, round(height * SCREEN_MAX_WIDTH / width / 2) * 2
    rgb = picture.reformat(width=width, height=height, format="rgb24")
    plane = rgb.planes[0]
    image = Image.frombuffer("RGB", (width, height), plane, "raw", "RGB", plane.line_size, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    image.save(partial, "JPEG", quality=JPEG_QUALITY)
    partial.replace(path)  # a hook or a reader never sees half a file
    return path.stat().st_size


async def take_still(*, session: str, kind: str, feed: Feed, timeout: float,
                     meta: dict[str, Any], taken_by_request: bool) -> dict[str, str] | None:
    """Write a still of `feed` and report it to the hook; return {"kind", "path", "at"} or None."""
    frame = await feed.next_keyframe(timeout)
    if frame is None:
        return None
    at = dt.datetime.now(dt.UTC)
    path = conf.session_dir(session) / f"{kind}-{utc_stamp(at)}.jpg"
    loop = asyncio.get_running_loop()
    try:
        size = await loop.run_in_executor(_still_pool, _encode_still, frame, kind, path)
    except (av.FFmpegError, ValueError, OSError) as exc:
        logger.warning("media: still of %s %s failed: %s", session, kind, exc)
        return None
    relative = path.relative_to(conf.media_root()).as_posix()
    report(kind="still", session=session, track=kind, path=relative, at=at, size=size, meta=meta,
           taken_by_request=taken_by_request)
    return {"kind": kind, "path": relative, "at": at.isoformat()}


def _call_hook(**fields: Any) -> None:
    hook = conf.evidence_hook()
    if hook is None:
        return
    from django.db import close_old_connections

    # As around a request: a connection the hook broke or left too long is not reused.
    close_old_connections()
    try:
        hook(**fields)
    except Exception:
        logger.exception("media: evidence hook failed for %s", fields.get("path"))
    finally:
        close_old_connections()


def report(*, kind: str, session: str, track: str, path: str, at: dt.datetime, size: int,
           meta: dict[str, Any], taken_by_request: bool = False) -> None:
    """Queue one call of the evidence hook; safe from the event loop and from any thread."""
    _hook_pool.submit(_call_hook, kind=kind, session=session, track=track, path=path, at=at,
                      size=size, meta=meta, taken_by_request=taken_by_request)


def drain_hooks(timeout: float = 10.0) -> None:
    """Wait (blocking) until the hook calls queued so far have run; for shutdown and tests."""
    _hook_pool.submit(lambda: None).result(timeout)
