"""The v1 REST API: executions (start, history, detail, status, results, answers, cancel) and
platforms."""

import uuid

import orjson
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from records import services
from records.api.filters import ExecutionFilter
from records.api.responses import status_response, stored_document_response
from records.api.serializers import (
    EXECUTION_LIST_ONLY,
    AnswerSerializer,
    ErrorSerializer,
    ExecutionCreateSerializer,
    ExecutionSerializer,
    ExecutionStatusSerializer,
    PlatformSerializer,
    execution_links,
)
from records.models import TERMINAL_STATUSES, ResultDocument, TestRecord
from records.platforms import platform_infos
from records.reports import build_report
from records.throttles import client_address


def parse_execution_id(value: str) -> uuid.UUID:
    """A malformed id names no execution: 404, never a 500."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("malformed execution id") from None


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


NOT_FOUND = _error("Unknown, malformed or not yours")
THROTTLED = _error("Too many starts (BRANDTEST_START_RATE, BRANDTEST_START_IP_RATE)")
KEY_CONFLICT = _error("The Idempotency-Key was first used with a different request")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description=(
        "Re-sending a request with the same key returns what the first one created; the same "
        "key with a different request is a 422. Keys belong to the user, else the X-Device-ID, "
        "else the client address."
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="History: your executions, newest first",
        responses={200: ExecutionSerializer(many=True), 400: _error("Invalid filter value")},
    ),
    retrieve=extend_schema(
        summary="An execution", responses={200: ExecutionSerializer, 404: NOT_FOUND}
    ),
)
class ExecutionViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Brand-test executions visible to the caller."""

    serializer_class = ExecutionSerializer
    lookup_field = "execution_id"
    lookup_value_regex = "[^/]+"
    filterset_class = ExecutionFilter

    def get_queryset(self):
        records = TestRecord.objects.select_related("retry_of").only(*EXECUTION_LIST_ONLY)
        if self.action == "list":
            user = self.request.user
            # History: staff see everyone's runs, a user their own, anonymous callers none.
            return records if user.is_staff else records.owned_by(user)
        return records.visible_to(self.request.user)

    def get_object(self):
        execution_id = parse_execution_id(self.kwargs["execution_id"])
        try:
            return self.get_queryset().get(execution_id=execution_id)
        except TestRecord.DoesNotExist:
            raise Http404("unknown execution id") from None

    @extend_schema(
        request=ExecutionCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: ExecutionSerializer,
            400: _error("Invalid field"),
            422: KEY_CONFLICT,
            429: THROTTLED,
        },
        summary="Start a brand test",
    )
    def create(self, request, *args, **kwargs):
        serializer = ExecutionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = services.clean_execution_input(
            brand=serializer.validated_data["brand"],
            competitors=serializer.validated_data["competitors"],
            questions=serializer.validated_data["questions"],
            platforms=serializer.validated_data["platforms"],
            repeats=serializer.validated_data.get("repeats"),
            # Absent: BRANDTEST_DEFAULT_ACCESS_MODE.
            access_mode=serializer.validated_data.get("access_mode"),
        )
        record = services.start_execution(
            owner=request.user,
            data=data,
            device_id=request.headers.get("X-Device-ID", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            client_ip=client_address(request),
        ).record
        body = ExecutionSerializer(record).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(body["links"]["self"])},
        )

    @extend_schema(
        summary="Poll an execution's progress",
        responses={
            200: ExecutionStatusSerializer,
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match"),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], url_path="status", url_name="status")
    def poll(self, request, execution_id=None):
        # Documents the route; GET/HEAD are served by the plain view in records/api/hot_views.py
        # (routed first in urls.py), which hands other methods and failed credentials back here.
        return status_response(request, execution_id, request.user)

    @extend_schema(
        summary="The report: summary and every answer",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The report"),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match"),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"])
    def results(self, request, execution_id=None):
        # A stored report is served by the plain view in records/api/hot_views.py (routed
        # first); this action builds live reports and answers what that view hands back.
        record = self.get_object()
        document = (
            ResultDocument.objects.filter(record=record).only("body_gzip", "etag").first()
            if record.status in TERMINAL_STATUSES
            else None
        )
        if document is None:
            # Still running (or cancelled before finishing): a live, non-final view.
            report = build_report(record, list(record.answers.all()))
            report["final"] = False
            report["status"] = record.status
            return HttpResponse(orjson.dumps(report), content_type="application/json")
        return stored_document_response(request, bytes(document.body_gzip), document.etag)

    @extend_schema(
        summary="Stored answers, paginated",
        responses={200: AnswerSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def answers(self, request, execution_id=None):
        record = self.get_object()
        page = self.paginate_queryset(record.answers.all())
        answers = AnswerSerializer(page, many=True, context={"main_brand": record.brand_name})
        return self.get_paginated_response(answers.data)

    @extend_schema(
        request=None,
        summary="Cancel a queued or running execution",
        responses={200: ExecutionSerializer, 404: NOT_FOUND, 409: _error("Already ended")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, execution_id=None):
        record = services.cancel_execution(record=self.get_object())
        return Response(ExecutionSerializer(record).data)

    @extend_schema(
        request=None,
        summary="Retry an ended execution: a new attempt asks only the calls without an answer",
        description=(
            "Counts against the start limits. While an attempt of the run is active, or for "
            "60 s after it was created, a retry returns that attempt instead of a new one."
        ),
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: ExecutionSerializer,
            404: NOT_FOUND,
            409: _error("Not retryable"),
            422: KEY_CONFLICT,
            429: THROTTLED,
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, execution_id=None):
        attempt = services.retry_execution(
            record=self.get_object(),
            owner=request.user,
            device_id=request.headers.get("X-Device-ID", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            client_ip=client_address(request),
        )
        body = ExecutionSerializer(attempt).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(body["links"]["self"])},
        )


class PlatformViewSet(viewsets.ViewSet):
    """The AI platforms and whether they are configured on this server."""

    @extend_schema(responses=PlatformSerializer(many=True), summary="List platforms")
    def list(self, request):
        return Response(PlatformSerializer(platform_infos(), many=True).data)


__all__ = ["ExecutionViewSet", "PlatformViewSet", "execution_links"]
