"""Authentication on the polls at the cost of a dictionary lookup: Bearer JWT and Token with a
per-process cache.

A poll arrives every 150-1000 ms for a whole run; verifying a JWT's signature and loading its
user (or looking a Token up with its user) cost several times the poll itself. Here:

- a verified access token is remembered (by its exact text) until it expires, so its signature
  is checked once per process; access tokens cannot be revoked one by one (only refresh tokens
  are blacklisted), so this changes nothing a client can observe;
- the user it names is remembered for ``BRANDTEST_AUTH_CACHE_SECONDS`` (default 5 s): a user
  deactivated or deleted, or a Token deleted, is refused again within that many seconds.

Both caches are bounded and per process. Used by v1 (DEFAULT_AUTHENTICATION_CLASSES) and by the
legacy interface's lenient Bearer authentication.
"""

from __future__ import annotations

import time

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings

_MAX_ENTRIES = 50_000


def cache_seconds() -> float:
    return float(getattr(settings, "BRANDTEST_AUTH_CACHE_SECONDS", 5.0))


class _TTLCache:
    """key -> (expires at, value); cleared whole when full (the hot keys come straight back)."""

    def __init__(self) -> None:
        self._entries: dict = {}

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key, value, seconds: float) -> None:
        if seconds <= 0:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        self._entries.clear()


_tokens = _TTLCache()  # raw JWT -> validated token
_users = _TTLCache()  # user id -> user (JWT)
_token_keys = _TTLCache()  # DRF Token key -> (user, token)


def clear_caches() -> None:
    """Forget every cached token and user (tests; a deploy that must revoke at once)."""
    _tokens.clear()
    _users.clear()
    _token_keys.clear()


class BearerAuthentication(JWTAuthentication):
    """``Authorization: <any case of Bearer> <access token>`` (RFC 9110 11.1: ``bearer``,
    ``BEARER`` and ``Bearer`` are one scheme)."""

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if not parts:
            return None
        schemes = {scheme.lower().encode() for scheme in jwt_settings.AUTH_HEADER_TYPES}
        if parts[0].lower() not in schemes:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        if not parts[1].isascii():
            # A JWT is ASCII; anything else cannot be one (and would fail in the decoder).
            raise AuthenticationFailed(
                "Given token not valid for any token type", code="token_not_valid"
            )
        return parts[1]


class CachedJWTAuthentication(BearerAuthentication):
    """simplejwt's Bearer authentication with the verified token and its user cached."""

    def get_validated_token(self, raw_token: bytes):
        cached = _tokens.get(raw_token)
        if cached is not None:
            if cached.payload.get("exp", 0) > time.time():
                return cached
        token = super().get_validated_token(raw_token)
        lifetime = token.payload.get("exp", 0) - time.time()
        _tokens.put(raw_token, token, lifetime)
        return token

    def get_user(self, validated_token):
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        user = _users.get(user_id) if user_id is not None else None
        if user is None:
            user = super().get_user(validated_token)
            _users.put(user_id, user, cache_seconds())
        elif not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's Token authentication with the key's user cached (one indexed lookup per TTL)."""

    def authenticate_credentials(self, key):
        cached = _token_keys.get(key)
        if cached is None:
            cached = super().authenticate_credentials(key)
            _token_keys.put(key, cached, cache_seconds())
        return cached


class BearerScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of the cached Bearer authentication (simplejwt's)."""

    target_class = CachedJWTAuthentication
