"""Read-only admin of the neutral data, the schedules and cursors, the runs and the drop ledger.

Rows are written by the collection engine only; people look. Every changelist joins what it
shows (`list_select_related`), so its query count does not grow with the rows on the page,
and every filter on a connection or tenant lists only the rows the user may see.

Runs, state events, intervals, flips and the drop ledger grow with time (millions of rows
before retention trims them), so their changelists read only what one page needs: an index
serves their order and filters, the count stops at COUNT_CAP, there is no date hierarchy
(its year list reads the whole table) and their tenant and connection filters list what the
user may see from those small tables, not from the big one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode

from collectors.health import worst
from collectors.models import (
    Agent,
    AgentCurrentState,
    AgentQueue,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    ConfigHold,
    Cursor,
    DropFile,
    HealthFlip,
    IntervalVolume,
    Queue,
)
from integrations.admin_scope import (
    ConnectionColumn,
    ScopedRelatedFilter,
    TenantScopedAdmin,
    admin_user,
    can_manage,
    connection_link,
    links_html,
)
from integrations.models import Tenant, VendorConnection
from integrations.vendors.base import STREAM_CONFIG

CONNECTION_FILTERS = (
    ("connection__tenant", ScopedRelatedFilter),
    ("connection", ScopedRelatedFilter),
)
# A changelist counts at most this many rows ("more than 10000"); beyond it, filter.
COUNT_CAP = 10_000


# The health page's colours (templates/collectors/_styles.html), for the connection list.
STATUS_COLORS = {
    "ok": "#1b7f3b",
    "new": "#5a6b7b",
    "paused": "#8a8a8a",
    "late": "#c77700",
    "failing": "#b00020",
    "auth_failed": "#7a0016",
}


def runs_url(conn_id: int, stream: str | None = None) -> str:
    query: dict[str, str | int] = {"connection__id__exact": conn_id}
    if stream:
        query["stream__exact"] = stream
    return f"{reverse('admin:collectors_collectionrun_changelist')}?{urlencode(query)}"


def streams_url(conn_id: int) -> str:
    query = urlencode({"connection__id__exact": conn_id})
    return f"{reverse('admin:collectors_collectionschedule_changelist')}?{query}"


def connection_health(conn: VendorConnection) -> str:
    """The connection's worst stream status, linked to that stream's health page (or, all
    well, to its streams), naming the streams in that state when others are not."""
    schedules = list(conn.schedules.all())  # prefetched by the connection list
    if not schedules:
        return "–"
    status = worst(s.status for s in schedules)
    worst_ones = [s for s in schedules if s.status == status]
    url = (
        streams_url(conn.pk)
        if status == "ok"
        else reverse("collectors:health-stream", args=[worst_ones[0].pk])
    )
    # Named only when they are not all of them ("failing: Volume"; not "new: every stream").
    some = len(worst_ones) < len(schedules)
    names = ", ".join(sorted(s.get_stream_display() for s in worst_ones)) if some else ""
    return format_html(
        '<a href="{}" class="conn-health conn-health-{}"><span style="color:#fff;background:{};'
        'padding:1px 6px;border-radius:3px;font-weight:bold">{}</span></a> {}',
        url,
        status,
        STATUS_COLORS.get(status, "#5a6b7b"),
        status.replace("_", " "),
        names,
    )


HEALTH_COLUMN = ConnectionColumn(
    prefetch="schedules",
    make=lambda request: admin.display(description="health")(connection_health),
)


def connection_links(request: HttpRequest, conn: VendorConnection) -> list[tuple[str, str]]:
    """Links from a connection's page to its streams' health pages, its streams and its runs."""
    streams = sorted(conn.schedules.all(), key=lambda s: s.stream)
    return [
        *(
            (f"{s.get_stream_display()} health", reverse("collectors:health-stream", args=[s.pk]))
            for s in streams
        ),
        ("Streams", streams_url(conn.pk)),
        ("Runs", runs_url(conn.pk)),
    ]


class CappedPaginator(Paginator):
    """Counts up to COUNT_CAP + 1 rows (a LIMIT inside the count), never the whole table.

    Without the page's order: sorting every matching row before the LIMIT would cost as
    much as counting them all (measured in bench/retention.py: seconds at 10M rows).
    """

    cap = COUNT_CAP
    object_list: QuerySet[Any]  # the admin pages querysets only

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class InScopeFilter(ScopedRelatedFilter):
    """Every tenant or connection the user may see, read from those small tables: asking a
    big table which of them occur in it (Django's related-only filter) reads all of it."""

    def field_choices(  # type: ignore[override]  # the stubs say str: the values are primary keys
        self, field: Any, request: HttpRequest, model_admin: Any
    ) -> list[tuple[Any, str]]:
        related = field.related_model
        qs = related._default_manager.all()
        if not request.user.is_superuser:
            tenants = model_admin.scope_tenants(request)
            qs = qs.filter(pk__in=tenants) if related is Tenant else qs.filter(tenant__in=tenants)
        if related is VendorConnection:
            # The label is "tenant/name"; leave the encrypted credentials undecrypted.
            qs = qs.select_related("tenant").only("name", "tenant__slug", "tenant__name")
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


SCOPE_FILTERS = (
    ("connection__tenant", InScopeFilter),
    ("connection", InScopeFilter),
)


class BigTableAdmin:
    """Mixed into the changelists of tables that grow with time (see the module docstring)."""

    paginator: ClassVar[type] = CappedPaginator
    show_full_result_count = False


class ReadOnlyAdmin(TenantScopedAdmin):
    """Collected rows and run records: nobody edits them by hand.

    Managers of the tenant may delete (deleting a connection cascades to its schedules,
    runs and data, and the admin asks for delete permission on every one of them).
    """

    tenant_path = "connection__tenant"
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="tenant", ordering="connection__tenant__name")
    def tenant(self, obj: Any) -> str:
        return str(obj.connection.tenant)


