"""The live room's sockets through the real ASGI stack and the configured channel layer (Redis in CI).

No media offers are sent: the media process is not part of these tests (tests/proctoring/media is).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, Room
from proctoring import services
from proctoring.models import CheckIn, Incident, IncidentKind, Message, RoomSession

from .conftest import DEVICE, admit

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"http://127.0.0.1"
PUSH_WITHIN = 2.0  # seconds: what "at once" means for the proctor (R-PROC-3)
ALL_FINE = {"camera": True, "microphone": True, "screen": True, "wholeScreen": True, "visible": True, "focused": True}


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture(autouse=True)
def short_offline_grace(settings):
    # Each test also gets a channel layer of its own: tests/conftest.py's _fresh_channel_layer.
    settings.PROCTORING_OFFLINE_GRACE_SECONDS = 0.2


@pytest.fixture
async def connect():
    """Open a socket as `user` (anonymous if None); every socket is closed, and its consumer done, after the test."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(path: str, user=None, *, device: str = DEVICE) -> WebsocketCommunicator:
        cookies = f"{DEVICE_COOKIE}={device}"
        if user is not None:
            cookies += f"; sessionid={await sync_to_async(session_cookie)(user)}"
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", ORIGIN), (b"host", b"127.0.0.1"), (b"cookie", cookies.encode())]
        )
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        return communicator

    yield open_socket

    async def close(communicator: WebsocketCommunicator) -> None:
        # A refused socket's consumer may sit in the Redis layer's blocking read for a while; it is
        # cancelled after the timeout, which is all the clean-up needs.
        with contextlib.suppress(Exception):
            await communicator.disconnect(timeout=1)

    await asyncio.gather(*(close(communicator) for communicator in opened))
    # Let what the consumers started (connection-lost checks, the layer's cleaners) finish in this loop.
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and t.get_name() != "proctoring-media-server"]
    if leftovers:
        await asyncio.wait(leftovers, timeout=2)


async def refused_with(communicator: WebsocketCommunicator) -> int:
    """Return the close code of a refused socket (it accepts, says why, then closes)."""
    refusal = await communicator.receive_json_from(timeout=5)
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close", closing
    assert refusal == {"t": "refused", "code": closing["code"]}
    return closing["code"]


async def receive_until(communicator: WebsocketCommunicator, wanted: Callable[[dict], bool], *, within: float = PUSH_WITHIN) -> dict:
    """Return the first message `wanted` accepts, read within `within` seconds; others are skipped."""
    loop = asyncio.get_running_loop()
    deadline, seen = loop.time() + within, []
    while (left := deadline - loop.time()) > 0:
        try:
            message = await communicator.receive_json_from(timeout=left)
        except TimeoutError:
            break
        if wanted(message):
            return message
        seen.append(message)
    raise AssertionError(f"nothing wanted within {within} s; got {seen}")


def room_path(room) -> str:
    return f"/ws/proctoring/room/{room.pk}/"


def candidate_path(enrolment) -> str:
    return f"/ws/proctoring/candidate/{enrolment.pk}/"


# --- the room socket ----------------------------------------------------------------------------
async def test_the_room_socket_refuses_anonymous_and_outsiders(connect, room_a, proctor_b, alice, committee_member):
    assert await refused_with(await connect(room_path(room_a))) == 4401
    for outsider in (proctor_b, alice, committee_member):
        assert await refused_with(await connect(room_path(room_a), outsider)) == 4404


async def test_the_room_socket_says_hello_with_the_tiles(connect, room_a, proctor_a, observer, alice_enrolment, bob_enrolment, sitting):
    sitting.start_code_required = True
    await sync_to_async(sitting.save)()
    session = await sync_to_async(services.room_advance)(room_id=room_a.pk, by=proctor_a, to=RoomSession.Stage.STARTED)

    ws = await connect(room_path(room_a), proctor_a)
    hello = await ws.receive_json_from(timeout=5)
    assert hello["t"] == "hello" and hello["canAct"] is True
    assert [tile["enrolment"] for tile in hello["tiles"]] == [alice_enrolment.pk]  # Bob sits in room B
    assert hello["tiles"][0]["name"] == "Alice Batbayar" and hello["tiles"][0]["checkin"] == "not_arrived"
    assert hello["session"]["stage"] == "started" and hello["session"]["startCode"] == session.start_code
    # Another room's candidate cannot be watched from here: refused before anything reaches the media server.
    await ws.send_json_to({"t": "view", "session": bob_enrolment.pk, "sdp": "v=0", "quality": "grid", "viewId": "v1"})
    assert (await ws.receive_json_from(timeout=5))["t"] == "error"
    await ws.send_json_to({"t": "snapshot", "enrolment": bob_enrolment.pk})
    assert (await ws.receive_json_from(timeout=5))["t"] == "error"

    watching = await connect(room_path(room_a), observer)
    hello = await watching.receive_json_from(timeout=5)
    assert hello["t"] == "hello" and hello["canAct"] is False and len(hello["tiles"]) == 1
    assert hello["session"]["startCode"] == ""  # the code is the proctors' to give out
    await watching.send_json_to({"t": "snapshot", "enrolment": alice_enrolment.pk})
    assert (await watching.receive_json_from(timeout=5))["t"] == "error"


