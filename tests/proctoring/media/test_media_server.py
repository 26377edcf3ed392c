"""The media server through the channel layer, with aiortc clients standing in for the pages.

Redis mode: a real `manage.py media_server` process; embedded mode: the server in this event loop
on the in-memory layer (conftest.py).
"""

from __future__ import annotations

import asyncio
import uuid

import av
import pytest
from PIL import Image

from proctoring.media import interface as api

from .clients import CAMERA_COLOUR, SCREEN_COLOUR, Candidate, Proctor, wait_reply

pytestmark = pytest.mark.integration


def _near(colour, expected, tolerance=30) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def _still_colour(path) -> tuple[tuple[int, int], tuple[int, int, int]]:
    with Image.open(path) as image:
        image = image.convert("RGB")
        # Bottom middle: away from the moving white square in the top rows.
        return image.size, image.getpixel((image.width // 2, image.height - 10))


@pytest.fixture
def session() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def _group(media, name: str) -> str:
    channel = await media.layer.new_channel("notify.")
    await media.layer.group_add(name, channel)
    return channel


async def test_publish_writes_stills_and_calls_the_hook(media, session):
    candidate = Candidate(media.layer, session, notify_group=f"g-{session}")
    answer = await candidate.publish()
    assert answer["type"] == api.ANSWER and answer["session"] == session
    assert "a=group:BUNDLE" in answer["sdp"] and "VP8" in answer["sdp"]

    stills = await media.wait_for(
        lambda: [c for c in media.hook_calls() if c["kind"] == "still"
                 and {"camera", "screen"} <= {d["track"] for d in media.hook_calls() if d["kind"] == "still"}],
        timeout=20, what="a camera still and a screen still reported to the hook",
    )
    by_track = {call["track"]: call for call in stills}
    assert by_track["camera"]["session"] == session
    assert by_track["camera"]["meta"] == {"enrolment": 1}
    assert by_track["camera"]["taken_by_request"] is False
    size, colour = _still_colour(media.media_root / by_track["camera"]["path"])
    assert size == (320, 240) and _near(colour, CAMERA_COLOUR), (size, colour)
    size, colour = _still_colour(media.media_root / by_track["screen"]["path"])
    assert size == (640, 360) and _near(colour, SCREEN_COLOUR), (size, colour)
    assert by_track["screen"]["path"].startswith(f"evidence/{session}/screen-")
    assert by_track["camera"]["size"] == (media.media_root / by_track["camera"]["path"]).stat().st_size

    # The proctor's "take a still" (check-in: ID card, room).
    await api.send_snapshot(layer=media.layer, session=session, kinds=["camera"], reply_to=candidate.reply_to,
                            meta={"purpose": "id-card"})
    taken = await wait_reply(media.layer, candidate.reply_to)
    assert taken["type"] == api.SNAPSHOT_TAKEN, taken
    [still] = taken["stills"]
    assert still["kind"] == "camera" and (media.media_root / still["path"]).exists()
    await media.wait_for(lambda: any(c["taken_by_request"] and c["path"] == still["path"]
                                     and c["meta"] == {"purpose": "id-card"} for c in media.hook_calls()),
                         what="the requested still reported with taken_by_request")
    await candidate.close()


async def test_snapshot_of_a_session_not_publishing_is_an_error(media, session):
    reply_to = await media.layer.new_channel("proctor.")
    await api.send_snapshot(layer=media.layer, session=session, kinds=["camera", "screen"], reply_to=reply_to)
    reply = await wait_reply(media.layer, reply_to)
    assert reply["type"] == api.ERROR and reply["session"] == session and reply["reason"]


async def test_viewers_get_grid_and_focus_and_survive_a_republish(media, session):
    # The proctor's page may be open before the candidate's: the view is answered all the same.
    grid = Proctor(media.layer, session, "grid", "grid-1")
    assert (await grid.view())["type"] == api.ANSWER
    first = Candidate(media.layer, session)
    assert (await first.publish())["type"] == api.ANSWER
    focus = Proctor(media.layer, session, "focus", "focus-1")
    reply = await focus.view()
    assert reply["type"] == api.ANSWER and reply["view_id"] == "focus-1"

    camera = await grid.frames_after("camera", 3)
    screen = await grid.frames_after("screen", 2)
    assert (camera.width, camera.height) == (160, 120)
    assert (screen.width, screen.height) == (320, 180)
    camera = await focus.frames_after("camera", 5)
    screen = await focus.frames_after("screen", 3)
    await focus.frames_after("audio", 20)
    assert (camera.width, camera.height) == (320, 240)
    assert (screen.width, screen.height) == (640, 360)
    pixel = camera.to_image().getpixel((160, 230))
    assert _near(pixel, CAMERA_COLOUR), pixel

    # Page reload: a new connection for the same session; the old one goes away afterwards.
    second = Candidate(media.layer, session)
    assert (await second.publish())["type"] == api.ANSWER
    await first.close()
    for viewer, kinds in ((grid, ("camera", "screen")), (focus, ("camera", "screen", "audio"))):
        for kind in kinds:
            await viewer.frames_after(kind, 4 if kind != "audio" else 25, timeout=20)

    await api.send_unview(layer=media.layer, reply_to=focus.reply_to, view_id="focus-1")
    await asyncio.sleep(1.0)
    seen = focus.frames["camera"]
    await asyncio.sleep(1.5)
    assert focus.frames["camera"] <= seen + 1, "an unviewed connection still got frames"
    await grid.frames_after("camera", 2)  # the other view is untouched
    for peer in (second, grid, focus):
        await peer.close()


async def test_grid_falls_back_to_the_full_stream_without_small_copies(media, session):
    candidate = Candidate(media.layer, session, grid_copies=False)
    assert (await candidate.publish())["type"] == api.ANSWER
    grid = Proctor(media.layer, session, "grid")
    assert (await grid.view())["type"] == api.ANSWER
    camera = await grid.frames_after("camera", 3)
    assert (camera.width, camera.height) == (320, 240)
    for peer in (candidate, grid):
        await peer.close()


async def test_state_messages_follow_the_connection(media, session):
    group = f"g-{session}"
    channel = await _group(media, group)
    candidate = Candidate(media.layer, session, notify_group=group)
    await candidate.publish()
    states = []

    async def until(predicate, what):
        while True:
            message = await wait_reply(media.layer, channel, timeout=20)
            assert message["type"] == api.STATE and message["session"] == session, message
            states.append(message)
            if predicate(message):
                return message

    await until(lambda m: m["connection"] == "connected"
                and m["tracks"] == {"camera": "live", "screen": "live", "audio": "live"}, "all live")
    assert states[0]["connection"] == "connecting"

    # The candidate's page goes away without a word: its connection closes, tracks end.
    await candidate.close()
    await until(lambda m: m["connection"] in ("closed", "failed")
                or set(m["tracks"].values()) == {"ended"}, "ended")

    # Published again, then its WebSocket closes: the web side sends media.hangup.
    again = Candidate(media.layer, session, notify_group=group)
    await again.publish()
    await until(lambda m: m["connection"] == "connected" and m["tracks"]["camera"] == "live", "live again")
    await api.send_hangup(layer=media.layer, reply_to=again.reply_to)
    last = await until(lambda m: m["connection"] == "closed", "closed")
    assert last["tracks"]["camera"] == "ended"
    await again.close()


async def test_recordings_are_playable_after_the_session(media, session):
    candidate = Candidate(media.layer, session)
    await candidate.publish()
    await media.wait_for(lambda: any(c["kind"] == "still" and c["session"] == session for c in media.hook_calls()),
                         what="the session is up (a still was taken)")
    await asyncio.sleep(3)
    await api.send_hangup(layer=media.layer, reply_to=candidate.reply_to)
    recordings = await media.wait_for(
        lambda: (r := [c for c in media.hook_calls() if c["kind"] == "recording"]) and len(r) >= 2 and r,
        what="camera and screen recordings reported",
    )
    by_track = {call["track"]: call for call in recordings}
    assert set(by_track) == {"camera", "screen"}
    counts = {}
    for track, call in by_track.items():
        path = media.media_root / call["path"]
        assert path.suffix == ".webm" and path.stat().st_size == call["size"] > 0
        with av.open(str(path)) as container:
            counts[track] = {stream.type: 0 for stream in container.streams}
            for packet in container.demux():
                for _frame in packet.decode():
                    counts[track][packet.stream.type] += 1
    assert counts["camera"]["video"] > 15 and counts["camera"]["audio"] > 100, counts
    assert counts["screen"]["video"] > 8 and set(counts["screen"]) == {"video"}, counts
    await candidate.close()
