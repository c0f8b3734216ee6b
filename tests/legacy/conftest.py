"""Fixtures for the legacy contract tests: a fake WeChat login server over real HTTP."""

from collections.abc import Iterator

import pytest

from tests.fakes.wechat_server import FakeWeChatServer


@pytest.fixture
def wechat(settings) -> Iterator[FakeWeChatServer]:
    """A running fake jscode2session, with the WeChat settings pointed at it."""
    with FakeWeChatServer(app_id="wx-test-app", secret="wechat-app-secret-123") as server:
        settings.WECHAT_APP_ID = server.app_id
        settings.WECHAT_APP_SECRET = server.secret
        settings.WECHAT_API_BASE = server.base_url
        settings.WECHAT_TIMEOUT = 2.0
        yield server
