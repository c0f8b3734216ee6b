"""How an execution's state and stored values are shown to staff: status colours, the status bar,
readable numbers in stored JSON."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from records.models import Status, TestRecord

# One colour per status, on the changelist bar, the dashboard and the monitor page's run history.
STATUS_COLOURS = {
    Status.QUEUED: "#79aec8",
    Status.RUNNING: "#417690",
    Status.COMPLETED: "#2e7d32",
    Status.PARTIAL_COMPLETED: "#e69f00",
    Status.FAILED: "#ba2121",
    Status.CANCELLED: "#8a8a8a",
}


def status_label(status: str) -> str:
    """The human label of a status value ("partial_completed" -> "Partially completed")."""
    try:
        return Status(status).label
    except ValueError:
        return status


def status_bar(record: TestRecord) -> SafeString:
    """A running execution's progress; an ended one's status and the share of calls answered.

    An ended run always has progress 100 (the database says so), so drawing that would show a
    cancelled run with no answers as a full bar. Ended runs show what they got instead.
    """
    if not record.is_terminal:
        return format_html(
            '<progress value="{}" max="100" title="{}%"></progress> {}%',
            record.progress,
            record.progress,
            record.progress,
        )
    total = record.total_tasks
    answered = record.completed_tasks
    width = round(100 * answered / total) if total else 0
    return format_html(
        '<span class="status-bar" title="{} of {} calls answered" style="display:inline-block;'
        'width:80px;height:10px;border:1px solid {};border-radius:2px;vertical-align:middle">'
        '<span style="display:block;height:100%;width:{}%;background:{}"></span></span> '
        '<span style="color:{}">{}</span> · {}/{}',
        answered,
        total,
        STATUS_COLOURS[record.status],
        width,
        STATUS_COLOURS[record.status],
        STATUS_COLOURS[record.status],
        status_label(record.status),
        answered,
        total,
    )


def round_floats(value: Any, digits: int = 4) -> Any:
    """``value`` with every float rounded (0.8332999999999999 -> 0.8333), for display only."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: round_floats(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [round_floats(item, digits) for item in value]
    return value


def pretty_json(value: Any) -> SafeString:
    """Stored JSON as an indented, escaped block with readable numbers."""
    return format_html(
        "<pre>{}</pre>", json.dumps(round_floats(value), ensure_ascii=False, indent=2)
    )


def spend_text(spend: dict[str, Any] | None) -> str:
    """An estimated spend (records.costs) in one line: "≈ CNY 0.0123", "+ 3 unpriced calls"."""
    if not spend:
        return "—"
    parts = [f"≈ {currency} {amount:.4f}" for currency, amount in spend["by_currency"].items()]
    unpriced = spend.get("unpriced_calls") or 0
    if unpriced:
        parts.append(f"{unpriced} call{'s' if unpriced != 1 else ''} unpriced")
    return " + ".join(parts) or "—"
