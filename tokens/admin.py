"""Token admin for owners and managers only: partners never see a token (seed: 3rd parties
should not view, create or manage access tokens). Every queryset is scoped by tenant."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from integrations.admin_scope import (
    ConnectionColumn,
    ScopedRelatedFilter,
    TenantScopedAdmin,
    TenantScopedInline,
    admin_user,
    connection_link,
    links_html,
)
from integrations.models import Tenant, VendorConnection
from notifications.models import EmailAddress
from tokens.conf import app_settings
from tokens.forms import RenewalForm, ReplaceValueForm
from tokens.models import (
    LOGIN_CONVENTION_HELP,
    TRACKED_SECTION,
    AccessToken,
    TenantReminderSettings,
    TokenAlert,
    TokenDigest,
    TokenRenewal,
    TokenValueChange,
)
from tokens.outbox import FOLDED

URGENCY_COLORS = {"ok": "#2e7d32", "soon": "#ef6c00", "urgent": "#c62828", "expired": "#6a1b9a"}


def days_left_badge(token: AccessToken) -> str:
    left = token.days_left()
    text = f"expired {-left} d ago" if left < 0 else f"{left} d"
    return format_html(
        '<span class="token-{}" style="color:{};font-weight:bold">{}</span>',
        token.urgency(),
        URGENCY_COLORS[token.urgency()],
        text,
    )


def _managed_tenant_ids(request: HttpRequest) -> set[int]:
    # Cached per request: the connection list asks once per row.
    if not hasattr(request, "_switchboard_managed"):
        ids = set(Tenant.objects.managed_by(request.user).values_list("pk", flat=True))
        request._switchboard_managed = ids  # type: ignore[attr-defined]  # a cache on the request
    return request._switchboard_managed  # type: ignore[attr-defined]  # set above


def _tracked_token(conn: VendorConnection) -> AccessToken | None:
    # From the list's prefetch: no query per row.
    return next((t for t in conn.access_tokens.all() if t.section == TRACKED_SECTION), None)


def record_token_url(conn: VendorConnection) -> str:
    return f"{reverse('admin:tokens_accesstoken_add')}?connection={conn.pk}"


def _token_column(request: HttpRequest) -> Any:
    @admin.display(description="token expires")
    def token_expires(conn: VendorConnection) -> str:
        if conn.vendor not in app_settings.TRACKED_VENDORS:
            return format_html('<span title="{}">–</span>', "no expiring token")
        if not request.user.is_superuser and conn.tenant_id not in _managed_tenant_ids(request):
            return "–"  # partners never see tokens
        token = _tracked_token(conn)
        if token is None:
            return format_html('<a href="{}">token expiry unknown: record it</a>', record_token_url(conn))
        url = reverse("admin:tokens_accesstoken_change", args=[token.pk])
        return format_html('<a href="{}">{}</a> {}', url, token.expires.isoformat(), days_left_badge(token))

    return token_expires


TOKEN_COLUMN = ConnectionColumn(prefetch="access_tokens", make=_token_column)


def connection_links(request: HttpRequest, conn: VendorConnection) -> list[tuple[str, str]]:
    """The link from a connection's page to its token (managers and owners only)."""
    if conn.vendor not in app_settings.TRACKED_VENDORS:
        return []
    if not request.user.is_superuser and conn.tenant_id not in _managed_tenant_ids(request):
        return []
    token = AccessToken.objects.filter(connection=conn, section=TRACKED_SECTION).first()
    if token is None:
        return [("Record the access token", record_token_url(conn))]
    return [("Access token", reverse("admin:tokens_accesstoken_change", args=[token.pk]))]


class ReadOnlyInline(TenantScopedInline):
    managers_only = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RenewalInline(ReadOnlyInline):
    model = TokenRenewal
    fk_name = "token"
    fields = ("recorded_at", "recorded_by", "old_expires", "new_expires", "note")
    readonly_fields = fields
    verbose_name_plural = "renewal history"


