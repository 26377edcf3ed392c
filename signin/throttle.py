"""Sign-in throttling that slows guessing and never stops the rightful holder of a password.

The rules (issue 10, point 14; the old throttle locked an account for 15 minutes after five
failures from anywhere, so anyone who knew a ticket number could keep its candidate out):

- Failures are counted per account *and* source. The source is the client's address, or, on a
  device where that account has signed in before (a signed cookie set at each successful
  sign-in), that device. An attacker's failures from elsewhere never touch the candidate's count.
- Past LOGIN_FAILURE_LIMIT failures a key waits before its next try: 1 s, 2 s, 4 s … at most
  LOGIN_DELAY_MAX_SECONDS. A delay, never a lock: the count starts over once
  LOGIN_FAILURE_WINDOW_SECONDS pass without a failure, and a success clears it.
- Every account from one address together: past LOGIN_ADDRESS_FAILURE_LIMIT failures the address
  waits too, at most LOGIN_ADDRESS_DELAY_MAX_SECONDS, so one machine cannot try a password on
  every ticket number. Known devices do not wait for it, and a test centre's own addresses
  (LOGIN_SHARED_ADDRESSES) are not counted, so a room of candidates behind one NAT is never held up.
- Behind the reverse proxy, REMOTE_ADDR is already the client's address (config/proxy.py reads
  X-Forwarded-For from TRUSTED_PROXIES only), otherwise everyone would share one address.
- Exam staff clear a row (signin.views.throttles, or the admin action); the audit log gets
  "login.throttled" when a key starts waiting and "login.throttle_cleared" when staff clear it.
  Each failure itself is already "login.failed" (exams.audit.receivers).

Why not django-axes: its one AXES_FAILURE_LIMIT applies to every lockout parameter set, so it
cannot give an account-and-address key a small budget and an address a large one; it locks for a
cool-off rather than growing a delay; and its backend refuses authenticate() calls without a
request, which the test client's login() and management commands make.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext_lazy as _

from exams.audit import audit_append

from .models import SignInThrottle, ThrottleScope

logger = logging.getLogger(__name__)

KNOWN_DEVICE_COOKIE = "signin_known"
KNOWN_DEVICE_SALT = "signin.known-device"
KNOWN_DEVICE_AGE = 180 * 24 * 3600
# A shared computer of a test centre remembers the last few accounts signed in on it.
KNOWN_DEVICE_MAX_ACCOUNTS = 30


class ThrottleError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


@cache
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()
    )


def _in(address: str, setting: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # Keyed by the setting's value, not its name: tests (and a reload) may change it.
    return any(ip in network for network in _networks(tuple(getattr(settings, setting))))


def client_address(request: HttpRequest) -> str:
    """Return the client's address. Behind the reverse proxy it is already the client's, not the
    proxy's: config/proxy.py takes it from X-Forwarded-For for connections from TRUSTED_PROXIES."""
    return request.META.get("REMOTE_ADDR", "") or ""


def _account_digest(username: str) -> str:
    # The cookie names accounts by a keyed digest: on a test centre's shared computer the next
    # candidate must not read the previous ones' ticket numbers from it.
    return salted_hmac("signin.known-device.account", normalise(username)).hexdigest()[:20]


@dataclass(frozen=True)
class KnownDevice:
    token: str
    accounts: tuple[str, ...]


