from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from integrations.forms import AsksAgainForTypedSecrets
from tokens.conf import app_settings
from tokens.models import (
    LOGIN_CONVENTION_HELP,
    TRACKED_SECTION,
    AccessToken,
    TokenValueChange,
    one_year_after,
    record_token,
)


class RenewalForm(forms.Form):
    new_expires = forms.DateField(
        label="New expiry date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date TCN shows for the renewed token (usually one year from today).",
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, token: AccessToken, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token = token
        self.fields["new_expires"].initial = one_year_after(today)

    def clean_new_expires(self) -> date:
        value = self.cleaned_data["new_expires"]
        if value <= self.token.expires:
            raise forms.ValidationError(
                f"The new expiry {value} must be later than the current expiry {self.token.expires}."
            )
        return value


class ReplaceValueForm(AsksAgainForTypedSecrets, forms.Form):
    value = forms.CharField(
        label="New token value", widget=forms.PasswordInput(render_value=False), min_length=8, strip=True
    )
    reason = forms.CharField(
        max_length=300, help_text="Why the token is replaced instead of renewed (kept in the audit log)."
    )
    confirm = forms.BooleanField(
        label="I understand that this replaces the credential and that renewing is the normal way.",
    )


TOKEN_FIELDS = ("token_service_login", "token_issued", "token_expires")


class ConnectionTokenFields(forms.Form):
    """The token fields of a connection form for a vendor whose token expires (TCN).

    Mixed into the vendor's connection form by `tokens_form_mixin`. Saving the connection
    writes its one current token record (`record_token`); typing a new token value asks
    for the new token's issue date, and is audited as a value change.
    """

    token_fieldset = (
        "Access token",
        {
            "fields": list(TOKEN_FIELDS),
            "description": "The expiry drives the reminders, the dashboard widget and the health page.",
        },
    )
    token_service_login = forms.CharField(
        label="Service login",
        max_length=200,
        required=False,
        help_text="The TCN login the token was created on. " + LOGIN_CONVENTION_HELP,
    )
    token_issued = forms.DateField(
        label="Token issued on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the access token was created in TCN. Blank: the expiry is unknown, "
        "and the account owners are asked to record it.",
    )
    token_expires = forms.DateField(
        label="Token expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: one year after the issue date (TCN access tokens live one year).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.current_token = None
        if instance is not None and instance.pk is not None:
            self.current_token = AccessToken.objects.filter(
                connection=instance, section=TRACKED_SECTION
            ).first()
        if self.current_token is not None:
            self.initial.setdefault("token_service_login", self.current_token.service_login)
            self.initial.setdefault("token_issued", self.current_token.issued)
            self.initial.setdefault("token_expires", self.current_token.expires)

    def _value_replaced(self) -> bool:
        """A new token value was typed over a stored one."""
        typed = self.cleaned_data.get(f"{TRACKED_SECTION}_access_token")
        return bool(self.current_token is not None and typed)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        issued = data.get("token_issued")
        expires = data.get("token_expires")
        if issued is None:
            if expires is not None or data.get("token_service_login"):
                self.add_error("token_issued", "Give the date the token was issued.")
            elif self.current_token is not None:
                self.add_error("token_issued", "The token's issue date cannot be removed.")
            return data
        if expires is None:
            expires = data["token_expires"] = one_year_after(issued)
        if expires <= issued:
            self.add_error("token_expires", f"The expiry {expires} must be after the issue date {issued}.")
        if self._value_replaced() and self.current_token is not None and issued == self.current_token.issued:
            self.add_error(
                "token_issued",
                "A new token value was typed: give the date the new token was issued (and its expiry).",
            )
        return data

    def _save_m2m(self) -> None:
        super()._save_m2m()  # type: ignore[misc]
        data = self.cleaned_data
        if data.get("token_issued") is None:
            return
        replaced = self._value_replaced()
        token = record_token(
            self.instance,  # type: ignore[attr-defined]
            issued=data["token_issued"],
            expires=data["token_expires"],
            service_login=data.get("token_service_login") or "",
        )
        if replaced:
            TokenValueChange.objects.create(
                token=token, field="access_token", reason="Replaced in the connection form"
            )


def tokens_form_mixin(vendor_key: str) -> type[forms.Form] | None:
    """The token fields' mixin of a vendor's connection form, or None (no expiring token)."""
    return ConnectionTokenFields if vendor_key in app_settings.TRACKED_VENDORS else None
