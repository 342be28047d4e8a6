"""Admin for tenants, memberships and vendor connections, scoped to the user's tenants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import urlencode
from django.utils.module_loading import import_string

from integrations.admin_deletes import GuardedDeleteMixin, MembershipInlineFormSet
from integrations.admin_scope import (
    ConnectionColumn,
    TenantScopedAdmin,
    TenantScopedInline,
    admin_user,
    can_manage,
    is_account_manager,
)
from integrations.connection_check import check_connection
from integrations.forms import (
    SECTION_TITLES,
    TenantForm,
    VendorChoiceForm,
    connection_form,
    section_fieldsets,
)
from integrations.models import Membership, Tenant, VendorConnection
from integrations.vendors import get_vendor, is_known, vendor_choices, vendor_keys
from integrations.vendors.base import HISTORY, REALTIME, STREAM_FILE_DROP

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _TenantCounts(TypedDict):
    """What TenantAdmin.get_queryset annotates each tenant with."""

    n_connections: int
    n_members: int


def _scoped_users(request: HttpRequest) -> QuerySet[Any]:
    """Users a non-superuser may pick: members of the tenants they manage (no directory leak)."""
    users = get_user_model().objects.order_by("username")
    if request.user.is_superuser:
        return users
    return users.filter(memberships__tenant__in=Tenant.objects.managed_by(request.user)).distinct()


# Other apps' rules on who may be a member (an address once per tenant; a person, not a
# role address, as account owner): dotted paths, so this app imports none of the apps above it.
MEMBERSHIP_RULES = ("tokens.addresses.membership_form_problems",)


class MembershipForm(forms.ModelForm):
    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        user, role = cleaned.get("user"), cleaned.get("role")
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        if user and role and tenant:
            problems = [p for rule in MEMBERSHIP_RULES for p in import_string(rule)(user, tenant, role)]
            if problems:
                raise ValidationError(problems)
        return cleaned


class MembershipInline(TenantScopedInline):
    model = Membership
    form = MembershipForm
    formset = MembershipInlineFormSet
    fields = ("user", "role", "created")
    readonly_fields = ("created",)
    autocomplete_fields = ()

    def _manages(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if not can_manage(request):
            return False
        # The parent tenant: a manager of A who is only a partner of B edits nothing on B.
        return obj is None or Tenant.objects.managed_by(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._manages(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._manages(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._manages(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = _scoped_users(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Tenant)
class TenantAdmin(GuardedDeleteMixin, TenantScopedAdmin):
    form = TenantForm
    tenant_path = "pk"
    list_display = ("name", "slug", "time_zone", "active", "connection_count", "member_count", "created")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created",)
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_connections=Count("connections", distinct=True),
                n_members=Count("memberships", distinct=True),
            )
            # GROUP BY drops Meta.ordering; autocomplete pages need a stable order.
            .order_by("name", "pk")
        )

    def tenant_of(self, obj: Model) -> Tenant | None:
        return obj if isinstance(obj, Tenant) else None

    @admin.display(description="connections", ordering="n_connections")
    def connection_count(self, obj: WithAnnotations[Tenant, _TenantCounts]) -> int:
        return obj.n_connections

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: WithAnnotations[Tenant, _TenantCounts]) -> int:
        return obj.n_members

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or (self._member(request) and can_manage(request))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deleting a tenant deletes all of its data: superusers only.
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            # Otherwise the manager would lose sight of the tenant they just created.
            Membership.objects.get_or_create(
                user=admin_user(request), tenant=obj, defaults={"role": Membership.MANAGER}
            )


@admin.register(Membership)
class MembershipAdmin(GuardedDeleteMixin, TenantScopedAdmin):
    form = MembershipForm
    list_display = ("user", "user_email", "tenant", "role", "created")
    list_filter = ("role", ("tenant", RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name", "tenant__name")
    list_select_related = ("user", "tenant")
    autocomplete_fields = ("tenant",)
    readonly_fields = ("created",)

    @admin.display(description="email", ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = _scoped_users(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# What the apps above this one add to the connection pages: its health (collectors) and its
# token (tokens) as list columns (ConnectionColumn), and links from its page to its streams,
# runs and token (functions of the request and the connection returning (label, url) pairs).
# Dotted paths, imported when a page is built, so this app imports none of those apps.
CONNECTION_COLUMNS = ("collectors.admin.HEALTH_COLUMN", "tokens.admin.TOKEN_COLUMN")
CONNECTION_LINKS = ("collectors.admin.connection_links", "tokens.admin.connection_links")


def _connection_columns() -> list[ConnectionColumn]:
    return [import_string(path) for path in CONNECTION_COLUMNS]


class VendorFilter(admin.SimpleListFilter):
    """The registered vendors (the column has no choices), never values read from other tenants' rows."""

    title = "vendor"
    parameter_name = "vendor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return vendor_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(vendor=self.value()) if self.value() else queryset


