"""Rate limits on starting brand tests (each start, and each retry, costs real AI calls) and on
WeChat logins.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``. The counts are the admitted
requests stored as ``ThrottleHit`` rows in the database, so a limit holds exactly however many
web processes serve the API (a per-process cache would multiply it by their number). A check
and its record are one transaction, serialised per key: SQLite transactions begin IMMEDIATE
(one writer at a time), PostgreSQL takes an advisory lock on each key. A start passes the
per-caller and the per-address limits together or not at all: one refused by either uses up
neither budget. Status polls are never counted.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from records.models import ThrottleHit

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Actions that start paid platform calls.
_STARTING_ACTIONS = ("create", "retry")


def starts_execution(view) -> bool:
    """The v1 create or retry, or a view that declares it starts a test."""
    declared = getattr(view, "starts_execution", None)
    if declared is not None:  # a view that says which of its actions start one (monitors)
        return declared
    return getattr(view, "action", None) in _STARTING_ACTIONS


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'20/hour' -> (20, 3600); None (a throttle turned off) -> None."""
    if not rate:
        return None
    try:
        num, period = rate.split("/")
        return int(num), _PERIODS[period.strip()[0]]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(
            f"Bad throttle rate {rate!r}; use <n>/<second|minute|hour|day>"
        ) from None


def rate_for(scope: str) -> tuple[int, int] | None:
    """The scope's rate, read when a request arrives (a settings override applies)."""
    try:
        return parse_rate(api_settings.DEFAULT_THROTTLE_RATES[scope])
    except KeyError:
        raise ImproperlyConfigured(f"No throttle rate set for scope {scope!r}") from None


def hashed(ident: str) -> str:
    # A device id is client-chosen text: stored hashed, short and plain.
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str
    key: str


def _lock(limits: list[Limit]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the database's write lock
    with connection.cursor() as cursor:
        for limit in sorted(limits, key=lambda item: (item.scope, item.key)):
            digest = hashlib.sha256(f"throttle:{limit.scope}:{limit.key}".encode()).digest()
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
            )


def admit(limits: list[Limit]) -> float | None:
    """Record one request against every limit and return None, or, if any limit is reached,
    record nothing and return the seconds until the fullest one has room."""
    rated = [(limit, rate) for limit in limits if (rate := rate_for(limit.scope)) is not None]
    if not rated:
        return None
    with transaction.atomic():
        _lock([limit for limit, _ in rated])
        now = timezone.now()
        waits = []
        for limit, (num, duration) in rated:
            window = ThrottleHit.objects.filter(scope=limit.scope, key=limit.key)
            window.filter(at__lte=now - timedelta(seconds=duration)).delete()
            times = list(window.order_by("at").values_list("at", flat=True)[:num])
            if len(times) >= num:
                waits.append(duration - (now - times[0]).total_seconds())
        if waits:
            return max(max(waits), 0.0)
        ThrottleHit.objects.bulk_create(
            ThrottleHit(scope=limit.scope, key=limit.key, at=now) for limit, _ in rated
        )
    return None


class SharedThrottle(BaseThrottle):
    """A DRF throttle over ``admit``; subclasses name the limits a request counts against."""

    def limits(self, request, view) -> list[Limit]:
        raise NotImplementedError

    def allow_request(self, request, view):
        limits = self.limits(request, view)
        self._wait = admit(limits) if limits else None
        return self._wait is None

    def wait(self):
        return math.ceil(self._wait) if self._wait is not None else None


class StartThrottle(SharedThrottle):
    """Starts (v1 create and retry, legacy start) per caller (the user, else the X-Device-ID,
    else the client address) and per client address, so rotating X-Device-ID does not lift
    the limit."""

    def limits(self, request, view):
        if not starts_execution(view):
            return []
        # Imported here: DRF imports throttle classes while the app registry may be loading.
        from records.services import caller_key_for

        ip = f"ip:{self.get_ident(request)}"
        caller = caller_key_for(request.user, request.headers.get("X-Device-ID", "")) or ip
        return [Limit("start_caller", hashed(caller)), Limit("start_ip", hashed(ip))]


class LoginThrottle(SharedThrottle):
    """WeChat logins per client address: each one costs a call against our app's WeChat quota."""

    def limits(self, request, view):
        return [Limit("login", hashed(f"ip:{self.get_ident(request)}"))]


def client_address(request) -> str:
    """The client address as the limits see it (REMOTE_ADDR, or X-Forwarded-For behind
    ``NUM_PROXIES`` trusted proxies); the caller of an anonymous Idempotency-Key."""
    return BaseThrottle().get_ident(request)
