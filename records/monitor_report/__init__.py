"""A monitor's report for a date range (service level): the range, its data, and how its
numbers are printed. The page and PDF (records/pages) and the weekly digest (records/digests.py)
render it; nothing here calls a platform.

Public API::

    rng = clean_report_range(request.GET, monitor=monitor)     # raises ReportRangeError
    data = monitor_report(monitor, rng, **report_inputs(monitor, rng), base_url="https://…")
"""

from records.monitor_report.data import (
    CHANGE_METRICS,
    HEADLINE,
    monitor_report,
    report_inputs,
    stored_alerts,
)
from records.monitor_report.ranges import (
    MAX_REPORT_DAYS,
    RANGES,
    ReportRange,
    ReportRangeError,
    clean_report_range,
    last_month,
    last_week,
)

__all__ = [
    "CHANGE_METRICS",
    "HEADLINE",
    "MAX_REPORT_DAYS",
    "RANGES",
    "ReportRange",
    "ReportRangeError",
    "clean_report_range",
    "last_month",
    "report_inputs",
    "stored_alerts",
    "last_week",
    "monitor_report",
]
