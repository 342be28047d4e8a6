"""Throttling per key: over the rate, 429 with Retry-After; other keys are not affected."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from tests.api.conftest import T0, bearer

pytestmark = pytest.mark.django_db


def test_a_key_over_its_rate_gets_429_with_retry_after_until_the_window_passes(
    client, seeded, keys, settings, time_machine
):
    settings.API_THROTTLE_RATE = "3/min"
    time_machine.move_to(T0, tick=False)
    codes = [client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code for _ in range(3)]
    assert codes == [200, 200, 200]

    refused = client.get("/api/v1/queues/", **bearer(keys["manager_a"]))
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another key, even of the same tenant, has its own budget.
    assert client.get("/api/v1/queues/", **bearer(keys["partner_a"])).status_code == 200

    time_machine.move_to(T0 + td(seconds=61), tick=False)
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 200


def test_a_request_without_a_key_is_refused_before_it_counts(client, seeded, keys, settings):
    settings.API_THROTTLE_RATE = "1/min"
    for _ in range(3):
        assert (
            client.get("/api/v1/queues/", HTTP_AUTHORIZATION="Bearer sbk_wrongwrongwrongwrong").status_code
            == 401
        )
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 200
