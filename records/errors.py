"""One error shape for the v1 API: {"error": message, "code": code, "fields": {...}}.

The DRF exception handler of every interface (REST_FRAMEWORK["EXCEPTION_HANDLER"]); the legacy
adapters map its shape to theirs (records/legacy/errors.py).
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from records.services import IdempotencyConflict, InvalidTransition


def _flatten(detail) -> dict[str, list[str]] | list[str]:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = []
        for item in detail:
            value = _flatten(item)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    return str(detail)


def _message(fields) -> str:
    if isinstance(fields, dict):
        names = ", ".join(fields)
        first = next(iter(fields.values()), [])
        if isinstance(first, dict):
            first = next(iter(first.values()), [])
        detail = first[0] if isinstance(first, list) and first else first
        return f"Invalid {names}: {detail}" if names else "Invalid request."
    return fields[0] if fields else "Invalid request."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "too_large"


def exception_handler(exc, context):
    """Turn service and DRF errors into the API's error shape; never a 500 for bad input."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, InvalidTransition):
        return Response({"error": str(exc), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IdempotencyConflict):
        return Response(
            {
                "error": str(exc),
                "code": "idempotency_conflict",
                "fields": {"Idempotency-Key": [str(exc)]},
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("No execution with that id is visible to you.")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        response.data = {"error": _message(fields), "code": "invalid", "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict):
            # simplejwt's InvalidToken: {"detail": ..., "code": ..., "messages": [...]}.
            detail = detail.get("detail", "Invalid credentials.")
        code = getattr(exc, "default_code", "error")
        response.data = {"error": str(detail), "code": code}
    return response