async def test_a_candidates_signals_reach_the_proctor_as_a_tile_and_an_incident(connect, attempt, alice, alice_enrolment, proctor_a, room_a):
    room = await connect(room_path(room_a), proctor_a)
    assert (await room.receive_json_from(timeout=5))["t"] == "hello"
    candidate = await connect(candidate_path(alice_enrolment), alice)
    hello = await candidate.receive_json_from(timeout=5)
    assert hello["t"] == "hello" and hello["checkin"] == "admitted" and hello["attempt"]["id"] == attempt.pk
    online = await receive_until(room, lambda m: m["t"] == "tile")
    assert online["tile"]["enrolment"] == alice_enrolment.pk and online["tile"]["online"] is True

    await candidate.send_json_to({"t": "signals", "state": ALL_FINE})
    await receive_until(room, lambda m: m["t"] == "tile" and m["tile"]["signals"] == ALL_FINE)
    await candidate.send_json_to({"t": "signals", "state": {"screen": False, "bogus": 1}})

    got: dict[str, dict] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PUSH_WITHIN
    while len(got) < 2:
        message = await receive_until(room, lambda m: m["t"] in ("incident", "tile"), within=max(deadline - loop.time(), 0.01))
        if message["t"] == "incident" or message["tile"]["openIncidents"]:
            got[message["t"]] = message
    incident = got["incident"]["incident"]
    assert incident["kind"] == IncidentKind.SCREEN_SHARE and incident["bySystem"] is True and incident["endedAt"] is None
    assert incident["enrolment"] == alice_enrolment.pk
    assert got["tile"]["tile"]["openIncidents"] == [IncidentKind.SCREEN_SHARE]
    assert "bogus" not in got["tile"]["tile"]["signals"]

    # Fixed: the same incident comes again, ended.
    await candidate.send_json_to({"t": "signals", "state": {"screen": True}})
    ended = await receive_until(room, lambda m: m["t"] == "incident")
    assert ended["incident"]["id"] == incident["id"] and ended["incident"]["endedAt"] is not None


async def test_the_chat_both_ways(connect, attempt, alice, alice_enrolment, proctor_a, room_a):
    room = await connect(room_path(room_a), proctor_a)
    await room.receive_json_from(timeout=5)
    candidate = await connect(candidate_path(alice_enrolment), alice)
    await candidate.receive_json_from(timeout=5)

    await sync_to_async(services.message_send)(enrolment_id=alice_enrolment.pk, author=proctor_a, text="Please look at the camera")
    heard = await receive_until(candidate, lambda m: m["t"] == "message")
    assert heard["message"]["text"] == "Please look at the camera" and heard["message"]["fromProctor"] is True

    await candidate.send_json_to({"t": "message", "text": "Sorry, my chair broke"})
    # The proctors' own line is shown in the room too (another proctor of the room sees it).
    mine = await receive_until(room, lambda m: m["t"] == "message")
    assert mine["message"]["text"] == "Please look at the camera" and mine["message"]["fromProctor"] is True
    asked = await receive_until(room, lambda m: m["t"] == "message")
    assert asked["message"]["text"] == "Sorry, my chair broke" and asked["message"]["fromProctor"] is False
    assert (await receive_until(room, lambda m: m["t"] == "tile" and m["tile"]["unread"] == 1))["tile"]["enrolment"] == alice_enrolment.pk
    # The candidate's own line comes back to their socket too (their other tab shows it).
    assert (await receive_until(candidate, lambda m: m["t"] == "message"))["message"]["fromProctor"] is False

    await candidate.send_json_to({"t": "message", "text": "   "})
    assert (await receive_until(candidate, lambda m: m["t"] == "error"))["reason"]
    await candidate.send_json_to({"t": "media.offer", "kinds": {"0": "camera"}})  # no SDP: never forwarded
    assert (await receive_until(candidate, lambda m: m["t"] == "error"))["reason"]
    await candidate.send_json_to({"t": "what"})
    assert (await receive_until(candidate, lambda m: m["t"] == "error"))["reason"]
    assert await sync_to_async(Message.objects.count)() == 2


