"""The documented production settings (deploy/exams.env), with real keys, for a subprocess."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.servers import BASE_DIR

ENV_FILE = BASE_DIR / "deploy" / "exams.env"
KEY_FILES = (
    "DJANGO_SECRET_KEY",
    "AUDIT_HMAC_KEY",
    "MARKING_CODE_KEY",
    "TURN_SECRET",
    "EMAIL_HOST_PASSWORD",
)


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """Read KEY=VALUE lines as systemd's EnvironmentFile does: comments skipped, quotes removed."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def production_env(keys_dir: Path, **changes: str | None) -> dict[str, str]:
    """The documented settings, their key files made in keys_dir; `changes` set (None: remove) values."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG")}
    env.update(read_env_file())
    for name in KEY_FILES:
        path = keys_dir / name.lower()
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
        env[f"{name}_FILE"] = str(path)
    env["MEDIA_ROOT"] = str(keys_dir / "media")
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
