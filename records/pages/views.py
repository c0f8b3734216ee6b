"""``GET /reports/monitors/<id>/``: a monitor's report for a date range, as a page or a PDF.

Only the monitor's owner and staff may read it, signed in by the session (a browser), a DRF
``Token`` or a ``Bearer`` access token (records/authentication.py). Everyone else, anonymous
callers and callers whose credentials fail included, gets the same 404 as for a monitor that
does not exist: a report never reveals that a monitor is there.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_safe
from rest_framework.exceptions import AuthenticationFailed

from records.authentication import CachedJWTAuthentication, CachedTokenAuthentication
from records.engine.base import ACCESS_MODES
from records.models import Monitor
from records.monitor_report import (
    RANGES,
    ReportRange,
    ReportRangeError,
    clean_report_range,
    monitor_report,
    report_inputs,
)
from records.pages.pdf import PdfUnavailable, html_to_pdf

FORMATS = ("html", "pdf")
TEMPLATE = "pages/monitor_report.html"
_AUTHENTICATORS = (CachedJWTAuthentication(), CachedTokenAuthentication())
MAX_ID = 2**63 - 1  # BigAutoField


def caller(request):
    """The signed-in user: the session's, else a valid ``Bearer`` or ``Token`` header's; None
    when there is none or the credentials fail (a report answers both with 404)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    for authenticator in _AUTHENTICATORS:
        try:
            found = authenticator.authenticate(request)
        except AuthenticationFailed:
            return None
        if found is not None:
            return found[0]
    return None


def _bad_request(request, error: ReportRangeError) -> HttpResponse:
    """400 naming the parameter: the v1 error shape for JSON clients, a page for browsers."""
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        body = {"error": error.message, "code": "invalid", "fields": {error.field: [error.message]}}
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    context = {"field": error.field, "message": error.message}
    return render(request, "pages/report_error.html", context, status=400)


def report_links(monitor: Monitor, rng: ReportRange) -> dict[str, str]:
    """This range as a page and as a PDF, and the two named ranges."""
    path = reverse("monitor-report", args=[monitor.pk])
    return {
        "page": f"{path}?{urlencode(rng.query())}",
        "pdf": f"{path}?{urlencode(rng.query() | {'format': 'pdf'})}",
        **{kind: f"{path}?range={kind}" for kind in RANGES},
    }


def _private(response: HttpResponse) -> HttpResponse:
    # A report is one user's data: never stored by a shared cache, keyed on who asks.
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, ("Cookie", "Authorization"))
    return response


@require_safe
def monitor_report_view(request, monitor_id: int):
    user = caller(request)
    # An id past the primary key's range names no monitor (and must not reach PostgreSQL).
    in_range = 0 < monitor_id <= MAX_ID
    monitor = Monitor.objects.visible_to(user).filter(pk=monitor_id).first() if in_range else None
    if monitor is None:
        raise Http404("No monitor with that id is visible to you.")
    fmt = (request.GET.get("format") or "html").strip().lower()
    try:
        if fmt not in FORMATS:
            raise ReportRangeError("format", f"format={fmt[:20]!r}: use html or pdf.")
        rng = clean_report_range(request.GET, monitor=monitor)
        mode = (request.GET.get("access_mode") or monitor.access_mode).strip()
        if mode not in ACCESS_MODES:
            raise ReportRangeError(
                "access_mode", f"access_mode={mode[:20]!r}: use {' or '.join(ACCESS_MODES)}."
            )
    except ReportRangeError as error:
        return _private(_bad_request(request, error))
    pdf = fmt == "pdf"
    base_url = request.build_absolute_uri("/").rstrip("/")
    data = monitor_report(
        monitor,
        rng,
        **report_inputs(monitor, rng),
        access_mode=mode,
        base_url=base_url if pdf else "",
        staff=user.is_staff,
    )
    context = {**data, "pdf": pdf, "links": report_links(monitor, rng), "base_url": base_url}
    if not pdf:
        return _private(render(request, TEMPLATE, context))
    html = render_to_string(TEMPLATE, context, request=request)
    try:
        body = html_to_pdf(html, base_url=base_url)
    except PdfUnavailable as exc:
        return _private(
            HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
        )
    response = HttpResponse(body, content_type="application/pdf")
    filename = f"brandtest-monitor-{monitor.pk}-{rng.start}-{rng.end}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return _private(response)