async def test_the_candidate_socket_is_the_candidates_own(connect, alice_enrolment, bob, proctor_a, alice, exam, room_a):
    assert await refused_with(await connect(candidate_path(alice_enrolment))) == 4401
    for outsider in (bob, proctor_a):
        assert await refused_with(await connect(candidate_path(alice_enrolment), outsider)) == 4404
    # Nor for an enrolment in a sitting without a proctor.
    from ..factories import enrol, make_sitting

    def unproctored_enrolment():
        plain_sitting = make_sitting(exam, proctored=False)
        return enrol(plain_sitting, Room.objects.create(sitting=plain_sitting, name="Room P"), alice, n=2)

    plain = await sync_to_async(unproctored_enrolment)()
    assert await refused_with(await connect(candidate_path(plain), alice)) == 4404
    assert not await sync_to_async(CheckIn.objects.filter(socket_channel__gt="").exists)()


async def test_checkin_and_room_steps_reach_the_candidate(connect, alice, alice_enrolment, proctor_a, observer, room_a):
    await sync_to_async(services.checkin_arrive)(enrolment_id=alice_enrolment.pk, candidate=alice)
    candidate = await connect(candidate_path(alice_enrolment), alice)
    assert (await candidate.receive_json_from(timeout=5))["checkin"] == "waiting"
    watching = await connect(room_path(room_a), observer)
    await watching.receive_json_from(timeout=5)

    await sync_to_async(services.checkin_admit)(enrolment_id=alice_enrolment.pk, by=proctor_a)
    assert await receive_until(candidate, lambda m: m["t"] == "checkin") == {"t": "checkin", "status": "admitted", "reason": ""}
    await sync_to_async(services.room_advance)(room_id=room_a.pk, by=proctor_a, to=RoomSession.Stage.STARTED)
    assert await receive_until(candidate, lambda m: m["t"] == "room") == {"t": "room", "stage": "started"}
    stage = await receive_until(watching, lambda m: m["t"] == "stage")
    assert stage["session"]["stage"] == "started" and stage["session"]["startCode"] == ""


async def test_a_camera_dark_past_the_grace_becomes_an_incident_with_no_further_report(connect, attempt, alice, alice_enrolment,
                                                                                     proctor_a, room_a, settings):
    """Issue 10, point 9: the socket decides a camera loss when its grace ends, even if the page says nothing more."""
    settings.PROCTORING_MEDIA_GRACE_SECONDS = 0.6
    room = await connect(room_path(room_a), proctor_a)
    await room.receive_json_from(timeout=5)
    candidate = await connect(candidate_path(alice_enrolment), alice)
    await candidate.receive_json_from(timeout=5)
    await candidate.send_json_to({"t": "signals", "state": ALL_FINE})
    await candidate.send_json_to({"t": "signals", "state": {"camera": False}})
    await asyncio.sleep(0.3)
    assert not await sync_to_async(Incident.objects.exists)()  # within the grace: perhaps a republish
    lost = await receive_until(room, lambda m: m["t"] == "incident", within=3)
    assert lost["incident"]["kind"] == IncidentKind.CAMERA and lost["incident"]["endedAt"] is None
    await candidate.send_json_to({"t": "signals", "state": {"camera": True}})
    back = await receive_until(room, lambda m: m["t"] == "incident")
    assert back["incident"]["id"] == lost["incident"]["id"] and back["incident"]["lasted"]


async def test_a_lost_connection_becomes_an_incident_after_the_grace(connect, attempt, alice, alice_enrolment, proctor_a, room_a, settings):
    settings.PROCTORING_OFFLINE_GRACE_SECONDS = 0.3
    room = await connect(room_path(room_a), proctor_a)
    await room.receive_json_from(timeout=5)
    candidate = await connect(candidate_path(alice_enrolment), alice)
    await candidate.receive_json_from(timeout=5)
    await candidate.disconnect(timeout=10)
    offline = await receive_until(room, lambda m: m["t"] == "tile" and m["tile"]["online"] is False)
    assert offline["tile"]["enrolment"] == alice_enrolment.pk
    lost = await receive_until(room, lambda m: m["t"] == "incident")
    assert lost["incident"]["kind"] == IncidentKind.CONNECTION and lost["incident"]["endedAt"] is None

    back = await connect(candidate_path(alice_enrolment), alice)
    await back.receive_json_from(timeout=5)
    closed = await receive_until(room, lambda m: m["t"] == "incident")
    assert closed["incident"]["id"] == lost["incident"]["id"] and closed["incident"]["endedAt"] is not None


