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
from django.utils import timezone
from django.utils.functional import cached_property

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
from integrations.admin_scope import ScopedRelatedFilter, TenantScopedAdmin, admin_user, can_manage
from integrations.models import Tenant, VendorConnection
from integrations.vendors.base import STREAM_CONFIG

CONNECTION_FILTERS = (
    ("connection__tenant", ScopedRelatedFilter),
    ("connection", ScopedRelatedFilter),
)
# A changelist counts at most this many rows ("more than 10000"); beyond it, filter.
COUNT_CAP = 10_000


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
    )
    list_filter = ("stream", "enabled", "status", *CONNECTION_FILTERS)
    search_fields = ("connection__name", "connection__tenant__name", "status_reason")
    list_select_related = ("connection__tenant",)
    date_hierarchy = "next_run_at"
    actions = ("confirm_config_hold",)

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
