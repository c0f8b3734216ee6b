"""The hot read paths as plain Django views: the status poll and the stored results document.

Clients poll ``GET /api/v1/executions/<id>/status/`` every 150-1000 ms for the whole run, so it
is most of the API's traffic; ``GET .../results/`` sends a stored report of up to a few MB.
DRF's request/response cycle and the ORM cost several times the whole view
(docs/benchmarks.md), so GET/HEAD with no credentials or good ones are answered here from
records/api/responses.py; everything else (other methods, failed credentials, live reports) is
handed to the documented DRF actions ``ExecutionViewSet.poll`` and ``.results``, which answer
exactly as they always have. This module sits above the viewset; the viewset never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from records.api.responses import results_response, status_response
from records.api.views import ExecutionViewSet


def _has_credentials(request) -> bool:
    """An Authorization header, a session cookie, or DRF's test-client force_authenticate."""
    return (
        "HTTP_AUTHORIZATION" in request.META
        or ("HTTP_COOKIE" in request.META and settings.SESSION_COOKIE_NAME in request.COOKIES)
        or hasattr(request, "_force_auth_user")
    )


@cache
def _drf_action(name: str):
    return ExecutionViewSet.as_view({"get": name})


def _serve(
    request, execution_id: str, action: str, respond: Callable[..., HttpResponse | None]
) -> HttpResponse:
    """GET/HEAD with no credentials or good ones: ``respond``; anything else: the DRF action."""
    if request.method in ("GET", "HEAD"):
        user = None
        if _has_credentials(request):
            # DRF's configured authenticators, read per request (Session, Token, JWT, ...).
            authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
            try:
                user = Request(request, authenticators=authenticators).user
            except APIException:
                user = False
        if user is not False:
            response = respond(request, execution_id, user)
            if response is not None:
                return response
    return _drf_action(action)(request, execution_id=execution_id)


@csrf_exempt  # reads only; other methods go to the DRF action, which does its own CSRF checks
def execution_status(request, execution_id: str):
    """GET /api/v1/executions/<id>/status/"""
    return _serve(request, execution_id, "poll", status_response)


@csrf_exempt
def execution_results(request, execution_id: str):
    """GET /api/v1/executions/<id>/results/"""
    return _serve(request, execution_id, "results", results_response)
