"""The vendor registry: an explicit dict from vendor key to its declaration, imported lazily.

Adding a platform is one package under this folder and one line here. Nothing is found by
importing modules for their side effects. Everything that lists vendors (the connection
model's validation, the admin's select and filter, the demo, the sandbox, the file-drop
scan) asks this module, so no other list of the vendor set exists.

`SWITCHBOARD_EXTRA_VENDORS` (a Django setting of the same shape as `VENDORS`) adds vendors
defined outside this folder: the test suite registers a fake vendor with it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integrations.vendors.base import Vendor

VENDORS: dict[str, str] = {
    "tcn": "integrations.vendors.tcn.vendor.TCN",
    "8x8": "integrations.vendors.eightbyeight.vendor.EightByEight",
    "nextiva": "integrations.vendors.ncc.vendor.Nextiva",
    "thrio": "integrations.vendors.ncc.vendor.Thrio",
}

# The connection model's column holds the key; a longer key could not be stored.
MAX_KEY_LENGTH = 16


def registry() -> dict[str, str]:
    """Every registered vendor, key to dotted path: the built-in ones, then the extra ones."""
    from django.conf import settings

    extra = getattr(settings, "SWITCHBOARD_EXTRA_VENDORS", None) or {}
    return {**VENDORS, **extra}


def vendor_keys() -> list[str]:
    return list(registry())


def is_known(key: str) -> bool:
    return key in registry()


def get_vendor(key: str) -> type[Vendor]:
    path = registry().get(key)
    if path is None:
        raise KeyError(f"unknown vendor {key!r}")
    return _load(path)


@cache
def _load(path: str) -> type[Vendor]:
    from django.utils.module_loading import import_string

    return import_string(path)


def all_vendors() -> list[type[Vendor]]:
    return [get_vendor(key) for key in registry()]


def vendor_choices() -> list[tuple[str, str]]:
    """(key, label) of every vendor, for selects; imports every vendor's declaration."""
    return [(vendor.key, vendor.label) for vendor in all_vendors()]


def validate_key(value: str) -> None:
    """A model field validator: the value names a registered vendor."""
    if not is_known(value):
        from django.core.exceptions import ValidationError

        raise ValidationError(f"unknown vendor {value!r} (use one of {', '.join(registry())})")


def vendors_supplying(stream: str) -> list[str]:
    """Keys of the vendors that declare `stream` (e.g. every vendor that drops files)."""
    return [vendor.key for vendor in all_vendors() if stream in vendor.streams]
