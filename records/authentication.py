"""Bearer authentication of both HTTP interfaces: simplejwt's, with the scheme matched
case-insensitively (RFC 9110 11.1: ``bearer``, ``BEARER`` and ``Bearer`` are one scheme)."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings


class BearerAuthentication(JWTAuthentication):
    """``Authorization: <any case of Bearer> <access token>``."""

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


class BearerScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of ``BearerAuthentication`` (simplejwt's)."""

    target_class = BearerAuthentication
