"""Real processes for tests: a Daphne server and a Celery worker on the pytest-django test database.

The processes get the environment of the embedded or the production-like mode the tests run in,
pointed at the test database (PostgreSQL: DATABASE_URL naming it; SQLite: SQLITE_PATH to its file),
so they see what a test using `transactional_db` has committed. Their output goes to a log file
under test-artifacts/<test>/, and the log's tail is printed when the test fails.

In Redis mode the processes use a Redis database of their own (TEST_REDIS_DB, default 15), not
the one in REDIS_URL: a developer's server and worker on the same Redis would otherwise share the
Celery queue and the channel-layer groups (named by attempt id) with the processes under test, and
a developer's worker would score a test's attempt against the wrong database.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
ARTIFACTS = BASE_DIR / "test-artifacts"
BIN = Path(sys.executable).parent
START_TIMEOUT = 40.0
LOG_TAIL_LINES = 80


# prctl(PR_SET_PDEATHSIG, SIGKILL) in the child: if pytest itself is killed (a CI timeout), the
# kernel kills its servers too instead of leaving them holding ports and database connections.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _die_with_pytest() -> None:
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # trivial on purpose: runs between fork and exec


def require_service(present: bool, what: str) -> None:
    """Skip a test whose service is missing; in CI a missing service is a failure, never a skip."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run with {what}")
    pytest.skip(f"needs {what}")


def replaced_in_shipped(text: str, old: str, new: str, *, shipped: str) -> str:
    """Return `text` (a file of deploy/) with `old` replaced; fail loudly if `old` is not there, so
    that an edit of the shipped file the test no longer matches is not tested as something else."""
    if old not in text:
        raise AssertionError(f"{shipped} no longer contains {old!r}: update the test that runs it")
    return text.replace(old, new)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    condition: Callable[[], object], *, timeout: float, interval: float = 0.1, message: str = ""
) -> object:
    """Return the first truthy value of `condition()`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s in vain: {message or condition}")
        time.sleep(interval)


def database_conninfo_for_tests() -> str:
    """The test database (DATABASE_URL with the test database's name), for a psycopg connection of
    a test's own outside Django's (a lock to hold, pg_stat_activity to read)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


def redis_url_for_tests() -> str:
    """Return REDIS_URL with the tests' own database number (see the module's docstring)."""
    parts = urlsplit(settings.REDIS_URL)
    db = os.environ.get("TEST_REDIS_DB", "15")
    if not db.isdigit():
        raise ValueError(f"TEST_REDIS_DB={db!r} is not a Redis database number")
    return urlunsplit(parts._replace(path=f"/{db}"))


@functools.cache
def celery_client() -> Celery:
    """Return a Celery app that talks to the tests' broker, for pings, inspection and sending tasks.

    Not config.celery.app: its broker is the one in the settings, and its control commands go
    there even when given another connection.
    """
    return Celery(
        "tests",
        broker=redis_url_for_tests(),
        set_as_current=False,
        config_source={"task_serializer": "json", "accept_content": ["json"]},
    )


def process_environment() -> dict[str, str]:
    """Return the environment for a server or worker that shares this test session's database."""
    env = dict(os.environ)
    database = connection.settings_dict
    if settings.USING_POSTGRES:
        parts = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database['NAME']}"))
        env.pop("SQLITE_PATH", None)
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(database["NAME"])
    if settings.REDIS_URL:
        env["REDIS_URL"] = redis_url_for_tests()
    else:
        env.pop("REDIS_URL", None)
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["PYTHONPATH"] = str(BASE_DIR)  # the code under test, whatever the working directory
    env["PYTHONUNBUFFERED"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # Set for the test process beside Playwright (tests/e2e/conftest.py); never for a server.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def artifact_dir(node_name: str) -> Path:
    """Return (and create) the folder for one test's logs and pictures."""
    path = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name)[:120]
    path.mkdir(parents=True, exist_ok=True)
    return path