async def test_a_reload_within_the_grace_is_no_incident(connect, attempt, alice, alice_enrolment, proctor_a, settings):
    settings.PROCTORING_OFFLINE_GRACE_SECONDS = 0.5
    first = await connect(candidate_path(alice_enrolment), alice)
    await first.receive_json_from(timeout=5)
    second = await connect(candidate_path(alice_enrolment), alice)  # the new tab opens before the old one goes
    await second.receive_json_from(timeout=5)
    await first.disconnect(timeout=10)
    await asyncio.sleep(0.8)
    assert not await sync_to_async(Incident.objects.exists)()
    checkin = await sync_to_async(CheckIn.objects.get)(enrolment=alice_enrolment)
    assert checkin.is_online
    # Leaving for good, though, is noticed.
    await second.disconnect(timeout=10)
    await asyncio.sleep(0.8)
    assert await sync_to_async(Incident.objects.filter(kind=IncidentKind.CONNECTION).count)() == 1


# --- the exam page's socket hears the proctor ----------------------------------------------------------
async def test_pause_resume_and_disqualify_reach_the_exam_page(connect, attempt, alice, proctor_a):
    exam_page = await connect(f"/ws/attempt/{attempt.pk}/", alice)
    state = await exam_page.receive_json_from(timeout=5)
    assert state["t"] == "state" and state["pausedAt"] is None

    paused = await sync_to_async(services.attempt_pause)(attempt_id=attempt.pk, by=proctor_a, reason="Power cut")
    pushed = await receive_until(exam_page, lambda m: m["t"] == "state")
    assert pushed["pausedAt"] == int(paused.paused_at.timestamp() * 1000) and pushed["pauseReason"] == "Power cut"

    resumed = await sync_to_async(services.attempt_resume)(attempt_id=attempt.pk, by=proctor_a)
    pushed = await receive_until(exam_page, lambda m: m["t"] == "state")
    assert pushed["pausedAt"] is None and pushed["deadline"] == int(resumed.deadline.timestamp() * 1000)

    await sync_to_async(services.attempt_extend)(attempt_id=attempt.pk, by=proctor_a, minutes=10, reason="Fire alarm")
    pushed = await receive_until(exam_page, lambda m: m["t"] == "state")
    assert pushed["deadline"] == int(resumed.deadline.timestamp() * 1000) + 10 * 60 * 1000

    await sync_to_async(services.attempt_disqualify)(attempt_id=attempt.pk, by=proctor_a, reason="Someone else answered")
    assert await receive_until(exam_page, lambda m: m["t"] == "ended") == {"t": "ended", "reason": "Someone else answered"}


async def test_a_pause_reaches_the_room_as_a_tile(connect, attempt, proctor_a, room_a, alice_enrolment):
    room = await connect(room_path(room_a), proctor_a)
    await room.receive_json_from(timeout=5)
    await sync_to_async(services.attempt_pause)(attempt_id=attempt.pk, by=proctor_a, reason="Network")
    tile = await receive_until(room, lambda m: m["t"] == "tile" and (m["tile"]["attempt"] or {}).get("pausedAt") is not None)
    assert tile["tile"]["enrolment"] == alice_enrolment.pk and tile["tile"]["attempt"]["pauseReason"] == "Network"
    attempt_row = await sync_to_async(Attempt.objects.get)(pk=attempt.pk)
    assert attempt_row.is_paused


async def test_a_started_attempt_reaches_the_room(connect, alice, alice_enrolment, proctor_a, room_a):
    await sync_to_async(admit)(alice_enrolment, proctor_a)
    await sync_to_async(services.room_advance)(room_id=room_a.pk, by=proctor_a, to=RoomSession.Stage.STARTED)
    room = await connect(room_path(room_a), proctor_a)
    await room.receive_json_from(timeout=5)
    from exams.services import attempt_start

    started = await sync_to_async(attempt_start)(candidate=alice, enrolment_id=alice_enrolment.pk, device_id=DEVICE)
    tile = await receive_until(room, lambda m: m["t"] == "tile" and m["tile"]["attempt"] is not None)
    assert tile["tile"]["attempt"]["id"] == started.pk and tile["tile"]["attempt"]["status"] == "in_progress"
