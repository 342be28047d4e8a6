"""API keys in the admin: owners and managers create them (the key is shown once), and revoke them.

Scoped like every other admin (integrations.admin_scope): a user sees and creates keys of
the tenants they manage only; partners see none.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from api.models import SCOPES, ApiKey
from integrations.admin_scope import TenantScopedAdmin, admin_user


class ApiKeyForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label="Scopes", choices=SCOPES, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ("tenant", "name")

    user: Any = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        tenant, name = data.get("tenant"), (data.get("name") or "").strip()
        if tenant is None:
            return data
        try:
            data["scope_choices"] = ApiKey.check_scopes(tenant, data.get("scope_choices") or [], self.user)
        except ValidationError as exc:
            self.add_error("scope_choices", exc)
        if name and ApiKey.objects.live().filter(tenant=tenant, name=name).exists():
            self.add_error("name", f"{tenant.slug} already has a key named {name!r}.")
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    managers_only = True
    form = ApiKeyForm
    list_display = ("name", "masked", "tenant", "scopes", "created_by", "created", "last_used", "revoked")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "created_by")
    search_fields = ("name", "prefix")
    readonly_fields = ("masked", "scopes", "created_by", "created", "last_used", "revoked")
    actions = ("revoke_keys",)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ("tenant", "name", "scope_choices")
        return ("tenant", "name", *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        # A key is never edited: revoke it and create another.
        return ("tenant", "name", *self.readonly_fields) if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        # A subclass of `self.form`, ApiKeyForm.
        form = cast(type[ApiKeyForm], super().get_form(request, obj, change, **kwargs))
        form.user = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key is never edited (its page is read-only); revocation is the action.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self._may_write(request, None)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        key, plain = ApiKey.create(
            form.cleaned_data["tenant"],
            form.cleaned_data["name"],
            form.cleaned_data["scope_choices"],
            admin_user(request),
        )
        obj.pk, obj.prefix = key.pk, key.prefix
        request._api_key_plain = plain  # type: ignore[attr-defined]  # for response_add, this request only

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None) -> HttpResponse:
        # The key is in this one response only: never in a message (messages live in the session).
        key = ApiKey.objects.select_related("tenant").get(pk=obj.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "key": key,
            "plain": request._api_key_plain,  # type: ignore[attr-defined]  # set by save_model
            "title": "API key created",
        }
        response = TemplateResponse(request, "admin/api/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        done = sum(
            key.revoke() for key in queryset.filter(tenant__in=self.scope_tenants(request, write=True))
        )
        self.message_user(request, f"Revoked {done} key(s).", messages.SUCCESS)
