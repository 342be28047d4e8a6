"""The endpoint form: URL and secret are write-only (blank keeps the stored value)."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations import validators
from integrations.egress import EgressError, UnresolvedHost, check_url
from notifications.models import EVENT_KEYS, EVENTS, Endpoint

MIN_SECRET = 24
SECRET_HELP = (
    "Signs every request (header X-Switchboard-Signature); your receiver checks it with the same "
    f"secret. At least {MIN_SECRET} characters, e.g. the output of "
    "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'. Stored encrypted and never shown "
    "again: leave blank to keep the current one."
)


class EndpointForm(forms.ModelForm):
    url = forms.CharField(
        label="URL",
        required=False,
        max_length=2000,
        strip=True,
        # A chat webhook URL is the credential: never echoed back into the page.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
        help_text="The endpoint's https:// URL (for Slack and Teams, the webhook URL they gave you). "
        "Stored encrypted; leave blank to keep the current one.",
    )
    secret = forms.CharField(
        label="Signing secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=SECRET_HELP + " Webhooks only.",
    )
    events = forms.MultipleChoiceField(
        choices=EVENTS,
        required=True,
        widget=forms.CheckboxSelectMultiple,
        help_text="What this endpoint hears of. (A test event can always be sent from this page.)",
    )

    class Meta:
        model = Endpoint
        fields = ("tenant", "name", "kind", "url", "secret", "events", "enabled")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("events", list(EVENT_KEYS))

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if not url:
            if not self.instance.url:
                raise forms.ValidationError("Enter the endpoint's URL.")
            return ""
        validators.http_url(url)
        try:
            check_url(url)
        except UnresolvedHost:
            pass  # set up before its DNS exists: every request checks it again
        except EgressError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        secret = data.get("secret", "")
        if data.get("kind") == Endpoint.WEBHOOK:
            if secret and len(secret) < MIN_SECRET:
                self.add_error("secret", f"Use at least {MIN_SECRET} characters.")
            elif not secret and not self.instance.secret:
                self.add_error("secret", "A webhook needs a signing secret. " + SECRET_HELP)
        return data

    def save(self, commit: bool = True) -> Endpoint:
        endpoint = super().save(commit=False)
        if self.cleaned_data.get("url"):
            endpoint.set_url(self.cleaned_data["url"])
        if self.cleaned_data.get("secret"):
            endpoint.set_secret(self.cleaned_data["secret"])
        endpoint.events = [e for e in EVENT_KEYS if e in self.cleaned_data.get("events", [])]
        if "enabled" in self.changed_data and endpoint.enabled:
            # Switched back on by a person: a fresh start, not one failure from disabled.
            endpoint.consecutive_failures, endpoint.disabled_reason, endpoint.disabled_at = 0, "", None
        if commit:
            endpoint.save()
        return endpoint
