"""Estimated spend: stored token counts times the per-platform prices in settings.

The prices (``BRANDTEST_PLATFORM_PRICES``) are examples unless the deployment sets its own, so
every figure here is an estimate and says so. Calls whose platform returned no token counts are
counted, not priced.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Sum

from records.models import Answer, TestRecord

PER_TOKENS = 1_000_000


def platform_price(platform: str) -> dict[str, Any] | None:
    """``{"input_per_1m", "output_per_1m", "currency"}`` for a platform, or None if unpriced."""
    return settings.BRANDTEST_PLATFORM_PRICES.get(platform)


def spend_of_answers(answers: QuerySet[Answer]) -> dict[str, Any]:
    """The estimated spend of some answers: one aggregate query grouped by platform."""
    rows = (
        answers.order_by()
        .values("platform")
        .annotate(
            calls=Count("id"),
            prompt_total=Sum("prompt_tokens"),
            completion_total=Sum("completion_tokens"),
            counted=Count("prompt_tokens"),
        )
        .order_by("platform")
    )
    by_currency: dict[str, float] = {}
    by_platform = []
    unpriced_calls = 0
    for row in rows:
        price = platform_price(row["platform"])
        prompt_tokens = row["prompt_total"] or 0
        completion_tokens = row["completion_total"] or 0
        cost = None
        if price is not None:
            cost = (
                prompt_tokens * price["input_per_1m"] + completion_tokens * price["output_per_1m"]
            ) / PER_TOKENS
            currency = price["currency"]
            by_currency[currency] = by_currency.get(currency, 0.0) + cost
        without_tokens = row["calls"] - row["counted"]
        unpriced_calls += without_tokens if price is not None else row["calls"]
        by_platform.append(
            {
                "platform": row["platform"],
                "calls": row["calls"],
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "cost": round(cost, 6) if cost is not None else None,
                "currency": price["currency"] if price is not None else None,
            }
        )
    return {
        "estimated": True,
        "by_currency": {k: round(v, 6) for k, v in sorted(by_currency.items())},
        "by_platform": by_platform,
        # Calls without token counts (or on an unpriced platform): not in the totals.
        "unpriced_calls": unpriced_calls,
    }


def execution_spend(record: TestRecord) -> dict[str, Any]:
    """The estimated spend of one execution, from its stored answers' token counts."""
    return spend_of_answers(Answer.objects.filter(record=record))
