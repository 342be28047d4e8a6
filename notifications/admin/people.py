"""Admin for people who may be told: users' addresses (with their verification) and
subscription lists with their members. Owners and managers only, scoped by tenant."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from integrations.admin_scope import ScopedRelatedFilter, TenantScopedAdmin, TenantScopedInline
from integrations.models import Tenant
from notifications import verification
from notifications.models import EmailAddress, Subscriber, SubscriptionList


def _address_warnings(obj: EmailAddress, request: HttpRequest) -> list[str]:
    out = []
    if obj.is_role_address:
        out.append("generic role address: use a person's own address, so someone is accountable")
    # Only clashes in tenants the viewer manages: others' users and tenants stay unnamed.
    scope = None if request.user.is_superuser else Tenant.objects.managed_by(request.user)
    for other, tenant in obj.clashes(within=scope):
        out.append(f"also used by {other} in {tenant}: within a tenant an address belongs to one user")
    return out


@admin.register(EmailAddress)
class EmailAddressAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "user__memberships__tenant"
    # Plus a last "warnings" column, bound to the viewer: see `_warnings_for`.
    list_display = ("email", "user", "state", "verified_at", "verification_sent_at")
    search_fields = ("email", "user__username")
    readonly_fields = ("user", "email", "verified_at", "verification_sent_at")
    actions = ("send_verification",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmailAddress]:
        return super().get_queryset(request).select_related("user").distinct()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rows follow the users' addresses

    @admin.display(description="state")
    def state(self, obj: EmailAddress) -> str:
        return obj.state

    def _warnings_for(self, request: HttpRequest) -> Any:
        """The warnings column, bound to the viewer (a display method gets no request).

        One per request: the change form matches its readonly fields by identity.
        """
        if not hasattr(request, "_address_warnings"):

            @admin.display(description="warnings")
            def warnings(obj: EmailAddress) -> str:
                return format_html_join(
                    "",
                    '<div style="color:#ef6c00">⚠ {}</div>',
                    ((w,) for w in _address_warnings(obj, request)),
                )

            request._address_warnings = warnings
        return request._address_warnings

    def get_list_display(self, request: HttpRequest) -> Any:
        return [*super().get_list_display(request), self._warnings_for(request)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), self._warnings_for(request)]

    @admin.action(description="Send (or resend) the verification link")
    def send_verification(self, request: HttpRequest, queryset: QuerySet[EmailAddress]) -> None:
        for address in queryset:
            if not address.is_current:
                messages.error(request, f"{address.email} is no longer {address.user}'s address; not sent.")
                continue
            if address.verified_at:
                messages.info(request, f"{address.email} is already verified.")
                continue
            report = verification.send_verification(address)
            if report.sent:
                messages.success(request, f"Verification link sent to {address.email}.")
            else:
                why = "; ".join({**report.permanent, **report.transient}.values())
                messages.error(request, f"Could not send to {address.email}: {why}")
            for warning in _address_warnings(address, request):
                messages.warning(request, f"{address.email}: {warning}")


class SubscriberInline(TenantScopedInline):
    model = Subscriber
    managers_only = True
    fields = ("email", "state", "confirmed_at", "unsubscribed_at")
    readonly_fields = ("state", "confirmed_at", "unsubscribed_at")

    @admin.display(description="state")
    def state(self, obj: Subscriber) -> str:
        return obj.state if obj.pk else "new"


def _send_confirmations(request: HttpRequest, subs: list[Subscriber]) -> None:
    for sub in subs:
        if sub.active:
            continue
        report = verification.send_confirmation(sub)
        if report.sent:
            messages.success(
                request, f"Confirmation link sent to {sub.email}; it receives mail once confirmed."
            )
        else:
            why = "; ".join({**report.permanent, **report.transient}.values())
            messages.error(request, f"Could not send the confirmation to {sub.email}: {why}")


@admin.register(SubscriptionList)
class SubscriptionListAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "tenant"
    list_display = ("name", "tenant", "members")
    list_select_related = ("tenant",)
    inlines = (SubscriberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SubscriptionList]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_confirmed=Count(
                    "subscribers",
                    filter=Q(subscribers__confirmed_at__isnull=False, subscribers__unsubscribed_at=None),
                )
            )
        )

    @admin.display(description="confirmed members", ordering="n_confirmed")
    def members(self, obj: SubscriptionList) -> int:
        return obj.n_confirmed

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save()
        if formset.model is Subscriber:
            _send_confirmations(request, [s for s in instances if s.confirmation_sent_at is None])


@admin.register(Subscriber)
class SubscriberAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "list__tenant"
    list_display = ("email", "list", "state", "confirmed_at", "unsubscribed_at")
    list_filter = (("list__tenant", ScopedRelatedFilter),)
    readonly_fields = ("confirmed_at", "confirmation_sent_at", "unsubscribed_at")
    actions = ("resend_confirmation",)

    @admin.display(description="state")
    def state(self, obj: Subscriber) -> str:
        return obj.state

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "list" and not request.user.is_superuser:
            kwargs["queryset"] = SubscriptionList.objects.filter(
                tenant__in=Tenant.objects.managed_by(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Subscriber, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            _send_confirmations(request, [obj])

    @admin.action(description="Send (or resend) the confirmation link")
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        _send_confirmations(request, list(queryset.select_related("list__tenant")))
