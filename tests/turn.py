"""coturn with the shipped configuration (deploy/coturn/turnserver.conf), on a test's own ports.

As tests/proxy.py does for nginx: each change names the exact line it replaces, so the test runs
the file operators install, not a configuration of its own.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import time
from pathlib import Path

from tests.servers import BASE_DIR, ManagedProcess, free_port, replaced_in_shipped

CONFIGURATION = BASE_DIR / "deploy" / "coturn" / "turnserver.conf"
TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


_replace = functools.partial(replaced_in_shipped, shipped="deploy/coturn/turnserver.conf")


class CoturnServer(ManagedProcess):
    """`turnserver` listening on `address`:port (UDP and TCP) and TLS on another port."""

    name = "coturn"

    def __init__(self, *, address: str, secret: str, certificate, workdir: Path) -> None:
        self.address, self.port, self.tls_port = address, free_port(), free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        text = CONFIGURATION.read_text(encoding="utf-8")
        text = _replace(text, "listening-port=3478", f"listening-port={self.port}")
        text = _replace(text, "tls-listening-port=443", f"tls-listening-port={self.tls_port}")
        text = _replace(
            text, "listening-ip=203.0.113.20", f"listening-ip={address}\nrelay-ip={address}"
        )
        text = _replace(
            text,
            "static-auth-secret=replace-me-with-the-content-of-etc-exams-keys-turn_secret",
            f"static-auth-secret={secret}",
        )
        text = _replace(text, "cert=/etc/ssl/turn/fullchain.pem", f"cert={certificate.certificate}")
        text = _replace(text, "pkey=/etc/ssl/turn/privkey.pem", f"pkey={certificate.key}")
        # The media server on this machine is the one peer the relay may reach.
        text = _replace(
            text,
            "allowed-peer-ip=203.0.113.20\nallowed-peer-ip=203.0.113.30",
            f"allowed-peer-ip={address}",
        )
        text = _replace(text, "log-file=syslog", "log-file=stdout\nverbose")
        text += f"\npidfile={workdir}/turnserver.pid\nuserdb={workdir}/turndb\n"
        (workdir / "turnserver.conf").write_text(text, encoding="utf-8")
        argv = [TURNSERVER, "-c", str(workdir / "turnserver.conf")]
        super().__init__(argv, env=dict(os.environ), log_path=workdir / "turnserver.log")

    def urls(self) -> list[str]:
        return [
            f"turn:{self.address}:{self.port}?transport=udp",
            f"turn:{self.address}:{self.port}?transport=tcp",
        ]

    def start(self, timeout: float = 10.0) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.address, self.port), timeout=0.5):
                    self._ready()
                    return
            except OSError:
                pass
            if not self.running:
                self.fail_to_start(f"exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self.fail_to_start("not listening")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
