from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from tokens.models import AccessToken, one_year_after


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


class ReplaceValueForm(forms.Form):
    value = forms.CharField(
        label="New token value", widget=forms.PasswordInput(render_value=False), min_length=8, strip=True
    )
    reason = forms.CharField(
        max_length=300, help_text="Why the token is replaced instead of renewed (kept in the audit log)."
    )
    confirm = forms.BooleanField(
        label="I understand that this replaces the credential and that renewing is the normal way.",
    )
