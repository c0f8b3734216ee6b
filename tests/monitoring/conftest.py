"""Fixtures for monitors: a valid definition and a way to create one."""

from datetime import UTC, datetime

import pytest

from records import monitoring


def definition(**overrides):
    """The issue's example monitor body, as the API receives it."""
    body = {
        "name": "推拿 北京",
        "brands": [
            {
                "name": "华夏良子",
                "is_main": True,
                "aliases": ["华夏良子推拿"],
                "domains": ["https://www.Example.com/about"],
            },
            {"name": "通透堂"},
        ],
        "prompts": [{"text": "北京中医推拿哪家好？", "tags": ["推拿"]}],
        "platforms": ["demo"],
        "repeats": 1,
        "schedule": "0 9 * * *",
        "timezone": "Asia/Shanghai",
        "monthly_call_budget": 3000,
    }
    return body | overrides


# 2026-03-10 00:30 UTC = 08:30 in Shanghai: half an hour before the daily 09:00 run.
T0 = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def make_monitor(user):
    def make(owner=None, now=T0, **overrides):
        data = monitoring.clean_monitor_input(**definition(**overrides))
        return monitoring.create_monitor(owner=owner or user, data=data, now=now)

    return make
