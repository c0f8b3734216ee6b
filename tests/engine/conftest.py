"""Fixtures for the engine tests: a fake AI platform server over real HTTP."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# These tests run without pytest-django (``-p no:django``), which is what normally puts the
# project root on sys.path.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from records.engine.config import PlatformConfig, platform_configs  # noqa: E402
from tests.fakes.platform_server import FakePlatformServer  # noqa: E402


@pytest.fixture
def fake_server() -> Iterator[FakePlatformServer]:
    with FakePlatformServer() as server:
        yield server


@pytest.fixture
def fake_configs(fake_server: FakePlatformServer) -> dict[str, PlatformConfig]:
    """Every platform's config pointed at the fake server, with a short timeout."""
    environ = {**fake_server.environ(), "GEMINI_TIMEOUT": "5"}
    return platform_configs(environ, default_timeout=5.0)
