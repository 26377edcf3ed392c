"""A test evidence hook: one JSON line per call, in the file named by MEDIA_TEST_HOOK_LOG."""

from __future__ import annotations

import json
import os
import threading

_lock = threading.Lock()


def record(**fields) -> None:
    fields["at"] = fields["at"].isoformat()  # an aware datetime, as the contract says
    with _lock, open(os.environ["MEDIA_TEST_HOOK_LOG"], "a") as log:
        log.write(json.dumps(fields) + "\n")


def calls(path) -> list[dict]:
    try:
        with open(path) as log:
            return [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []
