"""Estimated spend: stored token counts times the per-platform prices in settings.

The prices (``BRANDTEST_PLATFORM_PRICES`` per token, ``BRANDTEST_SEARCH_PRICES`` per web-search
call) are examples unless the deployment sets its own, so every figure here is an estimate and
says so. Calls whose platform returned no token counts are counted, not priced; search calls are
priced apart from tokens, on the platforms that charge for them.
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


def search_price(platform: str) -> dict[str, Any] | None:
    """``{"per_call", "currency"}`` of a platform's web-search calls, or None (free)."""
    return settings.BRANDTEST_SEARCH_PRICES.get(platform)


def _totals(answers: QuerySet[Answer], *group: str):
    """Calls and token sums of some answers, grouped by ``group`` and platform."""
    return (
        answers.order_by()
        .values(*group, "platform")
        .annotate(
            calls=Count("id"),
            prompt_total=Sum("prompt_tokens"),
            completion_total=Sum("completion_tokens"),
            counted=Count("prompt_tokens"),
            search_total=Sum("search_calls"),
        )
        .order_by(*group, "platform")
    )


def _spend(rows) -> dict[str, Any]:
    """The estimate from per-platform rows of ``_totals``."""
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
        searches = row.get("search_total") or 0
        search_cost = None
        if searches and (per_search := search_price(row["platform"])) is not None:
            search_cost = searches * per_search["per_call"]
            currency = per_search["currency"]
            by_currency[currency] = by_currency.get(currency, 0.0) + search_cost
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
                "search_calls": searches,
                "search_cost": round(search_cost, 6) if search_cost is not None else None,
            }
        )
    return {
        "estimated": True,
        "by_currency": {k: round(v, 6) for k, v in sorted(by_currency.items())},
        "by_platform": by_platform,
        # Calls without token counts (or on an unpriced platform): not in the totals.
        "unpriced_calls": unpriced_calls,
        # Web-search calls the answers made (search mode), priced in the totals where charged.
        "search_calls": sum(row["search_calls"] for row in by_platform),
    }


def spend_of_answers(answers: QuerySet[Answer]) -> dict[str, Any]:
    """The estimated spend of some answers: one aggregate query grouped by platform."""
    return _spend(_totals(answers))


def spend_per_execution(record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The estimated spend of each of these executions (by primary key) in one aggregate query;
    an execution without answers is left out."""
    rows_of: dict[int, list[dict[str, Any]]] = {}
    for row in _totals(Answer.objects.filter(record__in=record_ids), "record_id"):
        rows_of.setdefault(row["record_id"], []).append(row)
    return {pk: _spend(rows) for pk, rows in rows_of.items()}


def execution_spend(record: TestRecord) -> dict[str, Any]:
    """The estimated spend of one execution, from its stored answers' token counts."""
    return spend_of_answers(Answer.objects.filter(record=record))
