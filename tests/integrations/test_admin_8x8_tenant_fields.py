"""The 8x8 form tells its two "tenant" fields apart: the Switchboard tenant the connection
belongs to, and 8x8's own tenant name for the customer's account."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def label_of(html: str, field: str) -> str:
    found = re.search(rf'<label[^>]*for="id_{field}"[^>]*>([^<]+)</label>', html)
    assert found is not None, field
    return found.group(1).strip().rstrip(":")


def test_the_two_tenant_fields_have_different_labels_and_say_which_is_which(client, manager_a):
    client.force_login(manager_a)
    html = client.get(reverse("admin:integrations_vendorconnection_add"), {"vendor": "8x8"}).content.decode()
    assert label_of(html, "tenant") == "Tenant"
    assert label_of(html, "realtime_tenant") == "8x8 tenant name"
    assert label_of(html, "history_tenant") == "8x8 tenant name"
    assert "not the Switchboard tenant chosen above" in html
