"""nginx in front of the test's Daphne processes, with deploy/nginx/exams.conf as the site.

The shipped site file is used as it is, but for what a test machine must change: its addresses,
ports, certificate and static folder. Each change names the exact text it replaces, so an edit of
the shipped file that the test no longer matches fails here rather than testing something else.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import (
    BASE_DIR,
    ManagedProcess,
    free_port,
    process_environment,
    replaced_in_shipped,
)

SITE = BASE_DIR / "deploy" / "nginx" / "exams.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


_replace = functools.partial(replaced_in_shipped, shipped="deploy/nginx/exams.conf")


def collected_static(root: Path) -> Path:
    """Run collectstatic into `root`, as the deployment does for nginx to serve; return `root`."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        check=True,
        env={**process_environment(), "STATIC_ROOT": str(root)},
    )
    return root


class NginxProxy(ManagedProcess):
    """`nginx -g 'daemon off;'` on 127.0.0.1:port over TLS, proxying to `upstreams` (host:port)."""

    name = "nginx"

    def __init__(
        self,
        *,
        upstreams: list[str],
        certificate,
        static_root: Path,
        workdir: Path,
        proxy_address: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        site = SITE.read_text(encoding="utf-8")
        servers = "".join(
            f"    server {upstream} max_fails=1 fail_timeout=5s;\n" for upstream in upstreams
        )
        site = _replace(
            site,
            "    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
            "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;\n",
            servers,
        )
        # Only the TLS server: the port-80 redirect and IPv6 are the same lines as in production.
        plain = site[
            site.index("server {\n    listen 80;") : site.index("server {\n    listen 443")
        ]
        site = _replace(site, plain, "")
        site = _replace(
            site,
            "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n",
            f"    listen 127.0.0.1:{self.port} ssl http2;\n",
        )
        # The catch-all servers for other names (after the site's) listen on 80 and 443 too.
        catch_all = site[site.index("# Any other name") :]
        site = _replace(site, catch_all, "")
        site = _replace(site, "server_name exams.board.example;", "server_name localhost;")
        site = _replace(site, "/etc/ssl/exams/fullchain.pem", str(certificate.certificate))
        site = _replace(site, "/etc/ssl/exams/privkey.pem", str(certificate.key))
        site = _replace(site, "alias /srv/exams/staticfiles/;", f"alias {static_root}/;")
        self.access_log = workdir / "access.log"
        site = _replace(
            site,
            "access_log /var/log/nginx/exams.access.log exams;",
            f"access_log {self.access_log} exams;",
        )
        # The requests leave nginx from an address of their own: Daphne believes the forwarded
        # client address only from there (TRUSTED_PROXIES), and the browser is elsewhere.
        site = _replace(
            site,
            "    location / {\n        proxy_pass http://exams_daphne;\n",
            f"    location / {{\n        proxy_bind {proxy_address};\n        proxy_pass http://exams_daphne;\n",
        )
        site = _replace(
            site,
            "    location /ws/ {\n        proxy_pass http://exams_daphne;\n",
            f"    location /ws/ {{\n        proxy_bind {proxy_address};\n        proxy_pass http://exams_daphne;\n",
        )
        (workdir / "site.conf").write_text(site, encoding="utf-8")
        main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
"""
        (workdir / "nginx.conf").write_text(main, encoding="utf-8")
        argv = [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", "daemon off;"]
        super().__init__(argv, env=dict(os.environ), log_path=workdir / "nginx.log")

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self._ready()
                    return
            except OSError:
                pass
            if not self.running:
                self.fail_to_start(
                    f"exited with code {self.process.returncode}: {(self.workdir / 'error.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                self.stop()
                self.fail_to_start("not listening")
            time.sleep(0.05)

    def log_fields(self, name: str) -> list[str]:
        """The values of `name=` (upstream, request_id) in the access log's lines, in order."""
        if not self.access_log.exists():
            return []
        found = re.findall(rf"\b{name}=(\S+)", self.access_log.read_text())
        return [value for value in found if value != "-"]

    def upstreams_used(self) -> set[str]:
        """The Daphne addresses the access log shows requests going to."""
        return set(self.log_fields("upstream"))
