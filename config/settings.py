"""One settings file, driven by the environment.

Embedded default (nothing set): SQLite, the in-memory channel layer, Celery tasks run in-process.
With DATABASE_URL and REDIS_URL: PostgreSQL, Redis channel layer and cache, a real Celery broker.
A malformed value stops start-up with a message rather than falling back silently.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.safety import refuse_unsafe
from config.secrets import UnsafeSettings, distinct, from_environment, key_for

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from exc


# Production (DJANGO_PRODUCTION=1): every key given, HTTPS behind the proxy, PostgreSQL and Redis,
# and an unsafe setting stops start-up with one line (config/safety.py). Never the demo.
PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
DEBUG = env_bool("DJANGO_DEBUG", False)
# Outside production, keys nobody gave are generated once per checkout and kept here (config/secrets.py).
KEYS_DIR = Path(os.environ.get("KEYS_DIR", "") or BASE_DIR / "var" / "keys")
try:
    # One key per job, so that a leak of one opens nothing else: sessions, CSRF and signed cookies;
    # the seal of the audit log (an edit re-sealed without it does not verify); the committee's
    # anonymous answer codes (without it a code cannot be traced back to its candidate).
    SECRET_KEY = key_for("DJANGO_SECRET_KEY", production=PRODUCTION, keys_dir=KEYS_DIR)
    AUDIT_HMAC_KEY = key_for("AUDIT_HMAC_KEY", production=PRODUCTION, keys_dir=KEYS_DIR)
    MARKING_CODE_KEY = key_for("MARKING_CODE_KEY", production=PRODUCTION, keys_dir=KEYS_DIR)
    # coturn's shared secret (static-auth-secret): TURN credentials are derived from it.
    TURN_SECRET = from_environment("TURN_SECRET")
    EMAIL_HOST_PASSWORD = from_environment("EMAIL_HOST_PASSWORD")
    distinct(
        {
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
            "MARKING_CODE_KEY": MARKING_CODE_KEY,
            "TURN_SECRET": TURN_SECRET,
        }
    )
except UnsafeSettings as _unsafe:
    raise SystemExit(f"Refusing to start: {_unsafe}") from None
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Production answers only to its own name (the host of SITE_URL) unless told otherwise.
_default_hosts = urlsplit(SITE_URL).hostname if PRODUCTION else "127.0.0.1,localhost,testserver"
ALLOWED_HOSTS = [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", _default_hosts or "").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_celery_beat",
    "exams",
    "proctoring",
    "grading",
    "complaints",
    "signin",
    "languages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "signin.middleware.KnownDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "exams.middleware.DeviceCookieMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.language_switch",
            ],
            # {{ user|person_name }} on every page without a {% load %}: names in the page's order.
            "builtins": ["languages.templatetags.people"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    except Exception as exc:  # dj_database_url raises a bare ValueError/KeyError
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # A pool, not persistent connections: under ASGI every request runs in a thread of its own,
        # and CONN_MAX_AGE kept one connection per thread open — a start storm of 50 exhausted
        # PostgreSQL's 100 connections. The pool caps a process at DB_POOL_MAX.
        # DB_POOL_TIMEOUT: how long a request waits for a free connection before it fails (500).
        # A storm queues here: with 500 candidates of a room arriving, admitted and starting at
        # once on 2 busy cores, requests waited up to 40 s, and at 20 s 38 of 2,000 got a 500
        # (bench/drill.py; issue 10, point 21). A request that timed out here has not touched the
        # database, so waiting longer is exactly what a retry would do; 60 s leaves 1.5x margin.
        # The cost: with the database down, a request may wait this long for its error page.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 20),
            "timeout": env_int("DB_POOL_TIMEOUT", 60),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # IMMEDIATE: a transaction takes the write lock at BEGIN, so a read-then-write service
            # (save, submit) never fails half-way with "database is locked" on upgrade.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# Test databases: per test process, so that runs side by side do not destroy each other's; a file,
# not memory, for SQLite, so that a server process started by a test sees the test's data.
if USING_POSTGRES:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
else:
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ----------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://"
    )

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # The pool default (100) fails a burst of WebSocket connects with "Too many connections".
            # socket_timeout: redis-py 8 defaults to 5 s, the same as channels_redis's blocking read,
            # so an idle consumer's read timed out and its WebSocket dropped every few seconds.
            # socket_connect_timeout: a connect to a Redis that is restarting fails within a second
            # instead of the read timeout's 15 s, so a page's socket handshake is refused and redialled,
            # not left hanging (issue 11, drill redis_down_10s).
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": 1000,
                        "socket_timeout": 15,
                        "socket_connect_timeout": 1,
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # Fail fast when Redis is down or unreachable (issue 10, point 23): a page then gets the
    # "temporarily unavailable" answer at once, not after redis-py's default retries with backoff.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": 0.5,
                "socket_timeout": 1.0,
                "retry": Retry(NoBackoff(), 1),
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Catches attempts whose deadline passed while nobody had the exam page open (R-TAKE-3).
    "submit-overdue-attempts": {"task": "exams.tasks.submit_overdue_attempts", "schedule": 10.0},
    # Scores whose task was lost (broker down at submission) are queued again.
    "score-waiting-attempts": {"task": "grading.tasks.score_waiting_attempts", "schedule": 60.0},
    # Re-scores of a key correction whose task was lost are queued again (R-GRADE-4).
    "rescore-pending": {"task": "grading.tasks.rescore_pending", "schedule": 60.0},
    # Whoever has not started when entry closes is absent (R-SCHED-3).
    "mark-absentees": {"task": "proctoring.tasks.mark_absentees", "schedule": 60.0},
    # Stills and recordings past their exam's retention period are deleted (R-PROC-6).
    "delete-expired-evidence": {
        "task": "proctoring.tasks.delete_expired_evidence",
        "schedule": 3600.0,
    },
    # The committee is reminded before a complaint's deadline, and told once it has passed (R-COMP-2).
    "remind-due-complaints": {"task": "complaints.tasks.remind_due_complaints", "schedule": 300.0},
    # Council members watch every room of their sitting; once it has ended, both oversight reports
    # are drafted from the audit log, due 2 hours later (R-AUD-2).
    "draft-oversight-reports": {
        "task": "exams.oversight.tasks.draft_oversight_reports",
        "schedule": 60.0,
    },
}
# Task modules autodiscovery does not find (it looks for <app>.tasks only).
CELERY_IMPORTS = ["exams.oversight.tasks"]

# --- Complaints (complaints/) ----------------------------------------------------------------
# Supporting files: how many, how large each and together, and how many pixels a picture may have.
COMPLAINT_MAX_FILES = env_int("COMPLAINT_MAX_FILES", 5)
COMPLAINT_MAX_FILE_BYTES = env_int("COMPLAINT_MAX_FILE_BYTES", 10_000_000)
COMPLAINT_MAX_TOTAL_BYTES = env_int("COMPLAINT_MAX_TOTAL_BYTES", 25_000_000)
COMPLAINT_MAX_IMAGE_PIXELS = env_int("COMPLAINT_MAX_IMAGE_PIXELS", 40_000_000)

# --- Limits on what candidates and files control (issue 10, point 19) ----------------------------
# Memory a complaint's pictures may cost: a PNG or WebP is decoded in full, so it may have at most
# COMPLAINT_MAX_DECODED_PIXELS; a larger JPEG is decoded at a reduced scale. The pictures of one
# complaint are stored with at most COMPLAINT_MAX_TOTAL_PIXELS together (each reduced to its share),
# decoded one at a time.
COMPLAINT_MAX_DECODED_PIXELS = env_int("COMPLAINT_MAX_DECODED_PIXELS", 16_000_000)
COMPLAINT_MAX_TOTAL_PIXELS = env_int("COMPLAINT_MAX_TOTAL_PIXELS", 40_000_000)
# How many complaints a candidate may file about one exam (one enrolment), all kinds together.
COMPLAINT_MAX_PER_ENROLMENT = env_int("COMPLAINT_MAX_PER_ENROLMENT", 10)
# An item file is read whole into memory before it is checked; each image it names is copied to the bank.
ITEM_IMPORT_MAX_BYTES = env_int("ITEM_IMPORT_MAX_BYTES", 20_000_000)
ITEM_IMPORT_MAX_IMAGE_BYTES = env_int("ITEM_IMPORT_MAX_IMAGE_BYTES", 5_000_000)

# --- Live proctoring (proctoring/) -------------------------------------------------------------
# Seconds between the evidence stills the media process keeps of each camera and screen.
PROCTORING_STILL_SECONDS = env_int("PROCTORING_STILL_SECONDS", 5)
# Called by the media process for every still and recording it writes: they become rows.
PROCTORING_EVIDENCE_HOOK = "proctoring.services.evidence_hook"
# Signals from the exam page open incidents only this long after the start: the page must ask for
# the screen share again when it opens (a browser rule), and that gap is not an incident.
PROCTORING_SIGNAL_GRACE_SECONDS = env_int("PROCTORING_SIGNAL_GRACE_SECONDS", 20)
# A candidate's socket gone this long mid-attempt is a "connection lost" incident.
PROCTORING_OFFLINE_GRACE_SECONDS = env_int("PROCTORING_OFFLINE_GRACE_SECONDS", 5)
# A camera or microphone dark this long, or the media server seeing a track missing this long, is
# an incident (dated from when it went dark): a republish (screen re-shared, reload, network blip)
# takes a few seconds and is not a loss (proctoring/services/signals.py).
PROCTORING_MEDIA_GRACE_SECONDS = env_int("PROCTORING_MEDIA_GRACE_SECONDS", 8)

# --- Sessions, auth, security ----------------------------------------------------------------
# cached_db that falls back to the database whenever Redis fails: a Redis restart or outage must
# not sign the exam pages out (issue 11, point 1).
SESSION_ENGINE = "signin.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sent over HTTPS only (the session, CSRF, device and known-device cookies alike).
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A sign-in lasts a working day, not Django's two weeks: long enough for the longest sitting and
# its review, short enough that a shared computer at a test centre is not signed in tomorrow.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)

# HTTPS behind a reverse proxy (deploy/nginx). The proxy ends TLS; the ASGI application believes
# its X-Forwarded-For and X-Forwarded-Proto only when the connection comes from one of
# TRUSTED_PROXIES (config/proxy.py), so a client that reaches Daphne directly forges nothing.
TRUSTED_PROXIES = [a.strip() for a in os.environ.get("TRUSTED_PROXIES", "").split(",") if a.strip()]
# Who may read /metrics (config/metrics.py): addresses or networks, comma-separated.
METRICS_ALLOWED = [
    a.strip()
    for a in os.environ.get("METRICS_ALLOWED", "127.0.0.1/32,::1/128").split(",")
    if a.strip()
]

# The header in which the proxy says whether the client came over HTTPS ("https" or "http").
PROXY_TLS_HEADER = os.environ.get("PROXY_TLS_HEADER", "X-Forwarded-Proto").replace("_", "-")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", PRODUCTION)
# The health check and the metrics are asked for over plain HTTP by the monitor on the same network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# Preloading is a promise to browsers' makers that is slow to take back: the board opts in.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)

# Content-Security-Policy on every page (django-csp): scripts, styles, pictures and fonts from this
# site only, no inline script or style, no plugins, no framing; sockets to this site only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# JSON for the exam page's HTTP fallback (the page reloads itself on it), Django's page elsewhere.
CSRF_FAILURE_VIEW = "exams.fallback.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "exams:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
]
# Sign-in throttling (signin/throttle.py): delays that grow, never locks. An account from one
# address (or one known device) waits after this many failures in the window: 1 s, 2 s, 4 s … at most
# LOGIN_DELAY_MAX_SECONDS; every account from one address together, after LOGIN_ADDRESS_FAILURE_LIMIT.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 300)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 100)
LOGIN_ADDRESS_DELAY_MAX_SECONDS = env_int("LOGIN_ADDRESS_DELAY_MAX_SECONDS", 30)
# Comma-separated addresses or networks. Shared: a test centre's NAT, never held up as a whole.
LOGIN_SHARED_ADDRESSES = [
    a for a in os.environ.get("LOGIN_SHARED_ADDRESSES", "").split(",") if a.strip()
]
for _setting in ("LOGIN_SHARED_ADDRESSES", "TRUSTED_PROXIES", "METRICS_ALLOWED"):
    for _value in globals()[_setting]:
        try:
            ipaddress.ip_network(_value.strip(), strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{_setting}: {_value!r} is not an address or network"
            ) from exc

# The exam page's HTTP fallback: at most this many of its requests at once per process; past it a
# request is answered 503 with Retry-After before it reads the session or the database, so that
# fallback traffic never takes the pool the sockets' reconnects need (issue 11, point 3).
FALLBACK_MAX_IN_FLIGHT = env_int("FALLBACK_MAX_IN_FLIGHT", 8)

# --- Exam rules ------------------------------------------------------------------------------
# Saves that were in flight at the deadline still count if they arrive within this grace;
# the server submits an attempt once its deadline plus this grace has passed.
ANSWER_GRACE_SECONDS = env_int("ANSWER_GRACE_SECONDS", 3)
# Server outages (exams.continuity, R-TAKE-7): every serving process writes a heartbeat this often;
# a gap longer than OUTAGE_MIN_SECONDS is an outage, credited to the attempts it stopped; one of
# OUTAGE_END_SITTING_SECONDS or more (002:1.4.3: 2 hours) ends their sitting for rescheduling.
SITE_HEARTBEAT_SECONDS = env_int("SITE_HEARTBEAT_SECONDS", 2)
OUTAGE_MIN_SECONDS = env_int("OUTAGE_MIN_SECONDS", 15)
OUTAGE_END_SITTING_SECONDS = env_int("OUTAGE_END_SITTING_SECONDS", 2 * 3600)
# A candidate's page away this long is recorded as a lost connection (R-TAKE-8); shorter is a reload.
CONNECTION_LOST_MIN_SECONDS = env_int("CONNECTION_LOST_MIN_SECONDS", 30)
# Most of a sitting's pages (and at least MASS_DROP_MIN) lost within MASS_DROP_WINDOW_SECONDS of
# each other: a failure on the server's side (its network), credited like an outage.
MASS_DROP_WINDOW_SECONDS = env_int("MASS_DROP_WINDOW_SECONDS", 5)
MASS_DROP_MIN = env_int("MASS_DROP_MIN", 3)

# --- I18n, static, media, mail -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("mn", "Монгол"), ("zh-hans", "简体中文")]
# Each language writes dates its own way (config/formats/<language>/formats.py).
FORMAT_MODULE_PATH = "config.formats"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Ulaanbaatar")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic copies here; nginx serves it (deploy/nginx/exams.conf: /srv/exams/staticfiles).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", "") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
# Item images are never served from a public URL: see exams.views.item_image.
MEDIA_URL = "/media-not-public/"

# E-mail: over SMTP when EMAIL_HOST is set (the board's relay), else printed to the console (the
# embedded default). EMAIL_USE_TLS: STARTTLS, usually on port 587; EMAIL_USE_SSL: TLS from the first
# byte, usually on port 465. The password may come from a file (EMAIL_HOST_PASSWORD_FILE).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# For django.core.mail.backends.filebased.EmailBackend: the folder each process writes its mails to.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or None
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "exams@board.example")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# A TrueType font with Cyrillic for the PDFs (absentee lists); else DejaVu Sans where Debian puts it.
PDF_FONT = os.environ.get("PDF_FONT", "")

# --- Video paths through candidates' firewalls (proctoring/media/ice.py) ----------------------
# STUN finds a page's public address; TURN relays media for a network that blocks UDP or direct
# paths (hospitals, hotels, offices), over TLS on port 443 if need be. Comma-separated URLs, e.g.
# stun:turn.board.mn:3478 and turn:turn.board.mn:3478?transport=udp,turns:turn.board.mn:443?transport=tcp
STUN_URLS = [u.strip() for u in os.environ.get("STUN_URLS", "").split(",") if u.strip()]
TURN_URLS = [u.strip() for u in os.environ.get("TURN_URLS", "").split(",") if u.strip()]
# How long a TURN credential handed to a page or the media server stays valid (coturn's
# use-auth-secret: the username carries its expiry). Longer than the longest sitting: a relay in use
# is refreshed with the same credential, and one that expired mid-exam would cut the video.
TURN_CREDENTIAL_SECONDS = env_int("TURN_CREDENTIAL_SECONDS", 8 * 3600)
# The media server's own address as candidates reach it, when it sits behind 1:1 NAT (a cloud
# machine's public address): offered beside the address it sees on its own interface.
MEDIA_PUBLIC_ADDRESS = os.environ.get("MEDIA_PUBLIC_ADDRESS", "")
if MEDIA_PUBLIC_ADDRESS:
    try:
        ipaddress.ip_address(MEDIA_PUBLIC_ADDRESS)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"MEDIA_PUBLIC_ADDRESS={MEDIA_PUBLIC_ADDRESS!r} is not an IP address"
        ) from exc
# "relay": pages send and receive video only through TURN. For checking a TURN server (and the
# tests that do); "all" lets a page take a direct path when there is one.
ICE_TRANSPORT_POLICY = os.environ.get("ICE_TRANSPORT_POLICY", "all")
if ICE_TRANSPORT_POLICY not in ("all", "relay"):
    raise ImproperlyConfigured(f"ICE_TRANSPORT_POLICY={ICE_TRANSPORT_POLICY!r}: use all or relay")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each line names the request or socket it belongs to (config/request_id.py; nginx logs the same).
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Last, with everything above settled: an unsafe combination stops start-up with one line.
try:
    refuse_unsafe(globals())
except UnsafeSettings as _unsafe:
    raise SystemExit(f"Refusing to start: {_unsafe}") from None
