"""Django users for mini-program (WeChat) identities: login and the legacy import create them."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.models import WeChatAccount


def wechat_username(openid: str) -> str:
    """The Django username of a WeChat user (openids are [A-Za-z0-9_-], at most 64 chars)."""
    return f"wx_{openid}"


def ensure_wechat_user(
    *,
    openid: str,
    unionid: str = "",
    nickname: str = "",
    avatar_url: str = "",
    created_at: datetime | None = None,
):
    """The user holding a WeChat openid, created (username ``wx_<openid>``, no usable password)
    with its WeChatAccount when missing; returns (user, created). Used by login and import."""
    account = WeChatAccount.objects.select_related("user").filter(openid=openid).first()
    if account is not None:
        return account.user, False
    user_model = get_user_model()
    avatar_url = avatar_url.strip()
    try:
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(
                username=wechat_username(openid),
                defaults={"date_joined": created_at or timezone.now()},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            WeChatAccount.objects.create(
                user=user,
                openid=openid,
                unionid=unionid,
                nickname=nickname.strip()[:100],
                avatar_url=avatar_url
                if avatar_url.startswith(("http://", "https://")) and len(avatar_url) <= 500
                else "",
                created_at=created_at or timezone.now(),
            )
    except IntegrityError:
        # A concurrent first login with the same openid created it meanwhile.
        return WeChatAccount.objects.select_related("user").get(openid=openid).user, False
    return user, True
