"""`make run` stops cleanly on Ctrl-C: every process it started ends, and nothing crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest
from django.conf import settings

from .servers import BASE_DIR, artifact_dir, free_port, redis_url_for_tests, wait_until

pytestmark = pytest.mark.integration


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_make_run_without_a_crash(tmp_path):
    """Issue 10, point 24: Ctrl-C on `make run` printed "Segmentation fault" (the recipe's
    `trap 'kill 0'` signalled its own shell, whose trap re-entered itself). Now every process
    ends within seconds and make reports no error."""
    port = free_port()
    env = dict(os.environ)
    env.pop(
        "DATABASE_URL", None
    )  # a throw-away SQLite database: load_demo must not touch a real one
    env["SQLITE_PATH"] = str(tmp_path / "run.sqlite3")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    if settings.REDIS_URL:
        env["REDIS_URL"] = redis_url_for_tests()  # the worker, beat and media server too
    log_path = artifact_dir("test_ctrl_c_stops_make_run") / "make-run.log"
    with open(log_path, "wb") as log:
        # A session of its own: the test then signals the whole group, as a terminal's Ctrl-C does.
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def serving() -> bool:
                assert make.poll() is None, log_path.read_text(errors="replace")
                try:
                    return (
                        httpx.get(
                            f"http://127.0.0.1:{port}/healthz", timeout=5.0, trust_env=False
                        ).status_code
                        < 500
                    )
                except httpx.HTTPError:
                    return False

            wait_until(serving, timeout=150, interval=0.5, message="make run to serve /healthz")
            time.sleep(1.0)  # the background processes past their start-up
            os.killpg(make.pid, signal.SIGINT)
            began = time.monotonic()
            make.wait(30)
            stopped_in = time.monotonic() - began
            wait_until(
                lambda: not _group_alive(make.pid),
                timeout=10,
                message="every process of make run to end",
            )
        finally:
            if _group_alive(make.pid):
                os.killpg(make.pid, signal.SIGKILL)
            make.wait(10)
    output = log_path.read_text(errors="replace")
    assert "Segmentation fault" not in output, output[-2000:]
    assert "make: ***" not in output, output[
        -2000:
    ]  # make saw its recipe end cleanly, not by a signal
    assert "Traceback" not in output, output[-2000:]
    # make itself ends as Ctrl-C ends any program (by SIGINT); the recipe's shell exits 0.
    assert make.returncode in (0, -signal.SIGINT), (make.returncode, output[-2000:])
    assert stopped_in < 20