@admin.register(VendorConnection)
class VendorConnectionAdmin(GuardedDeleteMixin, TenantScopedAdmin):
    # The apps above add health and token expiry after the vendor (get_list_display).
    list_display = ("name", "tenant", "vendor_shown", "enabled", "poll_interval", "updated")
    list_filter = (VendorFilter, "enabled", ("tenant", RelatedOnlyFieldListFilter))
    search_fields = ("name", "tenant__name", "tenant__slug")
    list_select_related = ("tenant",)
    autocomplete_fields = ("tenant",)
    actions = ("test_connection", "enable", "disable")
    choose_vendor_template = "admin/integrations/vendorconnection/choose_vendor.html"

    # --- the list: health and token expiry; the page: links to streams, runs, token ----
    def get_queryset(self, request: HttpRequest) -> QuerySet[VendorConnection]:
        return super().get_queryset(request).prefetch_related(*(c.prefetch for c in _connection_columns()))

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = list(super().get_list_display(request))
        at = shown.index("vendor_shown") + 1
        return [*shown[:at], *(c.make(request) for c in _connection_columns()), *shown[at:]]

    @admin.display(description="polls every", ordering="interval_seconds")
    def poll_interval(self, obj: VendorConnection) -> str:
        seconds = obj.interval_seconds
        return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"

    def related_links(self, request: HttpRequest, conn: VendorConnection) -> list[tuple[str, str]]:
        return [link for path in CONNECTION_LINKS for link in import_string(path)(request, conn)]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        conn = self.get_object(request, object_id)
        links = self.related_links(request, conn) if conn is not None else []
        extra = {**(extra_context or {}), "connection_links": links}
        return super().change_view(request, object_id, form_url, extra)

    # --- which form ---------------------------------------------------------------------
    def _vendor_of(self, request: HttpRequest, obj: VendorConnection | None) -> str:
        if obj is not None:
            return obj.vendor
        return request.GET.get("vendor", "")

    def _editable(self, request: HttpRequest, obj: VendorConnection | None) -> bool:
        return self.has_add_permission(request) if obj is None else self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: VendorConnection | None = None) -> Any:
        vendor = self._vendor_of(request, obj)
        if is_known(vendor) and self._editable(request, obj):
            fieldsets = section_fieldsets(vendor, self._form_class(request, vendor))
            if STREAM_FILE_DROP in get_vendor(vendor).streams:
                fieldsets[2][1]["fields"].insert(1, "drop_folder_shown")
            return fieldsets
        # View only (partners): no credential field at all, not even masked.
        return [
            (None, {"fields": ["tenant", "name", "vendor_shown", "enabled"]}),
            (SECTION_TITLES[REALTIME], {"fields": ["realtime_base_url", "interval_seconds", "time_zone"]}),
            (SECTION_TITLES[HISTORY], {"fields": ["history_base_url"]}),
            ("Advanced", {"fields": ["options", "state_map", "created", "updated"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: VendorConnection | None = None) -> Any:
        shown = ("drop_folder_shown", "vendor_shown")
        if obj is not None:
            # A connection's collected data belongs to its tenant: it never moves.
            return ("tenant", *shown)
        return shown

    @admin.display(description="Drop folder")
    def drop_folder_shown(self, obj: VendorConnection | None) -> str:
        if obj is None or obj.pk is None:
            return "DROP_ROOT/<tenant-slug>/<connection-name>/ (from the tenant and the name)"
        return obj.drop_folder_label()

    @admin.display(description="Vendor", ordering="vendor")
    def vendor_shown(self, obj: VendorConnection) -> str:
        return obj.get_vendor_display()

    def _form_class(self, request: HttpRequest, vendor: str) -> Any:
        return connection_form(vendor, staff=is_account_manager(request.user))

    def get_form(
        self, request: HttpRequest, obj: VendorConnection | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        vendor = self._vendor_of(request, obj)
        if is_known(vendor) and self._editable(request, obj):
            kwargs["form"] = self._form_class(request, vendor)
        else:
            # View only: a bare form; every field is shown read-only from the model.
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if is_known(request.GET.get("vendor", "")):
            extra = {**(extra_context or {}), "subtitle": get_vendor(request.GET["vendor"]).label}
            return super().add_view(request, form_url, extra)
        return self.choose_vendor_view(request)

    def choose_vendor_view(self, request: HttpRequest) -> HttpResponse:
        """Step one of adding: pick the platform, so step two shows exactly its fields."""
        form = VendorChoiceForm(request.GET) if "vendor" in request.GET else VendorChoiceForm()
        form.is_valid()
        keep = {k: v for k, v in request.GET.dict().items() if k != "vendor"}
        choices = [
            {"key": key, "label": get_vendor(key).label, "query": urlencode({**keep, "vendor": key})}
            for key in vendor_keys()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add vendor connection: choose the platform",
            "form": form,
            "choices": choices,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, self.choose_vendor_template, context, status=200)

    # --- actions ------------------------------------------------------------------------
    @admin.action(description="Test connection (credentials and reachability)", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[VendorConnection]) -> None:
        for conn in self._writable(request, queryset).select_related("tenant"):
            result = check_connection(conn)
            if result.ok:
                checked = "; ".join(result.checked) or "the vendor answered"
                self.message_user(request, f"{conn.key}: OK ({checked})", messages.SUCCESS)
            else:
                self.message_user(
                    request, f"{conn.key}: failed, {result.error_class}: {result.error}", messages.ERROR
                )

    def _writable(self, request: HttpRequest, queryset: QuerySet[VendorConnection]) -> Any:
        # The changelist shows tenants the user only partners in, too; actions that
        # change something act on managed tenants only.
        return queryset.filter(tenant__in=Tenant.objects.managed_by(request.user))

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[VendorConnection], on: bool) -> None:
        n = 0
        for conn in self._writable(request, queryset):
            if conn.enabled != on:
                conn.enabled = on
                # save(), not update(): schedules follow the connection through its signals.
                conn.save(update_fields=["enabled", "updated"])
                n += 1
        verb = "Enabled" if on else "Disabled"
        self.message_user(request, f"{verb} {n} connection(s).", messages.SUCCESS)

    @admin.action(description="Enable collection", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[VendorConnection]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable collection", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[VendorConnection]) -> None:
        self._set_enabled(request, queryset, False)
