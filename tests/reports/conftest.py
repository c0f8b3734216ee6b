"""A monitor with hand-made scores (exact expected numbers) and a seeded one (the real
pipeline), for the report page, its PDF and the weekly digest."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from records import seeding
from records.models import BrandScore, CellScore, Monitor, TrackedBrand
from tests.factories import AnswerFactory, TestRecordFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAIN, RIVAL = "华夏良子", "通透堂"
# The report range of the hand-made monitor and the week before it.
RANGE = {"from": "2026-11-23", "to": "2026-11-29"}
NEGATIVE_TEXT = "1. 通透堂：技师经验丰富。\n2. 华夏良子：服务很差，不推荐。"


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=SHANGHAI)


def scored_run(monitor, when, *, scores, mentioned):
    """One completed run: BrandScore rows per brand (overall and demo) with ``scores`` =
    {brand: (visibility, mention rate, share of voice, avg rank, nss)}, and three cells per
    brand whose mentions out of 4 answers are ``mentioned[brand]``."""
    record = TestRecordFactory(
        owner=monitor.owner, monitor=monitor, scheduled_for=when, created_at=when,
        status="completed", stage="completed", progress=100, total_tasks=12, completed_tasks=12,
        brand_name=MAIN, competitor_brands=[RIVAL],
        questions=["北京中医推拿哪家好？", "北京推拿推荐", "朝阳区推拿去哪家？"],
    )  # fmt: skip
    for brand, (vs, mr, sov, rank, nss) in scores.items():
        for platform in ("", "demo"):
            BrandScore.objects.create(
                record=record, brand=brand, platform=platform, is_main_brand=brand == MAIN,
                visibility_score=vs, mention_rate=mr, mention_rate_se=0.05, share_of_voice=sov,
                avg_rank=rank, avg_rank_n=3, nss=nss, nss_n=3, valid_answers=12,
                scoring_version="vs-1.0",
            )  # fmt: skip
        for q, n in enumerate(mentioned[brand]):
            CellScore.objects.create(
                record=record, brand=brand, platform="demo", question_index=q, subject=MAIN,
                n_valid=4, n_mentioned=n, rr_sum=n * 1.0, n_top1=n, n_all_mentions=8,
            )  # fmt: skip
    return record


@pytest.fixture
def monitor(user):
    """Two runs in 2026-11-23..29 (main brand: visibility 40 and 50, mentioned in 1 and 0 of 4
    answers per cell) and one the week before (70; 4 of 4): a drop beyond noise."""
    monitor = Monitor.objects.create(
        owner=user, name="推拿 北京 监测", platforms=["demo"], next_run_at=at(30)
    )
    TrackedBrand.objects.create(monitor=monitor, name=MAIN, is_main=True)
    TrackedBrand.objects.create(monitor=monitor, name=RIVAL)
    before = scored_run(
        monitor, at(17),
        scores={MAIN: (70.0, 0.9, 0.6, 1.2, 0.5), RIVAL: (30.0, 0.4, 0.4, 2.0, 0.1)},
        mentioned={MAIN: [4, 4, 4], RIVAL: [1, 2, 1]},
    )  # fmt: skip
    first = scored_run(
        monitor, at(24),
        scores={MAIN: (40.0, 0.4, 0.3, 2.5, -0.2), RIVAL: (60.0, 0.8, 0.7, 1.5, 0.4)},
        mentioned={MAIN: [1, 1, 1], RIVAL: [3, 3, 4]},
    )  # fmt: skip
    scored_run(
        monitor, at(25),
        scores={MAIN: (50.0, 0.5, 0.35, 2.0, 0.0), RIVAL: (55.0, 0.7, 0.65, 1.4, 0.3)},
        mentioned={MAIN: [0, 0, 0], RIVAL: [4, 3, 3]},
    )  # fmt: skip
    negative = {"label": "negative", "score": -1, "evidence": [[23, 27, "服务很差"]]}
    AnswerFactory(
        record=first, question="北京中医推拿哪家好？", text=NEGATIVE_TEXT, created_at=at(24),
        analysis={
            "brands": {
                MAIN: {"mentioned": True, "rank": 2, "matches": [[MAIN, 18, 22]],
                       "sentiment": negative},
                RIVAL: {"mentioned": True, "rank": 1, "matches": [[RIVAL, 3, 6]]},
            },
            "citations": [
                {"domain": "dianping.com", "site_name": "大众点评", "owner": "third_party"},
                {"domain": "huaxialiangzi.example", "owner": "own", "owner_brand": MAIN},
            ],
        },
    )  # fmt: skip
    AnswerFactory(
        record=before, question="北京中医推拿哪家好？", created_at=at(17),
        analysis={"citations": [{"domain": "dianping.com", "owner": "third_party"}]},
    )  # fmt: skip
    return monitor


# Eight daily demo runs end on Sunday 2026-11-29 (09:00 Shanghai) and seven more before them:
# the week 11-23..29 and the week before, through the real services and analysis.
SEED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def seeded(user):
    """The demo monitor (synthetic, Chinese brand names) with 14 days of real runs, owned by
    ``user``."""
    monitor = seeding.seed_demo_monitor(days=14, now=SEED_NOW).monitor
    Monitor.objects.filter(pk=monitor.pk).update(owner=user)
    monitor.refresh_from_db()
    return monitor
