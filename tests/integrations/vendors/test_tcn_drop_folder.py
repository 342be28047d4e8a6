from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.models import VendorConnection


@pytest.fixture
def root(settings, tmp_path):
    settings.DROP_ROOT = str(tmp_path / "drops")
    (tmp_path / "drops").mkdir()
    return tmp_path / "drops"


def tcn(tenant, folder: str) -> VendorConnection:
    conn = VendorConnection(tenant=tenant, vendor="tcn", name="tcn")
    conn.apply_vendor_defaults()
    conn.set_values("realtime", {"access_token": "tcn-token-0123456789abcdef"})
    conn.set_values("history", {"drop_folder": folder})
    return conn


@pytest.mark.parametrize("folder", ["/etc", "../outside", "acme/../../outside", ".", "acme"])
def test_a_drop_folder_outside_the_tenants_folder_is_refused_at_save_time(tenant_a, root, folder):
    with pytest.raises(ValidationError) as info:
        tcn(tenant_a, folder).full_clean()
    assert "must lie inside this tenant's folder DROP_ROOT/acme/" in str(
        info.value.message_dict["history_drop_folder"]
    )


def test_a_symlink_out_of_the_root_is_refused(tenant_a, root, tmp_path):
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(ValidationError):
        tcn(tenant_a, "link").full_clean()


def test_a_relative_or_absolute_folder_inside_the_root_is_accepted(tenant_a, root):
    tcn(tenant_a, "acme/tcn").full_clean()
    tcn(tenant_a, str(root / "acme" / "other")).full_clean()


def test_an_ftp_login_with_spaces_is_refused(tenant_a, root):
    conn = tcn(tenant_a, "acme/tcn")
    conn.set_values("history", {"drop_folder": "acme/tcn", "ftp_username": "bad login"})
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert "history_ftp_username" in info.value.message_dict
