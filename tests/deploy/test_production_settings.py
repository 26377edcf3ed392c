"""Issue 13, points 1 and 2: production refuses to start unsafe, and never runs the demo.

Each case starts `manage.py check --deploy` in a process of its own with the documented production
settings (deploy/exams.env) and one thing changed: start-up must stop with one line naming it.
"""

from __future__ import annotations

import os
import runpy
import secrets

import pytest

from tests.servers import BASE_DIR

from .production import manage, production_env

KEY = secrets.token_urlsafe(48)


def test_the_documented_production_settings_pass_the_deploy_check_without_a_warning(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


REFUSALS = {
    "no secret key": (
        {"DJANGO_SECRET_KEY_FILE": None},
        "DJANGO_SECRET_KEY is not set",
    ),
    "a short secret key": (
        {"DJANGO_SECRET_KEY_FILE": None, "DJANGO_SECRET_KEY": "s3cret-but-short"},
        "at least 50",
    ),
    "no audit key": ({"AUDIT_HMAC_KEY_FILE": None}, "AUDIT_HMAC_KEY is not set"),
    "no marking key": ({"MARKING_CODE_KEY_FILE": None}, "MARKING_CODE_KEY is not set"),
    "the key this repository once published": (
        {
            "DJANGO_SECRET_KEY_FILE": None,
            "DJANGO_SECRET_KEY": "embedded-insecure-key-set-DJANGO_SECRET_KEY-in-production",
        },
        "published as an example",
    ),
    "one key for two jobs": (
        {
            "DJANGO_SECRET_KEY_FILE": None,
            "AUDIT_HMAC_KEY_FILE": None,
            "DJANGO_SECRET_KEY": KEY,
            "AUDIT_HMAC_KEY": KEY,
        },
        "AUDIT_HMAC_KEY is the same as DJANGO_SECRET_KEY",
    ),
    "a key given twice": (
        {"DJANGO_SECRET_KEY": KEY},
        "DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FILE are both set",
    ),
    "a key file that is not there": (
        {"AUDIT_HMAC_KEY_FILE": "/nonexistent/audit"},
        "AUDIT_HMAC_KEY_FILE=/nonexistent/audit",
    ),
    "DEBUG on": (
        {"DJANGO_DEBUG": "1"},
        "DJANGO_DEBUG is on while the site answers to exams.board.example",
    ),
    "plain HTTP": ({"SITE_URL": "http://exams.board.example"}, "https://"),
    "any host": ({"DJANGO_ALLOWED_HOSTS": "*"}, "not *"),
    "SQLite": ({"DATABASE_URL": None}, "PostgreSQL"),
    "no Redis": ({"REDIS_URL": None}, "Redis"),
    "cookies without TLS": ({"DJANGO_SECURE_COOKIES": "0"}, "DJANGO_SECURE_COOKIES is off"),
    "no mail relay": ({"EMAIL_HOST": None}, "EMAIL_HOST is not set"),
    "a mail password in clear": ({"EMAIL_USE_TLS": "0"}, "unencrypted"),
    "STARTTLS and TLS at once": ({"EMAIL_USE_SSL": "1"}, "not both"),
    "TURN without its secret": ({"TURN_SECRET_FILE": None}, "TURN_SECRET is not"),
}


def refusal(env: dict[str, str], monkeypatch) -> str:
    """Read the settings module as a process with `env` would; return its refusal, or "" if none.

    In this process, not a new one per case: importing Django took 3 s a case. The cases the
    start-up itself is tested with are below (one line on stderr, a failing exit status).
    """
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        runpy.run_path(str(BASE_DIR / "config" / "settings.py"))
    except SystemExit as stop:
        return str(stop)
    return ""


@pytest.mark.parametrize("changes, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_an_unsafe_production_setting_is_refused(tmp_path, monkeypatch, changes, reason):
    assert refusal(production_env(tmp_path), monkeypatch) == ""
    message = refusal(production_env(tmp_path, **changes), monkeypatch)
    assert message.startswith("Refusing to start: ") and reason in message, message
    assert "\n" not in message


@pytest.mark.parametrize("case", ["no secret key", "DEBUG on"])
def test_start_up_stops_with_one_line(tmp_path, case):
    changes, reason = REFUSALS[case]
    result = manage(production_env(tmp_path, **changes), "check")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Refusing to start: "), result.stderr
    assert reason in lines[0]


def test_debug_serving_a_public_name_is_refused_outside_production_too(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "KEYS_DIR": str(tmp_path),
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,exams.board.example",
    }
    result = manage(env, "check")
    assert result.returncode != 0 and "exams.board.example" in result.stderr.strip()
    assert manage({**env, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost"}, "check").returncode == 0


def test_the_demo_is_never_loaded_in_production(tmp_path):
    result = manage(production_env(tmp_path), "load_demo")
    assert result.returncode != 0
    assert "never loaded in production" in result.stderr