@admin.register(Queue)
class QueueAdmin(ReadOnlyAdmin):
    list_display = ("name", "vendor_id", "connection", "tenant", "active", "first_seen", "last_seen")
    list_filter = ("active", *CONNECTION_FILTERS)
    search_fields = ("name", "vendor_id", "connection__name", "connection__tenant__name")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "last_seen"


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    list_display = ("name", "vendor_id", "group", "connection", "tenant", "active", "first_seen", "last_seen")
    list_filter = ("active", *CONNECTION_FILTERS)
    search_fields = ("name", "vendor_id", "group", "connection__name", "connection__tenant__name")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "last_seen"


@admin.register(AgentQueue)
class AgentQueueAdmin(ReadOnlyAdmin):
    tenant_path = "agent__connection__tenant"
    list_display = ("agent", "queue", "connection", "active", "first_seen", "last_seen")
    list_filter = (
        "active",
        ("agent__connection__tenant", ScopedRelatedFilter),
        ("agent__connection", ScopedRelatedFilter),
    )
    search_fields = ("agent__name", "agent__vendor_id", "queue__name", "queue__vendor_id")
    list_select_related = ("agent__connection__tenant", "queue")
    date_hierarchy = "last_seen"

    @admin.display(description="connection", ordering="agent__connection__name")
    def connection(self, obj: AgentQueue) -> str:
        return str(obj.agent.connection)


@admin.register(IntervalVolume)
class IntervalVolumeAdmin(BigTableAdmin, ReadOnlyAdmin):
    list_display = (
        "interval_start",
        "queue",
        "connection",
        "entered",
        "abandoned",
        "handle_seconds",
        "collected_at",
    )
    list_filter = SCOPE_FILTERS
    search_fields = ("queue__name", "queue__vendor_id", "connection__name")
    list_select_related = ("queue", "connection__tenant")


@admin.register(AgentStateEvent)
class AgentStateEventAdmin(BigTableAdmin, ReadOnlyAdmin):
    list_display = ("agent", "state", "raw_code", "raw_label", "reason_code", "start", "end", "connection")
    list_filter = ("state", *SCOPE_FILTERS)
    search_fields = ("agent__name", "agent__vendor_id", "raw_code", "raw_label", "reason_code")
    list_select_related = ("agent", "connection__tenant")


@admin.register(AgentCurrentState)
class AgentCurrentStateAdmin(ReadOnlyAdmin):
    list_display = (
        "agent",
        "state",
        "raw_code",
        "raw_label",
        "reason_code",
        "since",
        "last_seen",
        "connection",
    )
    list_filter = ("state", *CONNECTION_FILTERS)
    search_fields = ("agent__name", "agent__vendor_id", "raw_code", "raw_label")
    list_select_related = ("agent", "connection__tenant")
    date_hierarchy = "since"


