"""Admin for notification endpoints and their deliveries: owners and managers only.

Scoped like every page (integrations/admin_scope.py): a manager sees the endpoints of the
tenants they own or manage, another tenant's id answers 404, partners see none at all.
URLs and secrets are write-only: the pages show the scheme and host, never the value.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from integrations.admin_scope import TenantScopedAdmin
from integrations.models import Tenant
from notifications.forms import EndpointForm
from notifications.models import Delivery, Endpoint
from notifications.webhooks import SENT, Outcome, send_test

RECENT = 10


def _latest(field: str) -> Subquery:
    newest = Delivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created", "-id")
    return Subquery(newest.values(field)[:1])


@admin.register(Endpoint)
class EndpointAdmin(TenantScopedAdmin):
    form = EndpointForm
    managers_only = True
    list_display = (
        "name",
        "tenant",
        "kind",
        "url_hint",
        "enabled",
        "subscribed",
        "last_delivery",
        "consecutive_failures",
    )
    list_filter = ("kind", "enabled", ("tenant", RelatedOnlyFieldListFilter))
    search_fields = ("name", "tenant__name", "tenant__slug")
    list_select_related = ("tenant",)
    actions = ("send_test_event", "enable", "disable")
    change_form_template = "notifications/admin/endpoint_change_form.html"

    def get_fieldsets(self, request: HttpRequest, obj: Endpoint | None = None) -> Any:
        if obj is not None and not self.has_change_permission(request, obj):
            return [(None, {"fields": ["tenant", "name", "kind", "url_hint", "events", "enabled"]})]
        fields: list[str] = ["tenant", "name", "kind"]
        if obj is not None:
            fields.append("url_hint")
        fields += ["url", "secret", "events", "enabled"]
        sections: list[Any] = [(None, {"fields": fields})]
        if obj is not None:
            sections.append(
                (
                    "Deliveries",
                    {
                        "fields": [
                            "consecutive_failures",
                            "disabled_reason",
                            "disabled_at",
                            "recent_deliveries",
                        ]
                    },
                )
            )
        return sections

    def get_readonly_fields(self, request: HttpRequest, obj: Endpoint | None = None) -> Any:
        fixed = ("url_hint", "consecutive_failures", "disabled_reason", "disabled_at", "recent_deliveries")
        # An endpoint's history belongs to its tenant: it never moves.
        return ("tenant", *fixed) if obj is not None else fixed

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_created=_latest("created"),
                last_sent_at=_latest("sent_at"),
                last_failed=_latest("failed"),
                last_attempts=_latest("attempts"),
                last_claimed=_latest("claimed"),
                last_http=_latest("last_status"),
            )
        )

    @admin.display(description="events")
    def subscribed(self, obj: Endpoint) -> str:
        return ", ".join(obj.events or ()) or "-"

    @admin.display(description="last delivery", ordering="last_created")
    def last_delivery(self, obj: Endpoint) -> str:
        created = getattr(obj, "last_created", None)
        if created is None:
            return "-"
        probe = Delivery(
            sent_at=obj.last_sent_at,
            failed=obj.last_failed,
            attempts=obj.last_attempts,
            claimed=obj.last_claimed,
        )
        code = f", HTTP {obj.last_http}" if obj.last_http else ""
        return f"{created:%Y-%m-%d %H:%M} UTC: {probe.status}{code}"

    @admin.display(description="recent deliveries")
    def recent_deliveries(self, obj: Endpoint) -> str:
        rows = list(obj.deliveries.order_by("-created", "-id")[:RECENT])
        if not rows:
            return "none yet"
        body = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:notifications_delivery_change", args=[d.pk]),
                    f"{d.created:%Y-%m-%d %H:%M:%S}",
                    d.kind,
                    d.status,
                    d.attempts,
                    d.last_status or "",
                    d.last_error,
                )
                for d in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>created (UTC)</th><th>event</th><th>status</th><th>tries</th>"
            "<th>HTTP</th><th>last error</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    # --- send a test event ------------------------------------------------------------
    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/send-test/", view(self.send_test_view), name="notifications_endpoint_send_test"),
            *super().get_urls(),
        ]

    def _report(self, request: HttpRequest, endpoint: Endpoint, outcome: Outcome) -> None:
        level = messages.SUCCESS if outcome.status == SENT else messages.ERROR
        self.message_user(request, f"Test event to {endpoint.key}: {outcome.line()}", level)

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        endpoint = get_object_or_404(self.get_queryset(request).select_related("tenant"), pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        _, outcome = send_test(endpoint)
        self._report(request, endpoint, outcome)
        return HttpResponseRedirect(reverse("admin:notifications_endpoint_change", args=[endpoint.pk]))

    def _writable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
        return queryset.filter(tenant__in=Tenant.objects.managed_by(request.user)).select_related("tenant")

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in self._writable(request, queryset):
            self._report(request, endpoint, send_test(endpoint)[1])

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        n = (
            self._writable(request, queryset)
            .filter(enabled=False)
            .update(enabled=True, consecutive_failures=0, disabled_reason="", disabled_at=None)
        )
        self.message_user(request, f"Enabled {n} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        who = request.user.get_username()
        n = (
            self._writable(request, queryset)
            .filter(enabled=True)
            .update(enabled=False, disabled_reason=f"disabled by {who}"[:300])
        )
        self.message_user(request, f"Disabled {n} endpoint(s).", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(TenantScopedAdmin):
    tenant_path = "endpoint__tenant"
    managers_only = True
    read_only = True
    list_display = ("created", "endpoint", "kind", "status", "attempts", "last_status", "last_error")
    list_filter = ("kind", "failed")
    search_fields = ("endpoint__name", "endpoint__tenant__slug")
    list_select_related = ("endpoint__tenant",)
    readonly_fields = (
        "endpoint",
        "kind",
        "event_id",
        "key",
        "status",
        "created",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_status",
        "last_error",
        "payload",
    )
    fields = readonly_fields

    @admin.display(description="status")
    def status(self, obj: Delivery) -> str:
        return obj.status

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
