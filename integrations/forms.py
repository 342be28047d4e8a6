"""Admin forms: tenants, and vendor connections whose fields come from the vendor registry.

A connection form is built per vendor (`connection_form(vendor_key)`): two sections,
"Real-time adherence" and "Historical contact volume", each with its base URL and exactly
the fields that vendor declares. Secrets are password inputs that are never rendered back:
the form shows "stored ••••abcd" and a blank input keeps the stored value.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.module_loading import import_string

from integrations import validators
from integrations.models import Tenant, VendorConnection
from integrations.scrub import mask
from integrations.vendors import field_map, get_vendor, is_known, vendor_choices, vendor_keys
from integrations.vendors.base import HISTORY, REALTIME, SECTIONS, STREAM_VOLUME, Field

SECTION_TITLES = {REALTIME: "Real-time adherence", HISTORY: "Historical contact volume"}
# The interval field of a vendor that asks for it in minutes (TCN), in place of the model's
# `interval_seconds`; the connection stores seconds either way.
INTERVAL_MINUTES = "interval_minutes"
# The tokens app (above this one) supplies the fields of an expiring access token (TCN):
# a function of the vendor key returning a form mixin, or None for a vendor without one.
TOKEN_FORM_MIXIN = "tokens.forms.tokens_form_mixin"
SECRET_NOT_KEPT = (
    "Not saved: the form has errors elsewhere, and a secret is never sent back to your browser. "
    "Type the {label} again before saving."
)


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


class AsksAgainForTypedSecrets(forms.BaseForm):
    """A secret typed into a form that fails is not sent back to the browser (never rendered
    into HTML), so its input comes back empty: the form says so on that input, rather than let
    the next save quietly keep the old value or find the field blank."""

    def full_clean(self) -> None:
        super().full_clean()
        if not (self.is_bound and self.errors):
            return
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.PasswordInput) or name in self.errors:
                continue
            if str(self.data.get(self.add_prefix(name), "")).strip():
                self.add_error(name, SECRET_NOT_KEPT.format(label=str(field.label or name).lower()))


class VendorConnectionForm(AsksAgainForTypedSecrets, forms.ModelForm):
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
            "backfill_days",
            "max_request_days",
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
        if "max_request_days" in self.fields:
            self.fields["max_request_days"].help_text = (
                f"Leave blank for {vendor.label}'s limit ({vendor.max_request_days} days). "
                "A backfill or a collect --start window asks for at most this many days per request."
            )
        if INTERVAL_MINUTES in self.fields and INTERVAL_MINUTES not in self.initial:
            seconds = self.instance.interval_seconds or vendor.default_interval_seconds
            self.initial[INTERVAL_MINUTES] = _minutes(seconds)
        if "field_map" in self.fields:
            # Every name is shown, the stored renames over the defaults.
            names = dict(vendor.default_field_map)
            stored = (self.instance.options or {}).get(field_map.OPTION)
            if isinstance(stored, dict):
                names.update({k: v for k, v in stored.items() if k in names and isinstance(v, str)})
            self.initial.setdefault("field_map", field_map.as_lines(names))
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
            state: str = format_html("Stored <code>{}</code>. Leave blank to keep it.", mask(value))
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
        if field_map.OPTION in value:
            vendor = get_vendor(self.vendor_key)
            try:
                field_map.validate(vendor.default_field_map, value[field_map.OPTION], vendor.label)
            except field_map.FieldMapError as exc:
                raise forms.ValidationError(f"Option 'field_map': {exc}.") from None
        return value

    def clean_time_zone(self) -> str:
        # A vendor may accept old zone aliases (TCN's list); the canonical zone is stored.
        value = (self.cleaned_data.get("time_zone") or "").strip()
        return get_vendor(self.vendor_key).canonical_time_zone(value)

    def clean_interval_minutes(self) -> Decimal:
        minutes = self.cleaned_data[INTERVAL_MINUTES]
        seconds = round(minutes * 60)
        try:
            validators.interval_seconds(seconds)
        except ValidationError:
            raise forms.ValidationError(
                f"interval must be between {_minutes(validators.MIN_INTERVAL_SECONDS)} and "
                f"{_minutes(validators.MAX_INTERVAL_SECONDS)} minutes (5 seconds to one day), got {minutes}"
            ) from None
        # Not a field of this form's model fields: stored here, in seconds.
        self.instance.interval_seconds = seconds
        return minutes

    def clean_field_map(self) -> dict[str, str]:
        vendor = get_vendor(self.vendor_key)
        try:
            raw = field_map.parse_text(self.cleaned_data.get("field_map") or "")
            return field_map.validate(vendor.default_field_map, raw, vendor.label)
        except field_map.FieldMapError as exc:
            raise forms.ValidationError(f"Field map: {exc}.") from None

    def clean_state_map(self) -> dict[str, Any]:
        value = self.cleaned_data.get("state_map") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('The state map must be a JSON object, e.g. {"Lunch": "break"}.')
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        self._merge_field_map(data)
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

    def _merge_field_map(self, data: dict[str, Any]) -> None:
        """The field map textarea, when edited, is the connection's `options["field_map"]`
        (only the names that differ from the defaults); otherwise the options keep theirs."""
        if "field_map" not in self.fields or "field_map" not in data or "options" not in data:
            return
        vendor = get_vendor(self.vendor_key)
        # Compared by meaning, not text: a browser sends the shown lines back with CR LF.
        initial = str(self.get_initial_for_field(self.fields["field_map"], "field_map"))
        try:
            shown = field_map.validate(vendor.default_field_map, field_map.parse_text(initial), vendor.label)
        except field_map.FieldMapError:  # a stored map these checks refuse: the textarea replaces it
            shown = None
        if data["field_map"] == shown:
            return
        options = {k: v for k, v in data["options"].items() if k != field_map.OPTION}
        if data["field_map"]:
            options[field_map.OPTION] = data["field_map"]
        data["options"] = options


def _minutes(seconds: int) -> int | Decimal:
    """Seconds as minutes: whole where they are, else to the hundredth."""
    if seconds % 60 == 0:
        return seconds // 60
    return round(Decimal(seconds) / 60, 2)


def _interval_minutes_field(vendor_label: str, default_seconds: int) -> forms.Field:
    return forms.DecimalField(
        label="Transaction collection interval (minutes)",
        max_digits=7,
        decimal_places=2,
        help_text=f"How often agent states are polled, in minutes as {vendor_label} gives it "
        f"(default {_minutes(default_seconds)}).",
    )


def _field_map_field(vendor: Any) -> forms.Field:
    defaults = ", ".join(f"{k}={v}" for k, v in vendor.default_field_map.items())
    return forms.CharField(
        label="Payload field names",
        required=False,
        widget=forms.Textarea(attrs={"rows": min(len(vendor.default_field_map), 16), "cols": 40}),
        help_text=f"One name=vendor_field per line (or a JSON object), for an API whose answers "
        f"name these fields otherwise. Lists may come as a bare JSON array or under the list's "
        f"name. Defaults: {defaults}.",
    )


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
    left_out = set()
    if vendor.interval_unit_seconds == 60:
        # Asked in minutes: the model's seconds field leaves the form (clean sets it).
        left_out.add("interval_seconds")
        attrs[INTERVAL_MINUTES] = _interval_minutes_field(vendor.label, vendor.default_interval_seconds)
    if STREAM_VOLUME not in vendor.streams:
        # Its history arrives as files (TCN): nothing is requested, so no history start.
        left_out |= {"backfill_days", "max_request_days"}
    if left_out:
        fields = tuple(f for f in VendorConnectionForm.Meta.fields if f not in left_out)
        attrs["Meta"] = type("Meta", (VendorConnectionForm.Meta,), {"fields": fields})
    if vendor.default_field_map:
        attrs["field_map"] = _field_map_field(vendor)
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
    token_mixin = import_string(TOKEN_FORM_MIXIN)(vendor_key)
    bases = (VendorConnectionForm,) if token_mixin is None else (token_mixin, VendorConnectionForm)
    return type(f"{vendor.__name__}ConnectionForm", bases, attrs)


def section_fieldsets(vendor_key: str, form_class: type[forms.ModelForm]) -> list[tuple[str | None, dict]]:
    """Admin fieldsets of a vendor's form: general, then the two sections."""
    vendor = get_vendor(vendor_key)
    declared = form_class.base_fields
    interval = INTERVAL_MINUTES if INTERVAL_MINUTES in declared else "interval_seconds"
    advanced = ["options", "field_map", "state_map"] if "field_map" in declared else ["options", "state_map"]

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

    token = getattr(form_class, "token_fieldset", None)
    return [
        (None, {"fields": ["tenant", "name", "vendor", "enabled"]}),
        (
            SECTION_TITLES[REALTIME],
            {"fields": section(REALTIME, ("realtime_base_url", interval, "time_zone"))},
        ),
        (
            SECTION_TITLES[HISTORY],
            {
                "fields": [
                    *section(HISTORY, ("history_base_url",)),
                    *(name for name in ("backfill_days", "max_request_days") if name in declared),
                ],
                "description": "Fields left blank use the real-time values.",
            },
        ),
        *([(token[0], dict(token[1], fields=list(token[1]["fields"])))] if token else []),
        ("Advanced", {"fields": advanced, "classes": ["collapse"]}),
    ]
