"""The weekly e-mail digest of a monitor: last week's headline numbers, linking to its report.

Off unless the monitor's ``weekly_digest`` is on. Once a week has ended (Monday, from
``BRANDTEST_DIGEST_HOUR`` in the monitor's time zone) its digest goes to the owner's e-mail
address through Django's e-mail backend (console by default, SMTP by settings), plain text and
HTML. Sent once per monitor and week: a conditional UPDATE of ``Monitor.last_digest_week``
claims the week before anything is sent, so concurrent workers, the ``send_digests`` command and
re-runs never send it twice; a send that fails gives the claim back for the next attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from records.models import AlertSettings, Monitor, TestRecord
from records.monitor_report import ReportRange, last_week, monitor_report, report_inputs
from records.trend_params import monitor_zone

logger = logging.getLogger(__name__)

LEADERBOARD_ROWS = 5


@dataclass(slots=True)
class DigestResult:
    """What one pass did: (monitor id, week's Monday, detail) per monitor."""

    sent: list[tuple[int, date, str]] = field(default_factory=list)  # detail: the recipients
    skipped: list[tuple[int, date, str]] = field(default_factory=list)  # detail: why
    failed: list[tuple[int, date, str]] = field(default_factory=list)  # detail: the error


def digest_week(monitor: Monitor, now: datetime) -> ReportRange | None:
    """The week whose digest is due at ``now``: the last full ISO week in the monitor's time
    zone, once this week's Monday has reached ``BRANDTEST_DIGEST_HOUR``; else None."""
    local = now.astimezone(monitor_zone(monitor))
    week = last_week(local.date())
    sending_from = datetime.combine(
        week.end + timedelta(days=1), time(settings.BRANDTEST_DIGEST_HOUR), tzinfo=local.tzinfo
    )
    return week if local >= sending_from else None


def report_url(monitor: Monitor, week: ReportRange) -> str:
    """The absolute URL of the week's report page (``BRANDTEST_PUBLIC_URL`` + the path)."""
    path = reverse("monitor-report", args=[monitor.pk])
    return f"{settings.BRANDTEST_PUBLIC_URL.rstrip('/')}{path}?{urlencode(week.query())}"


def digest_recipients(monitor: Monitor) -> list[str]:
    """Who receives a monitor's digest: its owner, when they have an e-mail address, and the
    monitor's alert e-mail recipients (``AlertSettings.email_recipients``), each once."""
    settings_row = AlertSettings.objects.filter(monitor=monitor).first()
    extra = settings_row.email_recipients if settings_row else []
    owner = [monitor.owner.email] if monitor.owner.email else []
    return list(dict.fromkeys([*owner, *extra]))


def build_digest(monitor: Monitor, week: ReportRange) -> EmailMultiAlternatives:
    """The digest message of ``week`` (not sent): subject, plain text and HTML, with the week's
    stored alerts and the untracked brands its answers recommend."""
    data = monitor_report(
        monitor,
        week,
        **report_inputs(monitor, week),
        base_url=settings.BRANDTEST_PUBLIC_URL.rstrip("/"),
    )
    context = {
        **data,
        "leaderboard": data["leaderboard"][:LEADERBOARD_ROWS],
        "report_url": report_url(monitor, week),
        "pdf_url": report_url(monitor, week) + "&format=pdf",
    }
    subject = (
        f"Weekly AI visibility: {data['main_brand'] or monitor.name}, "
        f"{week.start:%Y-%m-%d} – {week.end:%Y-%m-%d}"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/weekly_digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=digest_recipients(monitor),
    )
    message.attach_alternative(render_to_string("emails/weekly_digest.html", context), "text/html")
    return message


def _claim(monitor: Monitor, week: date) -> bool:
    """Take the week for this monitor: true for exactly one caller per monitor and week."""
    return bool(
        Monitor.objects.filter(pk=monitor.pk, weekly_digest=True)
        .filter(Q(last_digest_week__isnull=True) | Q(last_digest_week__lt=week))
        .update(last_digest_week=week)
    )


def _release(monitor: Monitor, week: date, previous: date | None) -> None:
    """Give the claim back after a failed send (unless a later week was claimed meanwhile)."""
    Monitor.objects.filter(pk=monitor.pk, last_digest_week=week).update(last_digest_week=previous)


def send_digest(monitor: Monitor, week: ReportRange, result: DigestResult) -> None:
    """Claim ``week`` for ``monitor`` and send its digest; an empty week (no runs) or an owner
    without an e-mail address is recorded as handled and skipped."""
    previous = monitor.last_digest_week
    if not _claim(monitor, week.start):
        return
    lo, hi = week.bounds(monitor)
    if not TestRecord.objects.filter(
        monitor=monitor, created_at__gte=lo, created_at__lt=hi
    ).exists():
        result.skipped.append((monitor.pk, week.start, "no runs in the week"))
        return
    if not digest_recipients(monitor):
        result.skipped.append(
            (
                monitor.pk,
                week.start,
                "no recipient (the owner has no e-mail address and none is set)",
            )
        )
        return
    try:
        message = build_digest(monitor, week)
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP down, a bad address: the next pass tries again
        _release(monitor, week.start, previous)
        logger.exception("digest of monitor %s week %s not sent", monitor.pk, week.start)
        result.failed.append((monitor.pk, week.start, f"{type(exc).__name__}: {exc}"[:300]))
        return
    result.sent.append((monitor.pk, week.start, ", ".join(message.to)))
    logger.info("digest of monitor %s week %s sent to %s", monitor.pk, week.start, message.to)


def send_due_digests(
    *, now: datetime | None = None, monitor_ids: list[int] | None = None, batch: int | None = None
) -> DigestResult:
    """Send every due digest once, at most ``batch`` per call (the worker calls this with each
    scheduler tick; the rest go out on the next).

    Reads only monitors with the digest on whose last handled week is older than the newest
    week that can be due anywhere (a time zone's date is at most a day from UTC's).
    """
    now = now or timezone.now()
    batch = batch or settings.BRANDTEST_DIGEST_BATCH
    result = DigestResult()
    today = now.astimezone(UTC).date()
    newest = max(last_week(today + timedelta(days=d)).start for d in (-1, 0, 1))
    monitors = Monitor.objects.filter(weekly_digest=True).filter(
        Q(last_digest_week__isnull=True) | Q(last_digest_week__lt=newest)
    )
    if monitor_ids is not None:
        monitors = monitors.filter(pk__in=monitor_ids)
    for monitor in monitors.select_related("owner").order_by("pk").iterator(chunk_size=500):
        week = digest_week(monitor, now)
        if week is None or (monitor.last_digest_week and monitor.last_digest_week >= week.start):
            continue
        send_digest(monitor, week, result)
        if len(result.sent) + len(result.failed) >= batch:
            break
    return result


__all__ = [
    "DigestResult",
    "build_digest",
    "digest_recipients",
    "digest_week",
    "report_url",
    "send_digest",
    "send_due_digests",
]
