"""Admin forms: tenants, and vendor connections whose fields come from the vendor registry.

A connection form is built per vendor (`connection_form(vendor_key)`): two sections,
"Real-time adherence" and "Historical contact volume", each with its base URL and exactly
the fields that vendor declares. Secrets are password inputs that are never rendered back:
the form shows "stored ••••abcd" and a blank input keeps the stored value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.utils.html import format_html

from integrations.models import Tenant, VendorConnection
from integrations.scrub import mask
from integrations.vendors import get_vendor, is_known, vendor_choices, vendor_keys
from integrations.vendors.base import HISTORY, REALTIME, SECTIONS, Field

SECTION_TITLES = {REALTIME: "Real-time adherence", HISTORY: "Historical contact volume"}


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ("name", "slug", "time_zone", "active", "data_retention_days")


class VendorChoiceForm(forms.Form):
    """Step one of adding a connection: which platform it is for."""

    vendor = forms.CharField(label="Vendor")

    def clean_vendor(self) -> str:
        vendor = self.cleaned_data["vendor"]
        if not is_known(vendor):
            known = ", ".join(vendor_keys())
            raise forms.ValidationError(f"unknown vendor {vendor!r} (use one of {known})")
        return vendor


def form_field_name(section: str, name: str) -> str:
    # The same key the model's clean() uses for its errors, so they land on the field.
    return f"{section}_{name}"


class VendorConnectionForm(forms.ModelForm):
    """Base form; `connection_form(vendor)` adds that vendor's credential fields."""

    vendor_key: str = ""

    # A callable: the registry is read when a form is built, not when this module is imported.
    vendor = forms.ChoiceField(choices=vendor_choices, disabled=True)
    options = forms.JSONField(
        required=False, initial=dict, help_text=VendorConnection.options.field.help_text
    )
    state_map = forms.JSONField(
        required=False, initial=dict, help_text=VendorConnection.state_map.field.help_text
    )

    class Meta:
        model = VendorConnection
        fields = (
            "tenant",
            "name",
            "vendor",
            "enabled",
            "realtime_base_url",
            "interval_seconds",
            "time_zone",
            "history_base_url",
            "options",
            "state_map",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vendor = get_vendor(self.vendor_key)
        if self.instance.pk is None:
            self.instance.vendor = self.vendor_key
            self.fields["vendor"].initial = self.vendor_key
            # New connections start from the vendor's documented defaults.
            for name, value in (
                ("interval_seconds", vendor.default_interval_seconds),
                ("time_zone", vendor.default_time_zone),
                ("realtime_base_url", vendor.default_base_url),
            ):
                if name in self.fields and not self.initial.get(name):
                    self.initial[name] = value
        for section in SECTIONS:
            stored = self.instance.realtime_secrets if section == REALTIME else self.instance.history_secrets
            plain = self.instance.realtime_values if section == REALTIME else self.instance.history_values
            for field in vendor.fields(section):
                name = form_field_name(section, field.name)
                if name not in self.fields:
                    continue
                if field.secret:
                    self._describe_secret(name, field, stored.get(field.name, ""))
                elif self.instance.pk is not None:
                    self.initial.setdefault(name, plain.get(field.name, ""))

    def _describe_secret(self, name: str, field: Field, value: str) -> None:
        form_field = self.fields[name]
        base = field.help_text
        if value:
            state = format_html("Stored <code>{}</code>. Leave blank to keep it.", mask(value))
        else:
            state = "Nothing stored yet."
        form_field.help_text = format_html("{} {}", base, state) if base else state

    # --- validation ------------------------------------------------------------------
    def clean_vendor(self) -> str:
        # Disabled: the value is the form's vendor whatever was posted.
        return self.instance.vendor if self.instance.pk else self.vendor_key

    def clean_options(self) -> dict[str, Any]:
        value = self.cleaned_data.get("options") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Options must be a JSON object, e.g. {"key": "value"}.')
        return value

    def clean_state_map(self) -> dict[str, Any]:
        value = self.cleaned_data.get("state_map") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('The state map must be a JSON object, e.g. {"Lunch": "break"}.')
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        tenant = data.get("tenant") or (self.instance.tenant if self.instance.tenant_id else None)
        name = data.get("name")
        if tenant is not None and name:
            clash = VendorConnection.objects.filter(tenant=tenant, name=name).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("name", f"{tenant} already has a connection named {name!r}.")
        # Hand the credential values to the model before its clean() checks them.
        vendor = get_vendor(self.vendor_key)
        for section in SECTIONS:
            stored = self.instance.realtime_values if section == REALTIME else self.instance.history_values
            values = {
                # A field this form does not offer (staff only) keeps its stored value.
                field.name: data.get(name, "") if name in self.fields else (stored or {}).get(field.name, "")
                for field in vendor.fields(section)
                for name in (form_field_name(section, field.name),)
            }
            self.instance.vendor = self.vendor_key
            self.instance.set_values(section, values)
            stored = self.instance.realtime_secrets if section == REALTIME else self.instance.history_secrets
            for field in vendor.fields(section):
                if field.secret and data.get(f"{form_field_name(section, field.name)}__clear"):
                    stored.pop(field.name, None)
        return data


def _credential_field(section: str, field: Field) -> forms.Field:
    if field.secret:
        return forms.CharField(
            label=field.label,
            required=False,  # blank keeps the stored value; the model checks presence
            strip=True,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            help_text=field.help_text,
        )
    return forms.CharField(
        label=field.label,
        required=False,
        initial=field.default,
        help_text=field.help_text,
    )


@cache
def connection_form(vendor_key: str, staff: bool = False) -> type[VendorConnectionForm]:
    """The connection form of one vendor (raises KeyError for an unknown vendor).

    `staff`: the form of an account manager (superuser), with the staff-only fields (the
    TCN drop folder path). A tenant manager's form has no such field at all, and saving it
    keeps whatever an account manager stored.
    """
    vendor = get_vendor(vendor_key)
    attrs: dict[str, Any] = {"vendor_key": vendor_key, "__module__": __name__}
    for section in SECTIONS:
        for field in vendor.fields(section):
            if field.staff_only and not staff:
                continue
            name = form_field_name(section, field.name)
            attrs[name] = _credential_field(section, field)
            if field.secret and not (section == REALTIME and field.required):
                attrs[f"{name}__clear"] = forms.BooleanField(
                    label=f"Clear {field.label.lower()}", required=False
                )
    return type(f"{vendor.__name__}ConnectionForm", (VendorConnectionForm,), attrs)


def section_fieldsets(vendor_key: str, form_class: type[forms.BaseForm]) -> list[tuple[str, dict]]:
    """Admin fieldsets of a vendor's form: general, then the two sections."""
    vendor = get_vendor(vendor_key)
    declared = form_class.base_fields

    def section(sec: str, head: tuple[str, ...]) -> list[str]:
        names = list(head)
        for field in vendor.fields(sec):
            name = form_field_name(sec, field.name)
            if name not in declared:
                continue
            names.append(name)
            if f"{name}__clear" in declared:
                names.append(f"{name}__clear")
        return names

    return [
        (None, {"fields": ["tenant", "name", "vendor", "enabled"]}),
        (
            SECTION_TITLES[REALTIME],
            {"fields": section(REALTIME, ("realtime_base_url", "interval_seconds", "time_zone"))},
        ),
        (
            SECTION_TITLES[HISTORY],
            {
                "fields": section(HISTORY, ("history_base_url",)),
                "description": "Fields left blank use the real-time values.",
            },
        ),
        ("Advanced", {"fields": ["options", "state_map"], "classes": ["collapse"]}),
    ]
