"""Profile the hot paths in-process with pyinstrument, against the bench database.

    profile_hot.py ENROLMENTS_JSON OUT_DIR BATCH      (needs 85 + BATCH enrolments at most)

1. start + first exam page, through the whole Django stack (middleware, session, view, service,
   template) with the test client: POST /enrolments/<id>/start/ and follow the redirect;
2. responses_save with a batch of BATCH changes, one per attempt (as the group commit sees them
   when BATCH sockets each have one save outstanding).
Each is timed first without the profiler (wall time and SQL statements per operation), then run
again under pyinstrument; the profiles go to OUT_DIR as text, the numbers to stdout as JSON.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from profile_server import write  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from exams.models import Attempt, AttemptItem  # noqa: E402
from exams.services import AnswerChange, responses_save  # noqa: E402

INTERVAL = 0.0005
STARTS = 40  # timed, then as many again profiled


# One client for everyone: a new Client builds a new handler, whose first request loads the
# middleware again (WhiteNoise then scans every static file), which a server does once.
CLIENT = Client()


def as_candidate(username: str) -> Client:
    """Return the client signed in as `username`, on a device of its own."""
    CLIENT.cookies.clear()
    CLIENT.force_login(get_user_model().objects.get(username=username))
    CLIENT.cookies["exam_device"] = f"{random.getrandbits(128):032x}"
    return CLIENT


def start_and_open(username: str, enrolment_id: int) -> int:
    client = as_candidate(username)
    response = client.post(f"/enrolments/{enrolment_id}/start/", follow=True)
    assert response.status_code == 200 and b'id="attempt-data"' in response.content, response.status_code
    return Attempt.objects.get(enrolment_id=enrolment_id).pk


def timed_starts(pairs: list[tuple[str, int]]) -> dict:
    """Return time and SQL per start + page, measured around the two requests only."""
    total, queries = 0.0, 0
    for username, enrolment_id in pairs:
        client = as_candidate(username)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.post(f"/enrolments/{enrolment_id}/start/", follow=True)
            total += time.perf_counter() - began
        assert response.status_code == 200 and b'id="attempt-data"' in response.content
        queries += len(captured)
    return {"count": len(pairs), "ms_each": 1000 * total / len(pairs), "queries_each": queries / len(pairs),
            "page_bytes": len(response.content)}


def profiled_starts(pairs: list[tuple[str, int]], out: Path) -> None:
    profiler = Profiler(interval=INTERVAL)
    for username, enrolment_id in pairs:
        client = as_candidate(username)  # signing in is not part of the profile
        profiler.start()
        client.post(f"/enrolments/{enrolment_id}/start/", follow=True)
        profiler.stop()
    write(profiler, out)


def batches(attempts: list[Attempt], slots: dict[int, list[tuple[int, str, int]]], rounds: int, seq0: int):
    """Yield `rounds` batches, one change per attempt, each to a random item."""
    rng = random.Random(1)
    for n in range(rounds):
        changes = []
        for attempt in attempts:
            position, kind, options = rng.choice(slots[attempt.pk])
            if options:
                value = [rng.randrange(options)]
            else:
                value = "ultrasound first, then contrast CT"
            changes.append(AnswerChange(attempt_id=attempt.pk, candidate_id=attempt.candidate_id,
                                        device_id=attempt.device_id, position=position, seq=seq0 + n, value=value))
        yield changes


def main() -> None:
    enrolments: dict[str, int] = json.loads(Path(sys.argv[1]).read_text())
    out_dir = Path(sys.argv[2])
    batch = int(sys.argv[3])
    pairs = sorted(enrolments.items())
    warm, timed, profiled = pairs[:5], pairs[5:5 + STARTS], pairs[5 + STARTS:5 + 2 * STARTS]
    extra = pairs[5 + 2 * STARTS:5 + 2 * STARTS + max(0, batch - 2 * STARTS)]
    for username, enrolment_id in warm:
        start_and_open(username, enrolment_id)
    report = {"start_and_page": timed_starts(timed)}
    profiled_starts(profiled, out_dir / "profile-start.txt")
    for username, enrolment_id in extra:  # enough attempts for one change each in a batch
        start_and_open(username, enrolment_id)

    started = [e for _u, e in timed + profiled + extra]
    attempts = list(Attempt.objects.filter(enrolment_id__in=started).order_by("pk"))[:batch]
    slots: dict[int, list[tuple[int, str, int]]] = {}
    for item in AttemptItem.objects.filter(attempt__in=attempts).select_related("item_version__item"):
        slots.setdefault(item.attempt_id, []).append((item.position, item.item_version.item.kind, len(item.option_order)))
    rounds = 40
    # Warm up, then time, then profile; every batch must be stored in full.
    for changes in batches(attempts, slots, 3, 1):
        assert all(r.ok for r in responses_save(changes=changes))
    total, queries = 0.0, 0
    for changes in batches(attempts, slots, rounds, 10):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            results = responses_save(changes=changes)
            total += time.perf_counter() - began
        assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
        queries += len(captured)
    report["responses_save"] = {"batch": len(attempts), "batches": rounds, "ms_per_batch": 1000 * total / rounds,
                                "queries_per_batch": queries / rounds,
                                "saves_per_second_one_writer": len(attempts) * rounds / total}
    profiler = Profiler(interval=INTERVAL)
    profiler.start()
    for changes in batches(attempts, slots, rounds, 100):
        responses_save(changes=changes)
    profiler.stop()
    write(profiler, out_dir / "profile-save.txt")
    # One change alone: what a save costs when the server is idle (no batching to share it).
    single = 0.0
    for changes in batches(attempts[:1], slots, rounds, 1000):
        began = time.perf_counter()
        responses_save(changes=changes)
        single += time.perf_counter() - began
    report["responses_save_single"] = {"ms_per_batch": 1000 * single / rounds}
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
