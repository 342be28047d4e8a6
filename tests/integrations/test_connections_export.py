"""`manage.py connections export`: never a secret, and importing it back changes nothing."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
import yaml
from django.core.management import CommandError, call_command

from integrations.models import Membership
from tests.conftest import make_connection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db

SECRETS = ("tcn-token-0123456789abcdef", "8x8-token-0123456789abcdef", "history-secret-9876543210")


@pytest.fixture
def world(tenant_a, tenant_b, owner_a, manager_b):
    conn = make_connection(tenant_a, "tcn", "tcn-main", drop_folder="acme", client_sid="4412")
    conn.set_values("history", {"drop_folder": "acme", "access_token": "history-secret-9876543210"})
    conn.state_map = {"Lunch": "break"}
    conn.save()
    make_connection(tenant_b, "8x8", "eight")
    AccessToken.objects.create(
        connection=conn,
        section="realtime",
        service_login="3rd_wfm",
        owner=owner_a,
        issued=date(2026, 1, 10),
        expires=date(2027, 1, 10),
    )
    return conn


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("connections", "export", *args, stdout=out)
    return out.getvalue()


def test_export_never_prints_a_secret(world):
    for text in (export(), export("--json"), export("--tenant", "acme")):
        for secret in SECRETS:
            assert secret not in text
        assert "access_token" not in text.replace("Secrets are never exported", "")


def test_export_lists_tenants_members_connections_and_tokens(world):
    doc = yaml.safe_load(export())
    acme = doc["tenants"][0]
    assert acme["slug"] == "acme"
    assert acme["members"] == [{"email": "owner_a@example.com", "role": "owner"}]
    tcn = acme["connections"][0]
    assert tcn["vendor"] == "tcn"
    assert tcn["realtime"] == {"base_url": "https://api.tcn3.com/backoffice/", "client_sid": "4412"}
    assert tcn["history"] == {"drop_folder": "acme"}
    assert tcn["state_map"] == {"Lunch": "break"}
    assert tcn["tokens"] == [
        {
            "section": "realtime",
            "service_login": "3rd_wfm",
            "owner": "owner_a@example.com",
            "issued": date(2026, 1, 10),
            "expires": date(2027, 1, 10),
        }
    ]


def test_export_of_one_tenant(world):
    doc = yaml.safe_load(export("--tenant", "bolt"))
    assert [t["slug"] for t in doc["tenants"]] == ["bolt"]


def test_export_of_an_unknown_tenant_is_a_bad_argument(world):
    with pytest.raises(CommandError, match="no tenant with the slug 'nope'") as exc:
        export("--tenant", "nope")
    assert exc.value.returncode == 2


def test_json_export_is_the_same_document(world):
    assert json.loads(export("--json"))["tenants"][1]["connections"][0]["name"] == "eight"


def test_importing_an_export_changes_nothing(world, tmp_path):
    path = tmp_path / "export.yaml"
    path.write_text(export())
    out = io.StringIO()
    call_command("connections", "import", str(path), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["changed"] == 0, json.dumps(summary)
    world.refresh_from_db()
    assert world.values_of("history")["access_token"] == "history-secret-9876543210"
    assert Membership.objects.count() == 2
