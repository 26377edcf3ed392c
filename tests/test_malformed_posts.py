"""Issue 10, point 22: every POST endpoint, posted malformed values by every persona, answers without a 500.

The sweep walks the URL configuration, so an endpoint added later is swept too. The field names
come from the templates' forms (whatever a page posts, garbage is posted under the same name), and
the JSON endpoints get broken JSON. The world is the demo plus a sitting in progress: one
candidate writing, one finished and scored, a complaint filed; each persona posts with its own
objects where it has them, so the garbage reaches the form code behind the access checks.

The test client re-raises a view's exception, so a 500 fails here with its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from complaints.models import Complaint
from complaints.services import complaint_file
from exams.demo import DEMO_EXAM, load_demo
from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, Enrolment, OversightReport, Sitting, SubmittedBy
from exams.services import attempt_submit
from tests.oversight.conftest import DEVICE, sit
from tests.servers import BASE_DIR

PERSONAS = [
    "admin",
    "candidate1",
    "candidate2",
    "proctor_a",
    "committee",
    "adjudicator",
    "observer",
]
# Django's own admin pages are Django's; its sign-in page is ours to protect, so it is swept.
SKIPPED_PREFIXES = ("admin:",)
SWEPT_ANYWAY = ("admin:login",)
HUGE_NUMBER = "9" * 400
GARBAGE_VALUES = ["abc", HUGE_NUMBER, "-1", "", "1e309", "\x00", "x" * 20_000]
GARBAGE_JSON = [
    b"{",
    b"[]",
    b"null",
    b'{"changes": "x"}',
    b'{"changes": [{"pos": "x", "seq": null}]}',
    b'{"changes": [{"pos": 1e400, "seq": -1, "value": {"a": []}}]}',
    b'"' + b"x" * 50_000 + b'"',
]


# The keys the pages' scripts send in JSON bodies (static/**/js), besides the templates' field names.
SCRIPT_KEYS = [
    "to",
    "force",
    "reason",
    "text",
    "kind",
    "note",
    "stills",
    "minutes",
    "changes",
    "isChrome",
    "isPhone",
    "camera",
    "microphone",
    "screen",
    "uploadMbps",
    "uploadGoodputMbps",
    "uploadLatencyMs",
    "enrolment",
]
GARBAGE_JSON_VALUES = [
    [],
    {"a": [1]},
    1e308,
    True,
    -1,
    "9" * 400,
    "\x00",
    "x" * 20_000,
    [None, "x", -5],
]


def _template_fields() -> tuple[list[str], list[str]]:
    """Return the names the templates' form fields post, and the values their action buttons send."""
    names, actions = set(), set()
    for path in (BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r'name="([a-z_]+)"', text))
        actions.update(re.findall(r'name="action"\s+value="([a-z_]+)"', text))
    names.discard("csrfmiddlewaretoken")
    return sorted(names), sorted(actions)


@dataclass(frozen=True)
class Endpoint:
    name: str
    kwargs: tuple[str, ...]