def alert_status(alert: TokenAlert) -> str:
    # A reminder folded into the owner's digest was told, though not by a mail of its own.
    return "in the digest" if alert.error == FOLDED else alert.status


class AlertInline(ReadOnlyInline):
    model = TokenAlert
    fields = ("day", "stage", "expires", "days_left", "status", "delivered_to", "error")
    readonly_fields = fields
    verbose_name_plural = "reminders written"

    @admin.display(description="status")
    def status(self, obj: TokenAlert) -> str:
        return alert_status(obj)


class ValueChangeInline(ReadOnlyInline):
    model = TokenValueChange
    fields = ("changed_at", "changed_by", "field", "reason")
    readonly_fields = fields
    verbose_name_plural = "token value replacements (audit)"


@admin.register(AccessToken)
class AccessTokenAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "connection__tenant"
    list_display = ("connection", "login", "owner", "expires", "days_left", "next_reminder", "links")
    list_filter = (("connection__tenant", ScopedRelatedFilter), "connection__vendor")
    search_fields = ("service_login", "connection__name", "connection__tenant__name")
    list_select_related = ("connection__tenant__reminder_settings", "owner")
    fields = (
        "connection",
        "section",
        "service_login",
        "owner",
        "issued",
        "expires",
        "plan_table",
        "links",
        "created",
    )
    readonly_fields = ("plan_table", "links", "created")
    inlines = (RenewalInline, AlertInline, ValueChangeInline)
    actions = ("record_renewal",)
    change_form_template = "tokens/admin/accesstoken_change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessToken]:
        # The reminder plan of each row reads the tenant's policy and the stages sent.
        return (
            super()
            .get_queryset(request)
            .select_related("connection__tenant__reminder_settings", "owner")
            .prefetch_related(Prefetch("alerts", TokenAlert.objects.only("token", "stage", "expires")))
        )

    @admin.display(description="see")
    def links(self, obj: AccessToken) -> str:
        if not obj.pk:
            return "–"
        conn = obj.connection
        streams = (
            reverse("admin:collectors_collectionschedule_changelist") + f"?connection__id__exact={conn.pk}"
        )
        runs = reverse("admin:collectors_collectionrun_changelist") + f"?connection__id__exact={conn.pk}"
        return format_html(
            "{} · {}",
            connection_link(conn),
            links_html([("streams", streams), ("runs", runs)]),
        )

    @admin.display(description="service login")
    def login(self, obj: AccessToken) -> str:
        if obj.service_login and not obj.login_follows_convention:
            return format_html('{} <span title="{}">⚠</span>', obj.service_login, LOGIN_CONVENTION_HELP)
        return obj.service_login or "—"

    @admin.display(description="days left", ordering="expires")
    def days_left(self, obj: AccessToken) -> str:
        return days_left_badge(obj)

    @admin.display(description="next reminder")
    def next_reminder(self, obj: AccessToken) -> str:
        plan = obj.plan()
        return f"{plan[0].stage} on {plan[0].day}" if plan else "—"

    @admin.display(description="reminder plan")
    def plan_table(self, obj: AccessToken) -> str:
        if not obj.pk:
            return "Shown once the token is saved."
        plan = obj.plan()
        if not plan:
            return "No reminders left for this expiry."
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((p.day, p.stage, p.days_left) for p in plan)
        )
        return format_html(
            '<table class="token-plan"><thead><tr><th>local date ({})</th><th>stage</th><th>days left</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            obj.tenant.time_zone,
            rows,
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner" and not request.user.is_superuser:
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(memberships__tenant__in=Tenant.objects.managed_by(request.user))
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: AccessToken, form: Any, change: bool) -> None:
        old = (
            AccessToken.objects.filter(pk=obj.pk).values_list("expires", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        if old and old != obj.expires:
            TokenRenewal.objects.create(
                token=obj,
                old_expires=old,
                new_expires=obj.expires,
                recorded_by=admin_user(request),
                note="expiry edited" if obj.expires > old else "expiry corrected (earlier)",
            )
        if obj.service_login and not obj.login_follows_convention:
            messages.warning(
                request,
                f"The service login {obj.service_login!r} does not follow the convention. "
                + LOGIN_CONVENTION_HELP,
            )
        if obj.owner and EmailAddress.objects.filter(user=obj.owner, verified_at__isnull=False).count() == 0:
            messages.warning(
                request,
                f"{obj.owner} has no verified email address: they will get no reminders "
                "until they verify it (Email addresses > Send verification).",
            )

    # --- renewal and replacement views ------------------------------------------------
    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/renew/", view(self.renew_view), name="tokens_accesstoken_renew"),
            path("<int:pk>/replace-value/", view(self.replace_view), name="tokens_accesstoken_replace"),
            *super().get_urls(),
        ]

    def _token_for_write(self, request: HttpRequest, pk: int) -> AccessToken:
        token = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, token):
            raise PermissionDenied
        return token

    def renew_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = self._token_for_write(request, pk)
        form = RenewalForm(request.POST or None, token=token, today=token.today())
        if request.method == "POST" and form.is_valid():
            try:
                token.record_renewal(
                    form.cleaned_data["new_expires"], admin_user(request), form.cleaned_data["note"]
                )
            except ValidationError as exc:
                form.add_error("new_expires", exc)
            else:
                messages.success(
                    request,
                    f"Renewal recorded: {token} now expires {token.expires}. "
                    "A new reminder cycle starts for this date.",
                )
                return HttpResponseRedirect(reverse("admin:tokens_accesstoken_change", args=[token.pk]))
        return TemplateResponse(
            request,
            "tokens/admin/renew.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": token,
                "form": form,
                "title": f"Record renewal: {token}",
                "days_left": token.days_left(),
            },
        )

    def replace_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = self._token_for_write(request, pk)
        form = ReplaceValueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                by = admin_user(request)
                token.replace_value(form.cleaned_data["value"], by, form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.warning(
                    request,
                    f"The token value of {token} was replaced (audited). The expiry "
                    "was not changed: record a renewal if the new token has a new expiry.",
                )
                return HttpResponseRedirect(reverse("admin:tokens_accesstoken_change", args=[token.pk]))
        return TemplateResponse(
            request,
            "tokens/admin/replace.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": token,
                "form": form,
                "title": f"Replace token value: {token}",
            },
        )

    @admin.action(description="Record renewal of the selected token")
    def record_renewal(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> HttpResponse | None:
        if queryset.count() != 1:
            messages.error(request, "Select exactly one token to record its renewal.")
            return None
        return HttpResponseRedirect(reverse("admin:tokens_accesstoken_renew", args=[queryset.get().pk]))


@admin.register(TokenAlert)
class TokenAlertAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "token__connection__tenant"
    list_display: tuple[str, ...] = (
        "token",
        "stage",
        "day",
        "expires",
        "days_left",
        "status",
        "unattended",
        "error",
    )
    list_filter: ClassVar[tuple[str, ...]] = ("stage", "unattended", "failed")
    list_select_related = ("token__connection__tenant",)
    readonly_fields = [f.name for f in TokenAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status")
    def status(self, obj: TokenAlert) -> str:
        return alert_status(obj)


@admin.register(TokenDigest)
class TokenDigestAdmin(TokenAlertAdmin):
    tenant_path = "tenant"
    list_display = ("tenant", "day", "status", "delivered_to", "error")
    list_filter = ("failed",)
    list_select_related = ("tenant",)
    readonly_fields = [f.name for f in TokenDigest._meta.fields]


@admin.register(TenantReminderSettings)
class TenantReminderSettingsAdmin(TenantScopedAdmin):
    managers_only = True
    tenant_path = "tenant"
    list_display = ("tenant", "thresholds", "send_hour")


from tokens import admin_users  # noqa: E402, F401  (registers the user admin with the address rules)
