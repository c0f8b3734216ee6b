"""The legacy error shape: the v1 handler's response, re-shaped to
{"status": "error", "error": "<human message>", "code": <HTTP status>, ...details}."""

from rest_framework import exceptions
from rest_framework.response import Response

from records.errors import exception_handler as api_exception_handler

RATE_LIMITED = {"status": "error", "error": "Rate limit exceeded", "code": 429}


def error_response(message: str, status: int, **details) -> Response:
    """A legacy error response."""
    return Response({"status": "error", "error": message, "code": status, **details}, status)


def exception_handler(exc, context):
    """Map whatever the v1 handler makes of an exception to the legacy shape."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        response.data = dict(RATE_LIMITED)
        return response
    data = response.data or {}
    message = data.get("error", "Request failed.")
    fields = data.get("fields")
    if fields and list(fields) == ["non_field_errors"]:
        # Not about a field (e.g. a body that is not a JSON object): say just what is wrong.
        message = fields["non_field_errors"][0]
    body = {"status": "error", "error": message, "code": 0}
    if fields:
        body["fields"] = fields
    # Legacy paths never answer 401 (the mini-program would send its user to the login page).
    if response.status_code == 401:
        response.status_code = 403
        del response["WWW-Authenticate"]
    body["code"] = response.status_code
    response.data = body
    return response
