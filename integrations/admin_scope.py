"""Tenant scoping for every admin page, from memberships instead of Django model permissions.

Superusers see everything. Everybody else sees only rows of their own tenants: in
changelists, on change pages reached by guessing an id (the row is outside the queryset,
so the admin answers 404), in admin actions (they run on the scoped queryset), in
autocomplete (it uses `get_queryset` of the target admin) and in foreign-key choices.
Partners may only view, and never a model marked `managers_only` (tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist
from django.db.models import DateTimeField, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from integrations.local_times import NamedZone, local_time_html
from integrations.models import Membership, Tenant, VendorConnection

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _roles(request: HttpRequest) -> set[str]:
    # Cached per request: the admin asks for permissions many times per page.
    if not hasattr(request, "_switchboard_roles"):
        user = request.user
        request._switchboard_roles = (  # type: ignore[attr-defined]  # a cache on the request
            set(Membership.objects.filter(user=user).values_list("role", flat=True))
            if user.is_authenticated and user.is_active
            else set()
        )
    return request._switchboard_roles  # type: ignore[attr-defined]  # set above


def admin_user(request: HttpRequest) -> User:
    """The user of an admin request: the admin serves only logged-in staff, never anonymous."""
    return cast("User", request.user)


def is_account_manager(user: Any) -> bool:
    """Switchboard's own staff, who run integrations for many tenants: superusers.

    Not `is_staff`: every tenant manager and partner has it too (it only opens the admin),
    so it says nothing about who may set what a customer must not (a drop folder path).
    """
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def can_manage(request: HttpRequest) -> bool:
    """May this user change connections and see tokens in at least one tenant?"""
    user = request.user
    return bool(user.is_active and (user.is_superuser or _roles(request) & set(Membership.MANAGING_ROLES)))


class ScopedRelatedFilter(RelatedOnlyFieldListFilter):
    """Lists only related rows the user can see, with one query however many there are.

    Django's default related filter lists every row of the related model (every tenant's
    name); `RelatedOnlyFieldListFilter` builds each label with `str()` row by row, and a
    connection's label names its tenant: a query per connection. This one joins the tenant.
    """

    def field_choices(  # type: ignore[override]  # the stubs say str: the values are primary keys
        self, field: Any, request: HttpRequest, model_admin: Any
    ) -> list[tuple[Any, str]]:
        pk_qs = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        qs = field.related_model._default_manager.filter(pk__in=pk_qs)
        if field.related_model is VendorConnection:
            qs = qs.select_related("tenant")
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class TenantScopedAdmin(admin.ModelAdmin):
    # Path from the model to its Tenant, as a queryset lookup ("tenant",
    # "connection__tenant", "queue__connection__tenant").
    tenant_path: str = "tenant"
    # True for models partners must never see at all (access tokens and their alerts).
    managers_only: bool = False
    # Read-only for everyone but superusers (collected data, run records).
    read_only: bool = False

    # --- scoping ---------------------------------------------------------------------
    def scope_tenants(self, request: HttpRequest, write: bool = False) -> QuerySet[Tenant]:
        if write or self.managers_only:
            return Tenant.objects.managed_by(request.user)
        return Tenant.objects.visible_to(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.tenant_path}__in": self.scope_tenants(request)})

    def tenant_of(self, obj: Model) -> Tenant | None:
        target: Any = obj
        for part in self.tenant_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target

    def _in_scope(self, request: HttpRequest, obj: Model | None, write: bool) -> bool:
        if obj is None:
            return True
        tenant = self.tenant_of(obj)
        if tenant is not None:
            return self.scope_tenants(request, write).filter(pk=tenant.pk).exists()
        # A path across a many-valued relation ("user__memberships__tenant") has no single
        # tenant to walk to: ask the database whether the row lies in any tenant in scope.
        return (
            obj.pk is not None
            and self.model._default_manager.filter(
                pk=obj.pk, **{f"{self.tenant_path}__in": self.scope_tenants(request, write)}
            ).exists()
        )

    # --- times in the tenant's zone ---------------------------------------------------------
    def zone_of(self, obj: Model | None) -> str:
        """The zone a row's times are shown in: its tenant's (UTC for a row of no one tenant)."""
        tenant = self.tenant_of(obj) if obj is not None else None
        return tenant.time_zone if tenant is not None else "UTC"

    def get_list_display(self, request: HttpRequest) -> Any:
        # A list may hold rows of several tenants (superusers): each time in its own row's zone.
        return [self._local_time_column(name) for name in super().get_list_display(request)]

    def _local_time_column(self, name: Any) -> Any:
        if not isinstance(name, str):
            return name
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        if not isinstance(field, DateTimeField):
            return name
        columns = self.__dict__.setdefault("_time_columns", {})
        if name not in columns:
            columns[name] = _time_column(self, name, str(field.verbose_name))
        return columns[name]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        return self._in_zone(
            self.zone_of(obj), super().changeform_view, request, object_id, form_url, extra_context
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        return self._in_zone(self.zone_of(obj), super().history_view, request, object_id, extra_context)

    @staticmethod
    def _in_zone(zone: str, view: Callable[..., HttpResponse], *args: Any) -> HttpResponse:
        """Run and render a page of one tenant in its zone, named on every time Django shows."""
        with timezone.override(NamedZone(zone)):
            response = view(*args)
            # A TemplateResponse renders after the view returns, outside this block: render now.
            render = getattr(response, "render", None)
            if render is not None:
                render()
            return response

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Django redirects with "doesn't exist" by default; answer a plain 404 so an id of
        # another tenant's row looks exactly like an id that does not exist.
        raise Http404(f"No {opts.verbose_name} with id {object_id!r}")

    # --- permissions -------------------------------------------------------------------
    def _member(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        roles = _roles(request)
        if self.managers_only:
            return bool(roles & set(Membership.MANAGING_ROLES))
        return bool(roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._member(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._member(request) and (request.user.is_superuser or self._in_scope(request, obj, False))

    def _may_write(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if self.read_only or not self._member(request) or not can_manage(request):
            return False
        return self._in_scope(request, obj, True)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_write(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_write(request, obj)

    # --- choices -----------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            if db_field.related_model is Tenant:
                kwargs["queryset"] = Tenant.objects.managed_by(request.user)
            elif db_field.related_model is VendorConnection:
                kwargs["queryset"] = VendorConnection.objects.managed_by(request.user).select_related(
                    "tenant"
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def connection_link(conn: VendorConnection) -> str:
    """A connection, linked to its admin page."""
    url = reverse("admin:integrations_vendorconnection_change", args=[conn.pk])
    return format_html('<a href="{}">{}</a>', url, conn.key)


def links_html(links: list[tuple[str, str]]) -> str:
    """Labelled links in a row: "Health · Runs · Access token"."""
    return format_html_join(" · ", '<a href="{}">{}</a>', ((url, label) for label, url in links))


@dataclass(frozen=True)
class ConnectionColumn:
    """A column another app adds to the connection list (integrations.admin.CONNECTION_COLUMNS).

    `prefetch` names what the list prefetches for it (one query per page, not one per row);
    `make(request)` returns the column for that request's user (a partner's rows hide tokens).
    """

    prefetch: str
    make: Callable[[HttpRequest], Callable[[VendorConnection], str]]


def _time_column(model_admin: TenantScopedAdmin, name: str, label: str) -> Callable[[Model], str | None]:
    def column(obj: Model) -> str | None:
        return local_time_html(getattr(obj, name), model_admin.zone_of(obj))

    column.__name__ = name  # the column's CSS class, column-<name>
    return admin.display(description=label, ordering=name)(column)


class TenantScopedInline(admin.TabularInline):
    """Inlines follow their parent's scope; partners see them read-only."""

    managers_only: bool = False
    extra = 0

    def _allowed(self, request: HttpRequest) -> bool:
        if request.user.is_superuser:
            return True
        if self.managers_only:
            return can_manage(request)
        return bool(_roles(request))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or can_manage(request)

    has_change_permission = has_add_permission
    has_delete_permission = has_add_permission
