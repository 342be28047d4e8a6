"""The vendor registry: an explicit dict from vendor key to its declaration, imported lazily.

Adding a platform is one package under this folder and one line here. Nothing is found by
importing modules for their side effects.
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

# Labels are needed for model choices at import time; keep them here so that building
# the choices imports no vendor package.
VENDOR_LABELS: dict[str, str] = {
    "tcn": "TCN",
    "8x8": "8x8",
    "nextiva": "Nextiva Contact Center",
    "thrio": "Thrio",
}


@cache
def get_vendor(key: str) -> type[Vendor]:
    if key not in VENDORS:
        raise KeyError(f"unknown vendor {key!r}")
    from django.utils.module_loading import import_string

    return import_string(VENDORS[key])


def vendor_choices() -> list[tuple[str, str]]:
    return [(key, VENDOR_LABELS[key]) for key in VENDORS]
