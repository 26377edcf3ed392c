"""Each media server says every few seconds that it is alive and how much it carries.

/healthz and /metrics read these reports (proctoring.health): a media server that died, or never
started, shows as missing within MEDIA_HEARTBEAT_SECONDS × 5. With Redis each server writes a key of
its own that expires by itself (so several servers, on several machines, report side by side);
in the embedded mode the server runs inside the web process and reports in memory.

No aiortc here: the web side reads the reports without loading the media stack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "proctoring:media-server:"
INTERVAL_SECONDS = 2.0
EXPIRES_AFTER_BEATS = 5
# Embedded mode: this process's own server, by name.
_in_memory: dict[str, dict] = {}


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat_forever(counts: Callable[[], dict[str, int]]) -> None:
    """Report `counts()` (publishers, viewers) every INTERVAL_SECONDS until cancelled."""
    name = instance_name()
    client = (
        redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        if settings.REDIS_URL
        else None
    )
    try:
        while True:
            report = {"instance": name, "at": time.time(), **counts()}
            if client is None:
                _in_memory[name] = report
            else:
                try:
                    await client.set(
                        KEY_PREFIX + name,
                        json.dumps(report),
                        ex=int(INTERVAL_SECONDS * EXPIRES_AFTER_BEATS),
                    )
                except redis.RedisError as exc:  # Redis restarting: report again at the next beat
                    logger.warning("media heartbeat not written: %s", exc)
            await asyncio.sleep(INTERVAL_SECONDS)
    finally:
        _in_memory.pop(name, None)
        if client is not None:
            try:  # a server stopping leaves at once, not when its report expires
                await client.delete(KEY_PREFIX + name)
            except redis.RedisError:
                pass
            await client.aclose()


def reports(*, timeout: float = 0.5) -> list[dict]:
    """The reports of every media server alive, newest first; raises redis.RedisError when Redis fails."""
    if not settings.REDIS_URL:
        return list(_in_memory.values())
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=100))
        values = client.mget(keys) if keys else []
    finally:
        client.close()
    found = [json.loads(value) for value in values if value]
    return sorted(found, key=lambda report: report["at"], reverse=True)
