"""The read API's resources: thin views over the tenant-scoped querysets.

Every queryset starts from the key's tenant, so a filter or a detail URL naming another
tenant's row finds nothing (404 for a detail, 400 for a connection filter; the same answer
as for an id that does not exist).
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.viewsets import ReadOnlyModelViewSet

from api import changes
from api import csv as csv_out
from api import serializers as s
from api.auth import ApiKeyAuthentication, ApiKeyThrottle, HasScope
from api.changes import Cursor
from api.models import DATA_READ, HEALTH_READ, TOKENS_READ, ApiKey
from api.pagination import KeysetPagination
from collectors import gaps
from collectors.health import FAILED_RUN
from collectors.models import (
    Agent,
    AgentCurrentState,
    AgentQueue,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    IntervalVolume,
    Queue,
)
from integrations.models import VendorConnection
from tokens.models import AccessToken

CONNECTION_PARAM = OpenApiParameter(
    "connection", OpenApiTypes.INT, description="Only this connection's rows (an id from /connections/)."
)


def time_params(what: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "start", OpenApiTypes.DATETIME, description=f"Only rows whose {what} is at or after this."
        ),
        OpenApiParameter("end", OpenApiTypes.DATETIME, description=f"Only rows whose {what} is before this."),
    ]


def parse_time(name: str, raw: str) -> Any:
    value = parse_datetime(raw)
    if value is None:
        raise ValidationError({name: f"{raw!r} is not an ISO 8601 date and time"})
    if value.tzinfo is None:
        raise ValidationError({name: f"{raw!r} has no time zone; add Z for UTC"})
    return value


class ApiViewSet(ReadOnlyModelViewSet):
    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (HasScope,)
    throttle_classes = (ApiKeyThrottle,)
    pagination_class = KeysetPagination
    renderer_classes: tuple[Any, ...] = (JSONRenderer,)
    required_scopes: tuple[str, ...] = (DATA_READ,)
    # From the model to its tenant and its connection, as queryset lookups.
    tenant_path = "connection__tenant"
    connection_path = "connection"
    # The time a `start`/`end` filter applies to, where one does.
    time_field: str | None = None
    change_ordered = False
    # The change-ordered resources' columns: (name in the output, lookup). Their lists, JSON
    # and CSV, are built from these values directly, without a model instance and a
    # serializer per row (which cost most of a full sync's time); test_bulk_rows holds the
    # two outputs equal.
    bulk_columns: tuple[tuple[str, str], ...] = ()

    @property
    def api_key(self) -> ApiKey:
        """The key that authenticated the request (ApiKeyAuthentication sets `request.auth`)."""
        return cast(ApiKey, self.request.auth)

    def get_queryset(self) -> QuerySet[Any]:
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        qs = qs.filter(**{self.tenant_path: self.api_key.tenant})
        if self.action == "list":
            qs = self.filter_list(qs)
        return qs

    def filter_list(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        params = self.request.query_params
        raw = params.get("connection")
        # The connections listed (change-ordered pages are read one connection at a time).
        self.connection_ids = list(
            VendorConnection.objects.filter(tenant=self.api_key.tenant)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if raw not in (None, ""):
            if not raw.isdigit() or int(raw) not in self.connection_ids:
                raise ValidationError({"connection": f"{raw!r} is not a connection of this key's tenant"})
            self.connection_ids = [int(raw)]
            qs = qs.filter(**{self.connection_path: int(raw)})
        if self.time_field is not None:
            start, end = params.get("start"), params.get("end")
            if start:
                qs = qs.filter(**{f"{self.time_field}__gte": parse_time("start", start)})
            if end:
                qs = qs.filter(**{f"{self.time_field}__lt": parse_time("end", end)})
        return qs

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.bulk_columns:
            return super().list(request, *args, **kwargs)
        if request.accepted_renderer.format == "csv":
            return self.stream_csv()
        names = [name for name, _lookup in self.bulk_columns]
        rows = cast(KeysetPagination, self.paginator).paginate_values(
            self.filter_queryset(self.get_queryset()),
            request,
            self,
            [lookup for _name, lookup in self.bulk_columns],
        )
        return self.get_paginated_response(
            [dict(zip(names, map(csv_out.json_cell, row), strict=True)) for row in rows]
        )

    def stream_csv(self) -> StreamingHttpResponse:
        """Everything after the request's cursor (all of it without one), with the next cursor.

        The end is fixed before the first row goes out, so the cursor in the header is known
        up front and rows written meanwhile wait for the next call.
        """
        pager = KeysetPagination()
        qs, position = pager.start(self.filter_queryset(self.get_queryset()), self.request, self)
        if position is not None:
            qs = changes.after(qs, changes.CHANGE_FIELDS, position)
        last = changes.last_position(qs, self.connection_ids)
        end = last or position
        response = StreamingHttpResponse(
            csv_out.rows(qs, self.connection_ids, self.bulk_columns, position, last),
            content_type="text/csv; charset=utf-8",
        )
        if end is not None:
            response["X-Next-Cursor"] = Cursor(end, pager.now).encode()
        response["Content-Disposition"] = f'attachment; filename="{self.basename}.csv"'
        return response


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class ConnectionViewSet(ApiViewSet):
    """Connections of the key's tenant with their streams' statuses; never a credential."""

    queryset = VendorConnection.objects.prefetch_related("schedules")
    serializer_class = s.ConnectionSerializer
    required_scopes = (DATA_READ, HEALTH_READ)
    tenant_path = "tenant"
    connection_path = "pk"


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class QueueViewSet(ApiViewSet):
    """Queues (skills, hunt groups), in change order: a renamed or deactivated queue comes again."""

    queryset = Queue.objects.all()
    serializer_class = s.QueueSerializer
    change_ordered = True
    bulk_columns = (
        ("id", "id"),
        ("connection", "connection_id"),
        ("vendor_id", "vendor_id"),
        ("name", "name"),
        ("active", "active"),
        ("first_seen", "first_seen"),
    )


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class AgentViewSet(ApiViewSet):
    """Agents, in change order: a renamed, regrouped or deactivated agent comes again."""

    queryset = Agent.objects.all()
    serializer_class = s.AgentSerializer
    change_ordered = True
    bulk_columns = (
        ("id", "id"),
        ("connection", "connection_id"),
        ("vendor_id", "vendor_id"),
        ("name", "name"),
        ("group", "group"),
        ("active", "active"),
        ("first_seen", "first_seen"),
    )


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class MembershipViewSet(ApiViewSet):
    """Which agent belongs to which queue (kept, never deleted: `active` says whether it still does)."""

    queryset = AgentQueue.objects.select_related("agent")
    serializer_class = s.MembershipSerializer
    tenant_path = "agent__connection__tenant"
    connection_path = "agent__connection"


BULK_RENDERERS = (JSONRenderer, csv_out.CSVRenderer)


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM, *time_params("interval_start")]))
class IntervalViewSet(ApiViewSet):
    """Contact volume per queue and 15-minute interval, in change order (revisions come again)."""

    queryset = IntervalVolume.objects.select_related("queue")
    serializer_class = s.IntervalSerializer
    change_ordered = True
    time_field = "interval_start"
    renderer_classes = BULK_RENDERERS
    bulk_columns = (
        ("id", "id"),
        ("connection", "connection_id"),
        ("queue", "queue_id"),
        ("queue_vendor_id", "queue__vendor_id"),
        ("interval_start", "interval_start"),
        ("entered", "entered"),
        ("abandoned", "abandoned"),
        ("handle_seconds", "handle_seconds"),
        ("collected_at", "collected_at"),
    )


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM, *time_params("start")]))
class StateEventViewSet(ApiViewSet):
    """Agent state transactions, in change order (an event closed later comes again with its end)."""

    queryset = AgentStateEvent.objects.select_related("agent")
    serializer_class = s.StateEventSerializer
    change_ordered = True
    time_field = "start"
    renderer_classes = BULK_RENDERERS
    bulk_columns = (
        ("id", "id"),
        ("connection", "connection_id"),
        ("agent", "agent_id"),
        ("agent_vendor_id", "agent__vendor_id"),
        ("state", "state"),
        ("raw_code", "raw_code"),
        ("raw_label", "raw_label"),
        ("reason_code", "reason_code"),
        ("start", "start"),
        ("end", "end"),
    )


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class CurrentStateViewSet(ApiViewSet):
    """Each agent's state as last seen."""

    queryset = AgentCurrentState.objects.select_related("agent")
    serializer_class = s.CurrentStateSerializer
    lookup_field = "agent"


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class StreamHealthViewSet(ApiViewSet):
    """Each stream's health: status, last success, last error class, missing intervals."""

    queryset = CollectionSchedule.objects.annotate(
        last_error_class=Subquery(
            CollectionRun.objects.filter(
                connection=OuterRef("connection"), stream=OuterRef("stream"), status__in=FAILED_RUN
            )
            .order_by("-started_at")
            .values("error_class")[:1]
        )
    ).select_related("connection")
    serializer_class = s.StreamHealthSerializer
    required_scopes = (HEALTH_READ,)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and self.request.auth is not None:
            conns = VendorConnection.objects.filter(tenant=self.api_key.tenant).values_list("id", "created")
            context["coverage"] = gaps.coverage(list(conns), timezone.now())
            context["history_streams"] = gaps.HISTORY_STREAMS
        return context


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM, *time_params("started_at")]))
class RunViewSet(ApiViewSet):
    """Collection runs (what ran, when, with what outcome), oldest first."""

    queryset = CollectionRun.objects.all()
    serializer_class = s.RunSerializer
    required_scopes = (HEALTH_READ,)
    time_field = "started_at"


@extend_schema_view(list=extend_schema(parameters=[CONNECTION_PARAM]))
class TokenExpiryViewSet(ApiViewSet):
    """When each access token expires and the next reminder; never a token value."""

    queryset = AccessToken.objects.select_related("connection__tenant").prefetch_related("alerts")
    serializer_class = s.TokenExpirySerializer
    required_scopes = (TOKENS_READ,)
