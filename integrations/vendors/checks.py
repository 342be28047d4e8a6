"""A system check of the vendor registry: every entry imports, and declares what it supplies."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from integrations.vendors import MAX_KEY_LENGTH, registry


def check_vendor_registry(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from integrations.vendors.base import Vendor

    errors: list[CheckMessage] = []
    for key, path in registry().items():
        where = f"vendor {key!r} ({path})"
        if len(key) > MAX_KEY_LENGTH:
            errors.append(
                Error(f"{where}: the key is longer than {MAX_KEY_LENGTH} characters", id="vendors.E001")
            )
        try:
            vendor = import_string(path)
        except ImportError as exc:
            errors.append(Error(f"{where} cannot be imported: {exc}", id="vendors.E002"))
            continue
        if not (isinstance(vendor, type) and issubclass(vendor, Vendor)):
            errors.append(Error(f"{where} is not a Vendor subclass", id="vendors.E003"))
            continue
        if getattr(vendor, "key", None) != key:
            errors.append(Error(f"{where} declares key {getattr(vendor, 'key', None)!r}", id="vendors.E004"))
        errors.extend(Error(f"{where} {problem}", id="vendors.E005") for problem in vendor.problems())
        for attribute in ("adapter_path", "file_reader_path", "sandbox_path"):
            dotted = getattr(vendor, attribute, "")
            if not dotted:
                continue
            try:
                import_string(dotted)
            except ImportError as exc:
                errors.append(
                    Error(f"{where}: {attribute} {dotted!r} cannot be imported: {exc}", id="vendors.E006")
                )
    return errors