@admin.register(CollectionSchedule)
class CollectionScheduleAdmin(ReadOnlyAdmin):
    list_display = (
        "connection",
        "stream",
        "enabled",
        "status",
        "interval_seconds",
        "next_run_at",
        "lease_until",
        "last_success_at",
        "consecutive_failures",
        "links",
    )
    list_filter = ("stream", "enabled", "status", *CONNECTION_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name", "status_reason")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "next_run_at"
    actions = ("confirm_config_hold",)
    readonly_fields = ("links",)

    @admin.display(description="see")
    def links(self, obj: CollectionSchedule) -> str:
        return links_html(
            [
                ("health", reverse("collectors:health-stream", args=[obj.pk])),
                ("runs", runs_url(obj.connection_id, obj.stream)),
                (
                    "connection",
                    reverse("admin:integrations_vendorconnection_change", args=[obj.connection_id]),
                ),
            ]
        )

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return can_manage(request)

    @admin.action(
        description="Confirm the held configuration answer (apply it at the next run)",
        permissions=["confirm"],
    )
    def confirm_config_hold(self, request: HttpRequest, queryset: QuerySet[CollectionSchedule]) -> None:
        # Managed tenants only: the changelist also lists tenants the user only partners in.
        holds = ConfigHold.objects.filter(
            connection__in=queryset.filter(
                stream=STREAM_CONFIG, connection__tenant__in=Tenant.objects.managed_by(request.user)
            ).values("connection")
        ).select_related("connection__tenant")
        now = timezone.now()
        confirmed = []
        for hold in holds:
            hold.confirm(admin_user(request), now)
            confirmed.append(f"{hold.connection.key} ({len(hold.agents)} agents, {len(hold.queues)} queues)")
        if confirmed:
            self.message_user(
                request,
                f"Confirmed; applied at the next run: {', '.join(confirmed)}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, "No held configuration answer among the selected streams.", messages.WARNING
            )


@admin.register(Cursor)
class CursorAdmin(ReadOnlyAdmin):
    list_display = ("connection", "stream", "position", "updated")
    list_filter = ("stream", *CONNECTION_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "position"


@admin.register(CollectionRun)
class CollectionRunAdmin(BigTableAdmin, ReadOnlyAdmin):
    list_display = (
        "started_at",
        "connection",
        "stream",
        "status",
        "window_start",
        "window_end",
        "duration",
        "rows_created",
        "rows_updated",
        "error_class",
    )
    list_filter = ("status", "stream", *SCOPE_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name", "error_class", "error_message", "source")
    list_select_related = ("connection__tenant",)
    # Newest first by id, which the primary key serves (see CollectionRun's indexes).
    ordering = ("-id",)

    readonly_fields = ("links",)

    def get_list_display(self, request: HttpRequest) -> Any:
        # The connection links to its page, the stream to its schedule (and from there its health).
        shown = {"connection": self.connection_page, "stream": self.stream_page}
        return [
            shown.get(name, name) if isinstance(name, str) else name
            for name in super().get_list_display(request)
        ]

    @admin.display(description="connection", ordering="connection")
    def connection_page(self, obj: CollectionRun) -> str:
        return connection_link(obj.connection)

    @admin.display(description="stream", ordering="stream")
    def stream_page(self, obj: CollectionRun) -> str:
        query = urlencode({"connection__id__exact": str(obj.connection_id), "stream__exact": obj.stream})
        url = f"{reverse('admin:collectors_collectionschedule_changelist')}?{query}"
        return format_html('<a href="{}">{}</a>', url, obj.get_stream_display())

    @admin.display(description="see")
    def links(self, obj: CollectionRun) -> str:
        return links_html(
            [
                (
                    "connection",
                    reverse("admin:integrations_vendorconnection_change", args=[obj.connection_id]),
                ),
                ("this stream's runs", runs_url(obj.connection_id, obj.stream)),
            ]
        )

    @admin.display(description="duration (s)")
    def duration(self, obj: CollectionRun) -> str:
        seconds = obj.duration_seconds
        return "" if seconds is None else f"{seconds:.1f}"


@admin.register(DropFile)
class DropFileAdmin(BigTableAdmin, ReadOnlyAdmin):
    list_display = ("name", "connection", "status", "rows", "size", "received_at", "sha256")
    list_filter = ("status", *SCOPE_FILTERS)
    search_fields = ("name", "sha256", "connection__name", "reason")
    list_select_related = ("connection__tenant",)
    # The run link is shown as an id, not a join per row.
    raw_id_fields = ("run",)


@admin.register(HealthFlip)
class HealthFlipAdmin(BigTableAdmin, ReadOnlyAdmin):
    """Every status change of a stream and what was mailed about it."""

    tenant_path = "connection__tenant"
    list_display = (
        "created",
        "connection",
        "stream",
        "old_status",
        "new_status",
        "reason",
        "delivery",
        "processed",
    )
    list_filter = ("new_status", "stream", "delivery", *SCOPE_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name", "reason")
    list_select_related = ("connection__tenant",)


@admin.register(ConfigHold)
class ConfigHoldAdmin(ReadOnlyAdmin):
    """Configuration answers held as suspicious: what each would deactivate (confirm one
    from the collection schedules' action)."""

    list_display = (
        "connection",
        "tenant",
        "held_at",
        "active_agents",
        "active_queues",
        "confirmed_by",
        "confirmed_at",
    )
    list_filter = CONNECTION_FILTERS
    list_select_related = ("connection__tenant", "confirmed_by")
    readonly_fields = ("agents", "queues")
