"""Child processes of the bench scripts: each in a process group of its own, all ended on exit."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILDREN: list[subprocess.Popen] = []


def spawn(args: list[str], *, env: dict, stdout=subprocess.PIPE, stderr=None) -> subprocess.Popen:
    # A process group of its own, so that ending it also ends whatever it started.
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stdout, stderr=stderr, text=True, start_new_session=True)
    CHILDREN.append(process)
    return process


def end(process: subprocess.Popen, grace: float = 8.0) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after `grace` seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)
    if process in CHILDREN:
        CHILDREN.remove(process)


def end_all(grace: float = 8.0) -> None:
    for process in list(CHILDREN):
        end(process, grace)
