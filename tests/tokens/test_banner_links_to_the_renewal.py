"""The login banner's "record the renewal here" is a link to where the renewal is recorded."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import make_connection
from tests.tokens.test_admin_actions import login_page
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def banner(client, user) -> str:
    login_page(client, user)
    html = client.get(reverse("admin:index")).content.decode()
    assert "Access tokens need renewing" in html
    return html


def test_with_one_token_the_banner_links_to_its_renewal_form(client, manager_a, token_a):
    with time_machine.travel("2027-01-05 15:00Z", tick=False):
        html = banner(client, manager_a)
    renew = reverse("admin:tokens_accesstoken_renew", args=[token_a.pk])
    assert f'<a href="{renew}">record the renewal here</a>' in html
    assert f'<a href="{renew}">acme/tcn-main</a>' in html
    # The link leads to a page where the renewal is recorded.
    assert client.get(renew).status_code == 200


def test_with_several_tokens_each_links_to_its_own_and_here_to_the_token_list(
    client, manager_a, tenant_a, token_a
):
    other = make_connection(tenant_a, "tcn", "tcn-second", drop_folder="/tmp/drop2")
    AccessToken.objects.filter(connection=other).delete()
    second = AccessToken.objects.create(connection=other, issued=date(2026, 1, 8), expires=date(2027, 1, 8))
    with time_machine.travel("2027-01-05 15:00Z", tick=False):
        html = banner(client, manager_a)
    for token in (token_a, second):
        assert reverse("admin:tokens_accesstoken_renew", args=[token.pk]) in html
    tokens_list = reverse("admin:tokens_accesstoken_changelist")
    assert f'<a href="{tokens_list}">record the renewal here</a>' in html


def test_a_connection_name_in_the_banner_is_escaped(client, manager_a, token_a):
    conn = token_a.connection
    type(conn).objects.filter(pk=conn.pk).update(name="tcn-<b>x</b>")
    with time_machine.travel("2027-01-05 15:00Z", tick=False):
        html = banner(client, manager_a)
    assert "tcn-<b>x</b>" not in html and "tcn-&lt;b&gt;x&lt;/b&gt;" in html
