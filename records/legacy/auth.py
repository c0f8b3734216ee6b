"""Who a mini-program caller is: WeChat users, their JWTs, and lenient Bearer authentication.

Tokens are simplejwt's (access + rotating refresh), so ``Authorization: Bearer`` works on the v1
API too. On legacy paths a bad or expired token reads as anonymous: a 401 there sends the
mini-program's user to the login page in the middle of a run.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from records.authentication import CachedJWTAuthentication
from records.legacy.accounts import ensure_wechat_user
from records.legacy.wechat import WeChatIdentity
from records.models import WeChatAccount


class LenientJWTAuthentication(CachedJWTAuthentication):
    """Bearer authentication that treats an invalid, expired or orphaned token as anonymous."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            return None


class InvalidRefreshToken(Exception):
    """The refresh token is malformed, expired, already used, or its user is gone."""


def wechat_user(identity: WeChatIdentity):
    """The user behind a WeChat openid, created (with an unusable password) on first login."""
    user, _ = ensure_wechat_user(openid=identity.openid, unionid=identity.unionid)
    WeChatAccount.objects.filter(openid=identity.openid).update(last_login_at=timezone.now())
    return user


def issue_tokens(user) -> dict[str, str]:
    """A fresh access token and refresh token for a user."""
    refresh = RefreshToken.for_user(user)
    return {"token": str(refresh.access_token), "refresh_token": str(refresh)}


def rotate_tokens(raw_refresh: str) -> dict[str, str]:
    """A new access and refresh token for a valid refresh token, which is then blacklisted."""
    try:
        refresh = RefreshToken(raw_refresh)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from None
    User = get_user_model()  # noqa: N806
    user = User.objects.filter(
        **{jwt_settings.USER_ID_FIELD: refresh.payload.get(jwt_settings.USER_ID_CLAIM)}
    ).first()
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise InvalidRefreshToken("No active account found for the given token.")
    # Single use: a replayed (stolen or double-sent) refresh token fails from now on.
    refresh.blacklist()
    return issue_tokens(user)


def token_user(raw_access: str):
    """The active user an access token names, or None if it is not a valid access token."""
    if not raw_access.isascii():
        # A JWT is ASCII; PyJWT would fail encoding a lone surrogate (a 500).
        return None
    authentication = CachedJWTAuthentication()
    try:
        return authentication.get_user(authentication.get_validated_token(raw_access))
    except AuthenticationFailed:
        return None