class ManagedProcess:
    """One child process, its log file, and ways to end it. Only ever signals its own pid."""

    name = "process"

    def __init__(self, argv: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.argv, self.env, self.log_path = argv, env, log_path
        self.process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    def spawn(self) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap()
        self._log.write(
            f"\n===== {time.strftime('%H:%M:%S')} start: {' '.join(self.argv)}\n".encode()
        )
        self._log.flush()
        self.process = subprocess.Popen(
            self.argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_pytest if _LIBC is not None else None,  # noqa: PLW1509 - see _die_with_pytest
        )
        self.spawned_at = time.monotonic()

    def _ready(self) -> None:
        self._log.write(
            f"===== {time.strftime('%H:%M:%S')} ready after {time.monotonic() - self.spawned_at:.1f} s\n".encode()
        )
        self._log.flush()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything, like a power cut."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        self._reap(f"killed (SIGKILL), exit code {self.process.wait(10) if self.process else None}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if the process is still there after `timeout` seconds."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reap(f"stopped, exit code {self.process.returncode if self.process else None}")

    def _reap(self, how: str) -> None:
        if self._log is not None and not self._log.closed:
            self._log.write(f"===== {time.strftime('%H:%M:%S')} {how}\n".encode())
            self._log.close()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def fail_to_start(self, why: str) -> None:
        raise RuntimeError(
            f"{self.name} did not start: {why}\n--- {self.log_path} ---\n{self.log_tail()}"
        )


class DaphneServer(ManagedProcess):
    """`daphne config.asgi:application` on host:port (127.0.0.1); restartable on the same port.

    Another loopback address (127.0.1.1 …) stands for another machine: an app node of its own.
    """

    name = "Daphne"

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.port, self.host = port or free_port(), host
        argv = [
            str(BIN / "daphne"),
            "-b",
            host,
            "-p",
            str(self.port),
            "config.asgi:application",
        ]
        super().__init__(argv, env=env, log_path=log_dir / f"daphne-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start and return once /healthz answers 200 (in Redis mode: a worker answered too)."""
        self.spawn()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last, retries = "no answer yet", 5
        # trust_env=False: never through a proxy, whatever the environment says.
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    self._reap(f"exited, code {self.process.returncode}")
                    # After a SIGKILL the port may be held for a moment: try again, a few times.
                    if "Address already in use" in self.log_tail(5) and retries:
                        retries -= 1
                        time.sleep(0.5)
                        self.spawn()
                        continue
                    self.fail_to_start(f"exited with code {self.process.returncode}")
                try:
                    response = client.get(f"{self.url}/healthz")
                    if response.status_code == 200:
                        self._ready()
                        return
                    last = f"{response.status_code} {response.text}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.1)
        self.stop()
        self.fail_to_start(f"/healthz did not answer 200 within {timeout:.0f} s; last: {last}")

    def restart_after_kill(self) -> float:
        """kill -9 the server, start it again on the same port; return the seconds it was down."""
        began = time.monotonic()
        self.kill()
        self.start()
        return time.monotonic() - began


class RedisServer(ManagedProcess):
    """A private `redis-server` on a free port, for tests that stop, kill or restart Redis (the
    shared one on 6379 serves every other test). Keeps nothing on disk, like the shared one: a
    restart comes back empty, as a Redis without persistence does after a crash."""

    name = "Redis"

    def __init__(self, *, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        super().__init__(argv, env=dict(os.environ), log_path=log_dir / f"redis-{self.port}.log")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        """Start on the same port as before and return once it answers PING."""
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe,
            ):
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    self._ready()
                    return
            if not self.running:
                self.fail_to_start(f"exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self.fail_to_start(f"no PONG within {timeout:.0f} s")
            time.sleep(0.05)


class CeleryWorker(ManagedProcess):
    """`celery -A config worker --pool solo`, consuming the tests' own Redis database."""

    name = "Celery worker"

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        self.hostname = f"tests-{os.getpid()}-{free_port()}@127.0.0.1"
        argv = [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-l",
            "warning",
            "-n",
            self.hostname,
            # Tasks a crashed earlier run left in the tests' queue name attempts of another database.
            "--purge",
            # One worker: no need to wait for others to say hello.
            "--without-mingle",
            "--without-gossip",
        ]
        super().__init__(argv, env=env, log_path=log_dir / "celery-worker.log")

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start and return once the worker answers a ping over the broker."""
        self.spawn()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        assert self.env["REDIS_URL"] == redis_url_for_tests()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                self.fail_to_start(f"exited with code {self.process.returncode}")
            if celery_client().control.ping(destination=[self.hostname], timeout=0.5):
                self._ready()
                return
        self.stop()
        self.fail_to_start(f"no answer to a ping within {timeout:.0f} s")

    def inspect(self, what: str):
        """Return the worker's answer to an inspect command ("stats", "active", …), or None."""
        replies = (
            getattr(
                celery_client().control.inspect(destination=[self.hostname], timeout=1.0), what
            )()
            or {}
        )
        return replies.get(self.hostname)


class MediaServerProcess(ManagedProcess):
    """`manage.py media_server` (aiortc) on the tests' Redis; ready once it says so in its log."""

    name = "media server"

    def __init__(self, *, env: dict[str, str], log_dir: Path) -> None:
        super().__init__(
            [str(BIN / "python"), str(BASE_DIR / "manage.py"), "media_server"],
            env=env,
            log_path=log_dir / "media_server.log",
        )

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while "media server ready" not in self.log_tail(20):
            if not self.running:
                self.fail_to_start(f"exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self.fail_to_start("no 'media server ready' line")
            time.sleep(0.1)
        self._ready()


class Stack:
    """A Daphne server for one test, and the Celery worker it uses in Redis mode.

    The worker may outlive the stack (a fixture can share one between tests): a worker holds no
    state of its own between tasks, and its idle database connections do not keep pytest-django
    from emptying the tables after each test.
    """

    def __init__(
        self,
        *,
        log_dir: Path,
        worker: CeleryWorker | None,
        media: bool = False,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        extra = env or {}
        env = {**process_environment(), **extra}
        if redis_url:
            # A Redis of the test's own (RedisServer) for the cache, sessions and channel layer, which
            # the test may kill. Tasks then run in the server's process: the tests' worker consumes
            # another broker, and /healthz would wait for it in vain.
            env.update(REDIS_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="true")
        elif settings.REDIS_URL and worker is None:
            raise ValueError(
                "in Redis mode the server needs a Celery worker: /healthz and scoring wait for one"
            )
        self.worker = worker
        self.server = DaphneServer(env=env, log_dir=log_dir)
        # In the embedded mode the media server runs inside Daphne; with Redis it is a process.
        self.media = (
            MediaServerProcess(env={**process_environment(), **extra}, log_dir=log_dir)
            if media and settings.REDIS_URL
            else None
        )

    @property
    def url(self) -> str:
        return self.server.url

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}: {p.log_path} (last {LOG_TAIL_LINES} lines) ---\n{p.log_tail()}"
            for p in (self.worker, self.server, self.media)
            if p is not None
        )


def _fresh_log_dir(name: str) -> Path:
    log_dir = artifact_dir(name)
    for old in log_dir.iterdir():  # a previous run's logs and pictures
        if old.is_file():
            old.unlink()
    return log_dir


@contextlib.contextmanager
def running_worker(name: str) -> Iterator[CeleryWorker | None]:
    """Yield a started Celery worker on the test database, or None in the embedded mode.

    Needs the test database to exist already (pytest-django's `django_db_setup`).
    """
    if not settings.REDIS_URL:
        yield None
        return
    worker = CeleryWorker(env=process_environment(), log_dir=_fresh_log_dir(name))
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()


@contextlib.contextmanager
def running_daphne(request, env: dict[str, str] | None = None) -> Iterator[DaphneServer]:
    """Yield a started Daphne (and, in Redis mode, a Celery worker) for the test of `request`, with
    `env` (default: process_environment()); its log's tail is printed when the test failed.

    As running_stack: use it in a fixture that also requests `transactional_db`.
    """
    with running_worker(f"{request.node.name}-worker"):
        daphne = DaphneServer(
            env=env or process_environment(), log_dir=_fresh_log_dir(request.node.name)
        )
        failed_before = request.session.testsfailed
        try:
            daphne.start()
            yield daphne
        finally:
            daphne.stop()
            if request.session.testsfailed > failed_before:
                print(daphne.log_tail())


@contextlib.contextmanager
def running_stack(
    request,
    *,
    worker: CeleryWorker | None,
    media: bool = False,
    redis_url: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Yield a Stack, its server started, for the test of `request`; stop it however the test ends.

    Use it in a fixture that also requests `transactional_db`, so the fixture (and the server,
    holding database connections) ends before pytest-django empties the database. `redis_url`: see
    Stack. `env`: settings of the test's own for the server and the media server.
    """
    stack = Stack(
        log_dir=_fresh_log_dir(request.node.name),
        worker=worker,
        media=media,
        redis_url=redis_url,
        env=env,
    )
    failed_before = request.session.testsfailed
    try:
        if stack.media is not None:
            stack.media.start()
        stack.server.start()
        yield stack
    finally:
        with contextlib.suppress(Exception):
            stack.server.stop()
        if stack.media is not None:
            with contextlib.suppress(Exception):
                stack.media.stop(timeout=15)
        # pytest counts a failed setup or call before teardown runs, and prints a failed test's
        # teardown output; this puts the logs right under the failure.
        if request.session.testsfailed > failed_before:
            print(stack.logs())
