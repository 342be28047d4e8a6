"""`manage.py connections import`: idempotent, all or nothing, every problem with its path."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from integrations.models import Membership, Tenant, VendorConnection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db

GOOD = """
tenants:
  - slug: acme
    name: Acme Support
    time_zone: America/Chicago
    active: true
    members:
      - {email: ann@acme.example, role: owner, name: Ann Owner}
      - {email: max@switchboard.example, role: manager}
    connections:
      - name: tcn-main
        vendor: tcn
        enabled: true
        interval_seconds: 900
        time_zone: America/Los_Angeles
        realtime:
          base_url: "https://api.tcn3.com/backoffice/"
          access_token: "${TCN_TOKEN}"
          client_sid: "4412"
        history: {drop_folder: acme/inbox}
        options: {}
        state_map: {Lunch: break}
        tokens:
          - {section: realtime, service_login: 3rd_Switchboard_Acme_wfm, owner: ann@acme.example,
             issued: 2026-01-10, expires: 2027-01-10}
      - name: eight
        vendor: 8x8
        realtime: {tenant: acme, token: "inline-8x8-token-0123456789"}
  - slug: bolt
    name: Bolt Care
    connections:
      - name: ncc
        vendor: nextiva
        realtime: {username: wfm, password: "nextiva-password-0001"}
