"""Settings that would put candidates' data or the exam's integrity at risk stop start-up.

Each refusal is one line that names the setting and what to do. Some apply everywhere (DEBUG
serving a public name shows source and settings to anyone who causes an error); the rest only in
production (DJANGO_PRODUCTION=1), where the product is on the internet.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from config.secrets import UnsafeSettings

# Values that appeared in this repository or its documentation as examples: public, so no key.
PUBLISHED_KEYS = {
    "embedded-insecure-key-set-DJANGO_SECRET_KEY-in-production",
}
PUBLISHED_KEY_MARK = "replace-me"
LOCAL_NAMES = {"localhost", "testserver"}


def is_local(host: str) -> bool:
    """Whether a host name or address is reachable only from this machine (or a test client)."""
    host = host.strip().strip("[]").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_unsafe(settings: dict[str, Any]) -> None:
    """Raise UnsafeSettings for the first unsafe setting in `settings` (the settings module's globals)."""
    if settings["DEBUG"]:
        public = [host for host in settings["ALLOWED_HOSTS"] if not is_local(host)]
        if public:
            raise UnsafeSettings(
                f"DJANGO_DEBUG is on while the site answers to {', '.join(public)}: "
                "debug pages show settings and code to anyone; turn DJANGO_DEBUG off"
            )
    if settings["EMAIL_USE_TLS"] and settings["EMAIL_USE_SSL"]:
        raise UnsafeSettings(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are both on: STARTTLS (587) or TLS (465), not both"
        )
    if settings["PRODUCTION"]:
        _refuse_unsafe_production(settings)


def _refuse_unsafe_production(settings: dict[str, Any]) -> None:
    for name in ("SECRET_KEY", "AUDIT_HMAC_KEY", "MARKING_CODE_KEY", "TURN_SECRET"):
        value = settings[name]
        if value in PUBLISHED_KEYS or PUBLISHED_KEY_MARK in value:
            raise UnsafeSettings(
                f"{_env_name(name)} is a value published as an example; make a key of your own"
            )
    if settings["DEBUG"]:
        raise UnsafeSettings("DJANGO_DEBUG is on: production never runs in debug mode")
    site = urlsplit(settings["SITE_URL"])
    if site.scheme != "https" or not site.hostname:
        raise UnsafeSettings(
            f"SITE_URL={settings['SITE_URL']!r}: production is served at an https:// address"
        )
    if not settings["ALLOWED_HOSTS"] or "*" in settings["ALLOWED_HOSTS"]:
        raise UnsafeSettings("DJANGO_ALLOWED_HOSTS must name the site's host names (not *)")
    if not settings["USING_POSTGRES"] or not settings["REDIS_URL"]:
        raise UnsafeSettings(
            "production needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): several processes share them"
        )
    if not settings["SESSION_COOKIE_SECURE"]:
        raise UnsafeSettings("DJANGO_SECURE_COOKIES is off: the session would travel without TLS")
    if settings["EMAIL_BACKEND"].endswith(
        (".console.EmailBackend", ".locmem.EmailBackend", ".dummy.EmailBackend")
    ):
        raise UnsafeSettings(
            "EMAIL_HOST is not set: the sign-in, result and complaint e-mails would reach nobody"
        )
    if (
        settings["EMAIL_HOST_PASSWORD"]
        and not (settings["EMAIL_USE_TLS"] or settings["EMAIL_USE_SSL"])
        and not is_local(settings["EMAIL_HOST"])
    ):
        raise UnsafeSettings(
            f"EMAIL_HOST_PASSWORD would go to {settings['EMAIL_HOST']} unencrypted: set EMAIL_USE_TLS or EMAIL_USE_SSL"
        )
    if settings["TURN_URLS"] and not settings["TURN_SECRET"]:
        raise UnsafeSettings(
            "TURN_URLS is set but TURN_SECRET is not: coturn's static-auth-secret is needed"
        )


def _env_name(setting: str) -> str:
    return "DJANGO_SECRET_KEY" if setting == "SECRET_KEY" else setting
