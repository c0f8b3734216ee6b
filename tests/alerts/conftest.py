"""Monitor runs against a local fake platform, run by the real worker-side code, for the alert
rules to read: each helper call is one scheduled period with the answers the server gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from records import execution, monitoring
from records.models import TestRecord
from tests.fakes.platform_server import FakePlatformServer, ok

MAIN, RIVAL = "华夏良子", "通透堂"
# The main brand first, the competitor second: both named in a ranked list.
MAIN_ON_TOP = f"北京推拿推荐：\n1. {MAIN}：手法专业，环境整洁。\n2. {RIVAL}：位置方便。"
# The main brand not named at all.
MAIN_ABSENT = f"北京推拿推荐：\n1. {RIVAL}：手法专业，环境整洁。\n2. 老北京推拿：价格实惠。"
NEGATIVE = f"北京推拿推荐：\n1. {RIVAL}：手法专业。\n2. {MAIN}：服务很差，投诉很多，不推荐。"
PROMPTS = ["北京中医推拿哪家好？", "北京朝阳区推拿推荐", "北京哪家足疗店靠谱？"]
# 09:00 in Shanghai, the monitors' daily run time, on the first day of the tests' history.
DAY1 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def monitor_definition(**overrides) -> dict:
    body = {
        "name": "推拿 北京",
        "brands": [
            {"name": MAIN, "is_main": True, "domains": ["example.com"]},
            {"name": RIVAL},
        ],
        "prompts": [{"text": text} for text in PROMPTS],
        "platforms": ["deepseek"],
        "repeats": 1,
        "schedule": "0 9 * * *",
        "timezone": "Asia/Shanghai",
        "monthly_call_budget": None,
    }
    return body | overrides


@pytest.fixture
def fake_platform(platform_env, settings):
    """A fake deepseek over real HTTP, configured as if its variables had been set."""
    settings.BRANDTEST_MAX_RETRIES = 0
    with FakePlatformServer() as server:
        platform_env(server.environ(("deepseek",)))
        yield server


@pytest.fixture
def alert_monitor(user, fake_platform):
    def make(owner=None, **overrides):
        data = monitoring.clean_monitor_input(**monitor_definition(**overrides))
        return monitoring.create_monitor(owner=owner or user, data=data, now=DAY1 - timedelta(1))

    return make


@pytest.fixture
def run_period(fake_platform):
    """Run the monitor's period ``day`` (0 = DAY1) with every call answered ``answer``."""

    def run(monitor, day: int, answer: str, *, sources=(), behaviour=None, hours=0) -> TestRecord:
        fake_platform.default = behaviour or ok(answer, sources=sources)
        started = monitoring.start_monitor_run(
            monitor=monitor, scheduled_for=DAY1 + timedelta(days=day, hours=hours), enqueue=False
        )
        execution.run_execution(execution_id=started.record.execution_id)
        return TestRecord.objects.get(pk=started.record.pk)

    return run
