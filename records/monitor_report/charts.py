"""The report's charts: the admin monitor page's five (records/charts.py), drawn over the
report's range and the range before it, so the change the numbers describe is visible."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from django.utils import timezone

from records import charts
from records.models import BrandScore, Monitor
from records.trend_params import monitor_zone

# About 95 % of a normal sampling distribution lies within this many standard errors.
Z95 = 1.96
TOP_DOMAINS = 5
# Up to this many days the cited-domains chart has a bar per day, beyond it one per ISO week.
DAILY_DOMAIN_BARS = 31


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def report_charts(
    monitor: Monitor,
    first: date,
    last: date,
    runs: Sequence[Mapping],
    brands: list[str],
    leaderboard: Sequence[Mapping],
    cited: Sequence[tuple[int, Mapping[str, Mapping]]],
) -> dict[str, str]:
    """SVG markup per chart: visibility per platform, share of voice per brand, mention rate
    with its ±1.96 SE band, the range's leaderboard, the most cited domains."""
    zone = monitor_zone(monitor)
    day_of = {r["id"]: timezone.localtime(r["created_at"], zone).date() for r in runs}
    days = sorted(set(day_of.values()))
    labels = [f"{d:%m-%d}" for d in days]
    main = brands[0] if brands else ""
    span = f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"

    cells: dict[tuple, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    metrics = ("visibility_score", "mention_rate", "mention_rate_se", "share_of_voice")
    for row in BrandScore.objects.filter(record_id__in=list(day_of)).values(
        "record_id", "brand", "platform", *metrics
    ):
        for metric in metrics:
            if row[metric] is not None:
                cells[(metric, row["brand"], row["platform"])][day_of[row["record_id"]]].append(
                    row[metric]
                )

    def series(metric: str, brand: str, platform: str, scale: float = 1.0) -> list[float | None]:
        by_day = cells.get((metric, brand, platform), {})
        return [
            None if (m := _mean(by_day.get(d, []))) is None else round(m * scale, 2) for d in days
        ]

    platforms = sorted({p for (_, _, p) in cells if p})
    visibility = {p: series("visibility_score", main, p) for p in platforms}
    if len(platforms) > 1:
        visibility["overall"] = series("visibility_score", main, "")
    rate = series("mention_rate", main, "", 100)
    se = series("mention_rate_se", main, "", 100)
    pairs = list(zip(rate, se, strict=True))
    low = [None if r is None or s is None else max(0.0, r - Z95 * s) for r, s in pairs]
    high = [None if r is None or s is None else min(100.0, r + Z95 * s) for r, s in pairs]
    domains = _domain_bars(day_of, cited, daily=(last - first).days + 1 <= 2 * DAILY_DOMAIN_BARS)
    return {
        "visibility": charts.line_chart(
            title=f"Visibility score of {main} per platform (0–100), {span}",
            x_labels=labels,
            series=visibility,
            y_range=(0, 100),
        ),
        "share_of_voice": charts.line_chart(
            title=f"Share of voice of every tracked brand (%), {span}",
            x_labels=labels,
            series={b: series("share_of_voice", b, "", 100) for b in brands},
            y_range=(0, 100),
        ),
        "mention_rate": charts.mention_rate_chart(
            main=main, x_labels=labels, rate=rate, low=low, high=high
        ),
        "leaderboard": charts.horizontal_bar_chart(
            title="Visibility score, mean over the report's range",
            rows=[(row["brand"], row["visibility_score"]["value"]) for row in leaderboard],
            x_range=(0, 100),
        ),
        "domains": charts.stacked_bar_chart(
            title=f"Top {TOP_DOMAINS} cited domains: answers citing each, per "
            + ("day" if domains["daily"] else "week from Monday"),
            x_labels=domains["labels"],
            series=domains["series"],
        ),
    }


def _domain_bars(day_of: Mapping[int, date], cited, *, daily: bool) -> dict:
    """Answers citing each of the most cited domains, per day (or ISO week) of the runs."""
    bucket_of = {
        pk: day if daily else day - timedelta(days=day.weekday()) for pk, day in day_of.items()
    }
    per_bucket: dict[date, Counter[str]] = defaultdict(Counter)
    for record_id, domains in cited:
        per_bucket[bucket_of[record_id]].update(domains.keys())
    total: Counter[str] = sum(per_bucket.values(), Counter())
    top = [domain for domain, _ in total.most_common(TOP_DOMAINS)]
    buckets = sorted(per_bucket)
    return {
        "daily": daily,
        "labels": [f"{b:%m-%d}" for b in buckets],
        "series": {d: [per_bucket[b][d] for b in buckets] for d in top},
    }
