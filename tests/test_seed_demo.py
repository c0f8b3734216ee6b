"""``manage.py seed_demo``: a demo monitor whose history moves, made through the real services,
and made once."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from records import seeding
from records.models import Answer, BrandScore, Monitor, TestRecord

pytestmark = pytest.mark.django_db


def counts():
    return (
        Monitor.objects.count(),
        TestRecord.objects.count(),
        Answer.objects.count(),
        BrandScore.objects.count(),
    )


def test_seed_demo_twice_adds_nothing_the_second_time(settings):
    # The command turns the demo latency off; through the fixture, the test's change is undone.
    settings.BRANDTEST_DEMO_LATENCY_MS = 0
    out = StringIO()
    call_command("seed_demo", days=3, stdout=out)
    assert "created; 3 run(s) added" in out.getvalue()
    monitor = Monitor.objects.get()
    assert "synthetic" in monitor.name and monitor.platforms == ["demo"]
    runs = TestRecord.objects.filter(monitor=monitor)
    assert runs.count() == 3 and set(runs.values_list("status", flat=True)) == {"completed"}
    # 5 prompts x 1 platform x 3 repeats, each answered and scored.
    assert Answer.objects.filter(record__monitor=monitor).count() == 3 * 15
    first = counts()

    out = StringIO()
    call_command("seed_demo", days=3, stdout=out)
    assert "already there; 0 run(s) added" in out.getvalue()
    assert counts() == first


def test_seeded_history_moves_day_by_day(settings):
    settings.BRANDTEST_DEMO_LATENCY_MS = 0
    # The main brand's slow wave (records/engine/demo.py, period 42 days) is at its trough
    # around 2026-06-11 and its crest around 07-01: 21 daily runs from trough to crest (09:00 in
    # Shanghai). Each run's answers are also seeded by its random execution id, so the check
    # compares five-day means, far apart against that noise.
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    result = seeding.seed_demo_monitor(days=21, now=now)
    assert result.created and result.runs_added == 21
    days = list(
        BrandScore.objects.filter(record__monitor=result.monitor, brand="华夏良子", platform="")
        .order_by("record__scheduled_for")
        .values_list("record__scheduled_for", "visibility_score")
    )
    assert days[0][0].date().isoformat() == "2026-06-11"
    assert days[-1][0].date().isoformat() == "2026-07-01" and len(days) == 21
    assert all(at.hour == 1 for at, _ in days)  # 09:00 Asia/Shanghai
    scores = [score for _, score in days]
    # Visibly moving: the last days stand well above the first ones, not one flat line.
    first, last = sum(scores[:5]) / 5, sum(scores[-5:]) / 5
    assert last - first >= 20, scores
    # The runs are dated to the day they stand for.
    for record in TestRecord.objects.filter(monitor=result.monitor):
        assert record.created_at.date() == record.scheduled_for.date()
        assert record.finished_at >= record.created_at

    # Idempotent at a fixed time too.
    again = seeding.seed_demo_monitor(days=10, now=now)
    assert not again.created and again.runs_added == 0
