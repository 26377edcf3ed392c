"""publisher.js and viewer.js in real headless Chromium (fake camera, microphone and screen) against
the media server: ICE from Chromium to aiortc on this machine, stills, grid and focus views, and a
candidate page reload that the viewer rides through.

The page is served by Playwright's request routing (harness.html and static/proctoring/js/media/
as they are) at http://127.0.0.1 (a secure context for getUserMedia), and its `signal` calls go to
this test through `expose_function`, which speaks the channel-layer contract as the web side will.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from proctoring.media import interface as api

from .clients import wait_reply

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = "http://127.0.0.1:8765"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags that give a fake camera, microphone and a whole-screen share (1280x720, displaySurface
# "monitor") with no prompt and no user gesture in headless Chromium 156; nothing else is needed.
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--no-sandbox", "--no-proxy-server", "--disable-gpu", "--disable-background-networking",
]


async def _serve(route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    if path == "/":
        await route.fulfill(path=str(Path(__file__).with_name("harness.html")))
    elif re.fullmatch(r"/static/proctoring/js/media/[a-z_]+\.js", path):
        await route.fulfill(path=str(ROOT / path.lstrip("/")), content_type="text/javascript")
    else:
        await route.fulfill(status=404)


async def _open_page(browser, media, offers: list[str]):
    page = await browser.new_page()
    reply_to = await media.layer.new_channel("page.")

    async def signal(request: dict) -> dict:
        offers.append(request["sdp"])
        if request["type"] == "publish":
            await api.send_publish(layer=media.layer, session=request["session"], sdp=request["sdp"],
                                   kinds=request["kinds"], reply_to=reply_to, notify_group="browser-test",
                                   meta={"page": "candidate"})
        else:
            await api.send_view(layer=media.layer, session=request["session"], quality=request["quality"],
                                sdp=request["sdp"], reply_to=reply_to, view_id=request["viewId"])
        reply = await wait_reply(media.layer, reply_to)
        assert reply["type"] == api.ANSWER, reply
        return {"sdp": reply["sdp"]}

    await page.expose_function("mediaSignal", signal)
    await page.route(f"{ORIGIN}/**", _serve)
    await page.goto(f"{ORIGIN}/")
    await page.wait_for_function("window.ready === true")
    return page


async def _video_size(page, quality: str, kind: str, timeout: float = 20.0) -> list[int]:
    handle = await page.wait_for_function(
        "([q, k]) => { const s = window.videoSize(q, k); return s && s[0] > 0 ? s : null; }",
        arg=[quality, kind], timeout=timeout * 1000,
    )
    return await handle.json_value()


def _still_sizes(media, track: str) -> set[tuple[int, int]]:
    from PIL import Image

    sizes = set()
    for call in media.hook_calls():
        if call["kind"] == "still" and call["track"] == track:
            with Image.open(media.media_root / call["path"]) as image:
                sizes.add(image.size)
    return sizes


async def _frames_decoded(page, element_id: str) -> int:
    return await page.evaluate(
        "(id) => document.getElementById(id).getVideoPlaybackQuality().totalVideoFrames", element_id)


async def test_chromium_publishes_and_views_through_the_media_server(media):
    session = f"browser-{uuid.uuid4().hex[:8]}"
    offers: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            candidate = await _open_page(browser, media, offers)
            screen = await candidate.evaluate("(s) => window.startPublish(s)", session)
            assert screen["surface"] == "monitor" and screen["wholeScreen"] is True, screen
            await candidate.wait_for_function("window.states.includes('connected')", timeout=20_000)

            await media.wait_for(
                lambda: {c["track"] for c in media.hook_calls() if c["kind"] == "still"} >= {"camera", "screen"},
                timeout=20, what="stills of Chromium's camera and screen",
            )
            # Chromium starts a connection at a low estimate of the bandwidth, with a smaller
            # picture; it reaches the camera's own size within seconds (aiortc's REMB lets it).
            await media.wait_for(lambda: _still_sizes(media, "camera") & {(640, 480)}, timeout=30,
                                 what=f"a 640x480 camera still; got {_still_sizes(media, 'camera')}")
            screens = await media.wait_for(lambda: _still_sizes(media, "screen"), what="screen stills")
            assert max(width for width, _ in screens) <= 1280 and any(width >= 640 for width, _ in screens), screens

            proctor = await _open_page(browser, media, offers)
            await proctor.evaluate("(s) => window.startView(s, 'grid')", session)
            await proctor.evaluate("(s) => window.startView(s, 'focus')", session)
            grid_camera = await _video_size(proctor, "grid", "camera")
            grid_screen = await _video_size(proctor, "grid", "screen")
            focus_camera = await _video_size(proctor, "focus", "camera")
            focus_screen = await _video_size(proctor, "focus", "screen")
            assert grid_camera == [160, 120], grid_camera
            assert grid_screen[0] == 320, grid_screen
            assert focus_camera == [640, 480], focus_camera
            assert focus_screen[0] == 1280, focus_screen
            assert await proctor.evaluate("!!document.getElementById('focus-audio')")

            # The candidate reloads the page and publishes again; the proctor does nothing.
            await candidate.reload()
            await candidate.wait_for_function("window.ready === true")
            before = {k: await _frames_decoded(proctor, k) for k in ("grid-camera", "focus-camera", "focus-screen")}
            await candidate.evaluate("(s) => window.startPublish(s)", session)
            await candidate.wait_for_function("window.states.includes('connected')", timeout=20_000)
            await asyncio.sleep(4)
            after = {k: await _frames_decoded(proctor, k) for k in before}
            assert all(after[k] > before[k] + 2 for k in before), (before, after)
        finally:
            await browser.close()



async def test_a_viewer_page_hiding_its_addresses_behind_mdns_still_connects(media):
    # A proctor's page never asks for camera or microphone, so Chromium offers only mDNS names
    # (<uuid>.local) for its host candidates. aiortc cannot resolve them here; the connection
    # still comes up because Chromium checks aiortc's own host candidates (in the answer) and
    # aiortc takes Chromium's address from those checks.
    from .clients import Candidate

    session = f"mdns-{uuid.uuid4().hex[:8]}"
    candidate = Candidate(media.layer, session)
    assert (await candidate.publish())["type"] == api.ANSWER
    offers: list[str] = []
    async with async_playwright() as playwright:
        args = [a for a in CHROMIUM_ARGS if "fake" not in a]
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            proctor = await _open_page(browser, media, offers)
            await proctor.evaluate("(s) => window.startView(s, 'grid')", session)
            assert await _video_size(proctor, "grid", "camera") == [160, 120]
        finally:
            await browser.close()
    hosts = re.findall(r"a=candidate:\S+ \d udp \d+ (\S+) \d+ typ host", offers[0])
    assert hosts and all(host.endswith(".local") for host in hosts), hosts
    await candidate.close()