"""


def run_import(tmp_path, text, *args, monkeypatch=None):
    path = tmp_path / "connections.yaml"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    call_command("connections", "import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_error(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("connections", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 2
    return err.getvalue().splitlines()


@pytest.fixture(autouse=True)
def tcn_token(monkeypatch):
    monkeypatch.setenv("TCN_TOKEN", "tcn-token-from-env-0123456789")


def test_it_creates_tenants_members_connections_and_tokens(tmp_path):
    out, _ = run_import(tmp_path, GOOD, "--json")
    summary = json.loads(out)
    assert summary["tenants"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert summary["connections"]["created"] == 3
    assert summary["members"]["created"] == 2
    assert summary["tokens"]["created"] == 1
    tcn = VendorConnection.objects.get_by_key("acme/tcn-main")
    assert tcn.values_of("realtime") == {
        "access_token": "tcn-token-from-env-0123456789",
        "client_sid": "4412",
    }
    assert tcn.values_of("history")["drop_folder"] == "acme/inbox"
    assert tcn.state_map == {"Lunch": "break"}
    assert VendorConnection.objects.get_by_key("acme/eight").interval_seconds == 10  # vendor default
    ann = get_user_model().objects.get(email="ann@acme.example")
    assert ann.username == "ann@acme.example"
    assert ann.is_staff and not ann.has_usable_password()
    assert (ann.first_name, ann.last_name) == ("Ann", "Owner")
    assert Membership.objects.get(user=ann).role == "owner"
    token = AccessToken.objects.get(connection=tcn)
    assert (token.section, token.owner, token.issued, token.expires) == (
        "realtime",
        ann,
        date(2026, 1, 10),
        date(2027, 1, 10),
    )


def test_a_second_run_changes_nothing(tmp_path):
    run_import(tmp_path, GOOD)
    stamps = {c.pk: c.updated for c in VendorConnection.objects.all()}
    ciphertexts = dict(
        VendorConnection.objects.extra(select={"raw": "realtime_secrets"}).values_list("pk", "raw")
    )
    out, _ = run_import(tmp_path, GOOD, "--json")
    summary = json.loads(out)
    assert summary["changed"] == 0
    for kind in ("tenants", "members", "connections", "tokens"):
        assert summary[kind]["created"] == summary[kind]["updated"] == 0, kind
    assert {c.pk: c.updated for c in VendorConnection.objects.all()} == stamps
    assert (
        dict(VendorConnection.objects.extra(select={"raw": "realtime_secrets"}).values_list("pk", "raw"))
        == ciphertexts
    )


def test_a_changed_value_is_an_update(tmp_path):
    run_import(tmp_path, GOOD)
    out, _ = run_import(tmp_path, GOOD.replace("interval_seconds: 900", "interval_seconds: 600"), "--json")
    summary = json.loads(out)
    assert summary["connections"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert VendorConnection.objects.get_by_key("acme/tcn-main").interval_seconds == 600


def test_the_plain_summary_counts_each_kind(tmp_path):
    out, _ = run_import(tmp_path, GOOD)
    assert "tenants: 2 created, 0 updated, 0 unchanged" in out
    assert "connections: 3 created, 0 updated, 0 unchanged" in out


def test_a_missing_secret_keeps_the_stored_one(tmp_path):
    run_import(tmp_path, GOOD)
    out, _ = run_import(tmp_path, GOOD.replace('token: "inline-8x8-token-0123456789"', ""), "--json")
    assert json.loads(out)["changed"] == 0
    assert VendorConnection.objects.get_by_key("acme/eight").values_of("realtime")["token"] == (
        "inline-8x8-token-0123456789"
    )


def test_dry_run_reports_and_changes_nothing(tmp_path):
    out, _ = run_import(tmp_path, GOOD, "--dry-run", "--json")
    assert json.loads(out)["tenants"]["created"] == 2
    assert not Tenant.objects.exists()
    assert not get_user_model().objects.exists()


def test_an_invalid_file_changes_nothing_and_lists_every_problem_with_its_path(tmp_path, monkeypatch):
    monkeypatch.delenv("TCN_TOKEN")
    bad = (
        GOOD.replace("vendor: 8x8", "vendor: tcm")
        .replace("slug: bolt", "slug: Bolt Care")
        .replace('"https://api.tcn3.com/backoffice/"', '"ftp://api.tcn3.com/"')
        .replace("interval_seconds: 900", "interval_seconds: 4")
        .replace("role: manager", "role: boss")
    )
    problems = import_error(tmp_path, bad)
    assert problems == [
        "tenants[0].members[1].role: unknown role 'boss' (use one of owner, manager, partner)",
        "tenants[0].connections[0].realtime.access_token: environment variable TCN_TOKEN is not set",
        "tenants[0].connections[0].realtime.base_url: Enter an http:// or https:// URL.",
        "tenants[0].connections[0].interval_seconds: "
        "interval must be between 5 seconds and one day (86400 s), got 4",
        "tenants[0].connections[0].realtime.access_token: Access token is required for TCN.",
        "tenants[0].connections[1].vendor: unknown vendor 'tcm' (use one of tcn, 8x8, nextiva, thrio)",
        "tenants[1].slug: Use lowercase letters, digits and single hyphens (e.g. acme-support).",
    ]
    assert not Tenant.objects.exists()
    assert not get_user_model().objects.exists()
    assert not VendorConnection.objects.exists()


def test_one_bad_connection_rolls_back_everything_already_written(tmp_path):
    problems = import_error(tmp_path, GOOD.replace("name: ncc", "name: 'n c c'"))
    assert len(problems) == 1
    assert problems[0].startswith("tenants[1].connections[0].name: Use letters, digits")
    assert not Tenant.objects.exists()


def test_an_invalid_file_leaves_existing_rows_untouched(tmp_path):
    run_import(tmp_path, GOOD)
    import_error(
        tmp_path, GOOD.replace("interval_seconds: 900", "interval_seconds: 1").replace("Acme Support", "X")
    )
    assert Tenant.objects.get(slug="acme").name == "Acme Support"
    assert VendorConnection.objects.get_by_key("acme/tcn-main").interval_seconds == 900


def test_a_duplicate_connection_name_in_a_tenant_is_a_problem(tmp_path):
    text = GOOD.replace("name: eight", "name: tcn-main")
    assert import_error(tmp_path, text) == [
        "tenants[0].connections[1].name: connection 'tcn-main' appears twice in this tenant"
    ]


def test_an_interval_over_a_day_is_a_problem(tmp_path):
    problems = import_error(tmp_path, GOOD.replace("interval_seconds: 900", "interval_seconds: 86401"))
    assert problems == [
        "tenants[0].connections[0].interval_seconds: "
        "interval must be between 5 seconds and one day (86400 s), got 86401"
    ]


def test_unknown_keys_and_wrong_types_are_problems(tmp_path):
    text = GOOD.replace("active: true", "active: yes-please\n    colour: blue").replace(
        'client_sid: "4412"', 'client_sid: "4412"\n          secret_sauce: x'
    )
    problems = import_error(tmp_path, text)
    assert "tenants[0].active: expected true or false" in problems
    assert any(p.startswith("tenants[0].colour: unknown key") for p in problems)
    assert any(p.startswith("tenants[0].connections[0].realtime.secret_sauce: unknown key") for p in problems)


def test_a_token_whose_expiry_is_not_after_issue_is_a_problem(tmp_path):
    problems = import_error(tmp_path, GOOD.replace("expires: 2027-01-10", "expires: 2025-01-10"))
    assert problems == ["tenants[0].connections[0].tokens[0].expires: must be after issued (2026-01-10)"]


def test_a_token_without_expiry_lasts_one_year(tmp_path):
    run_import(tmp_path, GOOD.replace(", expires: 2027-01-10", ""))
    assert AccessToken.objects.get().expires == date(2027, 1, 10)


def test_a_token_owner_must_be_a_known_user(tmp_path):
    problems = import_error(tmp_path, GOOD.replace("owner: ann@acme.example", "owner: nobody@acme.example"))
    assert problems == [
        "tenants[0].connections[0].tokens[0].owner: no user with the email nobody@acme.example "
        "(list them under members)"
    ]


def test_the_vendor_of_an_existing_connection_cannot_change(tmp_path):
    run_import(tmp_path, GOOD)
    text = GOOD.replace(
        'vendor: 8x8\n        realtime: {tenant: acme, token: "inline-8x8-token-0123456789"}',
        'vendor: nextiva\n        realtime: {username: u, password: "p-0123456789"}',
    )
    problems = import_error(tmp_path, text)
    assert problems == [
        "tenants[0].connections[1].vendor: the connection is '8x8'; a vendor cannot change (use a new name)"
    ]


def test_broken_yaml_names_the_line(tmp_path):
    problems = import_error(tmp_path, "tenants:\n  - slug: [acme\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 3, column 1: not valid YAML")


def test_a_missing_file_is_one_clear_line(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*nope\.yaml: No such file") as exc:
        call_command("connections", "import", str(tmp_path / "nope.yaml"))
    assert exc.value.returncode == 2


def test_problems_never_echo_a_secret(tmp_path):
    text = GOOD.replace(
        'client_sid: "4412"', 'client_sid: "4412"\n          bogus: "tcn-token-from-env-0123456789"'
    )
    problems = import_error(tmp_path, text.replace("${TCN_TOKEN}", "tcn-token-from-env-0123456789"))
    assert problems
    assert not any("tcn-token-from-env" in p for p in problems)


def test_json_output_of_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("vendor: 8x8", "vendor: tcm"))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("connections", "import", str(path), "--json", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue()) == {
        "ok": False,
        "problems": [
            "tenants[0].connections[1].vendor: unknown vendor 'tcm' (use one of tcn, 8x8, nextiva, thrio)"
        ],
    }
