"""Shared fixtures: two tenants and the three users every access rule is tried with.

`manager_a` manages tenant A, `manager_b` manages tenant B, `partner_a` is a third-party
partner of tenant A (sees health and data, never tokens).
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from integrations.models import Membership, Tenant, VendorConnection

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, **extra: object):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, is_staff=True, **extra
    )
    return user


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The markers do what pyproject.toml says: a test that needs PostgreSQL or Redis is
    skipped, with the reason, on a run without them (`make test` on SQLite), instead of
    running against SQLite or the filesystem broker and proving nothing."""
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL is not postgres://)")
    if item.get_closest_marker("redis") and not os.environ.get("CELERY_BROKER_URL", "").startswith(
        "redis://"
    ):
        pytest.skip("needs Redis (CELERY_BROKER_URL is not redis://)")


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.create(name="Acme Support", slug="acme", time_zone="America/Chicago")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.create(name="Bolt Care", slug="bolt", time_zone="Europe/London")


@pytest.fixture
def manager_a(tenant_a):
    user = make_user("manager_a")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.MANAGER)
    return user


@pytest.fixture
def manager_b(tenant_b):
    user = make_user("manager_b")
    Membership.objects.create(user=user, tenant=tenant_b, role=Membership.MANAGER)
    return user


@pytest.fixture
def partner_a(tenant_a):
    user = make_user("partner_a")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.PARTNER)
    return user


@pytest.fixture
def owner_a(tenant_a):
    user = make_user("owner_a")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.OWNER)
    return user


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


def make_connection(
    tenant: Tenant, vendor: str = "tcn", name: str = "main", /, **values: object
) -> VendorConnection:
    """A saved connection with the vendor's defaults and plausible credentials."""
    conn = VendorConnection(tenant=tenant, vendor=vendor, name=name)
    conn.apply_vendor_defaults()
    defaults = {
        "tcn": {"access_token": "tcn-token-0123456789abcdef"},
        "8x8": {"tenant": "demo", "token": "8x8-token-0123456789abcdef"},
        "nextiva": {"username": "wfm", "password": "nextiva-password-0123"},
        "thrio": {"account": "wfm", "password": "thrio-password-0123"},
    }[vendor]
    conn.set_values("realtime", {**defaults, **values})
    if vendor == "tcn":
        conn.set_values("history", {"drop_folder": str(values.get("drop_folder", "/tmp/drop"))})
    conn.save()
    return conn


@pytest.fixture
def conn_a(tenant_a) -> VendorConnection:
    return make_connection(tenant_a, "tcn", "tcn-main")


@pytest.fixture
def conn_b(tenant_b) -> VendorConnection:
    return make_connection(tenant_b, "8x8", "eight")


@pytest.fixture(autouse=True, scope="session")
def unhashed_static_files():
    """Pages render without `collectstatic` having run: plain static names in tests.

    Production's hashed, compressed files (whitenoise's manifest storage) are checked by
    `make prod-check`, which runs collectstatic and fetches the admin's CSS from gunicorn.
    """
    from django.test.utils import override_settings

    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher costs ~100 ms per user; tests create many users and do not test hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_worker_cache():
    # A test database may give a new connection the id (and, under a frozen clock, the
    # `updated` stamp) of one a previous test cached in this process.
    from collectors.worker_cache import forget

    forget()
    yield
    forget()


class FakeDNS:
    """The egress resolver without a network: literal addresses, `localhost`, and `names`.

    Any other name fails at once as unknown, as it would offline, instead of waiting on a
    real DNS server (and a test never depends on what a real name resolves to today).
    `calls` counts the lookups of each name, to prove there is one per connection.
    """

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"localhost": ["127.0.0.1", "::1"]}
        self.calls: dict[str, int] = {}

    def __call__(self, host: str, port: int) -> list[str]:
        import socket

        self.calls[host] = self.calls.get(host, 0) + 1
        if host in self.names:
            return list(self.names[host])
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: unknown in the tests' DNS") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch) -> FakeDNS:
    dns = FakeDNS()
    monkeypatch.setattr("integrations.egress.resolve", dns)
    return dns
