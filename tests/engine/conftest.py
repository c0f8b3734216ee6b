"""Fixtures for the engine tests: a fake AI platform server over real HTTP."""

from collections.abc import Iterator

import pytest

from records.engine.config import PlatformConfig, platform_configs
from tests.fakes.platform_server import FakePlatformServer


@pytest.fixture
def fake_server() -> Iterator[FakePlatformServer]:
    with FakePlatformServer() as server:
        yield server


@pytest.fixture
def fake_configs(fake_server: FakePlatformServer) -> dict[str, PlatformConfig]:
    """Every platform's config pointed at the fake server, with a short timeout."""
    return platform_configs(fake_server.environ(), default_timeout=5.0)
