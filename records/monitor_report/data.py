"""What a monitor's report says for a range, from stored rows only (no platform is called).

Values per range are means over the range's executions of their stored ``BrandScore`` rows (each
execution weighs the same, as a trend point does); every change versus the previous
equal-length range is the trend API's rule (``records.trends.changes_between``: pooled counts on
the cells both ranges asked, delta, SE, beyond noise when |delta| > 2 SE).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from records.analysis.trends import period_point
from records.discovered import monitor_entities
from records.models import Alert, Answer, AnswerStatus, BrandScore, Monitor, TestRecord
from records.monitor_report import formats
from records.monitor_report.charts import report_charts
from records.monitor_report.ranges import ReportRange
from records.trend_params import monitor_zone
from records.trends import changes_between

# (metric, label, BrandScore column, format kind); avg_rank has no per-cell counts, so no
# noise test: its change is the plain difference of the two ranges' means.
HEADLINE = (
    ("visibility_score", "Visibility score (0–100)", "visibility_score", "score"),
    ("mention_rate", "Mention rate", "mention_rate", "pct"),
    ("share_of_voice", "Share of voice", "share_of_voice", "pct"),
    ("avg_rank", "Average rank when mentioned", "avg_rank", "rank"),
    ("sentiment", "Sentiment (NSS, −1 to +1)", "nss", "nss"),
    ("top1_rate", "Named first", "top1_rate", "pct"),
    ("owned_citation_rate", "Answers citing an owned domain", "owned_citation_rate", "pct"),
)
CHANGE_METRICS = tuple(m for m, *_ in HEADLINE if m != "avg_rank")
COLUMNS = sorted({column for _, _, column, _ in HEADLINE} | {"mention_rate_se"})
TOP_DOMAINS = 10
# Evidence is read from the range's newest answers: enough for a year of a large monitor's
# negative mentions to be listed, bounded so a report never loads every answer's text.
EVIDENCE_SCAN = 2000
NEGATIVE_ROWS = 10
QUOTE_CHARS = 160


def _runs(monitor: Monitor, rng: ReportRange, access_mode: str) -> list[dict[str, Any]]:
    """The range's runs in one access mode: a report never mixes search and plain answers."""
    lo, hi = rng.bounds(monitor)
    return list(
        TestRecord.objects.filter(
            monitor=monitor, access_mode=access_mode, created_at__gte=lo, created_at__lt=hi
        )
        .order_by("created_at")
        .values("id", "execution_id", "created_at", "status", "total_tasks", "completed_tasks")
    )


def _scores(record_ids: Iterable[int]) -> dict[tuple[str, str], list[dict]]:
    """(brand, platform) -> the BrandScore rows of these executions ('' = overall)."""
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    rows = BrandScore.objects.filter(record_id__in=list(record_ids)).order_by()
    for row in rows.values("record_id", "brand", "platform", "valid_answers", *COLUMNS):
        out[(row["brand"], row["platform"])].append(row)
    return out


def _mean(rows: Sequence[Mapping], column: str) -> float | None:
    return period_point([r[column] for r in rows])["value"]


def _metric_row(metric, label, column, kind, now_rows, before_rows, change) -> dict[str, Any]:
    """One metric of one brand × platform: the two ranges' values and the change between
    them. A cell metric's change is only ever the common-cell change (none when no cell has a
    value on both sides); the average rank's is the difference of the two means."""
    value, previous = _mean(now_rows, column), _mean(before_rows, column)
    delta, se, beyond, tested = None, None, False, False
    if metric not in CHANGE_METRICS:
        delta = None if value is None or previous is None else value - previous
    elif change is not None and change["delta"] is not None:
        delta, se, beyond = change["delta"], change["se"], change["beyond_noise"]
        tested = se is not None
    return {
        "metric": metric,
        "label": label,
        "value": value,
        "previous": previous,
        "delta": delta,
        "se": se,
        "beyond_noise": beyond,
        "cells": change["cells"] if change else 0,
        "n": sum(r["valid_answers"] for r in now_rows if r[column] is not None),
        "value_text": formats.value(kind, value),
        "previous_text": formats.value(kind, previous),
        "delta_text": formats.delta(kind, delta),
        "se_text": formats.se(kind, se),
        "verdict": formats.verdict(metric, delta, beyond, tested, noise_test=metric != "avg_rank"),
        "direction": formats.direction(metric, delta, beyond),
    }


def _cited(record_ids: Iterable[int]) -> list[tuple[int, dict[str, dict]]]:
    """Per successful answer of these executions: its record and the domains it cites (each
    once, with its first citation)."""
    out = []
    answers = Answer.objects.filter(record_id__in=list(record_ids), status=AnswerStatus.SUCCESS)
    for record_id, citations in answers.order_by().values_list("record_id", "analysis__citations"):
        seen: dict[str, dict] = {}
        for c in citations or []:
            if isinstance(c, dict) and c.get("domain"):
                seen.setdefault(c["domain"], c)
        out.append((record_id, seen))
    return out


