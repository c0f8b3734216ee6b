"""Settings have no side effects and read the environment once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from records.platforms import platform_infos

BASE_DIR = Path(__file__).resolve().parent.parent


def import_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter whose var/ directory is ``tmp_path/var``."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SECRET_KEY", "DJANGO_REQUIRE_SECRET_KEY"}
    }
    environ |= {"BRANDTEST_VAR_DIR": str(tmp_path / "var"), **env}
    code = "import brandtest.settings as s; print(s.SECRET_KEY)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret", [None, "from-the-environment"])
def test_importing_settings_writes_nothing(tmp_path, secret):
    result = import_settings(tmp_path, **({"DJANGO_SECRET_KEY": secret} if secret else {}))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()
    assert list(tmp_path.iterdir()) == []
    if secret:
        assert result.stdout.strip() == secret
    else:
        assert result.stdout.strip().startswith("django-insecure-")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = import_settings(tmp_path, DJANGO_REQUIRE_SECRET_KEY="1")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_a_bad_platform_timeout_is_a_configuration_error(tmp_path):
    result = import_settings(tmp_path, ZHIPU_TIMEOUT="soon")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "ZHIPU_TIMEOUT" in result.stderr


def test_platform_keys_are_read_once_at_start_up(monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-set-after-start-up")
    configured = {info.id: info.configured for info in platform_infos()}
    assert configured["deepseek"] is False


def test_platform_env_fixture_configures_platforms(platform_env):
    platform_env({"DEEPSEEK_API_KEY": "sk-test"})
    configured = {info.id: info.configured for info in platform_infos()}
    assert configured["deepseek"] is True