def known_device(request: HttpRequest) -> KnownDevice | None:
    """Return the signed known-device cookie's content, or None if absent, forged or expired."""
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_AGE)
        return KnownDevice(token=str(value["t"])[:32], accounts=tuple(str(a) for a in value["a"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def _source(request: HttpRequest, username: str) -> str:
    device = known_device(request)
    if device is not None and _account_digest(username) in device.accounts:
        return f"device:{device.token}"
    return f"ip:{client_address(request)[:45]}"


def _keys(request: HttpRequest, username: str) -> list[tuple[str, str, str]]:
    """Return the (scope, username, source) keys a sign-in of `username` from here counts against."""
    source = _source(request, username)
    keys = [(ThrottleScope.ACCOUNT, normalise(username), source)]
    if source.startswith("ip:") and not _in(source[3:], "LOGIN_SHARED_ADDRESSES"):
        keys.append((ThrottleScope.ADDRESS, "", source))
    return keys


def _policy(scope: str) -> tuple[int, int]:
    if scope == ThrottleScope.ADDRESS:
        return settings.LOGIN_ADDRESS_FAILURE_LIMIT, settings.LOGIN_ADDRESS_DELAY_MAX_SECONDS
    return settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_DELAY_MAX_SECONDS


def delay_after(failures: int, *, limit: int, cap: int) -> int:
    """Return the seconds to wait after the `failures`-th failure in a row: none below `limit`,
    then 1, 2, 4 … never more than `cap`."""
    if failures < limit:
        return 0
    return min(2 ** min(failures - limit, 30), cap)


def signin_wait(request: HttpRequest, username: str, *, now: datetime | None = None) -> int:
    """Return the seconds a sign-in of `username` from this request must still wait (0: go on).

    A refused try is not checked against the password, so waiting costs a guesser time; it is
    counted on the row for staff to see, not logged one by one (a flood would fill the log).
    """
    now = now or timezone.now()
    window_start = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    wait = 0
    for scope, name, source in _keys(request, username):
        row = SignInThrottle.objects.filter(
            scope=scope, username=name, source=source, last_failure_at__gte=window_start
        ).first()
        if row is None:
            continue
        seconds = row.wait_seconds(now)
        limit, cap = _policy(scope)
        if not seconds and scope == ThrottleScope.ACCOUNT and row.failures >= limit:
            # Many tries of one key past its limit at once would all pass this check before any
            # failure is counted (a burst of guesses per delay). The conditional update claims
            # the one try this delay allows; whoever loses the race waits as if it had failed.
            next_delay = delay_after(row.failures + 1, limit=limit, cap=cap)
            claimed = (
                SignInThrottle.objects.filter(pk=row.pk)
                .filter(Q(blocked_until__isnull=True) | Q(blocked_until__lte=now))
                .update(blocked_until=now + timedelta(seconds=next_delay))
            )
            seconds = 0 if claimed else next_delay
        if seconds:
            SignInThrottle.objects.filter(pk=row.pk).update(refused=F("refused") + 1)
            wait = max(wait, seconds)
    return wait


def signin_failed(request: HttpRequest, username: str, *, now: datetime | None = None) -> None:
    """Count a wrong password for `username` from this request, and start a key's delay past its limit."""
    now = now or timezone.now()
    window_start = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    for scope, name, source in _keys(request, username):
        limit, cap = _policy(scope)
        with transaction.atomic():
            row = _locked_row(scope=scope, username=name, source=source, now=now)
            if row.last_failure_at < window_start:  # a quiet window: the count starts over
                row.failures, row.refused, row.first_failure_at, row.blocked_until = 0, 0, now, None
            row.failures += 1
            row.last_failure_at = now
            delay = delay_after(row.failures, limit=limit, cap=cap)
            row.blocked_until = now + timedelta(seconds=delay) if delay else None
            row.save()
            if row.failures == limit:  # once per run of failures, not at every one
                audit_append(
                    "login.throttled",
                    subject=f"throttle:{row.pk}",
                    data={
                        "scope": scope,
                        "username": name,
                        "source": row.source_label,
                        "failures": row.failures,
                        "wait_seconds": delay,
                    },
                )


def _locked_row(*, scope: str, username: str, source: str, now: datetime) -> SignInThrottle:
    """Return the key's row, created if new, locked to the end of the caller's transaction."""
    key = {"scope": scope, "username": username, "source": source}
    row = SignInThrottle.objects.select_for_update().filter(**key).first()
    if row is not None:
        return row
    # Two failures of a new key at once both find no row: the loser of the insert (unique
    # constraint) reads and locks the winner's row instead of failing.
    try:
        with transaction.atomic():
            return SignInThrottle.objects.create(**key, first_failure_at=now, last_failure_at=now)
    except IntegrityError:
        return SignInThrottle.objects.select_for_update().get(**key)


def signin_succeeded(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Clear the account's count from where it signed in, and remember this device for it (the
    cookie is set on the response by signin.middleware.KnownDeviceMiddleware)."""
    username = user.get_username()
    SignInThrottle.objects.filter(
        scope=ThrottleScope.ACCOUNT, username=normalise(username), source=_source(request, username)
    ).delete()
    device = known_device(request)
    token = device.token if device else get_random_string(24)
    digest = _account_digest(username)
    accounts = [digest, *(a for a in (device.accounts if device else ()) if a != digest)][
        :KNOWN_DEVICE_MAX_ACCOUNTS
    ]
    request._signin_known_device = signing.dumps(
        {"t": token, "a": accounts}, salt=KNOWN_DEVICE_SALT
    )


def remember_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    value = getattr(request, "_signin_known_device", None)
    if value:
        response.set_cookie(
            KNOWN_DEVICE_COOKIE,
            value,
            max_age=KNOWN_DEVICE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def throttle_clear(*, throttle_id: int, by: AbstractBaseUser, reason: str = "") -> SignInThrottle:
    """Clear one throttle row (an account's or an address's count and delay); audited."""
    with transaction.atomic():
        row = SignInThrottle.objects.select_for_update().filter(pk=throttle_id).first()
        if row is None:
            raise ThrottleError(
                str(_("That sign-in throttle no longer exists: it was cleared or it expired."))
            )
        audit_append(
            "login.throttle_cleared",
            subject=f"throttle:{row.pk}",
            actor=by,
            data={
                "scope": row.scope,
                "username": row.username,
                "source": row.source_label,
                "failures": row.failures,
                "refused": row.refused,
                "reason": reason,
            },
        )
        row.delete()
    return row


def active_throttles(*, now: datetime | None = None, username: str = ""):
    """Return the rows that count now (a failure within the window), waiting ones first; an
    address's row only once it is past its budget."""
    now = now or timezone.now()
    rows = SignInThrottle.objects.filter(
        last_failure_at__gte=now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    ).exclude(  # an address's typos below its budget are a test centre's normal morning
        scope=ThrottleScope.ADDRESS, failures__lt=settings.LOGIN_ADDRESS_FAILURE_LIMIT
    )
    if username:
        rows = rows.filter(username__icontains=normalise(username))
    return rows.order_by(F("blocked_until").desc(nulls_last=True), "-last_failure_at")
