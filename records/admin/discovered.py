"""The monitor page's "who the answers recommend instead" panel and its "track this competitor"
button (a CSRF-protected POST, staff with change permission only)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from records.discovered import monitor_entity_report
from records.models import Monitor
from records.monitoring.competitors import brand_spelling, track_competitor
from records.trend_params import monitor_zone

PANEL_ROWS = 20


def discovered_panel(monitor: Monitor, since: datetime, *, days: int, can_track: bool) -> dict:
    """The untracked entities the monitor's answers recommend from ``since``'s day to today (in
    its time zone), each with the name and aliases the button would track it under."""
    zone = monitor_zone(monitor)
    start = timezone.localtime(since, zone).date()
    end = max(timezone.localtime(timezone.now(), zone).date(), start)
    report = monitor_entity_report(monitor, start, end, limit=PANEL_ROWS)
    for row in report["entities"]:
        row["track_as"], row["track_aliases"] = brand_spelling(row["name"], row["surfaces"])
    return report | {
        "days": days,
        "can_track": can_track,
        "action": reverse("admin:records_monitor_track_entity", args=[monitor.pk]),
    }


def track_entity(model_admin, request, monitor_id: int):
    """POST ``name`` (and its ``surface`` spellings): track it as a competitor of the monitor,
    then go back to the monitor page with a message saying what happened."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    monitor = get_object_or_404(Monitor, pk=monitor_id)
    if not model_admin.has_change_permission(request, monitor):
        raise PermissionDenied
    name = request.POST.get("name", "")
    try:
        result = track_competitor(
            monitor=monitor, name=name, surfaces=request.POST.getlist("surface")
        )
    except ValidationError as error:
        details = "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
        model_admin.message_user(request, f"{name!r} not tracked ({details}).", messages.ERROR)
    else:
        brand = result.brand
        if result.created:
            aliases = f" (aliases: {', '.join(brand.aliases)})" if brand.aliases else ""
            model_admin.message_user(
                request,
                f"{brand.name} is now a tracked competitor of {monitor.name}{aliases}; "
                "the next run measures it.",
                messages.SUCCESS,
            )
        else:
            model_admin.message_user(
                request,
                f"{name} is already tracked by {monitor.name} (as {brand.name}); nothing changed.",
                messages.INFO,
            )
    url = reverse("admin:records_monitor_page", args=[monitor.pk])
    days = request.POST.get("days", "")
    return HttpResponseRedirect(f"{url}?{urlencode({'days': days})}" if days.isdigit() else url)
