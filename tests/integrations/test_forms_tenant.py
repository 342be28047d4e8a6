from __future__ import annotations

import pytest

from integrations.forms import TenantForm, VendorChoiceForm
from integrations.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "slug", ["Acme", "acme support", "acme_support", "acme--x", "-acme", "acmé", "acme/x"]
)
def test_a_slug_with_odd_characters_is_rejected(slug):
    form = TenantForm(data={"name": "Acme", "slug": slug, "time_zone": "UTC", "active": "on"})
    assert not form.is_valid()
    assert form.errors["slug"] == ["Use lowercase letters, digits and single hyphens (e.g. acme-support)."]
    assert not Tenant.objects.exists()


def test_a_good_slug_is_accepted():
    form = TenantForm(data={"name": "Acme", "slug": "acme-support-2", "time_zone": "UTC", "active": "on"})
    assert form.is_valid(), form.errors


def test_a_duplicate_slug_is_rejected(tenant_a):
    form = TenantForm(data={"name": "Other", "slug": tenant_a.slug, "time_zone": "UTC"})
    assert not form.is_valid()
    assert "slug" in form.errors


def test_an_unknown_vendor_is_rejected_with_the_known_ones():
    form = VendorChoiceForm(data={"vendor": "tcm"})
    assert not form.is_valid()
    assert form.errors["vendor"] == ["unknown vendor 'tcm' (use one of tcn, 8x8, nextiva, thrio)"]
