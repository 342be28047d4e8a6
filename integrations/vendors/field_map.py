"""Per-connection names of a vendor's payload fields, and the list shapes adapters accept.

Where a vendor's payload shape is not published (the Nextiva/Thrio WFM integration endpoints,
8x8's interaction records), a customer's API may name a field otherwise or answer a bare JSON
array where we expect an object holding a list. Each such vendor declares its field names in
`Vendor.default_field_map` (key -> vendor field name); a connection renames some of them in
`options["field_map"]`, validated when the connection is saved (admin form and YAML file).

Error messages about a payload name the fields that were present, never their values: a
payload may hold personal data, and names are enough to write the field map.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from integrations.vendors.errors import DataError

OPTION = "field_map"
# At most this many field names in a message; each is cut at NAME_CUT characters.
SHOWN_NAMES = 20
NAME_CUT = 40
MAX_NAME = 200


class FieldMapError(ValueError):
    """A field map that cannot be used; the message names the key at fault."""


def parse_text(text: str) -> dict[str, Any]:
    """The admin textarea: a JSON object, or one `key=vendor_field` per line.

    Blank lines and lines starting with `#` are ignored. Raises FieldMapError.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FieldMapError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(value, dict):
            raise FieldMapError("must be a JSON object or one name=vendor_field per line")
        return value
    out: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            raise FieldMapError(f"line {number}: {line[:NAME_CUT]!r} is not name=vendor_field")
        if key in out:
            raise FieldMapError(f"line {number}: '{key}' is given twice")
        out[key] = value.strip()
    return out


def validate(defaults: Mapping[str, str], raw: Any, vendor_label: str = "") -> dict[str, str]:
    """The overrides of `raw` (only names that differ from the defaults). Raises FieldMapError."""
    if not isinstance(raw, Mapping):
        raise FieldMapError("must be a mapping of names to vendor field names")
    if not defaults:
        who = f"{vendor_label} payloads" if vendor_label else "this vendor's payloads"
        raise FieldMapError(f"{who} have no field map")
    unknown = sorted(str(k) for k in raw if k not in defaults)
    if unknown:
        raise FieldMapError(
            f"unknown key(s) {', '.join(repr(k) for k in unknown)} (use {', '.join(defaults)})"
        )
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise FieldMapError(f"'{key}' must be a field name (text), got {type(value).__name__}")
        value = value.strip()
        if not value:
            raise FieldMapError(f"'{key}' has an empty field name")
        if len(value) > MAX_NAME:
            raise FieldMapError(f"'{key}' has a field name longer than {MAX_NAME} characters")
        if value != defaults[key]:
            out[key] = value
    return out


def effective(defaults: Mapping[str, str], options: Mapping[str, object], label: str = "") -> dict[str, str]:
    """The names an adapter uses: the defaults with the connection's overrides.

    A map that would not pass `validate` (stored before these checks, or written to the
    database directly) is a DataError, as any unusable configuration is at collection time.
    """
    raw = options.get(OPTION) or {}
    try:
        overrides = validate(defaults, raw, label)
    except FieldMapError as exc:
        raise DataError(f"{label}: option '{OPTION}' {exc}".strip()) from None
    return {**defaults, **overrides}


def as_lines(names: Mapping[str, str]) -> str:
    """The map as the admin textarea shows it."""
    return "\n".join(f"{key}={value}" for key, value in names.items())


def present(item: Mapping[str, Any]) -> str:
    """The field names of an object, for an error message (never its values)."""
    names = [str(k) for k in item]
    if not names:
        return "the object is empty"
    shown = [repr(n if len(n) <= NAME_CUT else n[: NAME_CUT - 1] + "…") for n in names[:SHOWN_NAMES]]
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return f"the object has {', '.join(shown)}{more}"


def missing(prefix: str, key: str, item: Mapping[str, Any]) -> DataError:
    """`{prefix}: missing 'key'; the object has 'a', 'b'` (names only)."""
    return DataError(f"{prefix}: missing '{key}'; {present(item)}".lstrip(": "))
