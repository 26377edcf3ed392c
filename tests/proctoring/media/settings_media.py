"""Settings for a `manage.py media_server` started by these tests: the test hook, stills every second."""

from config.settings import *  # noqa: F403

PROCTORING_EVIDENCE_HOOK = "tests.proctoring.media.hook.record"
PROCTORING_STILL_SECONDS = 1
PROCTORING_MEDIA_STALL_SECONDS = 3
