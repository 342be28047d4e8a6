"""Partners never see tokens; managers see only their own tenants' tokens."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tokens.models import AccessToken


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


URL_NAMES = [
    ("admin:tokens_accesstoken_change", True),
    ("admin:tokens_accesstoken_renew", True),
    ("admin:tokens_accesstoken_replace", True),
    ("admin:tokens_accesstoken_changelist", False),
    ("admin:tokens_accesstoken_add", False),
    ("admin:tokens_tokenalert_changelist", False),
    ("admin:notifications_subscriptionlist_changelist", False),
    ("admin:notifications_emailaddress_changelist", False),
]


@pytest.mark.parametrize("name,with_pk", URL_NAMES)
def test_a_partner_gets_403_or_404_on_every_token_url(client, partner_a, token_a, name, with_pk):
    login(client, partner_a)
    url = reverse(name, args=[token_a.pk] if with_pk else [])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"new_expires": "2030-01-01"}).status_code in (403, 404)
    token_a.refresh_from_db()
    assert token_a.expires == date(2027, 1, 15)


def test_a_partner_sees_no_token_model_and_no_widget(client, partner_a, token_a):
    login(client, partner_a)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert b'id="token-widget"' not in page.content and b"Access tokens" not in page.content
    assert b"3rd_CommunityWFM_Acme_jdoe" not in page.content


def test_a_manager_of_another_tenant_gets_404(client, manager_b, token_a):
    login(client, manager_b)
    assert client.get(reverse("admin:tokens_accesstoken_change", args=[token_a.pk])).status_code in (
        302,
        403,
        404,
    )
    assert client.get(reverse("admin:tokens_accesstoken_renew", args=[token_a.pk])).status_code == 404
    page = client.get(reverse("admin:index"))
    assert b"acme/tcn-main" not in page.content


def test_the_widget_lists_tokens_soonest_first_colored_by_urgency(client, manager_a, conn_a, settings):
    import time_machine

    from tests.conftest import make_connection

    spans = {
        "ok": date(2026, 8, 1),
        "soon": date(2026, 6, 25),
        "urgent": date(2026, 6, 10),
        "expired": date(2026, 5, 30),
    }
    for i, (_, expires) in enumerate(spans.items()):
        conn = make_connection(conn_a.tenant, "tcn", f"w{i}")
        AccessToken.objects.create(
            connection=conn, service_login=f"3rd_W_A_u{i}", issued=date(2025, 5, 1), expires=expires
        )
    far = make_connection(conn_a.tenant, "tcn", "far")
    AccessToken.objects.create(connection=far, issued=date(2026, 5, 1), expires=date(2027, 5, 1))
    with time_machine.travel("2026-06-01 15:00Z", tick=False):
        login(client, manager_a)
        html = client.get(reverse("admin:index")).content.decode()
    widget = html[html.index('id="token-widget"') :]
    order = [widget.index(f"acme/w{i}") for i in (3, 2, 1, 0)]
    assert order == sorted(order)
    assert "acme/far" not in widget
    for band in spans:
        assert f"token-badge-{band}" in widget
    assert "expired 2 d ago" in widget and ">9 d<" in widget
    assert (
        reverse("admin:tokens_accesstoken_change", args=[AccessToken.objects.get(connection__name="w0").pk])
        in widget
    )
