"""WeChat's jscode2session: turns a mini-program login code into the user's openid.

WeChat also returns a ``session_key``; it is never returned, stored or logged (we do not decrypt
WeChat user data, so we have no use for it). The request URL carries our app secret, so neither
it nor an exception that holds it is ever logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

# errcodes that mean the code itself is bad (invalid, already used, a blocked user): the
# client's problem. Anything else (our appid or secret, WeChat busy) is WeChat's or ours.
CODE_ERRCODES = {40029, 40163, 40226}
# openid and unionid: 1-64 characters of [A-Za-z0-9_-] (what WeChatAccount stores).
_WECHAT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class WeChatIdentity:
    """Who a login code belongs to."""

    openid: str
    unionid: str


class WeChatLoginError(Exception):
    """The code could not be exchanged; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int, errcode: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode


def exchange_code(code: str) -> WeChatIdentity:
    """Ask WeChat whose login code this is; raise WeChatLoginError when it will not say."""
    if not settings.WECHAT_APP_ID or not settings.WECHAT_APP_SECRET:
        raise WeChatLoginError("WeChat login is not configured on this server.", status=503)
    try:
        response = httpx.get(
            f"{settings.WECHAT_API_BASE.rstrip('/')}/sns/jscode2session",
            params={
                "appid": settings.WECHAT_APP_ID,
                "secret": settings.WECHAT_APP_SECRET,
                "js_code": code,
                "grant_type": "authorization_code",
            },
            timeout=settings.WECHAT_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        # The exception holds the request (and so the secret): log its kind only.
        logger.warning("WeChat jscode2session unreachable: %s", type(exc).__name__)
        raise WeChatLoginError(
            "The WeChat login service could not be reached; try again.", status=502
        ) from None
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        logger.warning("WeChat jscode2session answered HTTP %s, not JSON", response.status_code)
        raise WeChatLoginError("The WeChat login service answered unexpectedly.", status=502)
    errcode = data.get("errcode") or 0
    if not isinstance(errcode, int) or isinstance(errcode, bool):
        # Anything WeChat sends is untrusted: an errcode that is not a number is not an answer.
        logger.warning("WeChat jscode2session answered an errcode that is not an integer")
        raise WeChatLoginError("The WeChat login service answered unexpectedly.", status=502)
    if errcode:
        logger.warning(
            "WeChat jscode2session refused: errcode=%s errmsg=%s", errcode, data.get("errmsg")
        )
        if errcode in CODE_ERRCODES:
            raise WeChatLoginError(
                f"WeChat rejected the login code (errcode {errcode}); log in again.",
                status=400,
                errcode=errcode,
            )
        raise WeChatLoginError(
            f"The WeChat login service refused the request (errcode {errcode}).",
            status=502,
            errcode=errcode,
        )
    openid = data.get("openid")
    if not isinstance(openid, str) or not _WECHAT_ID.fullmatch(openid):
        logger.warning("WeChat jscode2session answered without a usable openid")
        raise WeChatLoginError("The WeChat login service answered unexpectedly.", status=502)
    unionid = data.get("unionid")
    if not isinstance(unionid, str) or not _WECHAT_ID.fullmatch(unionid):
        # Optional (only with an Open Platform account); one we cannot store is dropped.
        unionid = ""
    return WeChatIdentity(openid, unionid)
