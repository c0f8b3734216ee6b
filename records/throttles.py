"""Rate limits on starting brand tests (each start costs real AI calls) and on WeChat logins.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``; counts live in the default cache
(Redis when several processes serve the API). Status polls are never counted.
"""

import hashlib

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


def starts_execution(view) -> bool:
    """The v1 create (the only viewset ``create``) or a view that declares it starts a test."""
    declared = getattr(view, "starts_execution", None)
    if declared is not None:  # a view that says which of its actions start one (monitors)
        return declared
    return getattr(view, "action", None) == "create"


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate when a request arrives, so a settings override applies (DRF binds
    ``THROTTLE_RATES`` at import)."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}") from None

    def key_for(self, ident: str) -> str:
        # Hashed: a device id is client-chosen text, and cache keys must stay short and plain.
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class StartCallerThrottle(SettingsRateThrottle):
    """Starts per caller: the user, else the X-Device-ID, else the client address (the same
    caller identity that de-duplicates re-sent starts)."""

    scope = "start_caller"

    def allow_request(self, request, view):
        return not starts_execution(view) or super().allow_request(request, view)

    def get_cache_key(self, request, view):
        # Imported here: DRF imports throttle classes while the app registry may be loading.
        from records.services import caller_key_for

        caller = caller_key_for(request.user, request.headers.get("X-Device-ID", ""))
        return self.key_for(caller or f"ip:{self.get_ident(request)}")


class StartIPThrottle(SettingsRateThrottle):
    """Starts per client address, so rotating X-Device-ID does not lift the limit."""

    scope = "start_ip"

    def allow_request(self, request, view):
        return not starts_execution(view) or super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.key_for(f"ip:{self.get_ident(request)}")


class LoginThrottle(SettingsRateThrottle):
    """WeChat logins per client address: each one costs a call against our app's WeChat quota."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.key_for(f"ip:{self.get_ident(request)}")
