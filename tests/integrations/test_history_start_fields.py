"""A connection's history start (`backfill_days`) and longest request (`max_request_days`): set
in the admin form and the connections file, refused with a clear message when nonsense."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from integrations.forms import connection_form
from integrations.models import VendorConnection
from tests.integrations.test_connections_import import run_import

pytestmark = pytest.mark.django_db

FILE = """
tenants:
  - slug: acme
    name: Acme Support
    connections:
      - name: eight
        vendor: 8x8
        backfill_days: {days}
        max_request_days: {most}
        realtime: {{tenant: acme, token: "inline-8x8-token-0123456789"}}
"""


def form_data(tenant, **extra):
    return {
        "tenant": tenant.pk,
        "name": "eight",
        "enabled": "on",
        "realtime_base_url": "https://vcc-na10b.8x8.com/api/",
        "interval_seconds": "10",
        "time_zone": "UTC",
        "realtime_tenant": "acme",
        "realtime_token": "a-token-0123456789",
        "options": "{}",
        "state_map": "{}",
        **extra,
    }


def test_the_form_stores_a_year_of_history_and_a_shorter_request(tenant_a):
    form = connection_form("8x8")(data=form_data(tenant_a, backfill_days="365", max_request_days="7"))
    assert form.is_valid(), form.errors
    conn = form.save()
    assert (conn.backfill_days, conn.max_request_days, conn.request_days()) == (365, 7, 7)


def test_blank_fields_mean_the_site_default_and_the_vendors_limit(tenant_a):
    form = connection_form("8x8")(data=form_data(tenant_a))
    assert form.is_valid(), form.errors
    conn = form.save()
    assert (conn.backfill_days, conn.request_days()) == (None, 28)
    assert "8x8's limit (28 days)" in str(form.fields["max_request_days"].help_text)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backfill_days", "0", "history start must be between 1 day and 3660 days (ten years) back, got 0"),
        ("backfill_days", "5000", "between 1 day and 3660 days (ten years) back, got 5000"),
        ("backfill_days", "a year", "Enter a whole number."),
        ("max_request_days", "0", "the longest request must be between 1 and 366 days, got 0"),
        ("max_request_days", "400", "the longest request must be between 1 and 366 days, got 400"),
    ],
)
def test_the_form_refuses_nonsense_with_a_clear_message(tenant_a, field, value, message):
    form = connection_form("8x8")(data=form_data(tenant_a, **{field: value}))
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field])


def test_a_vendor_whose_history_arrives_as_files_has_no_history_start():
    fields = connection_form("tcn").base_fields
    assert "backfill_days" not in fields and "max_request_days" not in fields


def test_the_connections_file_sets_and_exports_them(tmp_path):
    run_import(tmp_path, FILE.format(days=730, most=3))
    conn = VendorConnection.objects.get(name="eight")
    assert (conn.backfill_days, conn.max_request_days) == (730, 3)
    out = io.StringIO()
    call_command("connections", "export", stdout=out)
    assert "backfill_days: 730" in out.getvalue() and "max_request_days: 3" in out.getvalue()


@pytest.mark.parametrize(
    ("days", "most", "message"),
    [
        ('"a year"', "3", "backfill_days: expected a whole number of days, got 'a year'"),
        ("0", "3", "backfill_days: history start must be between 1 day and 3660 days"),
        ("30", "999", "max_request_days: the longest request must be between 1 and 366 days, got 999"),
    ],
)
def test_the_connections_file_refuses_nonsense_naming_the_key(tmp_path, days, most, message):
    path = tmp_path / "bad.yaml"
    path.write_text(FILE.format(days=days, most=most))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("connections", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert message in err.getvalue()
    assert not VendorConnection.objects.exists()
