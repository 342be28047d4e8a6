"""Recording a renewal, replacing a value, login warnings and the login banner, through the admin."""

from __future__ import annotations

from datetime import date

import time_machine
from django.urls import reverse

from notifications.models import EmailAddress, Subscriber, SubscriptionList
from tests.conftest import PASSWORD
from tokens.models import AccessToken, BannerShown


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_the_renewal_form_defaults_to_a_year_from_today_and_records_history(client, manager_a, token_a):
    url = reverse("admin:tokens_accesstoken_renew", args=[token_a.pk])
    with time_machine.travel("2027-01-10 15:00Z", tick=False):
        login(client, manager_a)
        page = client.get(url)
        assert 'value="2028-01-10"' in page.content.decode()
        response = client.post(url, {"new_expires": "2028-01-10"})
        assert response.status_code == 302
    token_a.refresh_from_db()
    assert token_a.expires == date(2028, 1, 10)
    renewal = token_a.renewals.get()
    assert (renewal.old_expires, renewal.recorded_by) == (date(2027, 1, 15), manager_a)
    with time_machine.travel("2027-01-10 15:00Z", tick=False):
        change = client.get(reverse("admin:tokens_accesstoken_change", args=[token_a.pk])).content.decode()
    assert "Renewal history" in change and "2027-01-15" in change.replace("Jan. 15, 2027", "2027-01-15")
    assert "Reminder plan" in change and "d90" in change


def test_a_renewal_to_an_earlier_date_is_refused_with_a_message(client, manager_a, token_a):
    login(client, manager_a)
    url = reverse("admin:tokens_accesstoken_renew", args=[token_a.pk])
    page = client.post(url, {"new_expires": "2027-01-15"})
    assert page.status_code == 200 and b"must be later than the current expiry 2027-01-15" in page.content
    token_a.refresh_from_db()
    assert token_a.expires == date(2027, 1, 15) and not token_a.renewals.exists()


def test_replacing_the_value_warns_and_needs_confirmation(client, manager_a, token_a):
    login(client, manager_a)
    url = reverse("admin:tokens_accesstoken_replace", args=[token_a.pk])
    page = client.get(url).content.decode()
    assert "never change the access token" in page
    refused = client.post(url, {"value": "brand-new-token-xyz", "reason": "leaked"})
    assert refused.status_code == 200 and not token_a.value_changes.exists()
    done = client.post(url, {"value": "brand-new-token-xyz", "reason": "leaked", "confirm": "on"})
    assert done.status_code == 302 and token_a.value_changes.get().reason == "leaked"
    assert (
        b"brand-new-token-xyz"
        not in client.get(reverse("admin:tokens_accesstoken_change", args=[token_a.pk])).content
    )


def test_a_login_not_following_the_convention_is_saved_with_a_warning(client, manager_a, conn_a):
    login(client, manager_a)
    response = client.post(
        reverse("admin:tokens_accesstoken_add"),
        {
            "connection": conn_a.pk,
            "section": "realtime",
            "service_login": "jdoe",
            "issued": "2026-01-01",
            "expires": "",
            **inline_management(),
        },
        follow=True,
    )
    assert response.status_code == 200
    token = AccessToken.objects.get()
    assert token.expires == date(2027, 1, 1)
    assert "does not follow the convention" in response.content.decode()
    assert "3rd_PartnerName_OrgName_UserName" in response.content.decode()


def test_an_expiry_before_the_issue_date_is_refused_in_the_admin(client, manager_a, conn_a):
    login(client, manager_a)
    response = client.post(
        reverse("admin:tokens_accesstoken_add"),
        {
            "connection": conn_a.pk,
            "section": "realtime",
            "service_login": "3rd_A_B_C",
            "issued": "2026-01-01",
            "expires": "2025-12-01",
            **inline_management(),
        },
    )
    assert response.status_code == 200 and b"must be after the issue date 2026-01-01" in response.content
    assert not AccessToken.objects.exists()


def inline_management():
    out = {}
    for prefix in ("renewals", "alerts", "value_changes"):
        out.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return out


def login_page(client, user):
    """Through the admin login form, so the login signal sees a real request."""
    response = client.post(
        reverse("admin:login"),
        {"username": user.username, "password": PASSWORD, "next": reverse("admin:index")},
    )
    assert response.status_code == 302


def test_the_login_banner_shows_once_a_day_in_the_last_two_weeks(client, manager_a, partner_a, token_a):
    with time_machine.travel("2027-01-05 15:00Z", tick=False):  # 10 days left
        login_page(client, manager_a)
        first = client.get(reverse("admin:index")).content.decode()
        assert "Access tokens need renewing" in first and "expires in 10 day(s)" in first
        client.logout()
        login_page(client, manager_a)
        assert "Access tokens need renewing" not in client.get(reverse("admin:index")).content.decode()
        client.logout()
        login_page(client, partner_a)  # partners never hear about tokens
        assert "Access tokens need renewing" not in client.get(reverse("admin:index")).content.decode()
    with time_machine.travel("2027-01-06 15:00Z", tick=False):
        client.logout()
        login_page(client, manager_a)
        assert "Access tokens need renewing" in client.get(reverse("admin:index")).content.decode()
    assert BannerShown.objects.filter(user=manager_a).count() == 2


def test_no_banner_with_more_than_two_weeks_left(client, manager_a, token_a):
    with time_machine.travel("2026-12-30 15:00Z", tick=False):  # 16 days left
        login_page(client, manager_a)
        assert "Access tokens need renewing" not in client.get(reverse("admin:index")).content.decode()


def test_the_address_admin_shows_states_and_resends_verification(client, manager_a, owner_a, outbox):
    owner_a.email = "support@acme.example"
    owner_a.save()
    login(client, manager_a)
    page = client.get(reverse("admin:notifications_emailaddress_changelist")).content.decode()
    assert "support@acme.example" in page and "generic role address" in page and "unverified" in page
    row = EmailAddress.objects.get(email="manager_a@example.com")
    client.post(
        reverse("admin:notifications_emailaddress_changelist"),
        {"action": "send_verification", "_selected_action": [row.pk]},
    )
    assert [m.to for m in outbox] == [["manager_a@example.com"]]
    row.refresh_from_db()
    assert row.state == "link sent"


def test_adding_a_list_member_sends_the_confirmation_and_refuses_bad_addresses(
    client, manager_a, tenant_a, outbox
):
    lst = SubscriptionList.objects.create(tenant=tenant_a, name="ops")
    login(client, manager_a)
    bad = client.post(
        reverse("admin:notifications_subscriber_add"), {"list": lst.pk, "email": "not-an-address"}
    )
    assert bad.status_code == 200 and b"Enter a valid email address" in bad.content
    assert not Subscriber.objects.exists() and outbox == []
    client.post(reverse("admin:notifications_subscriber_add"), {"list": lst.pk, "email": "lead@example.org"})
    assert Subscriber.objects.get().state == "awaiting confirmation"
    assert [m.to for m in outbox] == [["lead@example.org"]]
