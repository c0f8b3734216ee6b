"""Identities from outside Django's auth: WeChat mini-program accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WeChatAccount(models.Model):
    """A mini-program user's WeChat identity (openid), linked to a Django user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat"
    )
    openid = models.CharField(max_length=64, unique=True)
    unionid = models.CharField(max_length=64, blank=True)
    nickname = models.CharField(max_length=100, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"wechat:{self.openid}"
