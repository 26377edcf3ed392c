"""A media server for each test: a real `manage.py media_server` process on Redis when REDIS_URL is
set (the production set-up), otherwise a server task in the test's own event loop on a fresh
in-memory channel layer (the embedded set-up, as `ensure_in_process()` runs it in Daphne)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import (
    BASE_DIR,
    ManagedProcess,
    artifact_dir,
    process_environment,
    redis_url_for_tests,
)

from . import hook


@dataclass
class MediaSetup:
    layer: object
    media_root: Path
    hook_log: Path
    process: ManagedProcess | None = None

    def hook_calls(self) -> list[dict]:
        return hook.calls(self.hook_log)

    async def wait_for(self, condition, *, timeout: float = 20.0, what: str = ""):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                logs = f"\n--- media server log ---\n{self.process.log_tail()}" if self.process else ""
                raise AssertionError(f"waited {timeout:.0f} s in vain: {what}{logs}")
            await asyncio.sleep(0.1)


def _start_media_process(log_dir: Path, media_root: Path, hook_log: Path) -> ManagedProcess:
    env = process_environment()
    env.update(MEDIA_ROOT=str(media_root), MEDIA_TEST_HOOK_LOG=str(hook_log),
               DJANGO_SETTINGS_MODULE="tests.proctoring.media.settings_media")
    process = ManagedProcess([sys.executable, str(BASE_DIR / "manage.py"), "media_server"], env=env,
                             log_path=log_dir / "media_server.log")
    process.name = "media_server"
    process.spawn()
    deadline = time.monotonic() + 30
    while "media server ready" not in process.log_tail(20):
        if not process.running or time.monotonic() > deadline:
            process.stop()
            process.fail_to_start("no 'media server ready' line")
        time.sleep(0.1)
    return process


@pytest.fixture
async def media(request, tmp_path, settings, monkeypatch) -> AsyncIterator[MediaSetup]:
    media_root, hook_log = tmp_path / "media", tmp_path / "hook.jsonl"
    media_root.mkdir()
    settings.MEDIA_ROOT = media_root
    monkeypatch.setenv("MEDIA_TEST_HOOK_LOG", str(hook_log))
    if settings.REDIS_URL:
        from channels_redis.core import RedisChannelLayer

        process = _start_media_process(artifact_dir(request.node.name), media_root, hook_log)
        layer = RedisChannelLayer(hosts=[redis_url_for_tests()])
        setup = MediaSetup(layer, media_root, hook_log, process)
        try:
            yield setup
        finally:
            process.stop(timeout=15)
            with contextlib.suppress(Exception):
                await layer.close_pools()
            if request.session.testsfailed:
                print(f"--- media server log ---\n{process.log_tail()}")
        assert process.process.returncode == 0, f"media_server exited {process.process.returncode}"
        return
    from channels.layers import InMemoryChannelLayer

    from proctoring.media.evidence import drain_hooks
    from proctoring.media.server import MediaServer

    settings.PROCTORING_EVIDENCE_HOOK = "tests.proctoring.media.hook.record"
    settings.PROCTORING_STILL_SECONDS = 1
    settings.PROCTORING_MEDIA_STALL_SECONDS = 3
    layer = InMemoryChannelLayer()
    server = asyncio.ensure_future(MediaServer(layer).serve())
    try:
        yield MediaSetup(layer, media_root, hook_log)
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        await asyncio.get_running_loop().run_in_executor(None, drain_hooks)
