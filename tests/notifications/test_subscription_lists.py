"""Lists: double opt-in by a signed link; one-click leave; a link for another list changes nothing."""

from __future__ import annotations

import pytest

from notifications.models import Subscriber, SubscriptionList
from notifications.verification import confirmation_url, send_confirmation, unsubscribe_url


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


@pytest.fixture
def lst(tenant_a):
    return SubscriptionList.objects.create(tenant=tenant_a, name="ops")


def test_a_member_confirms_by_the_emailed_link(client, lst, outbox):
    sub = Subscriber.objects.create(list=lst, email="Lead@Example.org")
    assert sub.email == "lead@example.org"
    send_confirmation(sub)
    (mail,) = outbox
    assert "ops" in mail.subject
    url = next(line.strip() for line in mail.body.splitlines() if "/confirm/" in line)
    assert client.post(path_of(url)).status_code == 200
    sub.refresh_from_db()
    assert sub.active and sub.state == "confirmed"


def test_one_click_unsubscribe_is_a_post_without_cookies(client, lst):
    from django.test import Client
    from django.utils import timezone

    sub = Subscriber.objects.create(list=lst, email="lead@example.org", confirmed_at=timezone.now())
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(path_of(unsubscribe_url(sub)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    sub.refresh_from_db()
    assert not sub.active and sub.state == "left"


def test_an_unsubscribe_link_for_another_list_changes_nothing(client, lst, tenant_a):
    from django.utils import timezone

    other = SubscriptionList.objects.create(tenant=tenant_a, name="finance")
    sub = Subscriber.objects.create(list=lst, email="lead@example.org", confirmed_at=timezone.now())
    token = unsubscribe_url(sub).rstrip("/").rsplit("/", 1)[1]
    response = client.post(f"/lists/{other.pk}/unsubscribe/{token}/")
    assert response.status_code == 400 and b"different list" in response.content
    sub.refresh_from_db()
    assert sub.active


def test_a_confirmation_link_cannot_unsubscribe_and_vice_versa(client, lst):
    sub = Subscriber.objects.create(list=lst, email="lead@example.org")
    confirm_token = confirmation_url(sub).rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/lists/{lst.pk}/unsubscribe/{confirm_token}/").status_code == 400
    unsub_token = unsubscribe_url(sub).rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/lists/{lst.pk}/confirm/{unsub_token}/").status_code == 400
    sub.refresh_from_db()
    assert sub.confirmed_at is None and sub.unsubscribed_at is None


def test_the_confirmation_says_what_the_list_receives(client, lst, outbox):
    sub = Subscriber.objects.create(list=lst, email="lead@example.org")
    send_confirmation(sub)
    (mail,) = outbox
    what = "access-token expiry reminders and integration health alerts of Acme Support"
    assert "token reminders" in mail.subject and "health alerts" in mail.subject
    assert what in mail.body and what in mail.alternatives[0][0]
    url = path_of(confirmation_url(sub))
    assert what in client.get(url).content.decode()
    assert what in client.post(url).content.decode()
