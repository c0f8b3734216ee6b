"""URL routes: v1 API, legacy mini-program contract, OpenAPI docs, admin; JSON errors on API
paths (Django's HTML 400 and 404 pages elsewhere)."""

from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.urls import include, path, reverse
from django.views import defaults
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Paths of the JSON interfaces: v1 and schema under /api/v1/ and /api/, the legacy ones under
# /api/ and /test/ (docs/legacy-contract.md).
_API_PREFIXES = ("/api/", "/test/")
_V1_PREFIXES = ("/api/v1/", "/api/schema/", "/api/docs/")


def _json_error(request, message: str, status: int, code: str) -> JsonResponse:
    if request.path.startswith(_V1_PREFIXES):
        body = {"error": message, "code": code}
    else:
        body = {"status": "error", "error": message, "code": status}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception=None):
    """400 (and 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE) outside DRF's handling."""
    if isinstance(exception, RequestDataTooBig):
        if request.path.startswith(_API_PREFIXES):
            return _json_error(
                request, "The request body is larger than this server accepts.", 413, "too_large"
            )
        response = defaults.bad_request(request, exception)
        response.status_code = 413
        return response
    if request.path.startswith(_API_PREFIXES):
        return _json_error(request, "Bad request.", 400, "bad_request")
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    """An API path that matches no route (an empty id, a typo) is a JSON 404."""
    if request.path.startswith(_API_PREFIXES):
        return _json_error(request, f"No route for {request.path}.", 404, "not_found")
    return defaults.page_not_found(request, exception)


@require_safe
def home(request):
    """GET /: where things are (the admin's "View site" link lands here)."""
    return JsonResponse(
        {
            "service": "Brand diagnosis API",
            "api": reverse("api-root"),
            "docs": reverse("docs"),
            "schema": reverse("schema"),
            "admin": reverse("admin:index"),
        }
    )


handler400 = bad_request
handler404 = page_not_found

urlpatterns = [
    path("", home, name="home"),
    path("api/v1/", include("records.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from a URL, so the page needs no inline script
    # (Content-Security-Policy: script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("records.legacy.urls")),
    path("", include("records.pages.urls")),
    path("admin/", admin.site.urls),
]
