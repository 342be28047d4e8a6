"""The vendor registry is the one list of vendors, and a system check keeps its entries honest."""

from __future__ import annotations

from django.db.models import CheckConstraint

from integrations.models import VendorConnection
from integrations.vendors import registry, vendor_choices, vendors_supplying
from integrations.vendors.base import (
    FILE,
    POLL,
    STREAM_AGENT_STATES,
    STREAM_CONFIG,
    STREAM_FILE_DROP,
    STREAM_VOLUME,
    Vendor,
)
from integrations.vendors.checks import check_vendor_registry
from integrations.vendors.eightbyeight.vendor import EightByEight
from integrations.vendors.tcn.vendor import TCN


class NoReader(Vendor):
    key = "noreader"
    label = "No reader"
    supplies = {STREAM_VOLUME: FILE, STREAM_AGENT_STATES: FILE}
    adapter_path = "integrations.vendors.tcn.adapter.TCNAdapter"


def _errors(settings, extra: dict[str, str]) -> list[tuple[str, str]]:
    settings.SWITCHBOARD_EXTRA_VENDORS = extra
    return [(e.id, e.msg) for e in check_vendor_registry()]


def test_every_built_in_vendor_passes_the_system_check():
    assert check_vendor_registry() == []


def test_an_entry_that_does_not_import_is_reported(settings):
    [(code, message)] = _errors(settings, {"nope": "tests.nowhere.Nope"})
    assert code == "vendors.E002"
    assert message.startswith("vendor 'nope' (tests.nowhere.Nope) cannot be imported")


def test_an_entry_whose_vendor_has_another_key_is_reported(settings):
    assert _errors(settings, {"other": "integrations.vendors.tcn.vendor.TCN"}) == [
        ("vendors.E004", "vendor 'other' (integrations.vendors.tcn.vendor.TCN) declares key 'tcn'")
    ]


def test_a_vendor_that_drops_files_without_a_reader_or_drops_states_is_reported(settings):
    found = _errors(settings, {"noreader": "tests.integrations.vendors.test_registry.NoReader"})
    where = "vendor 'noreader' (tests.integrations.vendors.test_registry.NoReader)"
    assert found == [
        ("vendors.E005", f"{where} supplies agent_states by file; the file drop carries intervals only"),
        ("vendors.E005", f"{where} supplies data by file but names no file_reader_path"),
    ]


def test_a_key_too_long_for_the_column_is_reported(settings):
    found = _errors(settings, {"k" * 17: "integrations.vendors.tcn.vendor.TCN"})
    assert ("vendors.E001" in {code for code, _ in found}) and len(found) == 2


def test_streams_follow_what_a_vendor_supplies_and_how():
    assert TCN.supplies == {STREAM_AGENT_STATES: POLL, STREAM_CONFIG: POLL, STREAM_VOLUME: FILE}
    assert TCN.streams == (STREAM_AGENT_STATES, STREAM_CONFIG, STREAM_FILE_DROP)
    assert EightByEight.streams == (STREAM_VOLUME, STREAM_AGENT_STATES, STREAM_CONFIG)
    assert (TCN.transport(STREAM_FILE_DROP), TCN.transport(STREAM_AGENT_STATES)) == (FILE, POLL)
    assert vendors_supplying(STREAM_FILE_DROP) == ["tcn"]


def test_choices_come_from_the_vendors_declarations_in_registry_order():
    assert vendor_choices() == [
        ("tcn", "TCN"),
        ("8x8", "8x8"),
        ("nextiva", "Nextiva Contact Center"),
        ("thrio", "Thrio"),
    ]
    assert list(registry()) == ["tcn", "8x8", "nextiva", "thrio"]


def test_the_schema_holds_no_vendor_list_so_a_vendor_needs_no_migration():
    field = VendorConnection._meta.get_field("vendor")
    assert not field.choices
    checks = [c for c in VendorConnection._meta.constraints if isinstance(c, CheckConstraint)]
    assert all("vendor" not in str(c.condition) for c in checks)
