"""Issue 13, point 5, as a candidate behind a firewall meets it: video only through coturn.

Every page is told iceTransportPolicy "relay" (ICE_TRANSPORT_POLICY), so Chromium uses no path but
a relay on the TURN server: coturn from Debian's packages with the shipped configuration and the
coturn shared-secret credentials the server hands each page. If the relay did not carry the media,
the proctor would see nothing.
"""
# ruff: noqa: F811 - fixtures imported from test_candidate_journey are these tests' parameters

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aioice.ice import get_host_addresses
from playwright.sync_api import expect

from exams.models import Room
from tests.deploy.certificates import make_server_certificate
from tests.e2e.conftest import VIEWPORT, sign_in
from tests.e2e.test_candidate_journey import exam  # noqa: F401 - fixture
from tests.e2e.test_proctoring import WAIT, _video_plays
from tests.factories import UserFactory, enrol, make_sitting
from tests.servers import require_service, running_stack, wait_until
from tests.turn import TURNSERVER, CoturnServer

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def relay_only(request, transactional_db, celery_worker, tmp_path) -> Iterator[tuple]:
    require_service(Path(TURNSERVER).exists(), "coturn (make test installs it)")
    addresses = get_host_addresses(use_ipv4=True, use_ipv6=False)
    require_service(bool(addresses), "a network address other than loopback (the media server's)")
    secret = secrets.token_urlsafe(48)
    coturn = CoturnServer(
        address=addresses[0],
        secret=secret,
        certificate=make_server_certificate(tmp_path / "tls", addresses=(addresses[0],)),
        workdir=tmp_path / "coturn",
    )
    coturn.start()
    env = {
        "TURN_URLS": ",".join(coturn.urls()),
        "TURN_SECRET": secret,
        "ICE_TRANSPORT_POLICY": "relay",
    }
    try:
        with running_stack(request, worker=celery_worker, media=True, env=env) as stack:
            yield stack, coturn
    finally:
        coturn.stop()
        if request.session.testsfailed:
            print(coturn.log()[-6000:])


def test_the_proctor_sees_camera_and_screen_through_the_turn_relay(
    relay_only, media_browser, exam, screenshot
):
    stack, coturn = relay_only
    base = stack.url
    sitting = make_sitting(exam, starts_in=timedelta(minutes=-1), proctored=True)
    room = Room.objects.create(sitting=sitting, name="Room A", seats=20)
    proctor_user = UserFactory(username="proctor_a", first_name="Pat", last_name="Proctor")
    room.proctors.add(proctor_user)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    enrolment = enrol(sitting, room, alice)
    contexts = [media_browser.new_context(viewport=VIEWPORT, locale="en-GB") for _ in range(2)]
    for context in contexts:
        context.add_init_script(KEEP_PEER_CONNECTIONS)
    try:
        candidate, proctor = (context.new_page() for context in contexts)
        for page in (candidate, proctor):
            page.set_default_timeout(WAIT)
        sign_in(candidate, base, "alice")
        candidate.get_by_role("link", name="Enter the waiting room").click()
        candidate.get_by_role("button", name="Share your whole screen").click()
        expect(candidate.get_by_test_id("checkin-status")).to_contain_text(
            "Waiting for your proctor", timeout=WAIT
        )

        sign_in(proctor, base, "proctor_a")
        proctor.goto(f"{base}/proctoring/rooms/{room.pk}/")
        tile = f".tile[data-enrolment='{enrolment.pk}']"
        # The tile first (a loaded machine draws the room slowly), then its camera playing.
        expect(proctor.locator(tile)).to_contain_text("Alice Batbayar", timeout=WAIT)
        wait_until(
            lambda: _video_plays(proctor, f"{tile} video.camera"),
            timeout=30,
            message="the grid shows the candidate's camera, relayed",
        )
        proctor.locator(tile).click()
        wait_until(
            lambda: _video_plays(proctor, "#focus-camera"),
            timeout=30,
            message="the focus view plays the camera",
        )
        wait_until(
            lambda: _video_plays(proctor, "#focus-screen"),
            timeout=30,
            message="the focus view plays the screen",
        )
        screenshot(proctor, "proctor-through-turn")
        # Only relays: the path each connected connection of both pages took starts at a relay.
        for page in (candidate, proctor):
            paths = page.evaluate(LOCAL_CANDIDATE_TYPES)
            assert paths and set(paths) == {"relay"}, paths
        log = coturn.log()
        assert f":candidate-{alice.pk}" in log and f":proctor-{proctor_user.pk}" in log
    finally:
        for context in contexts:
            context.close()


# Each page's peer connections, kept where the test can ask them for their statistics.
KEEP_PEER_CONNECTIONS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peerConnections.push(this); }
  };
})();
"""
# The type of the local candidate of each connected connection's selected path.
LOCAL_CANDIDATE_TYPES = """async () => {
  const types = [];
  for (const pc of window.__peerConnections) {
    if (pc.connectionState !== 'connected') continue;
    const stats = await pc.getStats();
    stats.forEach((report) => {
      if (report.type !== 'transport' || !report.selectedCandidatePairId) return;
      const pair = stats.get(report.selectedCandidatePairId);
      types.push(stats.get(pair.localCandidateId).candidateType);
    });
  }
  return types;
}"""