def _endpoints(patterns=None, namespace: str = "") -> Iterator[Endpoint]:
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _endpoints(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            if not name.startswith(SKIPPED_PREFIXES) or name in SWEPT_ANYWAY:
                yield Endpoint(name, tuple(entry.pattern.converters))


# transactional_db: the HTTP save fallback reaches the ORM through database_sync_to_async, which
# closes the connection around each call; a test transaction cannot span that.
@pytest.fixture
def world(transactional_db, settings, tmp_path):
    """The demo, with candidate1 writing, candidate2 finished and scored, and a complaint of candidate2's."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=PERSONAS)}
    sitting = Sitting.objects.get(exam__code=DEMO_EXAM, name="Demo sitting (open now)")
    enrolments = Enrolment.objects.filter(sitting=sitting)
    enrolments.update(identity_confirmed_at=sitting.starts_at)
    writing = sit(enrolments.get(candidate=users["candidate1"]), users["proctor_a"])
    finished = sit(enrolments.get(candidate=users["candidate2"]), _proctor_b())
    attempt_submit(attempt_id=finished.pk, by=SubmittedBy.CANDIDATE, actor=users["candidate2"])
    complaint = complaint_file(
        enrolment_id=finished.enrolment_id,
        candidate=users["candidate2"],
        kind=Complaint.Kind.CONDUCT,
        grounds="The room was too loud during the whole exam, and nobody helped.",
    )
    return {
        "users": users,
        "sitting": sitting,
        "writing": writing,
        "finished": finished,
        "complaint": complaint,
    }


def _proctor_b():
    return get_user_model().objects.get(username="proctor_b")


def _argument(name: str, persona, world) -> object:
    """The id a persona would use for a URL argument: its own object where it has one."""
    own_attempt = Attempt.objects.filter(candidate=persona).order_by("pk").first()
    own_enrolment = Enrolment.objects.filter(candidate=persona, sitting=world["sitting"]).first()
    values = {
        "attempt_id": (own_attempt or world["writing"]).pk,
        "enrolment_id": (own_enrolment or world["writing"].enrolment).pk,
        "exam_id": world["sitting"].practice_exam_id,
        "sitting_id": world["sitting"].pk,
        "room_id": world["writing"].enrolment.room_id,
        "item_id": world["finished"].items.order_by("-position").first().item_version.item_id,
        "report_id": getattr(OversightReport.objects.order_by("pk").first(), "pk", 1),
        "reference": world["complaint"].reference,
        "position": 1,
        "fmt": "csv",
    }
    return values.get(name, 1)


# A proctor's actions on an attempt are one URL with the action in it; disqualify last, it ends the attempt.
ATTEMPT_ACTIONS = ["pause", "resume", "extend", "hand-over", "nonsense", "disqualify"]


def _urls(endpoints: list[Endpoint], persona, world) -> Iterator[tuple[Endpoint, str]]:
    for endpoint in endpoints:
        kwargs = {k: _argument(k, persona, world) for k in endpoint.kwargs if k != "action"}
        for action in ATTEMPT_ACTIONS if "action" in endpoint.kwargs else [None]:
            yield (
                endpoint,
                reverse(endpoint.name, kwargs={**kwargs, "action": action} if action else kwargs),
            )


def _client(persona) -> Client:
    client = Client()
    if persona is not None:
        client.force_login(persona)
    client.cookies[DEVICE_COOKIE] = DEVICE
    return client


def _payloads(names: list[str], actions: list[str]) -> Iterator[dict]:
    yield {}
    for value in GARBAGE_VALUES:
        yield {name: value for name in names}
    yield {name: ["1", "2"] for name in names}
    for action in actions:
        yield {**{name: "abc" for name in names}, "action": action}


def _post(client: Client, url: str, data, **kw) -> tuple[int, str]:
    """Post; return the status, or 500 and the exception's first line when the view raised."""
    try:
        return client.post(url, data, **kw).status_code, ""
    except Exception as exc:  # noqa: BLE001 - every exception a view lets out is a 500 to the person
        return 500, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


def _shown(data) -> str:
    text = repr(data)
    return text if len(text) < 80 else text[:77] + "..."


@pytest.mark.filterwarnings("ignore::django.core.cache.CacheKeyWarning")
def test_no_post_endpoint_answers_malformed_values_with_a_server_error(world):
    names, actions = _template_fields()
    endpoints = list(_endpoints())
    assert len(endpoints) > 40, "the sweep must see the whole URL configuration"
    failures: dict[
        tuple[str, str], str
    ] = {}  # one line per endpoint and error, however many payloads hit it
    posts = 0
    for persona_name in [None, *PERSONAS]:
        persona = world["users"][persona_name] if persona_name else None
        for endpoint, url in _urls(endpoints, persona, world):
            client = _client(
                persona
            )  # afresh: a sweep of the logout or login page ends the session
            attempts = [({}, {})]
            status, error = _post(client, url, {})
            posts += 1
            if error:
                failures.setdefault((endpoint.name, error), f"{persona_name} {{}}")
            if status in (403, 404, 405) or (
                status == 302 and "/login/" in client.post(url, {}).get("Location", "")
            ):
                continue  # this persona cannot reach the endpoint's form: nothing more to sweep for it
            attempts = [(data, {}) for data in _payloads(names, actions)]
            attempts += [(body, {"content_type": "application/json"}) for body in GARBAGE_JSON]
            attempts += [
                (
                    {key: value for key in [*names, *SCRIPT_KEYS]},
                    {"content_type": "application/json"},
                )
                for value in GARBAGE_JSON_VALUES
            ]
            for data, kw in attempts:
                status, error = _post(client, url, data, **kw)
                posts += 1
                if error:
                    failures.setdefault((endpoint.name, error), f"{persona_name} {_shown(data)}")
    assert posts > 500
    assert not failures, "\n".join(
        f"{name}: {error}  (first: {first})" for (name, error), first in sorted(failures.items())
    )
