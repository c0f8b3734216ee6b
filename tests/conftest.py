"""Shared fixtures."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from records.engine.config import platform_configs
from tests.factories import UserFactory
from tests.fakes.wechat_server import FakeWeChatServer


def pytest_configure(config):
    """Create the SQLite test database's directory (settings only name it; they write nothing)."""
    test_db = django_settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test_db:
        Path(test_db).parent.mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_demo(settings):
    """The demo platform answers without latency in tests."""
    settings.BRANDTEST_DEMO_LATENCY_MS = 0


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counts live in the cache, authenticated users and poll bodies in per-process
    caches (ids are reused across tests); every test starts with none."""
    from records.authentication import clear_caches
    from records.legacy.views import clear_poll_caches

    cache.clear()
    clear_caches()
    clear_poll_caches()
    yield
    cache.clear()
    clear_caches()
    clear_poll_caches()


@pytest.fixture
def platform_env(settings):
    """Configure the real platforms as if these variables had been set at start-up.

    Settings read ``<PLATFORM>_API_KEY`` and friends once, so a test sets them through this
    fixture rather than the process environment. Calls accumulate.
    """
    environ: dict[str, str] = {}

    def configure(variables: dict[str, str]) -> None:
        environ.update(variables)
        settings.BRANDTEST_PLATFORMS = platform_configs(
            environ, default_timeout=settings.BRANDTEST_CALL_TIMEOUT
        )

    return configure


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def run_worker(transactional_db):
    """Run every queued task with the real db_worker command, then return.

    Transactional: the worker manages its own connections and transactions, as in production.
    """

    def run() -> None:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    return run


@pytest.fixture
def wechat(settings) -> Iterator[FakeWeChatServer]:
    """A running fake jscode2session over real HTTP, with the WeChat settings pointed at it."""
    with FakeWeChatServer(app_id="wx-test-app", secret="wechat-app-secret-123") as server:
        settings.WECHAT_APP_ID = server.app_id
        settings.WECHAT_APP_SECRET = server.secret
        settings.WECHAT_API_BASE = server.base_url
        settings.WECHAT_TIMEOUT = 2.0
        yield server
