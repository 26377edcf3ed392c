"""The live room end to end: real Chromium with a fake camera, microphone and screen, a real Daphne
server and the media server (its own process in Redis mode, inside Daphne in the embedded mode).

A candidate checks in, the proctor sees them live and admits them, starts the room, watches the
candidate's camera and screen, sees a stopped screen share at once, pauses, resumes, extends and
finally disqualifies; a proctor of another room gets nothing.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageStat
from playwright.sync_api import Page, expect

from exams.models import Attempt, AttemptEvent, AttemptStatus, Room
from proctoring.models import CheckIn, Incident, IncidentKind, Still
from tests.e2e.conftest import VIEWPORT, sign_in
from tests.factories import UserFactory, enrol, make_sitting
from tests.servers import wait_until

pytestmark = pytest.mark.e2e

# The fake devices: a camera and microphone, and getDisplayMedia giving a whole "monitor" with no
# prompt (measured on Chromium 156, see tests/proctoring/media/test_browser_media.py).
# Several pages, two servers and media on a 2-core machine: allow more than expect's 5 s.
WAIT = 20_000


def _video_plays(page: Page, selector: str) -> bool:
    """Return whether the video has a picture and its time advances."""
    before = page.eval_on_selector(selector, "v => [v.videoWidth, v.currentTime]")
    page.wait_for_timeout(700)
    after = page.eval_on_selector(selector, "v => [v.videoWidth, v.currentTime]")
    return before[0] > 0 and after[1] > before[1]


def _picture_has_content(path: Path) -> bool:
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        stat = ImageStat.Stat(image.convert("L"))
        return image.width >= 160 and stat.stddev[0] > 5  # not a blank frame


@pytest.fixture
def proctored_room(exam, django_user_model):
    sitting = make_sitting(
        exam, starts_in=timedelta(minutes=-1), proctored=True, start_code_required=True
    )
    room_a = Room.objects.create(sitting=sitting, name="Room A", seats=20)
    room_b = Room.objects.create(sitting=sitting, name="Room B", seats=20)
    proctor = UserFactory(username="proctor_a", first_name="Pat", last_name="Proctor")
    other = UserFactory(username="proctor_b")
    room_a.proctors.add(proctor)
    room_b.proctors.add(other)
    alice = UserFactory(username="alice", first_name="Alice", last_name="Batbayar")
    enrolment = enrol(sitting, room_a, alice)
    return room_a, room_b, enrolment


def test_check_in_admit_watch_signal_pause_extend_disqualify(
    live_stack_with_media, media_browser, proctored_room, screenshot
):
    base = live_stack_with_media.url
    room, other_room, enrolment = proctored_room
    candidate_ctx = media_browser.new_context(viewport=VIEWPORT, locale="en-GB")
    proctor_ctx = media_browser.new_context(viewport={"width": 1500, "height": 950}, locale="en-GB")
    other_ctx = media_browser.new_context(viewport=VIEWPORT, locale="en-GB")
    for context in (candidate_ctx, proctor_ctx, other_ctx):
        context.set_default_timeout(20_000)
    try:
        candidate, proctor, other = (
            candidate_ctx.new_page(),
            proctor_ctx.new_page(),
            other_ctx.new_page(),
        )
        sign_in(candidate, base, "alice")
        candidate.get_by_role("link", name="Enter the waiting room").click()
        expect(candidate.locator("[data-check=camera]")).to_have_attribute(
            "data-state", "ok", timeout=WAIT
        )  # the script runs
        candidate.get_by_role("button", name="Share your whole screen").click()
        expect(candidate.get_by_test_id("check-verdict")).to_have_text(
            "Your computer is ready for the exam.", timeout=WAIT
        )
        expect(candidate.get_by_test_id("checkin-status")).to_contain_text(
            "Waiting for your proctor", timeout=WAIT
        )

        # The proctor sees the candidate live and takes a still of the ID card, then admits.
        sign_in(proctor, base, "proctor_a")
        proctor.goto(f"{base}/proctoring/rooms/{room.pk}/")
        tile = proctor.locator(f".tile[data-enrolment='{enrolment.pk}']")
        expect(tile).to_contain_text("Alice Batbayar", timeout=WAIT)
        wait_until(
            lambda: _video_plays(proctor, f".tile[data-enrolment='{enrolment.pk}'] video.camera"),
            timeout=20,
            message="the grid shows the candidate's camera",
        )
        screenshot(proctor, "proctoring-room-grid")
        tile.click()
        wait_until(
            lambda: _video_plays(proctor, "#focus-camera"),
            timeout=20,
            message="the focus view plays the camera",
        )
        proctor.get_by_role("button", name="Still of the ID card").click()
        wait_until(
            lambda: Still.objects.filter(
                enrolment=enrolment, purpose=Still.Purpose.ID_CARD
            ).exists(),
            timeout=15,
            message="the ID card still is recorded",
        )
        screenshot(candidate, "proctoring-check-in")
        proctor.get_by_role("button", name="Admit").click()
        expect(candidate.get_by_test_id("checkin-status")).to_have_text(
            "You are admitted.", timeout=WAIT
        )
        assert CheckIn.objects.get(enrolment=enrolment).decided_by.username == "proctor_a"

        # Start: the room step, then the code the proctor reads out.
        proctor.get_by_test_id("next-step").click()
        proctor.get_by_test_id("next-step").click()
        expect(proctor.get_by_test_id("start-code")).to_be_visible(timeout=WAIT)
        code = proctor.get_by_test_id("start-code").inner_text().split(":")[-1].strip()
        candidate.get_by_test_id("start-code").fill(code)
        candidate.get_by_test_id("start").click()
        candidate.wait_for_url(f"{base}/attempts/*/")
        attempt = Attempt.objects.get(enrolment=enrolment)
        candidate.get_by_role("button", name="Share your whole screen").click()
        expect(candidate.get_by_test_id("fix")).to_be_hidden(timeout=WAIT)

        # The proctor watches camera and screen large; the server keeps stills of both.
        wait_until(
            lambda: _video_plays(proctor, "#focus-screen"),
            timeout=25,
            message="the focus view plays the screen",
        )
        assert _video_plays(proctor, "#focus-camera")
        for track in (Still.Track.CAMERA, Still.Track.SCREEN):
            still = wait_until(
                lambda track=track: (
                    Still.objects.filter(enrolment=enrolment, track=track)
                    .order_by("-taken_at")
                    .first()
                ),
                timeout=20,
                message=f"a {track} still",
            )
            assert _picture_has_content(Path(settings.MEDIA_ROOT) / still.path)
        screenshot(proctor, "proctoring-room-focus")
        screenshot(candidate, "proctoring-exam-page")

        # The candidate reloads the page: once the screen is shared again, the proctor's views
        # play on by themselves (nothing clicked on the proctor's side).
        candidate.reload()
        candidate.get_by_role("button", name="Share your whole screen").click()
        expect(candidate.get_by_test_id("fix")).to_be_hidden(timeout=WAIT)
        wait_until(
            lambda: (
                _video_plays(proctor, "#focus-camera") and _video_plays(proctor, "#focus-screen")
            ),
            timeout=25,
            message="the focus view plays on after the candidate's reload",
        )
        assert _video_plays(proctor, f".tile[data-enrolment='{enrolment.pk}'] video.camera")

        # The candidate stops sharing: the proctor sees it within 2 seconds, the candidate is told.
        # (Signals count from PROCTORING_SIGNAL_GRACE_SECONDS after the start on.)
        since_start = (timezone.now() - attempt.started_at).total_seconds()
        time.sleep(max(0.0, settings.PROCTORING_SIGNAL_GRACE_SECONDS + 1 - since_start))
        candidate.evaluate(
            "() => { const t = window.proctoring.monitor.screen.getVideoTracks()[0];"
            " t.stop(); t.dispatchEvent(new Event('ended')); }"
        )
        stopped_at = time.monotonic()
        expect(
            proctor.get_by_test_id("incidents").locator(
                "li[data-kind='screen_share'][data-open='yes']"
            )
        ).to_be_visible(timeout=2000)
        assert time.monotonic() - stopped_at < 2.0
        expect(candidate.get_by_test_id("fix")).to_contain_text(
            "Share your whole screen again", timeout=WAIT
        )
        assert Incident.objects.filter(
            enrolment=enrolment, kind=IncidentKind.SCREEN_SHARE, by_system=True
        ).exists()

        # Pause, then resume: the end moves by the pause's length.
        deadline_before = Attempt.objects.get(pk=attempt.pk).deadline
        proctor.get_by_test_id("reason").fill("Power cut in the building")
        proctor.get_by_role("button", name="Pause").click()
        expect(candidate.get_by_test_id("overlay-text")).to_contain_text(
            "Power cut in the building", timeout=WAIT
        )
        candidate.wait_for_timeout(2000)
        proctor.get_by_role("button", name="Resume").click()
        expect(candidate.locator("#overlay")).to_be_hidden(timeout=WAIT)
        resumed = AttemptEvent.objects.get(attempt=attempt, kind=AttemptEvent.Kind.RESUMED)
        moved = Attempt.objects.get(pk=attempt.pk).deadline - deadline_before
        assert abs(
            moved.total_seconds() - resumed.detail["paused_seconds"]
        ) <= 1 and moved >= timedelta(seconds=2)

        # Extend by 10 minutes with a reason.
        proctor.get_by_test_id("reason").fill("Lost time to the power cut")
        proctor.get_by_test_id("minutes").fill("10")
        proctor.get_by_role("button", name="Extend").click()
        expect(proctor.get_by_test_id("reason")).to_have_value(
            "", timeout=WAIT
        )  # cleared once the server took it
        expect(proctor.get_by_test_id("action-error")).to_be_empty()
        extended = wait_until(
            lambda: AttemptEvent.objects.filter(
                attempt=attempt, kind=AttemptEvent.Kind.EXTENDED
            ).first(),
            timeout=10,
            message="the extension",
        )
        assert extended.detail["minutes"] == 10 and extended.actor.username == "proctor_a"
        assert Attempt.objects.get(pk=attempt.pk).deadline - deadline_before == moved + timedelta(
            minutes=10
        ), list(AttemptEvent.objects.filter(attempt=attempt).values_list("kind", "detail"))

        # A message and its reply; an incident recorded with the stills of the moment, which the
        # candidate is told about at once.
        proctor.get_by_test_id("proctor-message").fill("Please keep your hands on the desk.")
        proctor.get_by_test_id("proctor-message").press("Enter")
        expect(candidate.get_by_test_id("chat-list")).to_contain_text(
            "Please keep your hands on the desk.", timeout=WAIT
        )
        candidate.get_by_test_id("chat").locator("input").fill("Understood.")
        candidate.get_by_test_id("chat").get_by_role("button", name="Send").click()
        expect(proctor.locator("#focus-chat")).to_contain_text("Understood.", timeout=WAIT)
        proctor.get_by_test_id("incident-kind").select_option("looking_away")
        proctor.get_by_test_id("reason").fill("Looked to the left for ten seconds")
        proctor.get_by_role("button", name="Record incident").click()
        expect(candidate.get_by_test_id("chat-list")).to_contain_text(
            "Looking away: Looked to the left", timeout=WAIT
        )
        recorded = wait_until(
            lambda: Incident.objects.filter(
                enrolment=enrolment, kind=IncidentKind.LOOKING_AWAY
            ).first(),
            timeout=10,
            message="the proctor's incident",
        )
        assert (
            recorded.raised_by.username == "proctor_a"
            and recorded.still_id
            and recorded.screen_still_id
        )

        # The candidate's network drops for a few seconds: the page reconnects and publishes
        # again, and the proctor's view plays on with nothing done on the proctor's side.
        candidate_ctx.set_offline(True)
        expect(
            proctor.locator(f".tile[data-enrolment='{enrolment.pk}'] .online")
        ).to_have_attribute("data-online", "no", timeout=WAIT)
        candidate.wait_for_timeout(2000)
        candidate_ctx.set_offline(False)
        expect(
            proctor.locator(f".tile[data-enrolment='{enrolment.pk}'] .online")
        ).to_have_attribute("data-online", "yes", timeout=WAIT)
        wait_until(
            lambda: (
                _video_plays(proctor, "#focus-camera") and _video_plays(proctor, "#focus-screen")
            ),
            timeout=25,
            message="the focus view plays on after the candidate's network came back",
        )

        # A proctor of another room gets nothing of this room.
        sign_in(other, base, "proctor_b")
        assert other.goto(f"{base}/proctoring/rooms/{room.pk}/").status == 404
        other.goto(f"{base}/proctoring/rooms/{other_room.pk}/")
        expect(other.get_by_test_id("stage")).not_to_be_empty(timeout=WAIT)
        assert other.locator(f".tile[data-enrolment='{enrolment.pk}']").count() == 0

        # Disqualify: the attempt ends and the candidate's page says so, with the reason.
        proctor.get_by_test_id("reason").fill("Used a phone")
        proctor.get_by_role("button", name="Disqualify").click()
        proctor.get_by_role("button", name="Confirm: disqualify Alice Batbayar").click()
        expect(candidate.get_by_test_id("overlay-text")).to_have_text("Used a phone", timeout=WAIT)
        assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.DISQUALIFIED
    finally:
        for context in (candidate_ctx, proctor_ctx, other_ctx):
            context.close()
