"""The one shape of an alert (API list, webhook body, e-mail), and the links in it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from records.models import Alert
from records.renderers import iso

#: How the API and webhooks name the blank platform (as the trend API does).
OVERALL = "overall"


def absolute(path: str) -> str:
    """A path of this service as a URL receivers can open (BRANDTEST_PUBLIC_URL)."""
    return f"{settings.BRANDTEST_PUBLIC_URL}{path}"


def report_path(monitor_id: int, start, end) -> str:
    """The report page of a monitor's range (records/reports pages, /reports/monitors/{id}/)."""
    return f"/reports/monitors/{monitor_id}/?from={start.isoformat()}&to={end.isoformat()}"


def alert_links(alert: Alert) -> dict[str, str | None]:
    """Where a reader goes from an alert: the alert list, acknowledge, the run, the report."""
    execution_id = str(alert.execution.execution_id) if alert.execution_id else None
    monitor = {"monitor_id": alert.monitor_id}
    return {
        "alerts": reverse("monitor-alerts", kwargs=monitor),
        "acknowledge": reverse("alert-acknowledge", kwargs=monitor | {"alert_id": alert.pk}),
        "execution": (
            reverse("execution-detail", kwargs={"execution_id": execution_id})
            if execution_id
            else None
        ),
        "answers": (
            reverse("execution-answers", kwargs={"execution_id": execution_id})
            if execution_id
            else None
        ),
        "report": report_path(alert.monitor_id, alert.period_start, alert.period_end),
    }


def alert_body(alert: Alert, *, absolute_links: bool = False) -> dict[str, Any]:
    """An alert as every interface shows it. Webhooks and e-mail get absolute links."""
    links = alert_links(alert)
    if absolute_links:
        links = {name: absolute(path) if path else None for name, path in links.items()}
    return {
        "id": alert.pk,
        "monitor": alert.monitor_id,
        "kind": alert.kind,
        "brand": alert.brand,
        "platform": alert.platform or OVERALL,
        "period_start": alert.period_start.isoformat(),
        "period_end": alert.period_end.isoformat(),
        "execution": str(alert.execution.execution_id) if alert.execution_id else None,
        "evidence": alert.evidence,
        "created_at": iso(alert.created_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "links": links,
    }


def summary_line(alert: Alert) -> str:
    """One line for people (e-mail subject lines and text bodies)."""
    where = f"{alert.brand} on {alert.platform or OVERALL}"
    evidence = alert.evidence or {}
    if alert.kind == "visibility_drop":
        return (
            f"Visibility of {where} dropped by {-evidence.get('delta', 0):.1f} "
            f"(SE {evidence.get('se') or 0:.1f}, {evidence.get('cells')} cells, "
            f"n {evidence.get('n_before')} → {evidence.get('n_after')})"
        )
    if alert.kind == "overtaken":
        return f"{alert.brand} overtook {evidence.get('main_brand')} in share of voice on " + (
            alert.platform or OVERALL
        )
    if alert.kind == "negative_mention":
        return f"{evidence.get('count', 0)} negative mention(s) of {where}"
    if alert.kind == "owned_citation_lost":
        return f"Owned domain(s) no longer cited for {where}: " + ", ".join(
            evidence.get("domains", [])
        )
    return f"Run problem for {alert.brand} ({alert.platform or OVERALL}): " + str(
        evidence.get("reason") or evidence.get("error") or ""
    )
