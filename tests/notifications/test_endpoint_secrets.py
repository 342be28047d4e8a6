"""An endpoint's URL and secret never show in a repr, a str or a traceback's locals."""

from __future__ import annotations

from notifications.models import Endpoint
from tests.notifications.conftest import SECRET, make_endpoint


def test_an_endpoints_repr_never_shows_its_url_or_secret(tenant_a):
    endpoint = make_endpoint(tenant_a, "https://hooks.example/secret-path-4567")
    loaded = Endpoint.objects.get()
    for one in (endpoint, loaded):
        for shown in (repr(one), str(one), repr(one.secrets), str(vars(one))):
            assert "secret-path" not in shown and SECRET not in shown
    assert loaded.url == "https://hooks.example/secret-path-4567" and loaded.secret == SECRET
    assert endpoint.secret_values() == [loaded.url, SECRET, "/secret-path-4567"]