def _domains(cited, now_ids: list[int]) -> list[dict[str, Any]]:
    """The most cited domains of the range: answers citing each (an answer counts once per
    domain), its share of the range's answers, and the count in the previous range."""
    now = set(now_ids)
    counts: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
    about: dict[str, dict] = {}
    total_now = 0
    for record_id, seen in cited:
        in_range = record_id in now
        counts[in_range].update(seen.keys())
        if in_range:
            total_now += 1
            for domain, c in seen.items():
                about.setdefault(domain, c)
    rows = []
    for domain, n in counts[True].most_common(TOP_DOMAINS):
        c = about[domain]
        owner = c.get("owner") or "third_party"
        rows.append(
            {
                "domain": domain,
                "site_name": c.get("site_name") or "",
                "owner": owner,
                "owner_text": formats.owner(owner, c.get("owner_brand")),
                "answers": n,
                "share_text": formats.value("pct", n / total_now if total_now else None),
                "previous": counts[False].get(domain, 0),
            }
        )
    return rows


def _quote(text: str, start: int | None, end: int | None) -> str:
    """The line of ``text`` holding [start, end), cut to QUOTE_CHARS around it; without a
    position, the answer's opening (whitespace collapsed)."""
    if start is None:
        opening = " ".join(text.split())
        return opening if len(opening) <= QUOTE_CHARS else opening[:QUOTE_CHARS] + "…"
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end or start)
    line = text[line_start : line_end if line_end != -1 else len(text)].strip()
    if len(line) <= QUOTE_CHARS:
        return line
    offset = max(0, start - line_start - QUOTE_CHARS // 3)
    return "…" + line[offset : offset + QUOTE_CHARS] + "…"


def start_end(matches: Sequence) -> tuple[int | None, int | None]:
    """The offsets of a brand's first match (``[alias, start, end]``), if any."""
    return (matches[0][1], matches[0][2]) if matches else (None, None)


def _links(row: Mapping, base_url: str, staff: bool) -> dict[str, str]:
    """The v1 answers and results of the answer's execution; for staff its admin page."""
    eid = {"execution_id": row["execution_id"]}
    links = {
        "answers": base_url + reverse("execution-answers", kwargs=eid),
        "results": base_url + reverse("execution-results", kwargs=eid),
    }
    if staff:
        links["admin"] = base_url + reverse("admin:records_testrecord_change", args=[row["record"]])
    return links


def _evidence(monitor, now_ids, main: str, base_url: str, staff: bool) -> dict[str, list]:
    """Answers behind the numbers: the main brand's negative mentions (newest first), and the
    newest answer of each question on each platform with the main brand's rank and tone."""
    zone = monitor_zone(monitor)
    answers = (
        Answer.objects.filter(record_id__in=now_ids, status=AnswerStatus.SUCCESS)
        .order_by("-created_at", "-id")
        .values(
            "record_id",
            "record__execution_id",
            "created_at",
            "platform",
            "question",
            "text",
            "analysis",
        )[:EVIDENCE_SCAN]
    )
    negative, latest = [], {}
    for a in answers:
        entry = ((a["analysis"] or {}).get("brands") or {}).get(main) or {}
        sentiment = entry.get("sentiment") or {}
        matches = entry.get("matches") or []
        row = {
            "day": timezone.localtime(a["created_at"], zone).date(),
            "platform": a["platform"],
            "question": a["question"],
            "mentioned": bool(entry.get("mentioned")),
            "rank": entry.get("rank"),
            "sentiment": sentiment.get("label") or "",
            "execution_id": str(a["record__execution_id"]),
            "record": a["record_id"],
        }
        key = (a["platform"], a["question"])
        if key not in latest:
            latest[key] = row | {"quote": _quote(a["text"], *start_end(matches))}
        if sentiment.get("label") == "negative" and len(negative) < NEGATIVE_ROWS:
            # The first negative cue ([start, end, word]), else the first mention.
            cues = sentiment.get("evidence") or []
            start, end = (cues[0][0], cues[0][1]) if cues else (start_end(matches))
            negative.append(row | {"quote": _quote(a["text"], start, end), "offsets": [start, end]})
    rows = sorted(latest.values(), key=lambda r: (r["question"], r["platform"]))
    for row in [*negative, *rows]:
        row["links"] = _links(row, base_url, staff)
    return {"negative": negative, "latest": rows}


def _alert_rows(alerts: Sequence[Mapping]) -> list[dict[str, Any]]:
    return [
        {
            "kind": a.get("kind", ""),
            "kind_text": formats.alert_kind(a.get("kind", "")),
            "brand": a.get("brand") or "",
            "platform": a.get("platform") or "overall",
            "period": formats.period(a.get("period_start"), a.get("period_end")),
            "created_at": a.get("created_at"),
            "evidence_text": formats.evidence(a.get("evidence") or {}),
        }
        for a in sorted(alerts, key=lambda a: str(a.get("created_at") or ""), reverse=True)
    ]


def stored_alerts(monitor: Monitor, rng: ReportRange) -> list[dict[str, Any]]:
    """The alerts whose period overlaps ``rng``, as the plain dicts ``monitor_report`` takes."""
    return list(
        Alert.objects.between(monitor, rng.start, rng.end).values(
            "kind", "brand", "platform", "period_start", "period_end", "evidence", "created_at"
        )
    )


def report_inputs(monitor: Monitor, rng: ReportRange) -> dict[str, Any]:
    """What a report reads besides scores: the range's stored alerts and the untracked brands
    its answers recommend (``records.discovered``); keyword arguments of ``monitor_report``."""
    return {
        "alerts": stored_alerts(monitor, rng),
        "recommended": monitor_entities(monitor, rng.start, rng.end),
    }


def monitor_report(
    monitor: Monitor,
    rng: ReportRange,
    *,
    alerts: Sequence[Mapping] = (),
    recommended: Sequence[Mapping] | None = None,
    access_mode: str | None = None,
    base_url: str = "",
    staff: bool = False,
) -> dict[str, Any]:
    """Everything a monitor's report shows for ``rng`` and the change versus the range before.

    ``alerts``: the range's alerts as plain dicts (kind, brand, platform, period_start,
    period_end, evidence, created_at); ``recommended``: untracked brands the answers recommend
    (name, answers, platforms, mean_rank), or None when not known (the section is left out).
    ``access_mode``: the runs reported (default: the monitor's current mode); the other mode's
    runs are left out, so numbers and changes compare like with like.
    ``base_url`` prefixes evidence links (absolute in a PDF or an e-mail); ``staff`` adds links
    to the admin's execution pages.
    """
    previous = rng.previous()
    mode = access_mode or monitor.access_mode
    runs_now, runs_before = _runs(monitor, rng, mode), _runs(monitor, previous, mode)
    now_ids = [r["id"] for r in runs_now]
    before_ids = [r["id"] for r in runs_before]
    scores_now, scores_before = _scores(now_ids), _scores(before_ids)
    changes = {
        (c["brand"], c["platform"], c["metric"]): c
        for c in changes_between(
            monitor,
            (previous.start, set(before_ids)),
            (rng.start, set(now_ids)),
            CHANGE_METRICS,
            access_mode=mode,
        )
    }
    cited = _cited(before_ids + now_ids)
    brands = list(monitor.brands.order_by("-is_main", "id").values_list("name", flat=True))
    main = brands[0] if brands else ""

    def metrics_of(brand: str, platform: str, wanted=HEADLINE) -> dict[str, dict]:
        change_platform = platform or "overall"
        return {
            metric: _metric_row(
                metric,
                label,
                column,
                kind,
                scores_now.get((brand, platform), []),
                scores_before.get((brand, platform), []),
                changes.get((brand, change_platform, metric)),
            )  # fmt: skip
            for metric, label, column, kind in wanted
        }

    platforms = sorted({p for (_, p) in scores_now if p} | set(monitor.platforms))
    leaderboard = sorted(
        ({"brand": b, "is_main": b == main, **metrics_of(b, "")} for b in brands),
        key=lambda r: (
            r["visibility_score"]["value"] is None,
            -(r["visibility_score"]["value"] or 0),
        ),
    )
    statuses = Counter(r["status"] for r in runs_now)
    answer_counts = dict(
        Answer.objects.filter(record_id__in=now_ids)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "monitor": monitor,
        "range": rng,
        "previous": previous,
        "access_mode": mode,
        "main_brand": main,
        "brands": brands,
        "synthetic": "demo" in monitor.platforms,
        "runs": len(runs_now),
        "runs_previous": len(runs_before),
        "run_statuses": sorted(statuses.items()),
        "answers_ok": answer_counts.get(AnswerStatus.SUCCESS, 0),
        "answers_failed": answer_counts.get(AnswerStatus.FAILED, 0),
        "headline": list(metrics_of(main, "").values()),
        "platforms": [{"platform": p, **metrics_of(main, p)} for p in platforms],
        "leaderboard": leaderboard,
        "domains": _domains(cited, now_ids),
        "evidence": _evidence(monitor, now_ids, main, base_url, staff),
        "alerts": _alert_rows(alerts),
        "recommended": None if recommended is None else list(recommended),
        "charts": report_charts(
            monitor, previous.start, rng.end, runs_before + runs_now, brands, leaderboard, cited
        ),
        "generated_at": timezone.now(),
    }


__all__ = ["CHANGE_METRICS", "HEADLINE", "monitor_report", "report_inputs", "stored_alerts"]
