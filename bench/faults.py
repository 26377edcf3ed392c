"""The drills' own stack and the faults done to it: a private PostgreSQL and Redis, Daphne
processes, a Celery worker, and a small TCP proxy in front of the Daphnes.

Everything here is the drill's alone (a temp data directory, free ports): the drills kill, stop
and restart these, never the shared PostgreSQL or Redis.

The proxy has two listening ports, each with its group of connections: "main" and "cut" (the
pages a network cut isolates). `drop_all` aborts every connection at once (a load balancer or a
NAT restarting); `cut` stalls the cut group (nothing passes either way, new connections hang) and
`restore` resets what was stalled, as a router that lost its connection state would, and lets new
connections through.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from processes import end, free_port, spawn

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _run_as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, text=True, **kwargs)


class PrivatePostgres:
    """initdb into a temp dir, pg_ctl start/stop on a free port."""

    def __init__(self, log_dir: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="drills-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.log = log_dir / "postgres.log"
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")
        _run_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
                          "-E", "UTF8", "--locale", "C"], timeout=120)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300"
        _run_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                          "-t", "60", "start"], timeout=90)

    def stop(self, mode: str = "fast") -> None:
        _run_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"], timeout=90)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Managed:
    """A child process started again with the same arguments, killed by its own pid only."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.process: subprocess.Popen | None = None
        log.write_text("")  # this run's only; each restart appends to it

    def start(self) -> None:
        with open(self.log, "a") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} start\n")
            log.flush()
            self.process = spawn(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # its own group (processes.spawn)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            end(self.process)


class PrivateRedis(Managed):
    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        super().__init__("redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], env=dict(os.environ), log=log_dir / "redis.log")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise SystemExit("drills: the private Redis did not answer PING")


class App(Managed):
    """One Daphne process on a port of its own."""

    def __init__(self, n: int, *, daphne: str, env: dict, log_dir: Path) -> None:
        self.port = free_port()
        super().__init__(f"daphne-{n}", [daphne, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                         env=env, log=log_dir / f"daphne-{n}.log")

    def healthz(self, timeout: float = 5.0) -> int:
        """Return the status of this process's /healthz (0: no answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    def wait_listening(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
            time.sleep(0.2)
        return False


class Proxy:
    """An asyncio TCP proxy: round robin over the Daphnes, skipping one that refuses."""

    GROUPS = ("main", "cut")

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.ports = {group: free_port() for group in self.GROUPS}
        self.live: dict[str, set[asyncio.StreamWriter]] = {group: set() for group in self.GROUPS}
        self.passing = {group: asyncio.Event() for group in self.GROUPS}
        self.stalled: set[asyncio.StreamWriter] = set()
        self.servers: list[asyncio.AbstractServer] = []
        self.turn = 0

    async def start(self) -> None:
        for group in self.GROUPS:
            self.passing[group].set()
            self.servers.append(await asyncio.start_server(
                lambda r, w, g=group: self._serve(g, r, w), "127.0.0.1", self.ports[group], backlog=1024))

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        self.drop_all()

    def drop_all(self) -> int:
        """Abort every connection of both groups at once; return how many."""
        writers = [w for group in self.GROUPS for w in self.live[group]]
        for writer in writers:
            writer.transport.abort()
        return len(writers)

    def cut(self, group: str = "cut") -> None:
        self.passing[group].clear()
        self.stalled.update(self.live[group])

    def restore(self, group: str = "cut") -> None:
        for writer in self.stalled:
            writer.transport.abort()
        self.stalled.clear()
        self.passing[group].set()

    async def _connect_backend(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            port = self.backends[self.turn % len(self.backends)]
            self.turn += 1
            with contextlib.suppress(OSError):
                return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout=5)
        return None

    async def _serve(self, group: str, client_reader, client_writer) -> None:
        live = self.live[group]
        live.add(client_writer)
        if not self.passing[group].is_set():
            self.stalled.add(client_writer)
        backend_writer = None
        try:
            await self.passing[group].wait()
            if client_writer.transport.is_closing():
                return
            backend = await self._connect_backend()
            if backend is None:  # no server listens: the client sees its connection reset
                client_writer.transport.abort()
                return
            backend_reader, backend_writer = backend
            live.add(backend_writer)
            if client_writer in self.stalled:
                self.stalled.add(backend_writer)
            await asyncio.gather(self._pipe(group, client_reader, backend_writer),
                                 self._pipe(group, backend_reader, client_writer))
        except asyncio.CancelledError:
            pass  # the proxy closing at the end of the run: the connection simply ends
        finally:
            for writer in (client_writer, backend_writer):
                if writer is not None:
                    live.discard(writer)
                    self.stalled.discard(writer)
                    writer.transport.abort()

    async def _pipe(self, group: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if not self.passing[group].is_set():
                    await self.passing[group].wait()  # cut: nothing passes until restored (then reset)
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # Either side ending ends both: half-closed connections are not worth keeping here.
            writer.transport.abort()
