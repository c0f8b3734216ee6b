"""The production fast path: GET/HEAD of the status and results paths skip the middleware chain.

``FastPath`` (wrapped around the WSGI application in brandtest/wsgi.py) sends those requests,
when they carry no session cookie, through ``FastHandler``: Django's handler *without* the
middleware chain, which costs about as much as the poll itself (docs/benchmarks.md). What that
chain would add to these responses (security headers, Content-Length, the ALLOWED_HOSTS check)
is done by ``FastHandler``. Every other request goes to Django's handler unchanged.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import ResolverMatch, reverse

from records.api.hot_views import execution_results, execution_status
from records.legacy.views import legacy_status


class FastHandler(WSGIHandler):
    """Django's WSGI handler with no middleware and the route already matched by ``FastPath``.

    Signals (connection reuse and health checks), exception handling, 404/500 logging and
    response closing stay Django's own; what the skipped middleware would add to these
    responses (security headers, Content-Length, the ALLOWED_HOSTS check) is done here.
    """

    def __call__(self, environ, start_response):
        response = super().__call__(environ, start_response)
        if getattr(response, "streaming", True):
            return response
        # The body is in memory: hand the server one bytes object, which it writes without
        # iterating in Python, and close the response (request_finished) now.
        body = response.content
        response.close()
        return [body]

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._respond)

    def _respond(self, request):
        request.get_host()  # DisallowedHost -> 400, as CommonMiddleware would
        response = self._get_response(request)
        headers = response.headers
        if not response.streaming and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(response.content))
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.setdefault("X-Content-Type-Options", "nosniff")
        if settings.SECURE_REFERRER_POLICY:
            headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.setdefault(
                "Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
            )
        headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS.upper())
        return response

    def resolve_request(self, request):
        view, execution_id = request.environ["brandtest.fast_route"]
        match = ResolverMatch(view, (), {"execution_id": execution_id})
        request.resolver_match = match
        return match


class FastPath:
    """WSGI middleware: GET/HEAD of the status and results paths without a session cookie go
    through ``FastHandler``; everything else goes to ``application`` unchanged."""

    def __init__(self, application):
        self.application = application
        self.handler = FastHandler()
        self.routes = [
            (self._pattern(name), view)
            for name, view in (
                ("execution-status", execution_status),
                ("execution-results", execution_results),
                # The mini-program's poll (GET /test/status/<id>), Bearer JWT or anonymous.
                ("legacy-status", legacy_status),
            )
        ]
        self.session_cookie = f"{settings.SESSION_COOKIE_NAME}="

    @staticmethod
    def _pattern(url_name: str) -> re.Pattern:
        # The path from the URLconf, so the routes and this stay in step.
        marker = "00000000-0000-0000-0000-000000000000"
        prefix, suffix = reverse(url_name, kwargs={"execution_id": marker}).split(marker)
        return re.compile(rf"{re.escape(prefix)}([^/]+){re.escape(suffix)}\Z")

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and self.session_cookie not in (
            environ.get("HTTP_COOKIE") or ""
        ):
            path = environ.get("PATH_INFO") or ""
            for pattern, view in self.routes:
                if (match := pattern.match(path)) is not None:
                    environ["brandtest.fast_route"] = (view, match[1])
                    return self.handler(environ, start_response)
        return self.application(environ, start_response)
