"""Child processes of the bench scripts: each in a process group of its own, all ended on exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
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


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphnes(count: int, *, daphne: str, env: dict, log_dir: Path, label: str,
                  wait: float = 60.0) -> tuple[list[int], list[subprocess.Popen]]:
    """Start `count` Daphne processes on free ports and wait until each answers its sign-in page."""
    ports, processes = [], []
    for n in range(count):
        port = free_port()
        log = open(log_dir / f"daphne-{label}-{n + 1}.log", "w")  # noqa: SIM115 (closed with the process)
        processes.append(spawn([daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], env=env,
                               stdout=log, stderr=subprocess.STDOUT))
        ports.append(port)
    deadline = time.monotonic() + wait
    for port, process in zip(ports, processes, strict=True):
        while True:
            if process.poll() is not None:
                raise SystemExit(f"bench: Daphne on port {port} exited at start-up; see {log_dir}/daphne-{label}-*.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: Daphne on port {port} did not answer within {wait:.0f} s")
            time.sleep(0.3)
    return ports, processes
