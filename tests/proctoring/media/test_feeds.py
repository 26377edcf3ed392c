"""Fan-out of encoded frames: keyframe starts, bounded queues, re-publish timestamps, the recorder's
drop policy, and the in-process start of the embedded mode."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from proctoring.media.aiortc_glue import vp8_keyframe_size
from proctoring.media.feeds import VIDEO_QUEUE_FRAMES, EncodedFrame, Feed
from proctoring.media.tracks import ForwardTrack


def frame(timestamp: int, *, key: bool = False, epoch: int = 1, arrival: float = 0.0) -> EncodedFrame:
    return EncodedFrame(data=b"k" if key else b"d", timestamp=timestamp, clock_rate=90000, keyframe=key,
                        arrival=arrival, epoch=epoch)


async def test_a_video_subscriber_starts_at_a_keyframe_and_asks_for_one():
    requests = []
    feed = Feed("camera", is_video=True)
    feed.attach(1, lambda: requests.append(1))
    subscription = feed.subscribe()
    assert requests, "subscribing asks the publisher for a keyframe"
    feed.push(frame(0))
    feed.push(frame(3000, key=True))
    feed.push(frame(6000))
    assert [subscription.queue.get_nowait().timestamp for _ in range(2)] == [3000, 6000]


async def test_a_slow_subscriber_is_cut_back_to_the_next_keyframe_not_queued():
    feed = Feed("camera", is_video=True)
    feed.attach(1, lambda: None)
    subscription = feed.subscribe()
    feed.push(frame(0, key=True))
    for index in range(1, VIDEO_QUEUE_FRAMES * 3):
        feed.push(frame(index * 3000))
    assert subscription.queue.qsize() <= VIDEO_QUEUE_FRAMES
    assert subscription.waiting_for_keyframe


async def test_frames_of_a_replaced_connection_are_ignored():
    feed = Feed("audio", is_video=False)
    feed.attach(1, lambda: None)
    subscription = feed.subscribe()
    feed.attach(2, lambda: None)
    feed.push(frame(0, epoch=1))
    feed.push(frame(960, epoch=2))
    assert subscription.queue.qsize() == 1 and subscription.queue.get_nowait().epoch == 2


async def test_forwarded_timestamps_keep_increasing_across_a_republish():
    feed = Feed("camera", is_video=True)
    feed.attach(1, lambda: None)
    track = ForwardTrack(feed)
    pulls = asyncio.ensure_future(asyncio.gather(*(track.recv() for _ in range(1))))
    await asyncio.sleep(0)
    feed.push(frame(900_000, key=True, arrival=10.0))
    [first] = await pulls
    outputs = [first.pts]
    for timestamp, key, epoch, arrival in ((903_000, False, 1, 10.033), (0, True, 2, 12.0), (3000, False, 2, 12.033)):
        if epoch == 2:
            feed.attach(2, lambda: None)
        feed.push(frame(timestamp, key=key, epoch=epoch, arrival=arrival))
        outputs.append((await track.recv()).pts)
    assert outputs[0] == 0 and outputs[1] == 3000
    assert outputs[2] > outputs[1] + 90000, "the gap of the reload is kept, time never goes back"
    assert outputs[3] - outputs[2] == 3000
    track.stop()
    assert not feed.subscriptions


def test_vp8_keyframe_header():
    keyframe = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01])
    assert vp8_keyframe_size(keyframe) == (640, 480)
    assert vp8_keyframe_size(bytes([0x11]) + keyframe[1:]) is None


async def test_ensure_in_process_starts_once_on_the_in_memory_layer():
    from proctoring import media

    started = media.ensure_in_process()
    if settings.REDIS_URL:
        assert started is False  # production: `manage.py media_server` runs it
        return
    assert started is True
    task = media._in_process
    assert media.ensure_in_process() is True and media._in_process is task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
