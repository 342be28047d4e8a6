"""The admin's "View site" leads to the health page, not to a 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_view_site_leads_to_the_health_page(client, manager_a):
    client.force_login(manager_a)
    html = client.get(reverse("admin:index")).content.decode()
    href = re.search(r'<a href="([^"]+)">View site</a>', html)
    assert href is not None and href.group(1) == reverse("collectors:health")
    assert client.get(href.group(1)).status_code == 200
