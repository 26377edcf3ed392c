"""Answer keys, marking guides and other candidates' data never reach a candidate's browser (R-SEC-1).

Every page and JSON response a candidate receives on the way through an exam is scanned.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from exams.middleware import DEVICE_COOKIE
from exams.models import Attempt, AttemptItem, ItemKind

from ..factories import GUIDE_MARK, KEY_MARK

# The HTTP fallback reaches the ORM through database_sync_to_async, which closes the connection
# around each call; a test transaction cannot span that.
pytestmark = pytest.mark.django_db(transaction=True)

FORBIDDEN_FIELDS = re.compile(r'"(key|keys|guide|correct|is_correct|accepted|answer_key|option_ids|item_version|form_seed)"\s*:')


def assert_clean(body: str, where: str, other_names: list[str]) -> None:
    assert KEY_MARK not in body, f"a fill-in key reached the candidate at {where}"
    assert GUIDE_MARK not in body, f"a marking guide reached the candidate at {where}"
    assert not FORBIDDEN_FIELDS.search(body), f"a key field reached the candidate at {where}: {FORBIDDEN_FIELDS.search(body).group(0)}"
    for name in other_names:
        assert name not in body, f"another candidate's data ({name}) reached the candidate at {where}"


def test_nothing_a_candidate_receives_holds_a_key(alice, bob, alice_enrolment, bob_enrolment):
    client = Client()
    client.force_login(alice)
    client.cookies[DEVICE_COOKIE] = "a" * 32
    others = [bob.get_full_name(), bob_enrolment.ticket_number, bob.email]
    seen: dict[str, str] = {}

    def fetch(method: str, url: str, **kw) -> str:
        response = getattr(client, method)(url, **kw)
        if response.status_code in (301, 302):
            return fetch("get", response.url)
        assert response.status_code == 200, (url, response.status_code)
        body = b"".join(response.streaming_content).decode("latin-1") if response.streaming else response.content.decode()
        seen[url] = body
        return body

    fetch("get", reverse("exams:home"))
    fetch("get", reverse("exams:confirm_identity", args=[alice_enrolment.pk]))
    fetch("post", reverse("exams:attempt_start", args=[alice_enrolment.pk]))
    attempt = Attempt.objects.get(candidate=alice)
    page = seen[reverse("exams:attempt", args=[attempt.pk])]
    data = json.loads(page.split('id="attempt-data" type="application/json">')[1].split("</script>")[0])
    assert {item["kind"] for item in data["items"]} == set(ItemKind.values), "the scan must cover every item kind"

    # Answer every item, then read everything back as the page would.
    changes = []
    for seq, item in enumerate(data["items"], start=1):
        value = [0] if item.get("options") else "my answer"
        changes.append({"pos": item["pos"], "seq": seq, "value": value, "flagged": seq % 7 == 0})
    fetch("post", reverse("exams:attempt_save", args=[attempt.pk]), data=json.dumps({"changes": changes}), content_type="application/json")
    fetch("get", reverse("exams:attempt", args=[attempt.pk]))
    fetch("get", reverse("exams:attempt_state", args=[attempt.pk]))
    for slot in AttemptItem.objects.filter(attempt=attempt, item_version__image__gt=""):
        fetch("get", reverse("exams:item_image", args=[attempt.pk, slot.position]))
    fetch("post", reverse("exams:attempt_finish", args=[attempt.pk]))
    fetch("get", reverse("exams:attempt_result_part", args=[attempt.pk]))
    fetch("get", reverse("exams:home"))

    assert len(seen) >= 7
    for url, body in seen.items():
        assert_clean(body, url, others)
